// Package deploy_test checks the scaled-out layouts in deploy/compose and
// deploy/k8s: they parse, every flag they pass to the hub exists in the
// hub's flag set, and the names, ports, images and paths they share agree.
package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// hubFlags reads the flags the hub defines from its main.go
// (fs.StringVar(&x, "name", ...)).
func hubFlags(t *testing.T) map[string]bool {
	t.Helper()
	src, err := os.ReadFile("../cloud/cmd/hub/main.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`fs\.\w+Var\([^,]+,\s*"([a-z0-9-]+)"`).FindAllSubmatch(src, -1) {
		out[string(m[1])] = true
	}
	if len(out) < 10 || !out["store"] || !out["share-group"] {
		t.Fatalf("hub flags not found in main.go: %v", out)
	}
	return out
}

// flagArgs returns the -flag value pairs of an argument list, checking
// that each flag exists.
func flagArgs(t *testing.T, where string, args []string, known map[string]bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			t.Errorf("%s: %q is not a flag", where, a)
			continue
		}
		name := strings.TrimLeft(a, "-")
		if !known[name] {
			t.Errorf("%s: the hub has no flag -%s", where, name)
		}
		if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			out[name] = args[i+1]
			i++
		} else {
			out[name] = "true"
		}
	}
	return out
}

func m(v any) map[string]any {
	x, _ := v.(map[string]any)
	return x
}

func strs(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			switch y := x.(type) {
			case string:
				out = append(out, y)
			case map[string]any:
				if n, ok := y["name"].(string); ok {
					out = append(out, n)
				}
			}
		}
	}
	return out
}

// hostPort splits a URL's host; the default port comes from the scheme.
func hostPort(t *testing.T, raw string) (string, int) {
	t.Helper()
	// Compose's ${VAR} stands for a value given at start.
	u, err := url.Parse(regexp.MustCompile(`\$\{[^}]*\}`).ReplaceAllString(raw, "x"))
	if err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	p := u.Port()
	if p == "" {
		p = map[string]string{"tcp": "1883", "postgres": "5432"}[u.Scheme]
	}
	n, _ := strconv.Atoi(p)
	return u.Hostname(), n
}

