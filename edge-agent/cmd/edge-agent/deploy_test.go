package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet/firmware-config/provision"
)

// Under systemd (Type=notify, WatchdogSec=) the agent says READY=1 once
// it runs and then WATCHDOG=1 while it answers.
func TestSupervise(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "200000")
	t.Setenv("WATCHDOG_PID", "")
	m := NewMain()
	m.Stderr = &syncBuffer{}
	if err := m.ParseFlags([]string{"-station", "cz-xb", "-data", t.TempDir(), "-broker", "", "-api", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Supervise(ctx); close(done) }()
	var got []string
	buf := make([]byte, 64)
	for len(got) < 3 {
		ln.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := ln.Read(buf)
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, string(buf[:n]))
	}
	cancel()
	<-done
	if got[0] != "READY=1" || got[1] != "WATCHDOG=1" || got[2] != "WATCHDOG=1" {
		t.Fatalf("notifications %q", got)
	}
}

// -bundle takes the station, broker, TLS files, configuration key and
// device generation from an installed bundle.
func TestBundleFlags(t *testing.T) {
	dir := t.TempDir()
	p := &provision.Main{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Now: time.Now}
	ca := []string{"-ca", filepath.Join(dir, "ca")}
	for _, args := range [][]string{
		append([]string{"ca", "init"}, ca...),
		append([]string{"hub", "-hosts", "localhost", "-out", dir}, ca...),
		append([]string{"station", "cz-xb-sanjing", "-registry", demo, "-broker", "ssl://localhost:8883", "-out", dir}, ca...),
		append([]string{"replace", "cz-xb-sanjing", "-registry", demo, "-broker", "ssl://localhost:8883", "-out", dir}, ca...),
	} {
		if err := p.Run(args); err != nil {
			t.Fatal(args, err)
		}
	}
	bd := filepath.Join(dir, "vetnet-station-cz-xb-sanjing-g2")
	m := NewMain()
	m.Stderr = &bytes.Buffer{}
	if err := m.ParseFlags([]string{"-bundle", bd, "-data", dir}); err != nil {
		t.Fatal(err)
	}
	c := m.Config
	if c.StationID != "cz-xb-sanjing" || c.BrokerURL != "ssl://localhost:8883" || c.TLS == nil || c.ConfigKey == nil ||
		c.SeqBase != 2<<32 || c.Station == nil || c.Station.Name != "三井街道退役军人服务站" {
		t.Fatalf("config %+v", c)
	}
	// -broker overrides the bundle's; a station other than the bundle's is refused.
	m = NewMain()
	m.Stderr = &bytes.Buffer{}
	if err := m.ParseFlags([]string{"-bundle", bd, "-broker", "ssl://10.0.0.2:8883"}); err != nil || m.Config.BrokerURL != "ssl://10.0.0.2:8883" {
		t.Fatal(err, m.Config.BrokerURL)
	}
	m = NewMain()
	m.Stderr = &bytes.Buffer{}
	if err := m.ParseFlags([]string{"-bundle", bd, "-station", "cz-xb"}); err == nil || !strings.Contains(err.Error(), "the bundle is for station cz-xb-sanjing") {
		t.Fatal(err)
	}
	// A certificate of another station is refused.
	g2 := filepath.Join(bd, "client.crt")
	m = NewMain()
	m.Stderr = &bytes.Buffer{}
	if err := m.ParseFlags([]string{"-station", "cz-xb", "-tls-ca", filepath.Join(bd, "ca.crt"), "-tls-cert", g2, "-tls-key", filepath.Join(bd, "client.key")}); err == nil ||
		!strings.Contains(err.Error(), `the certificate is for "cz-xb-sanjing"`) {
		t.Fatal(err)
	}
	m = NewMain()
	m.Stderr = &bytes.Buffer{}
	if err := m.ParseFlags([]string{"-station", "cz-xb", "-tls-cert", g2}); err == nil {
		t.Fatal("-tls-cert alone accepted")
	}
}
