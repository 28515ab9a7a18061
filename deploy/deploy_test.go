package deploy_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// unit reads a systemd unit into "Section.Key" → values.
func unit(t *testing.T, name string) map[string][]string {
	t.Helper()
	f, err := os.Open(filepath.Join("systemd", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#':
		case line[0] == '[':
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: bad line %q", name, line)
			}
			out[section+"."+k] = append(out[section+"."+k], v)
		}
	}
	return out
}

func has(u map[string][]string, key, want string) bool {
	for _, v := range u[key] {
		for _, f := range strings.Fields(v) {
			if f == want {
				return true
			}
		}
		if v == want {
			return true
		}
	}
	return false
}

func TestUnits(t *testing.T) {
	agent := unit(t, "vetnet-agent.service")
	for _, kv := range [][2]string{{"Service.Type", "notify"}, {"Service.WatchdogSec", "30"}, {"Service.Restart", "always"},
		{"Service.User", "vetnet"}, {"Install.WantedBy", "multi-user.target"}} {
		if !has(agent, kv[0], kv[1]) {
			t.Errorf("vetnet-agent.service: %s is not %s: %v", kv[0], kv[1], agent[kv[0]])
		}
	}
	if !strings.HasPrefix(agent["Service.ExecStart"][0], "/usr/bin/vetnet-agent -bundle /etc/vetnet/station ") {
		t.Errorf("agent ExecStart %q", agent["Service.ExecStart"])
	}
	kiosk := unit(t, "vetnet-kiosk.service")
	if e := kiosk["Service.ExecStart"]; len(e) != 1 || !strings.HasPrefix(e[0], "/usr/bin/vetnet-kiosk -kiosk-mode") {
		t.Errorf("kiosk ExecStart %q", e)
	}
	for _, kv := range [][2]string{{"Unit.After", "vetnet-agent.service"}, {"Unit.Requires", "vetnet-agent.service"},
		{"Unit.Requires", "vetnet-kiosk-session.service"}, {"Service.Restart", "always"}, {"Service.User", "vetnet-kiosk"},
		{"Install.WantedBy", "graphical.target"}} {
		if !has(kiosk, kv[0], kv[1]) {
			t.Errorf("vetnet-kiosk.service: %s lacks %s: %v", kv[0], kv[1], kiosk[kv[0]])
		}
	}
	hub := unit(t, "vetnet-hub.service")
	if !has(hub, "Service.Type", "notify") || !has(hub, "Service.Restart", "always") {
		t.Errorf("hub %v", hub)
	}
	session := unit(t, "vetnet-kiosk-session.service")
	if e := session["Service.ExecStart"]; len(e) != 1 || !strings.Contains(e[0], "Xorg :0 vt7") {
		t.Errorf("session ExecStart %q", e)
	}
}

func TestUdevAndUsers(t *testing.T) {
	b, err := os.ReadFile("udev/60-vetnet.rules")
	if err != nil {
		t.Fatal(err)
	}
	rules := string(b)
	for _, dev := range []string{`KERNEL=="ttyUSB[0-9]*"`, `KERNEL=="ttyACM[0-9]*"`, `SUBSYSTEM=="spidev"`, `KERNEL=="gpiochip[0-9]*"`, `SUBSYSTEM=="input"`} {
		line := ""
		for _, l := range strings.Split(rules, "\n") {
			if strings.Contains(l, dev) {
				line = l
			}
		}
		if !strings.Contains(line, `GROUP="vetnet"`) || !strings.Contains(line, `MODE="0660"`) {
			t.Errorf("no rule giving %s to group vetnet: %q", dev, line)
		}
	}
	b, err = os.ReadFile("sysusers.d/vetnet.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{`(?m)^g vetnet -$`, `(?m)^u vetnet -:vetnet `, `(?m)^u vetnet-kiosk -:vetnet-kiosk `} {
		if !regexp.MustCompile(re).Match(b) {
			t.Errorf("sysusers lacks %s", re)
		}
	}
}

