package provision

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/firmware-config/bundle"
	"github.com/vetnet/vetnet/firmware-config/pki"
)

const registryPath = "../stations/demo.toml"

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Now: time.Now}
	err := m.Run(args)
	return out.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := run(t, args...)
	if err != nil {
		t.Fatalf("provision %v: %v\n%s", args, err, out)
	}
	return out
}

func readCRL(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	rl, err := x509.ParseRevocationList(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, e := range rl.RevokedCertificateEntries {
		m[e.SerialNumber.Text(16)] = true
	}
	return m
}

func TestProvisionLifecycle(t *testing.T) {
	for _, algo := range []string{pki.AlgoECDSA, pki.AlgoEd25519} {
		t.Run(algo, func(t *testing.T) {
			dir := t.TempDir()
			caDir, offline, out := filepath.Join(dir, "ca"), filepath.Join(dir, "usb", "ca.key"), filepath.Join(dir, "bundles")
			ca := []string{"-ca", caDir, "-ca-key", offline}
			mustRun(t, append([]string{"ca", "init", "-algo", algo}, ca...)...)
			if fi, err := os.Stat(offline); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("key %v %v", fi, err)
			}
			if _, err := os.Stat(filepath.Join(caDir, pki.CAKeyFile)); !os.IsNotExist(err) {
				t.Fatal("the key was also written into the CA directory")
			}
			if _, err := run(t, append([]string{"ca", "init"}, ca...)...); vetnet.ErrorCode(err) != vetnet.ECONFLICT {
				t.Fatalf("second init: %v", err)
			}
			// A station needs the hub's configuration key first.
			st := append([]string{"station", "cz-xb-sanjing-xinqiao", "-registry", registryPath, "-broker", "ssl://127.0.0.1:8883", "-hub", "https://hub.example", "-out", out}, ca...)
			if _, err := run(t, st...); vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
				t.Fatalf("station before hub: %v", err)
			}
			mustRun(t, append([]string{"hub", "-hosts", "localhost,127.0.0.1", "-out", out, "-algo", algo}, ca...)...)
			got := mustRun(t, st...)
			want := "tar -xzf vetnet-station-cz-xb-sanjing-xinqiao-g1.tar.gz && sudo sh vetnet-station-cz-xb-sanjing-xinqiao-g1/install.sh"
			if !strings.Contains(got, want) {
				t.Fatalf("output lacks the install line:\n%s", got)
			}
			bdir := filepath.Join(out, "vetnet-station-cz-xb-sanjing-xinqiao-g1")
			bd, err := bundle.Load(bdir)
			if err != nil {
				t.Fatal(err)
			}
			if bd.Station.ID != "cz-xb-sanjing-xinqiao" || bd.Generation != 1 || bd.Broker != "ssl://127.0.0.1:8883" || bd.Hub != "https://hub.example" ||
				!bd.Station.Hours.Published() || bd.Station.Name != "新桥社区退役军人服务站" {
				t.Fatalf("bundle %+v", bd)
			}
			if fi, _ := os.Stat(bd.Key); fi.Mode().Perm() != 0o600 {
				t.Fatalf("key mode %v", fi.Mode())
			}
			certPEM, _ := os.ReadFile(bd.Cert)
			cert, err := pki.ParseCert(certPEM)
			if err != nil {
				t.Fatal(err)
			}
			caCert, _ := os.ReadFile(filepath.Join(caDir, pki.CACertFile))
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(caCert)
			if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Fatalf("client certificate not signed by the CA: %v", err)
			}
			if cert.Subject.CommonName != "cz-xb-sanjing-xinqiao" {
				t.Fatalf("CN %q", cert.Subject.CommonName)
			}
			if _, err := pki.ClientTLS(bd.CA, bd.Cert, bd.Key); err != nil {
				t.Fatal(err)
			}
			if _, err := bundle.ReadConfigKey(bd.ConfigKey); err != nil {
				t.Fatal(err)
			}
			names := tarNames(t, bdir+".tar.gz")
			for _, n := range []string{"bundle.toml", "ca.crt", "client.crt", "client.key", "hub-config.pub", "install.sh", "INSTALL.txt"} {
				if !names["vetnet-station-cz-xb-sanjing-xinqiao-g1/"+n] {
					t.Errorf("tar lacks %s: %v", n, names)
				}
			}

			// A second device for the same station is a replacement.
			if _, err := run(t, st...); vetnet.ErrorCode(err) != vetnet.ECONFLICT {
				t.Fatalf("second station: %v", err)
			}
			rp := append([]string{"replace"}, st[1:]...)
			got = mustRun(t, rp...)
			if !strings.Contains(got, "generation 2") {
				t.Fatal(got)
			}
			bd2, err := bundle.Load(filepath.Join(out, "vetnet-station-cz-xb-sanjing-xinqiao-g2"))
			if err != nil || bd2.Generation != 2 {
				t.Fatalf("%+v %v", bd2, err)
			}
			crl := readCRL(t, filepath.Join(caDir, pki.CRLFile))
			if !crl[cert.SerialNumber.Text(16)] || len(crl) != 1 {
				t.Fatalf("CRL %v lacks the replaced device %s", crl, cert.SerialNumber.Text(16))
			}
			// Revoke by serial: the new device (stolen).
			c2, _ := os.ReadFile(bd2.Cert)
			cert2, _ := pki.ParseCert(c2)
			mustRun(t, append([]string{"revoke", cert2.SerialNumber.Text(16), "-reason", "stolen"}, ca...)...)
			if crl := readCRL(t, filepath.Join(caDir, pki.CRLFile)); !crl[cert2.SerialNumber.Text(16)] || len(crl) != 2 {
				t.Fatalf("CRL %v", crl)
			}
			if _, err := run(t, append([]string{"revoke", "cz-xb-sanjing-xinqiao"}, ca...)...); vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
				t.Fatalf("revoke again: %v", err)
			}
			list := mustRun(t, "list", "-ca", caDir)
			if strings.Count(list, "stolen") != 1 || strings.Count(list, "replaced") != 1 {
				t.Fatalf("list:\n%s", list)
			}
		})
	}
}

