package agent_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/agent"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/vetnettest"
)

// logs collects the agent's log lines and checks on cleanup that no
// personal data of the test's visitors leaked into them.
type logs struct {
	mu      sync.Mutex
	lines   []string
	secrets []string
}

func (l *logs) logf(format string, a ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, a...))
	l.mu.Unlock()
}

func (l *logs) secret(s ...string) {
	l.mu.Lock()
	l.secrets = append(l.secrets, s...)
	l.mu.Unlock()
}

func (l *logs) check(t *testing.T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		for _, s := range l.secrets {
			if s != "" && strings.Contains(line, s) {
				t.Errorf("log line leaks personal data: %q", line)
			}
		}
	}
	if t.Failed() {
		for _, line := range l.lines {
			t.Log(line)
		}
	}
}

// station is a running agent and a client of its local API.
type station struct {
	id    string
	dir   string
	agent *agent.Agent
	api   *localapi.Client
	logs  *logs
	cfg   agent.Config
}

func uniqueStation(prefix string) string { return fmt.Sprintf("%s-%08x", prefix, rand.Uint32()) }

// startStation starts an agent on a free port in a temporary directory;
// edit changes the configuration. It is closed when the test ends.
func startStation(t *testing.T, broker string, edit func(*agent.Config)) *station {
	t.Helper()
	s := &station{id: uniqueStation("test"), dir: t.TempDir(), logs: &logs{}}
	s.cfg = agent.Config{StationID: s.id, DataDir: s.dir, BrokerURL: broker, APIAddr: "127.0.0.1:0",
		HeartbeatInterval: time.Second, SimReader: true, AckTimeout: 2 * time.Second, MaxBackoff: 3 * time.Second,
		ReconnectInterval: 200 * time.Millisecond, Version: "test", Logf: s.logs.logf}
	if edit != nil {
		edit(&s.cfg)
	}
	s.id = s.cfg.StationID
	s.start(t)
	t.Cleanup(func() { s.logs.check(t) })
	return s
}

func (s *station) start(t *testing.T) {
	t.Helper()
	a, err := agent.New(s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	s.agent = a
	s.api = localapi.NewClient(a.APIAddr())
}

// restart closes the agent and starts it again on the same directory.
func (s *station) restart(t *testing.T, edit func(*agent.Config)) {
	t.Helper()
	if err := s.agent.Close(); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&s.cfg)
	}
	s.start(t)
}

var (
	rngMu sync.Mutex
	rng   = rand.New(rand.NewPCG(rand.Uint64(), 7))
)

func veteran() vetnet.Visitor {
	rngMu.Lock()
	defer rngMu.Unlock()
	return vetnettest.Veteran(rng)
}

// manual checks a synthetic veteran in by typed ID number.
func (s *station) manual(t *testing.T, sv vetnet.Service) (vetnet.Visitor, localapi.CheckInResponse) {
	t.Helper()
	v := veteran()
	return v, s.manualFor(t, v, sv)
}

func (s *station) manualFor(t *testing.T, v vetnet.Visitor, sv vetnet.Service) localapi.CheckInResponse {
	t.Helper()
	s.logs.secret(v.IDNumber, v.Name)
	resp, err := s.api.CheckIn(context.Background(), localapi.CheckInRequest{IDNumber: v.IDNumber, Name: v.Name, Service: string(sv)})
	if err != nil {
		t.Fatalf("check-in: %v", err)
	}
	return resp
}

func (s *station) status(t *testing.T) localapi.Status {
	t.Helper()
	st, err := s.api.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// events opens the event stream and returns a function that waits for the
// next event of type typ (skipping others).
func (s *station) events(t *testing.T) func(typ string) localapi.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, err := s.api.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return func(typ string) localapi.Event {
		t.Helper()
		timeout := time.After(15 * time.Second)
		for {
			select {
			case ev, ok := <-ch:
				if !ok {
					t.Fatal("event stream closed")
				}
				if ev.Type == typ {
					return ev
				}
			case <-timeout:
				t.Fatalf("no %s event", typ)
			}
		}
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