// Every file the nfpm configurations package exists.
func TestPackageSources(t *testing.T) {
	src := regexp.MustCompile(`(?m)^\s+- src: (\S+)`)
	for _, cfg := range []string{"agent", "hub", "kiosk"} {
		b, err := os.ReadFile(filepath.Join("nfpm", cfg+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range src.FindAllStringSubmatch(string(b), -1) {
			if strings.HasPrefix(m[1], "${BIN}") {
				continue
			}
			if _, err := os.Stat(filepath.Join("..", m[1])); err != nil {
				t.Errorf("%s.yaml: %s: %v", cfg, m[1], err)
			}
		}
		for _, s := range regexp.MustCompile(`(?m)^\s+(?:postinstall|preremove): (\S+)`).FindAllStringSubmatch(string(b), -1) {
			if fi, err := os.Stat(filepath.Join("..", s[1])); err != nil || fi.Mode()&0o111 == 0 {
				t.Errorf("%s.yaml: script %s: %v", cfg, s[1], err)
			}
		}
	}
}

// make deb's script builds the amd64 agent and hub packages; dpkg-deb
// reads them back: control fields, files, modes and the maintainer
// scripts that enable the units.
func TestDebianPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("builds packages")
	}
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb is not installed")
	}
	out := t.TempDir()
	cmd := exec.Command("bash", "../scripts/deb.sh")
	cmd.Env = append(os.Environ(), "ARCHES=amd64", "PACKAGES=agent hub", "OUT="+out, "VERSION=1.2.3")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("deb.sh: %v\n%s", err, b)
	}
	tests := []struct {
		pkg   string
		files []string // path and mode prefix
		unit  string
	}{
		{"vetnet-agent", []string{"-rwxr-xr-x ./usr/bin/vetnet-agent", "./lib/systemd/system/vetnet-agent.service", "./lib/udev/rules.d/60-vetnet.rules",
			"./usr/lib/sysusers.d/vetnet.conf", "./usr/lib/systemd/journald.conf.d/vetnet.conf", "./usr/share/vetnet/profiles/rpi-kiosk.toml",
			"./etc/default/vetnet-agent", "drwxr-x--- ./etc/vetnet/station/"}, "vetnet-agent.service"},
		{"vetnet-hub", []string{"-rwxr-xr-x ./usr/bin/vetnet-hub", "-rwxr-xr-x ./usr/bin/vetnet-provision", "./lib/systemd/system/vetnet-hub.service",
			"./usr/share/vetnet/mosquitto/acl", "./etc/default/vetnet-hub"}, "vetnet-hub.service"},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			deb := filepath.Join(out, tt.pkg+"_1.2.3_amd64.deb")
			info, err := exec.Command("dpkg-deb", "-I", deb).CombinedOutput()
			if err != nil {
				t.Fatalf("dpkg-deb -I: %v\n%s", err, info)
			}
			for _, f := range []string{"Package: " + tt.pkg, "Version: 1.2.3", "Architecture: amd64", "Depends: systemd", "postinst", "prerm"} {
				if !strings.Contains(string(info), f) {
					t.Errorf("control lacks %q:\n%s", f, info)
				}
			}
			if strings.Contains(string(info), "conffiles") == false {
				t.Errorf("no conffiles (the defaults file must survive upgrades):\n%s", info)
			}
			list, err := exec.Command("dpkg-deb", "-c", deb).CombinedOutput()
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range tt.files {
				mode, path, ok := strings.Cut(f, " ")
				if !ok {
					mode, path = "", f
				}
				found := false
				for _, l := range strings.Split(string(list), "\n") {
					fs := strings.Fields(l)
					if len(fs) >= 6 && fs[len(fs)-1] == path && strings.HasPrefix(fs[0], mode) {
						found = true
					}
				}
				if !found {
					t.Errorf("%s lacks %s %s:\n%s", tt.pkg, mode, path, list)
				}
			}
			ctl := t.TempDir()
			if b, err := exec.Command("dpkg-deb", "-e", deb, ctl).CombinedOutput(); err != nil {
				t.Fatalf("%v %s", err, b)
			}
			post, err := os.ReadFile(filepath.Join(ctl, "postinst"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(post), "systemctl enable "+tt.unit) || !strings.Contains(string(post), "systemd-sysusers") {
				t.Errorf("postinst does not enable %s:\n%s", tt.unit, post)
			}
			if b, err := exec.Command("sh", "-n", filepath.Join(ctl, "postinst")).CombinedOutput(); err != nil {
				t.Errorf("postinst: %v %s", err, b)
			}
			// The binary inside is the real one.
			x := t.TempDir()
			if b, err := exec.Command("dpkg-deb", "-x", deb, x).CombinedOutput(); err != nil {
				t.Fatalf("%v %s", err, b)
			}
			bin := filepath.Join(x, "usr/bin", strings.TrimPrefix(tt.pkg, "vetnet-"))
			bin = filepath.Join(x, "usr/bin", tt.pkg)
			if tt.pkg == "vetnet-agent" {
				if b, err := exec.Command(bin, "-version").CombinedOutput(); err != nil || !strings.Contains(string(b), "1.2.3") {
					t.Errorf("%s -version: %v %s", bin, err, b)
				}
			} else if b, err := exec.Command(bin, "-h").CombinedOutput(); !strings.Contains(string(b), "-tls-crl") {
				t.Errorf("%s -h: %v %s", bin, err, b)
			}
		})
	}
}
