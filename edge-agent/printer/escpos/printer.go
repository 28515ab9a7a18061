package escpos

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

// KindPrinter is the kind of the printer's health in heartbeats.
const KindPrinter = "printer"

// Drivers: how the printer is attached.
const (
	DriverSerial = "serial" // RS-232 or USB-serial: a tty, opened with go.bug.st/serial
	DriverUSB    = "usb"    // USB printer class: /dev/usb/lpN
)

// Defaults of Options.
const (
	DefaultBaud          = 9600
	DefaultStatusTimeout = 500 * time.Millisecond
	DefaultWriteTimeout  = 10 * time.Second
)

// Status is the printer's real-time status (DLE EOT 1, 2 and 4).
type Status struct {
	Offline   bool // the printer says it is offline
	CoverOpen bool
	PaperOut  bool // the roll is out: nothing prints
	PaperLow  bool // the roll is near its end: prints, but tell staff
	Error     bool // another error (cutter, head temperature)
}

// Ready reports whether a ticket can print.
func (s Status) Ready() bool { return !s.Offline && !s.CoverOpen && !s.PaperOut && !s.Error }

// Port is an open printer device. ReadTimeout reads what arrives within d
// and returns 0, nil when nothing does.
type Port interface {
	io.Writer
	io.Closer
	ReadTimeout(p []byte, d time.Duration) (int, error)
}

// Options configure a Printer.
type Options struct {
	// Name is the printer's name in heartbeats. Default printer0.
	Name string
	// Driver is DriverSerial or DriverUSB; Path is the device.
	Driver string
	Path   string
	// Baud is the serial line speed. Default 9600 (most receipt printers'
	// factory setting).
	Baud int
	// NoStatus says the printer does not answer DLE EOT: its state is then
	// judged only by opening the device and writing to it.
	NoStatus bool
	// StatusTimeout is how long to wait for each status byte. Default
	// 500 ms.
	StatusTimeout time.Duration
	// WriteTimeout bounds one ticket's write (a printer out of paper may
	// stop reading). Default 10 s.
	WriteTimeout time.Duration
	// Layout tunes the ticket.
	Layout Layout
	// Open opens the device; default by Driver (tests pass their own).
	Open func() (Port, error)
	// Logf logs faults (never ticket contents). Default: none.
	Logf func(format string, a ...any)
}

// Printer is a receipt printer. Its methods are safe for concurrent use;
// tickets print one at a time.
type Printer struct {
	o Options

	mu     sync.Mutex // one ticket or status query at a time
	port   Port
	hmu    sync.Mutex
	health reader.Health
	status Status
}

