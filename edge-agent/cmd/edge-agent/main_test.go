package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vetnet/vetnet/edge-agent/agent"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/edge-agent/mqtt"
	"github.com/vetnet/vetnet/edge-agent/mqtt/mqtttest"
	"github.com/vetnet/vetnet/vetnettest"
)

// syncBuffer is a bytes.Buffer safe for the agent's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const demo = "../../../firmware-config/stations/demo.toml"

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		ok   bool
	}{
		{"minimal", []string{"-station", "cz-xb"}, true},
		{"no station", []string{}, false},
		{"bad station", []string{"-station", "CZ XB"}, false},
		{"station in registry", []string{"-station", "cz-xb-sanjing-xinqiao", "-registry", demo}, true},
		{"station not in registry", []string{"-station", "cz-xb-nowhere", "-registry", demo}, false},
		{"missing registry", []string{"-station", "cz-xb", "-registry", "nope.toml"}, false},
		{"unknown flag", []string{"-station", "cz-xb", "-turbo"}, false},
		{"extra argument", []string{"-station", "cz-xb", "now"}, false},
		{"version", []string{"-version"}, true},
		{"timeouts", []string{"-station", "cz-xb", "-ack-timeout", "2s", "-max-backoff", "5s", "-reconnect", "1s"}, true},
		{"bad timeout", []string{"-station", "cz-xb", "-ack-timeout", "soon"}, false},
		{"profile", []string{"-station", "cz-xb", "-profile", "../../../firmware-config/profiles/demo-emulator.toml"}, true},
		{"missing profile", []string{"-station", "cz-xb", "-profile", "nope.toml"}, false},
		{"profile and -sim", []string{"-station", "cz-xb", "-sim", "-profile", "../../../firmware-config/profiles/demo-emulator.toml"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMain()
			m.Stderr = &bytes.Buffer{}
			err := m.ParseFlags(tt.args)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseFlags(%v) = %v", tt.args, err)
			}
		})
	}
	m := NewMain()
	m.Getenv = func(k string) string { return map[string]string{PasswordEnv: "s3cret"}[k] }
	if err := m.ParseFlags([]string{"-station", "cz-xb-sanjing-xinqiao", "-registry", demo, "-heartbeat", "30s", "-sim", "-sim-interval", "5s"}); err != nil {
		t.Fatal(err)
	}
	c := m.Config
	if c.BrokerURL != DefaultBroker || c.APIAddr != localapi.DefaultAddr || c.DataDir != DefaultDataDir || c.Password != "s3cret" ||
		c.HeartbeatInterval != 30*time.Second || !c.SimReader || c.SimInterval != 5*time.Second ||
		c.Station == nil || c.Station.Name != "新桥社区退役军人服务站" ||
		c.AckTimeout != agent.DefaultAckTimeout || c.MaxBackoff != agent.DefaultMaxBackoff || c.ReconnectInterval != mqtt.DefaultMaxReconnectInterval {
		t.Fatalf("config %+v", c)
	}
	m = NewMain()
	if err := m.ParseFlags([]string{"-station", "cz-xb", "-ack-timeout", "2s", "-max-backoff", "5s", "-reconnect", "1s"}); err != nil {
		t.Fatal(err)
	}
	if c := m.Config; c.AckTimeout != 2*time.Second || c.MaxBackoff != 5*time.Second || c.ReconnectInterval != time.Second {
		t.Fatalf("timeouts: ack %v, backoff %v, reconnect %v", c.AckTimeout, c.MaxBackoff, c.ReconnectInterval)
	}
}

