package sam

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.bug.st/serial"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/reader"
)

// Defaults of Options.
const (
	DefaultName        = "idcard0"
	DefaultBaud        = 115200
	DefaultPoll        = 250 * time.Millisecond
	DefaultReopen      = time.Second
	DefaultMaxReopen   = 10 * time.Second
	DefaultAbsentPolls = 2
	// failuresBeforeEvent is how many failed reads of one presentation pass
	// silently (a card still being laid down) before the visitor is told.
	failuresBeforeEvent = 3
	// timeoutsBeforeReopen is how many exchanges in a row may go
	// unanswered before the port is closed and opened again.
	timeoutsBeforeReopen = 4
)

// Bauds are the rates the module can be set to.
var Bauds = []int{9600, 19200, 38400, 57600, 115200}

// Options configure a Reader.
type Options struct {
	// Name identifies the reader in events and heartbeats. Default
	// DefaultName ("idcard0").
	Name string
	// Path is the serial device, e.g. /dev/ttyUSB0 or a stable link under
	// /dev/serial/by-id/. Required. It is opened again after every
	// failure, so a reader plugged back in under the same name is found.
	Path string
	// Baud is the line speed. Default 115200; see Bauds.
	Baud int
	// Open opens the port. Default: go.bug.st/serial, 8N1, exclusive.
	Open func(path string, baud int) (Port, error)
	// Poll is the pause between two looks for a card. Default 250 ms.
	Poll time.Duration
	// FindTimeout, SelectTimeout and ReadTimeout bound each exchange.
	// Defaults DefaultFindTimeout (500 ms), DefaultSelectTimeout (800 ms),
	// DefaultReadTimeout (2 s).
	FindTimeout, SelectTimeout, ReadTimeout time.Duration
	// Reopen is the first wait before opening a failed port again; it
	// doubles up to MaxReopen. Defaults 1 s and 10 s.
	Reopen, MaxReopen time.Duration
	// AbsentPolls is how many looks in a row must find no card before the
	// card last read counts as taken away, so that a card lying on the
	// reader is checked in once. Default 2.
	AbsentPolls int
	// KeepPhoto keeps the card's photo (WLT, opaque) in the Event. Default
	// false: the photo is wiped as soon as it is read.
	KeepPhoto bool
	// Now is the clock of the events and of the ID number's birth date
	// check (not of the timeouts). Default time.Now.
	Now func() time.Time
	// Logf logs faults and recoveries; never card data. Default: none.
	Logf func(format string, a ...any)
}

// Reader reads resident ID cards, HMT residence permits and foreign
// permanent residence cards through a SAM module. It implements
// reader.Reader.
type Reader struct {
	o Options

	mu     sync.Mutex
	health reader.Health
	stats  Stats
}

// Stats count what the reader saw since it was made.
type Stats struct {
	Reads, Suppressed, Failures, Opens, Faults int
}

var _ reader.Reader = (*Reader)(nil)

