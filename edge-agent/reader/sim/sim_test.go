package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/reader"
	"github.com/vetnet/vetnet/edge-agent/reader/sim"
)

func run(t *testing.T, r *sim.Reader) <-chan reader.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan reader.Event)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	waitState(t, r, reader.StateOK)
	return out
}

func waitState(t *testing.T, r *sim.Reader, state string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); r.Health().State != state; {
		if time.Now().After(deadline) {
			t.Fatalf("state %q, want %q", r.Health().State, state)
		}
		time.Sleep(time.Millisecond)
	}
}

func next(t *testing.T, ch <-chan reader.Event) reader.Event {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	return reader.Event{}
}

func TestTap(t *testing.T) {
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	r := sim.New(sim.Options{Name: "desk", Now: func() time.Time { return at }})
	if h := r.Health(); h.State != reader.StateAbsent || h.Kind != reader.KindSimulated || h.Name != "desk" {
		t.Fatalf("health before Run: %+v", h)
	}
	out := run(t, r)
	tests := []struct {
		name  string
		tap   *vetnet.Visitor
		check func(vetnet.Visitor) bool
	}{
		{"synthetic", nil, func(v vetnet.Visitor) bool { return v.Name != "" && v.DocType == vetnet.DocResident }},
		{"given ID number", &vetnet.Visitor{IDNumber: "11010519491231002X"}, func(v vetnet.Visitor) bool {
			return v.IDNumber == "11010519491231002X" && v.Name != ""
		}},
		{"given name", &vetnet.Visitor{Name: "张建国"}, func(v vetnet.Visitor) bool { return v.Name == "张建国" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := r.Tap(tt.tap); err != nil {
				t.Fatal(err)
			}
			ev := next(t, out)
			if ev.Err != nil || ev.Visitor == nil || ev.Reader != "desk" || ev.Method != vetnet.MethodCard || !ev.At.Equal(at) {
				t.Fatalf("event %+v", ev)
			}
			if err := vetnet.ValidateIDNumber(ev.Visitor.IDNumber, at); err != nil {
				t.Fatalf("invalid ID number: %v", err)
			}
			if !tt.check(*ev.Visitor) {
				t.Fatalf("visitor %+v", ev.Visitor.Masked())
			}
		})
	}
}

func TestFail(t *testing.T) {
	r := sim.New(sim.Options{})
	out := run(t, r)
	if err := r.Fail(vetnet.Errorz(vetnet.EINVALID, "读卡失败", "Cannot read the card.")); err != nil {
		t.Fatal(err)
	}
	ev := next(t, out)
	if ev.Err == nil || ev.Visitor != nil || ev.Reader != sim.DefaultName {
		t.Fatalf("event %+v", ev)
	}
	if h := r.Health(); h.State != reader.StateFault || h.Detail != "Cannot read the card." {
		t.Fatalf("health after a failed read: %+v", h)
	}
	if err := r.Tap(nil); err != nil {
		t.Fatal(err)
	}
	next(t, out)
	waitState(t, r, reader.StateOK)
}

func TestInterval(t *testing.T) {
	r := sim.New(sim.Options{Interval: 10 * time.Millisecond})
	out := run(t, r)
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		ev := next(t, out)
		if ev.Visitor == nil {
			t.Fatalf("event %+v", ev)
		}
		seen[ev.Visitor.IDNumber] = true
	}
	if len(seen) < 2 {
		t.Fatal("the same veteran every time")
	}
}

func TestTapBusy(t *testing.T) {
	r := sim.New(sim.Options{}) // not running: taps wait
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = r.Tap(nil)
	}
	if vetnet.ErrorCode(err) != vetnet.EFULL {
		t.Fatalf("taps without Run: %v", err)
	}
}
