// Package mosquittotest runs a Mosquitto process of its own for a test,
// with the repository's deploy/mosquitto/vetnet.conf and acl (paths and
// port rewritten), on a free loopback port: never the machine's service.
// Tests skip when mosquitto is not installed, unless
// VETNET_REQUIRE_MOSQUITTO=1.
package mosquittotest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Files are the broker's TLS files (as `provision hub` writes them).
type Files struct {
	CA, Cert, Key, CRL string
}

// Broker is a running mosquitto.
type Broker struct {
	Addr string // 127.0.0.1:port
	dir  string
	conf string
	mu   sync.Mutex
	cmd  *exec.Cmd
	log  *syncBuf
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// DeployDir is the repository's deploy/mosquitto.
func DeployDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "deploy", "mosquitto")
}

// Start starts mosquitto with TLS from f; it stops at the test's end.
func Start(tb testing.TB, f Files) *Broker {
	tb.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
			if _, e := os.Stat(p); e == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		if os.Getenv("VETNET_REQUIRE_MOSQUITTO") == "1" {
			tb.Fatalf("mosquitto is not installed: %v", err)
		}
		tb.Skip("mosquitto is not installed")
	}
	dir := tb.TempDir()
	os.Chmod(dir, 0o755)
	src, err := os.ReadFile(filepath.Join(DeployDir(), "vetnet.conf"))
	if err != nil {
		tb.Fatal(err)
	}
	port := freePort(tb)
	conf := string(src)
	conf = strings.Replace(conf, "listener 8883", fmt.Sprintf("listener %d 127.0.0.1", port), 1)
	for _, r := range [][2]string{
		{"/etc/mosquitto/vetnet/ca.crt", f.CA}, {"/etc/mosquitto/vetnet/server.crt", f.Cert},
		{"/etc/mosquitto/vetnet/server.key", f.Key}, {"/etc/mosquitto/vetnet/crl.pem", f.CRL},
		{"/etc/mosquitto/vetnet/acl", filepath.Join(DeployDir(), "acl")},
	} {
		if !strings.Contains(conf, r[0]) {
			tb.Fatalf("vetnet.conf lacks %s", r[0])
		}
		conf = strings.ReplaceAll(conf, r[0], r[1])
	}
	conf += "\npersistence false\nlog_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n"
	if u, err := user.Current(); err == nil && u.Uid == "0" {
		conf += "user root\n" // do not drop to the mosquitto user, who cannot read the test's files
	}
	b := &Broker{Addr: fmt.Sprintf("127.0.0.1:%d", port), dir: dir, conf: filepath.Join(dir, "mosquitto.conf")}
	if err := os.WriteFile(b.conf, []byte(conf), 0o644); err != nil {
		tb.Fatal(err)
	}
	b.start(tb, bin)
	tb.Cleanup(func() { b.stop() })
	return b
}

func (b *Broker) start(tb testing.TB, bin string) {
	tb.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.log = &syncBuf{}
	cmd := exec.Command(bin, "-c", b.conf)
	cmd.Stdout, cmd.Stderr = b.log, b.log
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	b.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", b.Addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			tb.Fatalf("mosquitto did not listen on %s: %s", b.Addr, b.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *Broker) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return
	}
	b.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		b.cmd.Process.Kill()
		<-done
	}
	b.cmd = nil
}

// Restart stops and starts the broker on the same port: how an operator
// makes Mosquitto read a new CRL (and drop revoked clients).
func (b *Broker) Restart(tb testing.TB) {
	tb.Helper()
	path := b.cmd.Path
	b.stop()
	b.start(tb, path)
}

// Log returns what mosquitto logged.
func (b *Broker) Log() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.log.String()
}

func freePort(tb testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
