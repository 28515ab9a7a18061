package mfrc522

import (
	"context"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/reader"
)

// Defaults of ReaderOptions.
const (
	DefaultName        = "badge0"
	DefaultPoll        = 200 * time.Millisecond
	DefaultReopen      = time.Second
	DefaultMaxReopen   = 10 * time.Second
	DefaultAbsentPolls = 2
	// errorsBeforeFault is how many chip errors in a row make the reader
	// fault and start it again.
	errorsBeforeFault = 3
)

// ReaderOptions configure a Reader.
type ReaderOptions struct {
	// Name identifies the reader. Default "badge0".
	Name string
	// Open opens the SPI port; required (periph.OpenSPI in the agent,
	// a spitest.Playback in tests).
	Open func() (spi.PortCloser, error)
	// Hz is the SPI clock. Default DefaultHz (1 MHz); at most MaxHz.
	Hz int
	// Poll is the pause between two looks for a badge. Default 200 ms.
	Poll time.Duration
	// Reopen is the first wait before initialising a failed chip again;
	// it doubles up to MaxReopen. Defaults 1 s and 10 s.
	Reopen, MaxReopen time.Duration
	// AbsentPolls is how many looks in a row must find no badge before
	// the badge last read counts as taken away. Default 2.
	AbsentPolls int
	// Sleep is Options.Sleep. Default time.Sleep.
	Sleep func(time.Duration)
	// Now stamps the events. Default time.Now.
	Now func() time.Time
	// Logf logs faults; never a UID. Default: none.
	Logf func(format string, a ...any)
}

// Reader reads staff badges. It implements reader.Reader; its events
// carry the badge's UID in Badge.
type Reader struct {
	o      ReaderOptions
	mu     sync.Mutex
	health reader.Health
}

var _ reader.Reader = (*Reader)(nil)

// NewReader returns a badge reader; Run opens the port.
//
// Errors: EINVALID (no Open, a clock above MaxHz).
func NewReader(o ReaderOptions) (*Reader, error) {
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.Open == nil {
		return nil, vetnet.Errorz(vetnet.EINVALID, "未配置工作证读卡器的SPI接口", "The badge reader's SPI port is not configured.")
	}
	if o.Hz == 0 {
		o.Hz = DefaultHz
	}
	if o.Hz < 0 || o.Hz > MaxHz {
		return nil, vetnet.Errorz(vetnet.EINVALID, "SPI时钟频率超出范围", fmt.Sprintf("SPI clock %d Hz is not within 1 Hz to %d Hz.", o.Hz, MaxHz))
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Poll, DefaultPoll)
	def(&o.Reopen, DefaultReopen)
	def(&o.MaxReopen, DefaultMaxReopen)
	if o.AbsentPolls <= 0 {
		o.AbsentPolls = DefaultAbsentPolls
	}
	if o.Sleep == nil {
		o.Sleep = time.Sleep
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return &Reader{o: o, health: reader.Health{Name: o.Name, Kind: reader.KindBadge, State: reader.StateAbsent, Detail: "not started"}}, nil
}

// Name returns the reader's name.
func (r *Reader) Name() string { return r.o.Name }

// Health is ok while the chip works, fault while it cannot be opened or
// fails, absent when Run is not running.
func (r *Reader) Health() reader.Health {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.health
}

func (r *Reader) setHealth(state, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if state == reader.StateFault && r.health.State != reader.StateFault {
		r.o.Logf("mfrc522: %s: fault: %s", r.o.Name, detail)
	}
	if len(detail) > 256 {
		detail = detail[:256]
	}
	r.health.State, r.health.Detail = state, detail
}

// Run polls for badges until ctx is done, starting the chip again after it
// fails. It returns nil when ctx is done.
func (r *Reader) Run(ctx context.Context, out chan<- reader.Event) error {
	defer r.setHealth(reader.StateAbsent, "not running")
	wait := r.o.Reopen
	for ctx.Err() == nil {
		up, err := r.session(ctx, out)
		if ctx.Err() != nil {
			return nil
		}
		r.setHealth(reader.StateFault, err.Error())
		if up {
			wait = r.o.Reopen
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(2*wait, r.o.MaxReopen)
	}
	return nil
}

func (r *Reader) session(ctx context.Context, out chan<- reader.Event) (bool, error) {
	port, err := r.o.Open()
	if err != nil {
		return false, fmt.Errorf("open SPI: %w", err)
	}
	defer port.Close()
	c, err := port.Connect(physic.Frequency(r.o.Hz)*physic.Hertz, spi.Mode0, 8)
	if err != nil {
		return false, fmt.Errorf("connect SPI: %w", err)
	}
	dev, err := New(c, Options{Sleep: r.o.Sleep})
	if err != nil {
		return false, err
	}
	r.setHealth(reader.StateOK, "")
	var last string
	absent, errs := 0, 0
	for {
		t := time.NewTimer(r.o.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return true, ctx.Err()
		case <-t.C:
		}
		uid, err := readBadge(dev)
		switch {
		case err == nil:
			errs, absent = 0, 0
			if uid.String() == last {
				continue // still on the reader (a card that ignores HLTA)
			}
			last = uid.String()
			select {
			case out <- reader.Event{Reader: r.o.Name, Badge: last, At: r.o.Now()}:
			case <-ctx.Done():
				return true, ctx.Err()
			}
		case IsNoCard(err):
			errs = 0
			if absent++; absent >= r.o.AbsentPolls {
				last = ""
			}
		default:
			if e, ok := err.(*Error); ok && e.code == vetnet.EINVALID {
				continue // a badge moved while read: look again
			}
			if errs++; errs >= errorsBeforeFault {
				return true, err
			}
		}
	}
}

// readBadge finds a badge, reads its UID and halts it.
func readBadge(d *Dev) (UID, error) {
	if _, err := d.Request(false); err != nil {
		return nil, err
	}
	uid, err := d.ReadUID()
	if err != nil {
		return nil, err
	}
	_ = d.Halt() // a badge that ignores HLTA is caught by the UID check
	return uid, nil
}