// New returns a printer; nothing is opened until the first Print or Check.
//
// Errors: EINVALID (driver, path).
func New(o Options) (*Printer, error) {
	if o.Name == "" {
		o.Name = "printer0"
	}
	if o.Baud <= 0 {
		o.Baud = DefaultBaud
	}
	if o.StatusTimeout <= 0 {
		o.StatusTimeout = DefaultStatusTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Open == nil {
		if o.Path == "" {
			return nil, vetnet.Errorz(vetnet.EINVALID, "未配置打印机设备", "No printer device is configured.")
		}
		switch o.Driver {
		case DriverSerial:
			path, baud := o.Path, o.Baud
			o.Open = func() (Port, error) { return OpenSerial(path, baud) }
		case DriverUSB:
			path := o.Path
			o.Open = func() (Port, error) { return OpenFile(path) }
		default:
			return nil, vetnet.Errorz(vetnet.EINVALID, "未知的打印机连接方式", "Unknown printer driver "+o.Driver+" (serial or usb).")
		}
	}
	p := &Printer{o: o}
	p.health = reader.Health{Name: o.Name, Kind: KindPrinter, State: reader.StateAbsent, Detail: "not used yet"}
	return p, nil
}

// Name returns the printer's name.
func (p *Printer) Name() string { return p.o.Name }

// Health is the printer's state as last seen.
func (p *Printer) Health() reader.Health {
	p.hmu.Lock()
	defer p.hmu.Unlock()
	return p.health
}

// LastStatus is the last status the printer answered.
func (p *Printer) LastStatus() Status {
	p.hmu.Lock()
	defer p.hmu.Unlock()
	return p.status
}

func (p *Printer) setHealth(state, detail string) {
	p.hmu.Lock()
	defer p.hmu.Unlock()
	if p.health.State != state || p.health.Detail != detail {
		p.o.Logf("printer %s: %s %s", p.o.Name, state, detail)
	}
	p.health.State, p.health.Detail = state, detail
}

var (
	errAbsent    = vetnet.Errorz(vetnet.EUNAVAILABLE, "打印机未连接", "The printer is not connected.")
	errNoAnswer  = vetnet.Errorz(vetnet.EUNAVAILABLE, "打印机无响应", "The printer does not answer.")
	errPaperOut  = vetnet.Errorz(vetnet.EUNAVAILABLE, "打印机缺纸，请联系工作人员", "The printer is out of paper; please ask staff.")
	errCoverOpen = vetnet.Errorz(vetnet.EUNAVAILABLE, "打印机盖未关好", "The printer's cover is open.")
	errOffline   = vetnet.Errorz(vetnet.EUNAVAILABLE, "打印机故障", "The printer reports a fault.")
	errWrite     = vetnet.Errorz(vetnet.EUNAVAILABLE, "打印失败", "Printing failed.")
)

// Print prints a ticket: it checks the printer's status first (unless
// NoStatus) and prints only when it is ready.
//
// Errors: EINVALID (the ticket cannot be encoded), EUNAVAILABLE (absent,
// out of paper, cover open, no answer, write failed).
func (p *Printer) Print(ctx context.Context, t Ticket) error {
	b, err := Encode(t, p.o.Layout)
	if err != nil {
		return err
	}
	return p.Write(ctx, b)
}

// Write sends prepared bytes (a ticket from Encode) to the printer, after
// the same status check as Print.
func (p *Printer) Write(ctx context.Context, b []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.check(ctx); err != nil {
		return err
	}
	if err := p.write(ctx, b); err != nil {
		p.drop()
		p.setHealth(reader.StateFault, "write failed: "+err.Error())
		return vetnet.Wrap(vetnet.EUNAVAILABLE, err, vetnet.ErrorMessage(errWrite, "zh"), vetnet.ErrorMessage(errWrite, "en"))
	}
	if p.o.NoStatus {
		p.setHealth(reader.StateOK, "")
	}
	return nil
}

// write writes b, giving up after WriteTimeout or when ctx ends: a
// printer that stopped reading must not hold a check-in's answer.
func (p *Printer) write(ctx context.Context, b []byte) error {
	port := p.port
	done := make(chan error, 1)
	go func() {
		_, err := port.Write(b)
		done <- err
	}()
	t := time.NewTimer(p.o.WriteTimeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
	case <-ctx.Done():
	}
	// Closing the port ends the blocked write.
	port.Close()
	<-done
	return errors.New("timed out")
}

// Check opens the printer if needed and asks its status, updating Health.
//
// Errors: as Print's, without EINVALID.
func (p *Printer) Check(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.check(ctx)
}

func (p *Printer) check(ctx context.Context) error {
	if p.port == nil {
		port, err := p.o.Open()
		if err != nil {
			p.setHealth(reader.StateAbsent, "cannot open: "+err.Error())
			return vetnet.Wrap(vetnet.EUNAVAILABLE, err, vetnet.ErrorMessage(errAbsent, "zh"), vetnet.ErrorMessage(errAbsent, "en"))
		}
		p.port = port
	}
	if p.o.NoStatus {
		if p.Health().State == reader.StateAbsent {
			p.setHealth(reader.StateOK, "no status (the printer does not answer DLE EOT)")
		}
		return nil
	}
	st, err := p.query(ctx)
	if err != nil {
		p.drop()
		p.setHealth(reader.StateFault, err.Error())
		if errors.Is(err, errSilent) {
			return errNoAnswer
		}
		return vetnet.Wrap(vetnet.EUNAVAILABLE, err, vetnet.ErrorMessage(errNoAnswer, "zh"), vetnet.ErrorMessage(errNoAnswer, "en"))
	}
	p.hmu.Lock()
	p.status = st
	p.hmu.Unlock()
	switch {
	case st.PaperOut:
		p.setHealth(reader.StateFault, "paper out")
		return errPaperOut
	case st.CoverOpen:
		p.setHealth(reader.StateFault, "cover open")
		return errCoverOpen
	case st.Offline || st.Error:
		p.setHealth(reader.StateFault, "offline or error")
		return errOffline
	case st.PaperLow:
		p.setHealth(reader.StateOK, "paper low")
	default:
		p.setHealth(reader.StateOK, "")
	}
	return nil
}

var errSilent = errors.New("no answer to DLE EOT")

// query asks DLE EOT 1, 2 and 4 and reads one byte for each.
func (p *Printer) query(ctx context.Context) (Status, error) {
	var st Status
	// Bytes left from an earlier, late answer would be taken for this one.
	junk := make([]byte, 64)
	for i := 0; i < 8; i++ {
		if n, err := p.port.ReadTimeout(junk, time.Millisecond); n == 0 || err != nil {
			break
		}
	}
	for _, n := range []byte{1, 2, 4} {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if _, err := p.port.Write([]byte{DLE, EOT, n}); err != nil {
			return st, fmt.Errorf("status request: %w", err)
		}
		b, err := p.readStatusByte()
		if err != nil {
			return st, err
		}
		switch n {
		case 1:
			st.Offline = b&0x08 != 0
		case 2:
			st.CoverOpen = b&0x04 != 0
			st.PaperOut = st.PaperOut || b&0x20 != 0
			st.Error = b&0x40 != 0
		case 4:
			st.PaperLow = b&0x0c != 0
			st.PaperOut = st.PaperOut || b&0x60 != 0
		}
	}
	return st, nil
}

// readStatusByte reads one status byte: fixed bits 1 and 4 set, 0 and 7
// clear (ESC/POS); other bytes are skipped.
func (p *Printer) readStatusByte() (byte, error) {
	deadline := time.Now().Add(p.o.StatusTimeout)
	buf := make([]byte, 1)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return 0, errSilent
		}
		n, err := p.port.ReadTimeout(buf, left)
		if err != nil {
			return 0, fmt.Errorf("status: %w", err)
		}
		if n == 1 && buf[0]&0x93 == 0x12 {
			return buf[0], nil
		}
	}
}