func TestCompose(t *testing.T) {
	known := hubFlags(t)
	b, err := os.ReadFile("compose/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	services := m(c["services"])
	hub := m(services["hub"])
	if hub == nil || services["postgres"] == nil {
		t.Fatalf("services %v: want hub and postgres", keys(services))
	}
	brokers := 0
	for name := range services {
		if strings.HasPrefix(name, "emqx") {
			brokers++
		}
	}
	if brokers < 3 {
		t.Errorf("%d broker nodes, want a cluster of 3", brokers)
	}
	if r, _ := m(hub["deploy"])["replicas"].(int); r < 2 {
		t.Errorf("hub replicas %v, want 2 or more", m(hub["deploy"])["replicas"])
	}
	args := flagArgs(t, "compose hub", strs(hub["command"]), known)
	if args["share-group"] == "" {
		t.Error("replicas without -share-group would each store every batch")
	}
	// The broker and the database are services of this file, on the
	// hub's network, exposing the ports the URLs name.
	hubNets := strs(hub["networks"])
	for _, u := range []string{args["broker"], args["store"]} {
		host, port := hostPort(t, u)
		svc := m(services[host])
		if svc == nil {
			t.Errorf("%s: no service %q", u, host)
			continue
		}
		if !shareNet(hubNets, netsOf(svc)) {
			t.Errorf("service %s is not on the hub's networks %v", host, hubNets)
		}
		if !exposes(svc, port) && host != "postgres" {
			t.Errorf("service %s does not expose %d", host, port)
		}
	}
	if !strings.Contains(args["store"], "${PG_PASSWORD}") || !strings.Contains(yamlString(services["postgres"]), "${PG_PASSWORD") {
		t.Error("the store URL and PostgreSQL must take the password from PG_PASSWORD")
	}
	_, httpPort := hostPort(t, "tcp://"+args["http"])
	if !exposes(hub, httpPort) {
		t.Errorf("hub listens on %d but does not publish it", httpPort)
	}
	// The files the flags name are mounted, from files of the repository.
	mounts := map[string]string{}
	for _, v := range strs(hub["volumes"]) {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 {
			mounts[parts[1]] = parts[0]
		}
	}
	for _, f := range []string{"stations", "alerts"} {
		src, ok := mounts[args[f]]
		if !ok {
			t.Errorf("-%s %s is not mounted", f, args[f])
			continue
		}
		if _, err := os.Stat(filepath.Join("compose", src)); err != nil {
			t.Errorf("-%s: %v", f, err)
		}
	}
	build := m(hub["build"])
	if _, err := os.Stat(filepath.Join("compose", build["context"].(string), build["dockerfile"].(string))); err != nil {
		t.Errorf("hub build: %v", err)
	}
	if img := hub["image"]; img != k8sHubImage(t) {
		t.Errorf("compose builds %v, Kubernetes runs %v", img, k8sHubImage(t))
	}
}

func keys(x map[string]any) []string {
	var out []string
	for k := range x {
		out = append(out, k)
	}
	return out
}

func netsOf(svc map[string]any) []string {
	if n := strs(svc["networks"]); len(n) > 0 {
		return n
	}
	return keys(m(svc["networks"]))
}

func shareNet(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// exposes reports whether a compose service publishes container port p.
func exposes(svc map[string]any, p int) bool {
	for _, s := range strs(svc["ports"]) {
		parts := strings.Split(s, ":")
		if parts[len(parts)-1] == strconv.Itoa(p) {
			return true
		}
	}
	return false
}

func yamlString(v any) string {
	b, _ := yaml.Marshal(v)
	return string(b)
}

// k8sDocs parses every manifest of deploy/k8s.
func k8sDocs(t *testing.T) []map[string]any {
	t.Helper()
	files, _ := filepath.Glob("k8s/*.yaml")
	if len(files) < 4 {
		t.Fatalf("manifests %v", files)
	}
	var out []map[string]any
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var d map[string]any
			if err := dec.Decode(&d); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if d == nil {
				continue
			}
			if d["apiVersion"] == nil || d["kind"] == nil || m(d["metadata"])["name"] == nil {
				t.Errorf("%s: a document without apiVersion, kind or name", f)
			}
			if ns := m(d["metadata"])["namespace"]; d["kind"] != "Namespace" && ns != "vetnet" {
				t.Errorf("%s %v: namespace %v, want vetnet", d["kind"], m(d["metadata"])["name"], ns)
			}
			out = append(out, d)
		}
	}
	return out
}

func k8sHubImage(t *testing.T) any {
	for _, d := range k8sDocs(t) {
		if d["kind"] == "Deployment" && m(d["metadata"])["name"] == "hub" {
			return containers(d)[0]["image"]
		}
	}
	return nil
}

func containers(d map[string]any) []map[string]any {
	var out []map[string]any
	for _, c := range m(m(m(d["spec"])["template"])["spec"])["containers"].([]any) {
		out = append(out, m(c))
	}
	return out
}

func containerPorts(d map[string]any) map[int]bool {
	out := map[int]bool{}
	for _, c := range containers(d) {
		for _, p := range c["ports"].([]any) {
			out[m(p)["containerPort"].(int)] = true
		}
	}
	return out
}

