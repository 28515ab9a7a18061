package autopilot

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/kiosk/internal/fakeagent"
	"github.com/vetnet/vetnet/vetnettest"
)

// logBook collects log lines.
type logBook struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBook) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logBook) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func start(t *testing.T, a *fakeagent.Agent, p *Autopilot) *logBook {
	t.Helper()
	lb := &logBook{}
	p.Client = a.Client()
	p.Logf = lb.logf
	p.Rand = rand.New(rand.NewPCG(7, 7))
	if p.MinThink == 0 {
		p.MinThink, p.MaxThink = time.Millisecond, 5*time.Millisecond
	}
	p.Reconnect = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	eventually(t, "the event stream", func() bool { return a.Subscribers() == 1 })
	eventually(t, "agent up", func() bool { return strings.Contains(lb.all(), "agent up") })
	return lb
}

func TestChecksInEveryCard(t *testing.T) {
	a := fakeagent.New(fakeagent.DemoStatus())
	defer a.Close()
	lb := start(t, a, &Autopilot{})

	offered := map[string]bool{}
	for _, k := range fakeagent.DemoStatus().Station.Services {
		offered[k] = true
	}
	names := []string{"张建国", "李卫东", "王秀英"}
	rnd := rand.New(rand.NewPCG(3, 3))
	for i, name := range names {
		a.Tap(vetnet.Visitor{IDNumber: vetnettest.IDNumber(rnd, vetnettest.Region, time.Date(1950+i, 3, 1, 0, 0, 0, 0, time.UTC), true), Name: name})
		eventually(t, "check-in of "+name, func() bool { return len(a.CheckIns()) == i+1 })
		c := a.CheckIns()[i]
		if !offered[c.Service] {
			t.Errorf("chose %q, which the station does not offer", c.Service)
		}
		want := fmt.Sprintf("checked in %s → %s %s", vetnet.MaskName(name), vetnet.Service(c.Service).Label("zh"), c.QueueNo)
		eventually(t, "log line "+want, func() bool { return strings.Contains(lb.all(), want) })
	}
	for _, name := range names {
		if strings.Contains(lb.all(), name) {
			t.Errorf("log shows the full name %s:\n%s", name, lb.all())
		}
	}
}

func TestFailureThenNextCard(t *testing.T) {
	a := fakeagent.New(fakeagent.DemoStatus())
	defer a.Close()
	lb := start(t, a, &Autopilot{})

	a.FailNext(vetnet.Errorz(vetnet.EFULL, "存储已满", "The station's storage is full."))
	a.Tap(vetnet.Visitor{})
	eventually(t, "failure logged", func() bool { return strings.Contains(lb.all(), "storage is full") })
	a.Tap(vetnet.Visitor{})
	eventually(t, "next check-in", func() bool { return len(a.CheckIns()) == 1 })

	a.CardError(localapi.CardErrorEvent{Code: "invalid", MessageZH: "请将卡片放稳", MessageEN: "Hold the card still."})
	eventually(t, "card error logged", func() bool { return strings.Contains(lb.all(), "card not read: Hold the card still.") })
	a.Tap(vetnet.Visitor{})
	eventually(t, "check-in after the card error", func() bool { return len(a.CheckIns()) == 2 })
}

func TestReconnects(t *testing.T) {
	a := fakeagent.New(fakeagent.DemoStatus())
	defer a.Close()
	lb := start(t, a, &Autopilot{})

	a.SetDown(true)
	eventually(t, "agent down logged", func() bool { return strings.Contains(lb.all(), "agent down") })
	a.SetDown(false)
	eventually(t, "stream back", func() bool { return a.Subscribers() == 1 })
	a.Tap(vetnet.Visitor{})
	eventually(t, "check-in after reconnect", func() bool { return len(a.CheckIns()) == 1 })
}

func TestTapsByItself(t *testing.T) {
	a := fakeagent.New(fakeagent.DemoStatus())
	defer a.Close()
	start(t, a, &Autopilot{TapEvery: 20 * time.Millisecond})
	eventually(t, "three visits on its own", func() bool { return len(a.CheckIns()) >= 3 })
}

func TestThink(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 1))
	tests := []struct {
		name   string
		lo, hi time.Duration
		min    time.Duration
		max    time.Duration
	}{
		{"defaults", 0, 0, time.Second, 4 * time.Second},
		{"range", 10 * time.Millisecond, 20 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond},
		{"fixed", 5 * time.Millisecond, 5 * time.Millisecond, 5 * time.Millisecond, 5 * time.Millisecond},
		{"inverted means the minimum", 9 * time.Millisecond, time.Millisecond, 9 * time.Millisecond, 9 * time.Millisecond},
		{"never zero", 0, time.Nanosecond, time.Millisecond, time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &Autopilot{MinThink: tc.lo, MaxThink: tc.hi}
			for range 50 {
				if d := p.think(rnd); d < tc.min || d > tc.max {
					t.Fatalf("think %v outside [%v, %v]", d, tc.min, tc.max)
				}
			}
		})
	}
}
