package sam

import (
	"errors"
	"io"
	"time"

	"github.com/vetnet/vetnet"
)

// Port is the serial line to the module. go.bug.st/serial's Port is one;
// tests may use anything that reads with a timeout.
type Port interface {
	io.ReadWriter
	// SetReadTimeout makes Read return (0, nil) after d without data.
	SetReadTimeout(d time.Duration) error
	// ResetInputBuffer drops what was received and not read yet.
	ResetInputBuffer() error
	Close() error
}

// Timeouts of the exchanges. Public drivers wait about 300 ms for a select
// and 1.1 s for a read; these leave room for a slow module.
const (
	DefaultFindTimeout   = 500 * time.Millisecond
	DefaultSelectTimeout = 800 * time.Millisecond
	DefaultReadTimeout   = 2 * time.Second
	DefaultStatusTimeout = 800 * time.Millisecond
)

// readChunk bounds one wait in Read so that a stopped context is noticed.
const readChunk = 100 * time.Millisecond

// Device speaks the module's protocol over a port: one command, one
// answer. It is not safe for concurrent use.
type Device struct {
	port Port
	buf  []byte
	tmp  []byte
	now  func() time.Time

	// Garbage counts bytes skipped while looking for a frame; FrameErrors
	// counts frames dropped for a bad length or checksum. For health
	// details and tests.
	Garbage, FrameErrors int
}

// NewDevice returns a device on p.
func NewDevice(p Port) *Device {
	return &Device{port: p, tmp: make([]byte, 2048), now: time.Now}
}

// LinkError is a failing serial line (the cable was pulled, the port
// closed). It unwraps to a *vetnet.Error (EUNAVAILABLE).
type LinkError struct {
	Op  string // write, read
	Err error
}

func (e *LinkError) Error() string { return "sam: " + e.Op + ": " + e.Err.Error() }

func (e *LinkError) Unwrap() []error {
	return []error{e.Err, vetnet.Errorz(vetnet.EUNAVAILABLE, "读卡器连接中断，请联系工作人员", "The card reader is disconnected. Please ask staff.")}
}

// Do sends cmd and waits up to timeout for the answer. Bytes before the
// answer that are not a frame are skipped; a frame with a bad checksum is
// dropped and the search goes on, so an answer after garbage is still
// found.
//
// Errors: *LinkError (the port failed), *FrameError (no valid answer
// before the timeout: ReasonTimeout, or the last bad frame's reason),
// *FrameError (ReasonShort). The module's result is in the Response: see
// Response.Err.
func (d *Device) Do(cmd Command, timeout time.Duration) (Response, error) {
	d.buf = d.buf[:0]
	_ = d.port.ResetInputBuffer() // answers to earlier, timed-out commands
	frame := cmd.Encode()
	for len(frame) > 0 {
		n, err := d.port.Write(frame)
		if err != nil {
			return Response{}, &LinkError{Op: "write " + cmd.Name(), Err: err}
		}
		if n == 0 {
			return Response{}, &LinkError{Op: "write " + cmd.Name(), Err: io.ErrShortWrite}
		}
		frame = frame[n:]
	}
	deadline := d.now().Add(timeout)
	var bad error
	for {
		body, err := d.next()
		if err != nil {
			var fe *FrameError
			if errors.As(err, &fe) {
				bad = err
				continue
			}
			return Response{}, err
		}
		if body != nil {
			return ParseResponse(body)
		}
		left := deadline.Sub(d.now())
		if left <= 0 {
			if bad != nil {
				return Response{}, bad
			}
			return Response{}, &FrameError{Reason: ReasonTimeout, Detail: "no answer to " + cmd.Name() + " in " + timeout.String()}
		}
		if err := d.port.SetReadTimeout(min(left, readChunk)); err != nil {
			return Response{}, &LinkError{Op: "read " + cmd.Name(), Err: err}
		}
		n, err := d.port.Read(d.tmp)
		if err != nil {
			return Response{}, &LinkError{Op: "read " + cmd.Name(), Err: err}
		}
		d.buf = append(d.buf, d.tmp[:n]...)
	}
}

// next takes one frame out of the buffer: its body (a copy), or nil when
// more bytes are needed, or a *FrameError for a frame dropped.
func (d *Device) next() ([]byte, error) {
	for len(d.buf) > 0 {
		body, n, err := ParseFrame(d.buf)
		if err != nil {
			d.FrameErrors++
			d.consume(n)
			return nil, err
		}
		if body != nil {
			out := append([]byte(nil), body...)
			d.consume(n)
			return out, nil
		}
		if n == 0 {
			return nil, nil
		}
		d.Garbage += n
		d.consume(n)
	}
	return nil, nil
}

func (d *Device) consume(n int) {
	d.buf = d.buf[:copy(d.buf, d.buf[n:])]
}

// Status asks the module for its status: a module that answers 90 is
// working.
//
// Errors: as Do, and *StatusError.
func (d *Device) Status() error {
	r, err := d.Do(CmdStatus, DefaultStatusTimeout)
	if err != nil {
		return err
	}
	return r.Err()
}

// Find looks for a card: true when one is in the field. No card (80) is
// (false, nil).
//
// Errors: as Do, and *StatusError for other results.
func (d *Device) Find(timeout time.Duration) (bool, error) {
	r, err := d.Do(CmdFind, timeout)
	if err != nil {
		return false, err
	}
	if r.SW3 == StatusFindFailed {
		return false, nil
	}
	return true, r.Err()
}

// Select selects the card found.
//
// Errors: as Do, and *StatusError.
func (d *Device) Select(timeout time.Duration) error {
	r, err := d.Do(CmdSelect, timeout)
	if err != nil {
		return err
	}
	return r.Err()
}

// Read reads the selected card's text and photo (and fingerprints with
// fingerprint).
//
// Errors: as Do, *StatusError, *FrameError (ReasonData).
func (d *Device) Read(fingerprint bool, timeout time.Duration) (ReadData, error) {
	cmd := CmdRead
	if fingerprint {
		cmd = CmdReadFP
	}
	r, err := d.Do(cmd, timeout)
	if err != nil {
		return ReadData{}, err
	}
	if err := r.Err(); err != nil {
		return ReadData{}, err
	}
	return ParseReadData(r.Data, fingerprint)
}