func TestKubernetes(t *testing.T) {
	known := hubFlags(t)
	docs := k8sDocs(t)
	workloads := map[string]map[string]any{}
	services := map[string]map[string]any{}
	for _, d := range docs {
		name := m(d["metadata"])["name"].(string)
		switch d["kind"] {
		case "Deployment", "StatefulSet":
			workloads[name] = d
			sel := m(m(d["spec"])["selector"])["matchLabels"]
			labels := m(m(m(d["spec"])["template"])["metadata"])["labels"]
			if yamlString(sel) != yamlString(labels) {
				t.Errorf("%s: selector %v does not match its pods' labels %v", name, sel, labels)
			}
		case "Service":
			services[name] = d
		}
	}
	// Every service selects a workload and targets ports its pods open.
	for name, s := range services {
		var target map[string]any
		for _, w := range workloads {
			if yamlString(m(s["spec"])["selector"]) == yamlString(m(m(m(w["spec"])["template"])["metadata"])["labels"]) {
				target = w
			}
		}
		if target == nil {
			t.Errorf("service %s selects no workload", name)
			continue
		}
		open := containerPorts(target)
		for _, p := range m(s["spec"])["ports"].([]any) {
			if tp := m(p)["targetPort"].(int); !open[tp] {
				t.Errorf("service %s targets port %d, which %s does not open", name, tp, m(target["metadata"])["name"])
			}
		}
	}
	hub := workloads["hub"]
	if hub == nil || hub["kind"] != "Deployment" {
		t.Fatal("no hub Deployment")
	}
	if r, _ := m(hub["spec"])["replicas"].(int); r < 2 {
		t.Errorf("hub replicas %v, want 2 or more", m(hub["spec"])["replicas"])
	}
	if r, _ := m(workloads["emqx"]["spec"])["replicas"].(int); r < 3 {
		t.Errorf("broker nodes %v, want 3", r)
	}
	c := containers(hub)[0]
	args := flagArgs(t, "k8s hub", strs(c["args"]), known)
	if args["share-group"] == "" {
		t.Error("replicas without -share-group would each store every batch")
	}
	host, port := hostPort(t, args["broker"])
	if svc := services[host]; svc == nil || !servicePort(svc, port) {
		t.Errorf("-broker %s: no service %s with port %d", args["broker"], host, port)
	}
	env := map[string]bool{}
	for _, e := range c["env"].([]any) {
		env[m(e)["name"].(string)] = true
	}
	if args["store"] != "$(STORE_URL)" || !env["STORE_URL"] || !env["VETNET_ADMIN_PASSWORD"] {
		t.Errorf("the store URL and the admin password must come from the secret: -store %q, env %v", args["store"], env)
	}
	if svc := services["postgres"]; svc == nil || !servicePort(svc, 5432) {
		t.Error("no postgres service on 5432 for the store URL")
	}
	_, httpPort := hostPort(t, "tcp://"+args["http"])
	if !containerPorts(hub)[httpPort] {
		t.Errorf("hub listens on %d but its container does not open it", httpPort)
	}
	if p := m(m(c["readinessProbe"])["httpGet"])["port"]; p != httpPort {
		t.Errorf("readiness probe on %v, hub on %d", p, httpPort)
	}
	mounted := false
	for _, v := range c["volumeMounts"].([]any) {
		if mp := m(v)["mountPath"].(string); strings.HasPrefix(args["stations"], mp+"/") && strings.HasPrefix(args["alerts"], mp+"/") {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("-stations %s and -alerts %s are not under a mounted volume", args["stations"], args["alerts"])
	}
	// The secrets and the config map the manifests use are those the
	// namespace file tells how to create.
	ns, _ := os.ReadFile("k8s/namespace.yaml")
	for _, name := range []string{"vetnet-db", "vetnet-hub", "vetnet-registry", "store-url", "admin-password", "stations.toml", "rules.toml"} {
		if !strings.Contains(string(ns), name) {
			t.Errorf("namespace.yaml does not say how to create %s", name)
		}
	}
}

func servicePort(s map[string]any, p int) bool {
	for _, x := range m(s["spec"])["ports"].([]any) {
		if m(x)["port"] == p {
			return true
		}
	}
	return false
}