// drop closes the device after a failure; the next use opens it again
// (the printer may have been unplugged and plugged back).
func (p *Printer) drop() {
	if p.port != nil {
		p.port.Close()
		p.port = nil
	}
}

// Close releases the device.
func (p *Printer) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drop()
	return nil
}

// serialPort is a go.bug.st/serial port.
type serialPort struct{ serial.Port }

func (s serialPort) ReadTimeout(b []byte, d time.Duration) (int, error) {
	if err := s.SetReadTimeout(d); err != nil {
		return 0, err
	}
	return s.Read(b)
}

// OpenSerial opens a serial printer 8N1 at baud.
func OpenSerial(path string, baud int) (Port, error) {
	sp, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, err
	}
	return serialPort{sp}, nil
}

// filePort is a character device read through Go's poller, so that reads
// can time out (the usblp driver supports poll).
type filePort struct{ *os.File }

func (f filePort) ReadTimeout(b []byte, d time.Duration) (int, error) {
	if err := f.SetReadDeadline(time.Now().Add(d)); err != nil {
		// Not pollable: no status can be read from it.
		return 0, nil
	}
	n, err := f.Read(b)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return n, nil
	}
	return n, err
}

// OpenFile opens a printer character device (/dev/usb/lpN) for reading and
// writing, non-blocking so that status reads can time out.
func OpenFile(path string) (Port, error) {
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	return filePort{f}, nil
}
