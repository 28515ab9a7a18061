package indicator_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/vetnet/vetnet/edge-agent/indicator"
)

// pin is a gpiotest.Pin that also keeps every level it was set to.
type pin struct {
	*gpiotest.Pin
	mu   sync.Mutex
	hist []gpio.Level
}

func newPin(name string) *pin { return &pin{Pin: &gpiotest.Pin{N: name}} }

func (p *pin) Out(l gpio.Level) error {
	if err := p.Pin.Out(l); err != nil {
		return err
	}
	p.mu.Lock()
	p.hist = append(p.hist, l)
	p.mu.Unlock()
	return nil
}

func (p *pin) history() []gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]gpio.Level(nil), p.hist...)
}

func (p *pin) level() gpio.Level {
	p.Pin.Lock()
	defer p.Pin.Unlock()
	return p.Pin.L
}

// clock hands out timers that the test fires one by one.
type clock struct {
	mu      sync.Mutex
	pending []timer
}

type timer struct {
	d  time.Duration
	ch chan time.Time
}

func (c *clock) after(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.pending = append(c.pending, timer{d, ch})
	return ch
}

// fire waits for a timer of d and fires it.
func (c *clock) fire(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		for i, tm := range c.pending {
			if tm.d == d {
				c.pending = append(c.pending[:i], c.pending[i+1:]...)
				c.mu.Unlock()
				tm.ch <- time.Time{}
				return
			}
		}
		c.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no timer of %v", d)
		}
		time.Sleep(time.Millisecond)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPatterns(t *testing.T) {
	for _, s := range []indicator.State{indicator.Off, indicator.Ready, indicator.Reading, indicator.Offline, indicator.Fault} {
		p := indicator.Pattern(s)
		on := 0
		for _, st := range p {
			if st.Level == gpio.High {
				on++
			}
		}
		want := map[indicator.State]int{indicator.Off: 0, indicator.Ready: 1, indicator.Reading: 1, indicator.Offline: 1, indicator.Fault: 2}[s]
		if on != want {
			t.Errorf("%v: %d flashes per cycle, want %d", s, on, want)
		}
	}
	if len(indicator.BeepPattern(indicator.BeepOK)) == len(indicator.BeepPattern(indicator.BeepError)) {
		t.Error("the error beep sounds like the success beep")
	}
}

func TestLED(t *testing.T) {
	led := newPin("LED")
	c := &clock{}
	in := indicator.New(indicator.Options{LED: led, After: c.after})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { in.Run(ctx); close(done) }()

	in.Set(indicator.Ready)
	eventually(t, "ready: LED on", func() bool { return led.level() == gpio.High })

	in.Set(indicator.Fault)
	start := len(led.history())
	for _, d := range []time.Duration{150, 150, 150, 1550, 150} {
		c.fire(t, d*time.Millisecond)
	}
	eventually(t, "fault pattern", func() bool { return len(led.history()) >= start+6 })
	got := led.history()[start : start+6]
	want := []gpio.Level{gpio.High, gpio.Low, gpio.High, gpio.Low, gpio.High, gpio.Low}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("fault levels %v, want %v", got, want)
		}
	}

	in.Set(indicator.Offline)
	c.fire(t, time.Second)
	eventually(t, "offline blink", func() bool { return led.level() == gpio.Low })
	in.Set(indicator.Offline) // the same state: the pattern goes on, not restarted
	if in.State() != indicator.Offline {
		t.Fatal(in.State())
	}
	cancel()
	<-done
	if led.level() != gpio.Low {
		t.Error("LED left on after Run")
	}
}

func TestBuzzer(t *testing.T) {
	bz := newPin("BUZZER")
	c := &clock{}
	in := indicator.New(indicator.Options{Buzzer: bz, After: c.after})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { in.Run(ctx); close(done) }()
	eventually(t, "buzzer low at start", func() bool { return len(bz.history()) > 0 })

	in.Beep(indicator.BeepOK)
	c.fire(t, 120*time.Millisecond)
	in.Beep(indicator.BeepError)
	for i := 0; i < 5; i++ {
		c.fire(t, 80*time.Millisecond)
	}
	eventually(t, "beeps", func() bool { return len(bz.history()) >= 9 })
	got := bz.history()
	want := []gpio.Level{gpio.Low, gpio.High, gpio.Low, gpio.High, gpio.Low, gpio.High, gpio.Low, gpio.High, gpio.Low}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("buzzer %v, want %v", got, want)
		}
	}
	cancel()
	<-done
}

func TestActiveLowAndNoPins(t *testing.T) {
	led := newPin("LED")
	in := indicator.New(indicator.Options{LED: led, ActiveLow: true})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { in.Run(ctx); close(done) }()
	in.Set(indicator.Ready)
	eventually(t, "active-low on", func() bool { return led.level() == gpio.Low && len(led.history()) >= 2 })
	cancel()
	<-done
	if led.level() != gpio.High {
		t.Error("active-low LED left on")
	}

	none := indicator.New(indicator.Options{}) // no pins: nothing to do, nothing fails
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan struct{})
	go func() { none.Run(ctx2); close(done2) }()
	none.Set(indicator.Fault)
	none.Beep(indicator.BeepError)
	cancel2()
	<-done2
}
