// Package scanner reads QR and barcode scanners: a keyboard-wedge (HID)
// scanner through its /dev/input/eventN device, grabbed exclusively
// (EVIOCGRAB) so that its keystrokes never reach the kiosk's window, and a
// serial (USB CDC) scanner through its tty, one code per line. A code is
// an opaque token: the agent looks it up; this package only checks that
// it is sane text and bounded.
//
// Keyboard mode types a US layout: Chinese inside a QR code does not come
// through it. Scanners that must pass such codes are set to serial mode.
package scanner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"go.bug.st/serial"
	"golang.org/x/sys/unix"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/reader"
)

// Modes of a scanner.
const (
	ModeKeyboard = "evdev"  // keyboard wedge: /dev/input/eventN
	ModeSerial   = "serial" // USB CDC or RS-232: /dev/ttyACM0
)

// Defaults of Options.
const (
	DefaultName      = "qr0"
	DefaultBaud      = 9600
	DefaultReopen    = time.Second
	DefaultMaxReopen = 10 * time.Second
)

// EVIOCGRAB is the ioctl that grabs an input device for one reader.
const EVIOCGRAB = 0x40044590

// Options configure a Reader.
type Options struct {
	// Name identifies the reader. Default "qr0".
	Name string
	// Mode is ModeKeyboard or ModeSerial. Required.
	Mode string
	// Path is the device: /dev/input/by-id/...-event-kbd for a keyboard
	// wedge, /dev/ttyACM0 for a serial scanner. Required.
	Path string
	// Baud is the serial line's speed. Default 9600.
	Baud int
	// MaxGap is KeyDecoder.MaxGap. Default DefaultMaxGap.
	MaxGap time.Duration
	// Open opens the device. Default: the input device read-only and
	// grabbed, or the serial port 8N1.
	Open func(o Options) (io.ReadCloser, error)
	// Reopen is the first wait before opening a failed device again; it
	// doubles up to MaxReopen. Defaults 1 s and 10 s.
	Reopen, MaxReopen time.Duration
	// Now stamps the codes of serial scanners. Default time.Now.
	Now func() time.Time
	// Logf logs faults; never a code. Default: none.
	Logf func(format string, a ...any)
}

// Reader is a QR or barcode scanner. It implements reader.Reader.
type Reader struct {
	o      Options
	mu     sync.Mutex
	health reader.Health
}

var _ reader.Reader = (*Reader)(nil)

// New returns a scanner; Run opens it.
//
// Errors: EINVALID (no path, unknown mode).
func New(o Options) (*Reader, error) {
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.Path == "" {
		return nil, vetnet.Errorz(vetnet.EINVALID, "未配置扫码器设备", "The scanner's device is not configured.")
	}
	if o.Mode != ModeKeyboard && o.Mode != ModeSerial {
		return nil, vetnet.Errorz(vetnet.EINVALID, "扫码器模式无效", fmt.Sprintf("Scanner mode %q is not %s or %s.", o.Mode, ModeKeyboard, ModeSerial))
	}
	if o.Baud == 0 {
		o.Baud = DefaultBaud
	}
	if o.Open == nil {
		o.Open = openDevice
	}
	if o.Reopen <= 0 {
		o.Reopen = DefaultReopen
	}
	if o.MaxReopen <= 0 {
		o.MaxReopen = DefaultMaxReopen
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return &Reader{o: o, health: reader.Health{Name: o.Name, Kind: reader.KindQR, State: reader.StateAbsent, Detail: "not started"}}, nil
}

func openDevice(o Options) (io.ReadCloser, error) {
	if o.Mode == ModeSerial {
		p, err := serial.Open(o.Path, &serial.Mode{BaudRate: o.Baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
		if err != nil {
			return nil, err
		}
		// Wake up now and then so that Close is noticed.
		if err := p.SetReadTimeout(200 * time.Millisecond); err != nil {
			p.Close()
			return nil, err
		}
		return p, nil
	}
	f, err := os.OpenFile(o.Path, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if err := Grab(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Grab takes an input device for this process alone, so that a scan does
// not also type into the kiosk's window.
func Grab(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ioErr error
	if err := rc.Control(func(fd uintptr) {
		ioErr = unix.IoctlSetInt(int(fd), EVIOCGRAB, 1)
	}); err != nil {
		return err
	}
	if ioErr != nil {
		return fmt.Errorf("EVIOCGRAB: %w", ioErr)
	}
	return nil
}

// Name returns the reader's name.
func (r *Reader) Name() string { return r.o.Name }

// Health is ok while the device is open, fault while it cannot be opened
// or read, absent when Run is not running.
func (r *Reader) Health() reader.Health {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.health
}

func (r *Reader) setHealth(state, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if state == reader.StateFault && r.health.State != reader.StateFault {
		r.o.Logf("scanner: %s: fault: %s", r.o.Name, detail)
	}
	if len(detail) > 256 {
		detail = detail[:256]
	}
	r.health.State, r.health.Detail = state, detail
}

// Run reads codes until ctx is done, opening the device again after it
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

func (r *Reader) session(ctx context.Context, out chan<- reader.Event) (up bool, err error) {
	dev, err := r.o.Open(r.o)
	if err != nil {
		return false, fmt.Errorf("open %s: %w", r.o.Path, err)
	}
	var once sync.Once
	closeDev := func() { once.Do(func() { dev.Close() }) }
	stop := context.AfterFunc(ctx, closeDev)
	defer stop()
	defer closeDev()
	r.setHealth(reader.StateOK, "")

	keys := KeyDecoder{MaxGap: r.o.MaxGap}
	var lines LineDecoder
	buf := make([]byte, 64*EventSize)
	for {
		n, err := dev.Read(buf)
		if n > 0 {
			var scans []Scan
			if r.o.Mode == ModeKeyboard {
				scans = keys.Feed(buf[:n])
			} else {
				scans = lines.Feed(buf[:n], r.o.Now())
			}
			for _, s := range scans {
				ev := reader.Event{Reader: r.o.Name, Token: s.Code, Err: s.Err, Method: vetnet.MethodQR, At: s.At}
				if ev.At.IsZero() {
					ev.At = r.o.Now()
				}
				select {
				case out <- ev:
				case <-ctx.Done():
					return true, ctx.Err()
				}
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return true, ctx.Err()
			}
			if errors.Is(err, io.EOF) {
				err = errors.New("device closed")
			}
			return true, fmt.Errorf("read %s: %w", r.o.Path, err)
		}
		if n == 0 && r.o.Mode == ModeKeyboard {
			// An input device never reads 0 bytes unless it is gone.
			return true, fmt.Errorf("read %s: device gone", r.o.Path)
		}
	}
}
