// Command demo runs the whole system on one machine with embedded defaults:
// the hub (embedded MQTT broker, embedded database, dashboard), two stations
// driven by headless autopilot kiosks, and, when a display is available, a
// third station with the real kiosk window. It prints the dashboard URL and
// stops everything cleanly on Ctrl-C.
//
// Each station's agent runs with the hardware profile -profile (default
// firmware-config/profiles/demo-emulator.toml): the agent hosts a SAM
// card-reader emulator on a pseudo-terminal and reads it through the real
// SAM driver and serial path, so the demo's cards go through the same code
// as a real reader's. The kiosk's "模拟刷卡" button lays a synthetic card on
// the emulator; -sim uses the older simulated reader instead.
//
// It starts the same binaries a field installation runs (bin/hub,
// bin/edge-agent, bin/kiosk), each as its own process, so stopping and
// restarting one of them (say the hub, with kill -STOP/-CONT or by hand)
// behaves as it would in the field.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/vetnet/vetnet/cloud/web"
)

type station struct {
	id       string
	api      string
	interval string // simulated reader: a card every ...
	window   bool   // the Fyne kiosk window instead of the autopilot
}

func main() {
	bin := flag.String("bin", "bin", "directory of the hub, edge-agent and kiosk binaries")
	data := flag.String("data", ".demo", "data directory of the demo (hub database, station stores)")
	mqttAddr := flag.String("mqtt", "127.0.0.1:1884", "address of the hub's embedded MQTT broker")
	httpAddr := flag.String("http", "127.0.0.1:8080", "address of the dashboard and API")
	registry := flag.String("stations", "firmware-config/stations/demo.toml", "station registry")
	noWindow := flag.Bool("headless", false, "do not open the kiosk window even when DISPLAY is set")
	apiPort := flag.Int("api-port", 7474, "local API port of the first station; the others take the next ports")
	outage := flag.Duration("outage", 0, "check mode: after -warmup of traffic stop the hub for this long, start it again, "+
		"stop the kiosks once -warmup passed again, wait for every outbox to drain, compare what the stations made "+
		"with what the hub holds, print the counts and exit (non-zero on any loss or double)")
	warmup := flag.Duration("warmup", 30*time.Second, "check mode: traffic before the outage and after it")
	kill := flag.Bool("kill", false, "check mode: stop the hub with SIGKILL (a crash) instead of an interrupt")
	every := flag.Duration("card-every", 0, "simulated readers present a card this often (default 9 s and 13 s)")
	hwProfile := flag.String("profile", "firmware-config/profiles/demo-emulator.toml", "hardware profile of the stations' agents")
	simReader := flag.Bool("sim", false, "use the simulated reader instead of the hardware profile (no serial path)")
	adminPW := flag.String("admin-password", envOr("VETNET_ADMIN_PASSWORD", "vetnet-demo-2026"),
		"password of the dashboard's district administrator (user admin) and of the demo's other accounts")
	flag.Parse()

	api := func(i int) string { return fmt.Sprintf("127.0.0.1:%d", *apiPort+i) }
	stations := []station{
		{id: "cz-xb-sanjing-xinqiao", api: api(0), interval: "9s"},
		{id: "cz-xb-post-north", api: api(1), interval: "13s"},
	}
	display := os.Getenv("DISPLAY") != "" && !*noWindow
	if display {
		stations = append(stations, station{id: "cz-xb-sanjing", api: api(2), window: true})
	}
	if *every > 0 {
		for i := range stations {
			if !stations[i].window {
				stations[i].interval = every.String()
			}
		}
	}

	addrs := []string{*mqttAddr, *httpAddr}
	for _, s := range stations {
		addrs = append(addrs, s.api)
	}
	for _, a := range addrs {
		if err := free(a); err != nil {
			fatalf("%s is in use (%v): stop what runs there or pass another address (see -h)", a, err)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var g group

	// The hub reads the administrator's password from its environment
	// (not its command line, which other users of the machine can read).
	os.Setenv("VETNET_ADMIN_PASSWORD", *adminPW)
	hubArgs := []string{"-data", filepath.Join(*data, "hub"), "-mqtt", *mqttAddr, "-http", *httpAddr,
		"-stations", *registry, "-heartbeat", "10"}
	if rules := filepath.Join(filepath.Dir(filepath.Dir(*registry)), "alerts", "rules.toml"); fileExists(rules) {
		hubArgs = append(hubArgs, "-alerts", rules)
	}
	hubProc := g.start("hub", filepath.Join(*bin, "hub"), hubArgs...)
	if err := waitHTTP(ctx, "http://"+*httpAddr+"/healthz", 60*time.Second); err != nil {
		g.stop()
		fatalf("the hub did not come up: %v", err)
	}
	for _, s := range stations {
		args := []string{"-station", s.id, "-data", filepath.Join(*data, s.id), "-broker", "tcp://" + *mqttAddr,
			"-api", s.api, "-registry", *registry, "-heartbeat", "10s"}
		if *simReader {
			args = append(args, "-sim")
		} else {
			args = append(args, "-profile", *hwProfile)
		}
		if s.interval != "" {
			args = append(args, "-sim-interval", s.interval)
		}
		g.start("agent "+s.id, filepath.Join(*bin, "edge-agent"), args...)
	}
	var kiosks []*proc
	for _, s := range stations {
		if err := waitHTTP(ctx, "http://"+s.api+"/healthz", 30*time.Second); err != nil {
			g.stop()
			fatalf("the agent of %s did not come up: %v", s.id, err)
		}
		if s.window {
			kiosks = append(kiosks, g.start("kiosk "+s.id, filepath.Join(*bin, "kiosk"), "-agent", s.api))
		} else {
			kiosks = append(kiosks, g.start("autopilot "+s.id, filepath.Join(*bin, "kiosk"), "-agent", s.api, "-autopilot"))
		}
	}

	accounts, err := demoAccounts(ctx, *httpAddr, *adminPW)
	if err != nil {
		g.stop()
		fatalf("the demo accounts: %v", err)
	}

	fmt.Printf("\n  监控大屏 Dashboard:  http://%s/\n", *httpAddr)
	fmt.Printf("  登录 Sign in:        user admin, password %s (district administrator)\n", *adminPW)
	for _, a := range accounts {
		fmt.Printf("                       user %-14s same password (%s)\n", a[0], a[1])
	}
	fmt.Printf("  MQTT broker:         tcp://%s (embedded)\n", *mqttAddr)
	for _, s := range stations {
		mode := "autopilot kiosk (headless), a card every " + s.interval
		if s.window {
			mode = "kiosk window; tap \"模拟刷卡\" to present a card, \"工作人员\" to sign in as staff"
		}
		fmt.Printf("  station %-24s agent http://%s  %s\n", s.id, s.api, mode)
	}
	if !display {
		fmt.Println("  No DISPLAY: running headless, without the kiosk window.")
	}
	if *simReader {
		fmt.Println("  Card readers: simulated (-sim).")
	} else {
		fmt.Printf("  Card readers: SAM driver on an emulated module (%s).\n", *hwProfile)
	}
	fmt.Println("  Staff sign-in (demo registry): PIN 1357 station heads, 2468 officers, 3690 grid workers.")
	fmt.Printf("  Data in %s/. Press Ctrl-C to stop.\n\n", *data)

	if *outage > 0 {
		ok := checkOutage(ctx, &g, outageRun{
			hub: hubProc, hubPath: filepath.Join(*bin, "hub"), hubArgs: hubArgs, httpAddr: *httpAddr, adminPW: *adminPW,
			kiosks: kiosks, stations: stations, outage: *outage, warmup: *warmup, kill: *kill,
		})
		g.stop()
		if !ok {
			os.Exit(1)
		}
		return
	}

	select {
	case <-ctx.Done():
	case name := <-g.exited:
		fmt.Fprintf(os.Stderr, "demo: %s stopped on its own; stopping the rest\n", name)
	}
	g.stop()
	fmt.Println("demo: stopped")
}

// group runs child processes and stops them in reverse order.
type group struct {
	mu     sync.Mutex
	procs  []*proc
	exited chan string
}

type proc struct {
	name     string
	cmd      *exec.Cmd
	done     chan struct{}
	stopping bool // stopped on purpose: its exit is not news
}

func (g *group) start(name, path string, args ...string) *proc {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.exited == nil {
		g.exited = make(chan string, 16)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = childEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C reaches us, not the children
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		fatalf("start %s: %v (run `make build` first)", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	g.procs = append(g.procs, p)
	go prefix(name, out)
	go func() {
		_ = cmd.Wait()
		close(p.done)
		g.mu.Lock()
		expected := p.stopping
		g.mu.Unlock()
		if expected {
			return
		}
		select {
		case g.exited <- name:
		default:
		}
	}()
	return p
}

func (g *group) stop() {
	g.mu.Lock()
	procs := append([]*proc(nil), g.procs...)
	g.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		g.stopOne(procs[i])
	}
}

// stopOne interrupts p and waits for it, killing it after 10 s.
func (g *group) stopOne(p *proc) { g.signalOne(p, os.Interrupt) }

// signalOne sends p sig and waits for it to end, killing it after 10 s.
func (g *group) signalOne(p *proc, sig os.Signal) {
	g.mu.Lock()
	p.stopping = true
	g.mu.Unlock()
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		fmt.Fprintf(os.Stderr, "demo: %s did not stop in 10 s; killing it\n", p.name)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func prefix(name string, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fmt.Printf("%-34s %s\n", "["+name+"]", sc.Text())
	}
}

// childEnv is the demo's environment for its children. Fyne reads the
// locale from LANG and complains about "C"; the kiosk speaks Chinese first.
func childEnv() []string {
	env := os.Environ()
	switch os.Getenv("LANG") {
	case "", "C", "POSIX", "C.UTF-8":
		env = append(env, "LANG=zh_CN.UTF-8")
	}
	return env
}

func free(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return l.Close()
}

func waitHTTP(ctx context.Context, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.New("interrupted")
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "demo: "+format+"\n", args...)
	os.Exit(1)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// demoAccounts adds one person of each other role, so that the dashboard
// can be seen as each of them; it returns their names and roles.
func demoAccounts(ctx context.Context, httpAddr, password string) ([][2]string, error) {
	c, err := web.SignIn(ctx, "http://"+httpAddr, "admin", password)
	if err != nil {
		return nil, err
	}
	users := []struct{ name, display, role, station, label string }{
		{"sanjing", "三井街道管理员", "town_admin", "cz-xb-sanjing", "town administrator of 三井街道"},
		{"xinqiao", "新桥村工作人员", "station_staff", "cz-xb-sanjing-xinqiao", "staff of 新桥村"},
		{"auditor", "审计员", "auditor", "", "auditor: read only, masked"},
	}
	var out [][2]string
	for _, u := range users {
		if err := c.Post(ctx, "/api/v1/users", map[string]any{"name": u.name, "display_name": u.display, "role": u.role,
			"station": u.station, "password": password}, nil); err != nil {
			return nil, fmt.Errorf("user %s: %w", u.name, err)
		}
		out = append(out, [2]string{u.name, u.label})
	}
	return out, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