// New returns a reader; Run opens the port.
//
// Errors: EINVALID (no Path, a baud rate the module does not have).
func New(o Options) (*Reader, error) {
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.Path == "" {
		return nil, vetnet.Errorz(vetnet.EINVALID, "未配置读卡器串口", "The card reader's serial port is not configured.")
	}
	if o.Baud == 0 {
		o.Baud = DefaultBaud
	}
	ok := false
	for _, b := range Bauds {
		ok = ok || b == o.Baud
	}
	if !ok {
		return nil, vetnet.Errorz(vetnet.EINVALID, "读卡器波特率无效", fmt.Sprintf("Baud rate %d is not one of %v.", o.Baud, Bauds))
	}
	if o.Open == nil {
		o.Open = OpenSerial
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Poll, DefaultPoll)
	def(&o.FindTimeout, DefaultFindTimeout)
	def(&o.SelectTimeout, DefaultSelectTimeout)
	def(&o.ReadTimeout, DefaultReadTimeout)
	def(&o.Reopen, DefaultReopen)
	def(&o.MaxReopen, DefaultMaxReopen)
	if o.AbsentPolls <= 0 {
		o.AbsentPolls = DefaultAbsentPolls
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	r := &Reader{o: o}
	r.health = reader.Health{Name: o.Name, Kind: reader.KindIDCard, State: reader.StateAbsent, Detail: "not started"}
	return r, nil
}

// OpenSerial opens a serial port 8N1 at baud with go.bug.st/serial.
func OpenSerial(path string, baud int) (Port, error) {
	p, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Name returns the reader's name.
func (r *Reader) Name() string { return r.o.Name }

// Health is ok while the module answers, fault while the port cannot be
// opened or the module fails (the detail says why), absent when Run is not
// running.
func (r *Reader) Health() reader.Health {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.health
}

// Stats returns the counters.
func (r *Reader) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

func (r *Reader) setHealth(state, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if state == reader.StateFault && r.health.State != reader.StateFault {
		r.stats.Faults++
		r.o.Logf("sam: %s: fault: %s", r.o.Name, detail)
	}
	if state == reader.StateOK && r.health.State == reader.StateFault {
		r.o.Logf("sam: %s: recovered", r.o.Name)
	}
	if len(detail) > 256 {
		detail = detail[:256]
	}
	r.health.State, r.health.Detail = state, detail
}

func (r *Reader) count(f func(*Stats)) {
	r.mu.Lock()
	f(&r.stats)
	r.mu.Unlock()
}

// Run opens the port and polls for cards until ctx is done, opening the
// port again (after Reopen, doubling up to MaxReopen) whenever it fails.
// It returns nil when ctx is done; it does not give up by itself.
func (r *Reader) Run(ctx context.Context, out chan<- reader.Event) error {
	defer r.setHealth(reader.StateAbsent, "not running")
	wait := r.o.Reopen
	for ctx.Err() == nil {
		err := r.session(ctx, out)
		if ctx.Err() != nil {
			return nil
		}
		r.setHealth(reader.StateFault, err.Error())
		if !sleep(ctx, wait) {
			return nil
		}
		wait = min(2*wait, r.o.MaxReopen)
		if errors.Is(err, errWasUp) {
			wait = r.o.Reopen // it worked a moment ago: try again soon
		}
	}
	return nil
}

// errWasUp marks a session that polled successfully before it failed.
var errWasUp = errors.New("the reader was working")

type upErr struct{ err error }

func (e upErr) Error() string   { return e.err.Error() }
func (e upErr) Unwrap() []error { return []error{e.err, errWasUp} }

// session opens the port, checks the module and polls until the link
// fails or ctx is done.
func (r *Reader) session(ctx context.Context, out chan<- reader.Event) error {
	port, err := r.o.Open(r.o.Path, r.o.Baud)
	if err != nil {
		return fmt.Errorf("open %s: %w", r.o.Path, err)
	}
	r.count(func(s *Stats) { s.Opens++ })
	var closeOnce sync.Once
	closePort := func() { closeOnce.Do(func() { _ = port.Close() }) }
	stop := context.AfterFunc(ctx, closePort) // interrupts a read in progress
	defer stop()
	defer closePort()

	dev := NewDevice(port) // timeouts run on the real clock, whatever Now says
	if err := dev.Status(); err != nil {
		return fmt.Errorf("module status: %w", err)
	}
	r.setHealth(reader.StateOK, "")
	p := poller{r: r, dev: dev, out: out}
	return upErr{p.run(ctx)}
}

// poller is the state of one open port: what the last presentation was.
type poller struct {
	r   *Reader
	dev *Device
	out chan<- reader.Event

	last     string // outcome of the current presentation: the ID number read, or "error"
	absent   int    // looks in a row without a card
	failures int    // failed reads of the current presentation
	timeouts int    // exchanges in a row without an answer
}

func (p *poller) run(ctx context.Context) error {
	for {
		if !sleep(ctx, p.r.o.Poll) {
			return ctx.Err()
		}
		if err := p.once(ctx); err != nil {
			return err
		}
	}
}

// once looks for a card and reads it. It returns an error only when the
// port must be opened again.
func (p *poller) once(ctx context.Context) error {
	o := p.r.o
	found, err := p.dev.Find(o.FindTimeout)
	if err != nil {
		return p.failed(ctx, err, false)
	}
	p.timeouts = 0
	if !found {
		p.absent++
		if p.absent >= o.AbsentPolls {
			p.last, p.failures = "", 0
		}
		p.r.setHealth(reader.StateOK, "")
		return nil
	}
	p.absent = 0
	if err := p.dev.Select(o.SelectTimeout); err != nil {
		return p.failed(ctx, err, true)
	}
	rd, err := p.dev.Read(false, o.ReadTimeout)
	if err != nil {
		return p.failed(ctx, err, true)
	}
	p.timeouts = 0
	p.r.setHealth(reader.StateOK, "")
	card, err := DecodeText(rd.Text, o.Now())
	clear(rd.Text) // personal data: keep only what the event carries
	if o.KeepPhoto && err == nil {
		card.Photo = append([]byte(nil), rd.Photo...)
	}
	clear(rd.Photo)
	if err != nil {
		// Reading the same card again gives the same data: tell the
		// visitor once per presentation.
		if p.last != "error" {
			p.last = "error"
			p.r.count(func(s *Stats) { s.Failures++ })
			return p.emit(ctx, reader.Event{Reader: o.Name, Err: err, At: o.Now()})
		}
		return nil
	}
	p.failures = 0
	if card.IDNumber == p.last {
		// A module that finds a card again while it lies on the reader:
		// the same presentation, not a second visit.
		p.r.count(func(s *Stats) { s.Suppressed++ })
		return nil
	}
	p.last = card.IDNumber
	v := card.Visitor()
	p.r.count(func(s *Stats) { s.Reads++ })
	return p.emit(ctx, reader.Event{Reader: o.Name, Visitor: &v, Method: vetnet.MethodCard, Photo: card.Photo, At: o.Now()})
}

// failed handles a failed exchange: a broken link ends the session; a
// module that stops answering ends it after a few tries; a module fault
// makes the health fault; a card that fails to read is reported once
// after a few tries (it may still be being laid down).
func (p *poller) failed(ctx context.Context, err error, cardPresent bool) error {
	o := p.r.o
	var le *LinkError
	if errors.As(err, &le) {
		return err
	}
	var fe *FrameError
	if errors.As(err, &fe) && fe.Reason == ReasonTimeout {
		p.timeouts++
		if p.timeouts >= timeoutsBeforeReopen {
			return fmt.Errorf("module stopped answering: %w", err)
		}
		if p.timeouts >= 2 {
			p.r.setHealth(reader.StateFault, err.Error())
		}
		return nil
	}
	p.timeouts = 0
	var se *StatusError
	if errors.As(err, &se) && se.ModuleFault() {
		p.r.setHealth(reader.StateFault, err.Error())
		if cardPresent && p.last != "error" {
			p.last = "error"
			return p.emit(ctx, reader.Event{Reader: o.Name, Err: err, At: o.Now()})
		}
		return nil
	}
	p.r.setHealth(reader.StateOK, "")
	if !cardPresent {
		return nil // a garbled answer to find: look again
	}
	p.failures++
	if p.failures == failuresBeforeEvent && p.last != "error" {
		p.last = "error"
		p.r.count(func(s *Stats) { s.Failures++ })
		return p.emit(ctx, reader.Event{Reader: o.Name, Err: err, At: o.Now()})
	}
	return nil
}

func (p *poller) emit(ctx context.Context, ev reader.Event) error {
	select {
	case p.out <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
