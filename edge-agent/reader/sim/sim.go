// Package sim is a simulated ID-card reader for demos, tests and stations
// without hardware. It reads synthetic veterans (vetnettest.Veteran) every
// Interval, or when told to by Tap, and can be made to fail by Fail.
package sim

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/reader"
	"github.com/vetnet/vetnet/vetnettest"
)

// DefaultName is the name of a simulated reader unless Options say
// otherwise.
const DefaultName = "sim0"

// Options configure a Reader.
type Options struct {
	Name     string           // default DefaultName
	Interval time.Duration    // a synthetic read every Interval; 0 reads only on Tap
	Rand     *rand.Rand       // source of synthetic veterans; default seeded randomly
	Now      func() time.Time // default time.Now
}

// Reader is a simulated reader. It implements reader.Reader.
type Reader struct {
	name     string
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	rand    *rand.Rand
	running bool
	fault   string

	taps chan reader.Event
}

var _ reader.Reader = (*Reader)(nil)

// maxTaps is how many taps may wait for Run; beyond that Tap fails, as a
// real reader would not take a second card while the first is read.
const maxTaps = 16

// New returns a simulated reader.
func New(opts Options) *Reader {
	if opts.Name == "" {
		opts.Name = DefaultName
	}
	if opts.Rand == nil {
		opts.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Reader{name: opts.Name, interval: opts.Interval, now: opts.Now, rand: opts.Rand,
		taps: make(chan reader.Event, maxTaps)}
}

// Name returns the reader's name.
func (r *Reader) Name() string { return r.name }

// Tap reads a card as if a visitor presented one. A nil visitor is a
// synthetic veteran; empty fields of a given visitor are filled from one
// (so a test can fix only the ID number). The read is delivered by Run.
//
// Errors: EFULL when taps pile up faster than Run delivers them.
func (r *Reader) Tap(v *vetnet.Visitor) error {
	syn := r.synthetic()
	if v != nil {
		if v.IDNumber != "" {
			syn.IDNumber = v.IDNumber
		}
		if v.Name != "" {
			syn.Name = v.Name
		}
		if v.DocType != "" {
			syn.DocType = v.DocType
		}
	}
	return r.enqueue(reader.Event{Reader: r.name, Visitor: &syn, Method: vetnet.MethodCard, At: r.now()})
}

// Fail makes the reader report a failed read with err and the state fault
// until the next successful read.
//
// Errors: EFULL as for Tap.
func (r *Reader) Fail(err error) error {
	r.mu.Lock()
	r.fault = vetnet.ErrorMessage(err, "en")
	r.mu.Unlock()
	return r.enqueue(reader.Event{Reader: r.name, Err: err, At: r.now()})
}

func (r *Reader) enqueue(ev reader.Event) error {
	select {
	case r.taps <- ev:
		return nil
	default:
		return vetnet.Errorz(vetnet.EFULL, "读卡器忙，请稍后再试", "The reader is busy; please try again.")
	}
}

func (r *Reader) synthetic() vetnet.Visitor {
	r.mu.Lock()
	defer r.mu.Unlock()
	return vetnettest.Veteran(r.rand)
}

// Run delivers taps and, with an Interval, synthetic reads until ctx is
// done.
func (r *Reader) Run(ctx context.Context, out chan<- reader.Event) error {
	r.setRunning(true)
	defer r.setRunning(false)
	var tick <-chan time.Time
	if r.interval > 0 {
		t := time.NewTicker(r.interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		var ev reader.Event
		select {
		case <-ctx.Done():
			return nil
		case ev = <-r.taps:
		case <-tick:
			v := r.synthetic()
			ev = reader.Event{Reader: r.name, Visitor: &v, Method: vetnet.MethodCard, At: r.now()}
		}
		if ev.Err == nil {
			r.mu.Lock()
			r.fault = ""
			r.mu.Unlock()
		}
		select {
		case out <- ev:
		case <-ctx.Done():
			return nil
		}
	}
}

func (r *Reader) setRunning(b bool) {
	r.mu.Lock()
	r.running = b
	r.mu.Unlock()
}

// Health is ok while Run runs, fault after Fail, absent when not running.
func (r *Reader) Health() reader.Health {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := reader.Health{Name: r.name, Kind: reader.KindSimulated, State: reader.StateOK}
	switch {
	case !r.running:
		h.State, h.Detail = reader.StateAbsent, "not running"
	case r.fault != "":
		h.State, h.Detail = reader.StateFault, r.fault
	}
	return h
}
