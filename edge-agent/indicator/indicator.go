// Package indicator drives a station's little hardware signals on GPIO: a
// status LED whose pattern says ready, reading, offline or fault, and a
// buzzer that beeps once on a good read and three times on an error. Both
// are optional (a nil pin is skipped), so a profile can have either, both
// or none. Pins are periph.io gpio.PinOut: the agent passes real pins
// (package periph), tests gpiotest.Pin.
package indicator

import (
	"context"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// State is what the status LED shows.
type State int

const (
	Off     State = iota // dark (stopped)
	Ready                // steady on: cards can be read
	Reading              // fast blink: a card is being handled
	Offline              // slow blink: no link to the hub (check-ins are kept)
	Fault                // double flash: a reader is failing
)

var stateNames = [...]string{"off", "ready", "reading", "offline", "fault"}

func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return "State(?)"
	}
	return stateNames[s]
}

// Beep is a buzzer signal.
type Beep int

const (
	BeepOK    Beep = iota // one short beep: read
	BeepError             // three short beeps: could not read
)

// Step is one part of a pattern: a level held for a duration; zero holds
// it until the pattern changes.
type Step struct {
	Level gpio.Level
	For   time.Duration
}

// Pattern is the LED's cycle for a state, repeated while the state lasts.
func Pattern(s State) []Step {
	switch s {
	case Ready:
		return []Step{{gpio.High, 0}}
	case Reading:
		return []Step{{gpio.High, 100 * time.Millisecond}, {gpio.Low, 100 * time.Millisecond}}
	case Offline:
		return []Step{{gpio.High, time.Second}, {gpio.Low, time.Second}}
	case Fault:
		return []Step{{gpio.High, 150 * time.Millisecond}, {gpio.Low, 150 * time.Millisecond},
			{gpio.High, 150 * time.Millisecond}, {gpio.Low, 1550 * time.Millisecond}}
	}
	return []Step{{gpio.Low, 0}}
}

// BeepPattern is the buzzer's sequence for a beep; the buzzer is low
// after it.
func BeepPattern(b Beep) []Step {
	if b == BeepOK {
		return []Step{{gpio.High, 120 * time.Millisecond}, {gpio.Low, 0}}
	}
	const d = 80 * time.Millisecond
	return []Step{{gpio.High, d}, {gpio.Low, d}, {gpio.High, d}, {gpio.Low, d}, {gpio.High, d}, {gpio.Low, 0}}
}

// Options configure an Indicator.
type Options struct {
	// LED is the status LED's pin; nil for none.
	LED gpio.PinOut
	// Buzzer is the buzzer's pin (an active buzzer: high sounds); nil for
	// none.
	Buzzer gpio.PinOut
	// ActiveLow inverts both pins (a LED wired to the supply).
	ActiveLow bool
	// After is the timer. Default time.After; tests step it by hand.
	After func(time.Duration) <-chan time.Time
	// Logf logs pin errors once per pin. Default: none.
	Logf func(format string, a ...any)
}

// Indicator drives the pins. Set and Beep never block; Run does the
// driving.
type Indicator struct {
	o      Options
	state  chan State
	beeps  chan Beep
	mu     sync.Mutex
	cur    State
	failed map[gpio.PinOut]bool
}

// New returns an indicator showing Off until Run starts.
func New(o Options) *Indicator {
	if o.After == nil {
		o.After = time.After
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return &Indicator{o: o, state: make(chan State, 1), beeps: make(chan Beep, 4), failed: map[gpio.PinOut]bool{}}
}

// Set changes what the LED shows. Setting the state it already shows does
// not restart its pattern.
func (in *Indicator) Set(s State) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if s == in.cur {
		return
	}
	in.cur = s
	select {
	case <-in.state: // the newest state wins
	default:
	}
	in.state <- s
}

// State returns the state last set.
func (in *Indicator) State() State {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.cur
}

// Beep sounds b; beeps beyond a few waiting are dropped.
func (in *Indicator) Beep(b Beep) {
	select {
	case in.beeps <- b:
	default:
	}
}

// Run drives the LED and the buzzer until ctx is done, then turns both
// off.
func (in *Indicator) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); in.runLED(ctx) }()
	go func() { defer wg.Done(); in.runBuzzer(ctx) }()
	wg.Wait()
	in.out(in.o.LED, gpio.Low)
	in.out(in.o.Buzzer, gpio.Low)
}

func (in *Indicator) runLED(ctx context.Context) {
	steps := Pattern(Off)
	i := 0
	for {
		st := steps[i%len(steps)]
		in.out(in.o.LED, st.Level)
		var tick <-chan time.Time
		if st.For > 0 {
			tick = in.o.After(st.For)
		}
		select {
		case <-ctx.Done():
			return
		case s := <-in.state:
			steps, i = Pattern(s), 0
		case <-tick:
			i++
		}
	}
}

func (in *Indicator) runBuzzer(ctx context.Context) {
	in.out(in.o.Buzzer, gpio.Low)
	for {
		var b Beep
		select {
		case <-ctx.Done():
			return
		case b = <-in.beeps:
		}
		for _, st := range BeepPattern(b) {
			in.out(in.o.Buzzer, st.Level)
			if st.For == 0 {
				continue
			}
			select {
			case <-ctx.Done():
				return
			case <-in.o.After(st.For):
			}
		}
	}
}

func (in *Indicator) out(p gpio.PinOut, l gpio.Level) {
	if p == nil {
		return
	}
	if in.o.ActiveLow {
		l = !l
	}
	if err := p.Out(l); err != nil {
		in.mu.Lock()
		first := !in.failed[p]
		in.failed[p] = true
		in.mu.Unlock()
		if first {
			in.o.Logf("indicator: pin %s: %v", p, err)
		}
	}
}
