package e2e_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/agent"
)

// TestReplicasSIGKILL: as TestReplicasKillOne, but replica 1 is the real
// hub binary in a process of its own, and it is killed with SIGKILL in
// the middle of the stream of check-ins: no Close, no unsubscribe, no
// advisory lock given back; batches it stored are never acknowledged and
// the ones Mosquitto routed to it are lost with its clean session (it is
// frozen with SIGSTOP just before, until a station has waited a second
// for an ack, so that some surely are). The
// stations' outboxes send them again after their ack timeout, and the
// other replica stores them (once: the store ignores IDs it holds) and
// acknowledges them. Replica 1 starts first and leads; in the end replica
// 2 leads, every check-in is stored exactly once and every outbox is
// empty.
func TestReplicasSIGKILL(t *testing.T) {
	needMosquitto(t)
	needPostgres(t)
	if testing.Short() {
		t.Skip("builds the hub and streams for tens of seconds")
	}
	dir := t.TempDir()
	bin := buildHub(t, dir)
	stations, _, _ := district(t)
	prefix := stations[0].ID
	const villages, perStation = 6, 24
	for i := 0; i < villages; i++ {
		stations = append(stations, vetnet.Station{ID: fmt.Sprintf("%s-v%d", prefix, i), Name: fmt.Sprintf("测试%d村退役军人服务站", i),
			Level: vetnet.LevelVillage, Parent: prefix + "-town"})
	}
	schema := pgSchema(t, prefix)
	group := "hub" + prefix[len("e2e-"):]

	// Replica 1, the binary, makes the schema and the key file the
	// in-process replica 2 then shares.
	p1 := startHubProcess(t, bin, dir, "-broker", mosquittoURL, "-share-group", group, "-own-topics",
		"-store", postgresURL, "-store-schema", schema, "-store-conns", "4", "-key-file", pgKeyFile(schema),
		"-stations", writeStationsTOML(t, dir, stations), "-http", "127.0.0.1:0", "-mqtt", "",
		"-admin-password", adminPassword, "-heartbeat", "1", "-data", filepath.Join(dir, "hub1"))
	h2 := startReplica(t, "replica-2", group, schema, stations)
	if h2.Leading() {
		t.Errorf("replica 2 leads although replica 1 started first and holds the lock")
	}

	type station struct {
		id    string
		agent *agent.Agent
		k     *kiosk
		ids   []string
	}
	var sts []*station
	for _, st := range stations[len(stations)-villages:] {
		ag, c := startAgent(t, st, mosquittoURL)
		sts = append(sts, &station{id: st.ID, agent: ag, k: newKiosk(t, c, st.OfferedServices()[0])})
	}
	// stuck counts the stations whose oldest check-in not acknowledged
	// has waited a second or more.
	stuck := func() int {
		n := 0
		for _, s := range sts {
			if o := s.agent.Status().Outbox; o.Depth > 0 && o.OldestAt != nil && time.Since(*o.OldestAt) >= time.Second {
				n++
			}
		}
		return n
	}
	var made, batches1 atomic.Int64
	killed := make(chan error, 1)
	go func() {
		// Kill replica 1 once a third of the check-ins are made and it
		// stored a few batches.
		var n int64
		for limit := time.Now().Add(60 * time.Second); ; {
			n, _ = metricsBatches(p1.addr)
			if made.Load() >= villages*perStation/3 && n >= 3 || time.Now().After(limit) {
				break // past the limit the final checks say what went wrong
			}
			time.Sleep(20 * time.Millisecond)
		}
		batches1.Store(n)
		// Freeze it first (SIGSTOP), so that Mosquitto keeps handing it
		// batches it never answers, until a check-in has waited a second
		// for its ack (half the agents' ack timeout; replica 2 answers in
		// milliseconds): then the kill surely takes batches in flight
		// with it.
		if err := p1.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			killed <- fmt.Errorf("SIGSTOP: %w", err)
			return
		}
		for limit := time.Now().Add(30 * time.Second); time.Now().Before(limit); time.Sleep(20 * time.Millisecond) {
			if stuck() > 0 {
				break
			}
		}
		t.Logf("killing replica 1 (stopped) with %d of the stations waiting over a second for an ack", stuck())
		killed <- p1.kill()
	}()
	var wg sync.WaitGroup
	for _, s := range sts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < perStation; j++ {
				resp := s.k.checkIn()
				s.ids = append(s.ids, resp.ID)
				made.Add(1)
				time.Sleep(30 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	if err := <-killed; err != nil {
		t.Fatal(err)
	}
	t.Logf("killed replica 1 after it stored %d batches", batches1.Load())
	for _, s := range sts {
		eventually(t, 90*time.Second, s.id+" outbox to drain", func() bool { return outboxEmpty(s.agent) })
	}
	for _, s := range sts {
		exactlyOnce(t, h2, s.id, s.ids)
	}
	// PostgreSQL frees the dead replica's advisory lock with its
	// connection.
	eventually(t, 60*time.Second, "the surviving replica to lead", h2.Leading)
	eventually(t, 30*time.Second, "every station online at the surviving replica", func() bool {
		for _, s := range sts {
			if p, ok := h2.Presence(s.id); !ok || p.State != "online" {
				return false
			}
		}
		return true
	})
	// Figures of the run: a check-in replica 1 stored without acking it
	// comes back and is counted a duplicate at replica 2.
	dup, _ := metricAt(h2.HTTPAddr(), `vetnet_hub_checkins_total{result="duplicate"}`)
	stored, _ := metricAt(h2.HTTPAddr(), `vetnet_hub_checkins_total{result="stored"}`)
	t.Logf("replica 2 stored %d check-ins new and %d again", stored, dup)
	if b1, b2 := batches1.Load(), okBatches(t, h2); b1 == 0 || b2 == 0 {
		t.Errorf("batches stored: replica 1 %d, replica 2 %d; want both > 0", b1, b2)
	}
}

// buildHub builds the hub command into dir.
func buildHub(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "hub")
	cmd := exec.Command("go", "build", "-o", bin, "./cloud/cmd/hub")
	cmd.Dir = ".." // the module's root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// writeStationsTOML writes the registry the hub command reads.
func writeStationsTOML(t *testing.T, dir string, stations []vetnet.Station) string {
	t.Helper()
	var b strings.Builder
	for _, s := range stations {
		fmt.Fprintf(&b, "[[station]]\nid = %q\nname = %q\nlevel = %q\n", s.ID, s.Name, string(s.Level))
		if s.Parent != "" {
			fmt.Fprintf(&b, "parent = %q\n", s.Parent)
		}
		if len(s.Services) > 0 {
			q := make([]string, len(s.Services))
			for i, svc := range s.Services {
				q[i] = strconv.Quote(string(svc))
			}
			fmt.Fprintf(&b, "services = [%s]\n", strings.Join(q, ", "))
		}
		b.WriteString("\n")
	}
	path := filepath.Join(dir, "stations.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// hubProcess is the hub command running in a process of its own.
type hubProcess struct {
	cmd  *exec.Cmd
	addr string // the dashboard's address
	once sync.Once
	err  error
}

// startHubProcess starts the hub command and waits for its dashboard
// address. Its output goes to the test's log when the test fails.
func startHubProcess(t *testing.T, bin, dir string, args ...string) *hubProcess {
	t.Helper()
	logPath := filepath.Join(dir, "hub1.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	p := &hubProcess{cmd: exec.Command(bin, args...)}
	p.cmd.Stderr = logFile
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.kill()
		logFile.Close()
		if b, err := os.ReadFile(logPath); err == nil && len(b) > 0 && t.Failed() {
			t.Logf("replica 1 (hub command) log:\n%s", b)
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			fmt.Fprintln(logFile, "stdout:", sc.Text())
			if _, a, ok := strings.Cut(sc.Text(), "dashboard http://"); ok {
				select {
				case addr <- strings.TrimSuffix(a, "/"):
				default:
				}
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatal("the hub command ended before it served its dashboard (its log follows)")
		}
		p.addr = a
	case <-time.After(60 * time.Second):
		t.Fatal("the hub command did not serve its dashboard within 60s")
	}
	return p
}

// kill sends SIGKILL and reaps the process; it reports an error unless
// the process was running and died of the signal.
func (p *hubProcess) kill() error {
	p.once.Do(func() {
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			p.err = fmt.Errorf("SIGKILL: %w", err)
			_ = p.cmd.Wait()
			return
		}
		err := p.cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			p.err = fmt.Errorf("hub command after SIGKILL: %v, want killed", err)
			return
		}
		if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			p.err = fmt.Errorf("hub command ended with %v before it was killed", ee)
		}
	})
	return p.err
}

// metricsBatches reads from the /metrics of the hub at addr how many
// batches it stored and acknowledged.
func metricsBatches(addr string) (int64, error) {
	return metricAt(addr, `vetnet_hub_batches_total{result="ok"}`)
}

// metricAt reads one series from the /metrics of the hub at addr; 0 when
// the hub has none yet.
func metricAt(addr, series string) (int64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int64(n), err
		}
	}
	return 0, nil
}
