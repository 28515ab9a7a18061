package agent

import (
	"context"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/indicator"
	"github.com/vetnet/vetnet/edge-agent/reader"
)

// readingFor is how long the LED shows "reading" after a read.
const readingFor = 1500 * time.Millisecond

// signalRead beeps (once for a good read, three times for a failed one)
// and shows reading for a moment.
func (a *Agent) signalRead(ok bool) {
	in := a.cfg.Indicator
	if in == nil {
		return
	}
	a.mu.Lock()
	a.readingUntil = time.Now().Add(readingFor)
	a.mu.Unlock()
	in.Set(indicator.Reading)
	if ok {
		in.Beep(indicator.BeepOK)
	} else {
		in.Beep(indicator.BeepError)
	}
}

// indicatorState is what the LED shows now: reading just after a read,
// else fault while a reader fails, else offline while the hub is away,
// else ready.
func (a *Agent) indicatorState() indicator.State {
	a.mu.Lock()
	reading := time.Now().Before(a.readingUntil)
	a.mu.Unlock()
	if reading {
		return indicator.Reading
	}
	for _, r := range a.readers {
		if r.Health().State == reader.StateFault {
			return indicator.Fault
		}
	}
	if a.up != nil && !a.up.Connected() {
		return indicator.Offline
	}
	return indicator.Ready
}

// indicate keeps the LED in step with the station.
func (a *Agent) indicate(ctx context.Context) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		a.cfg.Indicator.Set(a.indicatorState())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// simTaps lays a synthetic card on the emulated reader every SimInterval,
// as the simulated reader does by itself.
func (a *Agent) simTaps(ctx context.Context) {
	t := time.NewTicker(a.cfg.SimInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.cfg.SimTap(nil); err != nil && vetnet.ErrorCode(err) != vetnet.EFULL {
				a.cfg.Logf("agent: emulated tap: %v", err)
			}
		}
	}
}