// TestRun runs the program end to end: flags, a broker and a fake hub, a
// card read on the simulated reader, a check-in through the local API,
// delivery, and a clean stop.
func TestRun(t *testing.T) {
	b := mqtttest.NewBroker(t)
	hub := mqtttest.NewHub(t, b.URL, mqtttest.HubOptions{})
	const station = "cz-xb-sanjing-xinqiao"
	var stderr syncBuffer
	m := NewMain()
	m.Stderr = &stderr
	err := m.ParseFlags([]string{"-station", station, "-data", t.TempDir(), "-broker", b.URL, "-api", "127.0.0.1:0",
		"-registry", demo, "-sim", "-heartbeat", "1s"})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	ctx := context.Background()
	c := localapi.NewClient(m.Agent.APIAddr())
	st, err := c.Status(ctx)
	if err != nil || st.Station.Name != "新桥社区退役军人服务站" {
		t.Fatalf("status %+v %v", st, err)
	}
	events, err := c.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v := vetnettest.Veteran(rand.New(rand.NewPCG(9, 9)))
	if err := c.SimTap(ctx, localapi.SimTapRequest{IDNumber: v.IDNumber, Name: v.Name}); err != nil {
		t.Fatal(err)
	}
	var card localapi.CardEvent
	for ev := range events {
		if ev.Type == localapi.EventCard {
			card, _ = ev.Card()
			break
		}
	}
	resp, err := c.CheckIn(ctx, localapi.CheckInRequest{Token: card.Token, Service: "legal_aid"})
	if err != nil || resp.QueueNo != "L001" {
		t.Fatalf("check-in %+v %v", resp, err)
	}
	for deadline := time.Now().Add(20 * time.Second); len(hub.Stored(station)) != 1; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("check-in not delivered")
		}
	}
	if got := hub.Stored(station)[0]; got.ID != resp.ID || got.Visitor.IDNumber != v.IDNumber || got.Method != "card" {
		t.Fatalf("hub holds %+v", got)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	logs := stderr.String()
	if !strings.Contains(logs, "edge-agent["+station+"] ") {
		t.Fatalf("logs lack the station: %s", logs)
	}
	if strings.Contains(logs, v.IDNumber) || strings.Contains(logs, v.Name) {
		t.Fatalf("logs leak personal data: %s", logs)
	}
}

// TestRunWithProfile runs the program on the demo's hardware profile: the
// SAM driver reads the agent's emulator, and the API's demo tap lays a card
// on it.
func TestRunWithProfile(t *testing.T) {
	m := NewMain()
	out := &syncBuffer{}
	m.Stderr = out
	if err := m.ParseFlags([]string{"-station", "cz-xb-sanjing-xinqiao", "-registry", demo, "-broker", "",
		"-data", t.TempDir(), "-api", "127.0.0.1:0", "-profile", "../../../firmware-config/profiles/demo-emulator.toml"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c := localapi.NewClient(m.Agent.APIAddr())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	events, err := c.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		st, err := c.Status(ctx)
		if err == nil && len(st.Readers) == 2 && st.Readers[0].State == "ok" && st.SimTap &&
			st.Readers[1].Kind == "printer" && st.Readers[1].State == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %+v %v\n%s", st, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := c.SimTap(ctx, localapi.SimTapRequest{}); err != nil {
		t.Fatal(err)
	}
	for ev := range events {
		if ev.Type == localapi.EventCard {
			card, _ := ev.Card()
			if card.Reader != "idcard0" {
				t.Fatalf("card %+v", card)
			}
			// The ticket prints on the profile's emulated printer.
			resp, err := c.CheckIn(ctx, localapi.CheckInRequest{Token: card.Token, Service: "benefits", Detail: "enquiry"})
			if err != nil || !resp.Printed || resp.Detail != "enquiry" {
				t.Fatalf("check-in %+v %v", resp, err)
			}
			break
		}
	}
	if ctx.Err() != nil {
		t.Fatal("no card event")
	}
	for m.HW.PrinterEmulator.Cuts() != 1 {
		if ctx.Err() != nil {
			t.Fatal("no ticket printed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "SAM emulator on") {
		t.Errorf("log:\n%s", out)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]uint64{"64MiB": 64 << 20, "1GiB": 1 << 30, "500MB": 500e6, "1048576": 1 << 20, "2 GiB": 2 << 30} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MiB", "-5MiB", "lots", "0"} {
		if _, err := parseBytes(bad); err == nil {
			t.Errorf("parseBytes(%q) accepted", bad)
		}
	}
}