func TestProvisionErrors(t *testing.T) {
	dir := t.TempDir()
	caDir := filepath.Join(dir, "ca")
	mustRun(t, "ca", "init", "-ca", caDir)
	other := filepath.Join(dir, "other")
	mustRun(t, "ca", "init", "-ca", other)
	tests := []struct {
		name string
		args []string
		code string
		want string
	}{
		{"no command", nil, vetnet.EINVALID, "no command"},
		{"wrong key", []string{"crl", "-ca", caDir, "-ca-key", filepath.Join(other, "ca.key")}, vetnet.EINVALID, "is not the key of"},
		{"missing key", []string{"crl", "-ca", caDir, "-ca-key", filepath.Join(dir, "none")}, vetnet.ENOTFOUND, "Cannot read the key"},
		{"no CA", []string{"crl", "-ca", filepath.Join(dir, "none")}, vetnet.ENOTFOUND, "provision ca init"},
		{"hub without hosts", []string{"hub", "-ca", caDir}, vetnet.EINVALID, "-hosts is required"},
		{"unknown station", []string{"station", "nowhere", "-ca", caDir, "-registry", registryPath, "-broker", "ssl://x:8883"}, vetnet.ENOTFOUND, `station "nowhere" is not in`},
		{"broken registry", []string{"station", "ab", "-ca", caDir, "-registry", writeFile(t, dir, "bad.toml", "[[station]]\nid=\"ab\"\nlevel=\"x\"\n"), "-broker", "ssl://x:8883"}, vetnet.EINVALID, "bad.toml:3: station ab (#1): level"},
		{"replace without device", []string{"replace", "cz-xb", "-ca", caDir, "-registry", registryPath, "-broker", "ssl://x:8883"}, vetnet.ENOTFOUND, ""},
		{"bad algo", []string{"ca", "init", "-ca", filepath.Join(dir, "c3"), "-algo", "rsa"}, vetnet.EINVALID, "unknown key algorithm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := run(t, tt.args...)
			if vetnet.ErrorCode(err) != tt.code || !strings.Contains(vetnet.ErrorMessage(err, "en"), tt.want) {
				t.Fatalf("err %v, want %s %q", err, tt.code, tt.want)
			}
		})
	}
}

// install.sh puts the bundle under a root with the right modes, and the
// agent's loader reads it there.
func TestInstallScript(t *testing.T) {
	dir := t.TempDir()
	caDir, out := filepath.Join(dir, "ca"), filepath.Join(dir, "out")
	mustRun(t, "ca", "init", "-ca", caDir)
	mustRun(t, "hub", "-ca", caDir, "-hosts", "localhost", "-out", out)
	mustRun(t, "station", "cz-xb-sanjing", "-ca", caDir, "-registry", registryPath, "-broker", "ssl://localhost:8883", "-out", out)
	root := filepath.Join(dir, "root")
	cmd := exec.Command("sh", filepath.Join(out, "vetnet-station-cz-xb-sanjing-g1", "install.sh"), root)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	dest := filepath.Join(root, bundle.InstallDir)
	if fi, err := os.Stat(filepath.Join(dest, "client.key")); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("key %v %v", fi, err)
	}
	bd, err := bundle.Load(dest)
	if err != nil || bd.Station.ID != "cz-xb-sanjing" {
		t.Fatalf("%+v %v", bd, err)
	}
}

func writeFile(t *testing.T, dir, name, text string) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func tarNames(t *testing.T, path string) map[string]bool {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	names := map[string]bool{}
	var list []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names[h.Name] = true
		list = append(list, h.Name)
	}
	sort.Strings(list)
	return names
}
