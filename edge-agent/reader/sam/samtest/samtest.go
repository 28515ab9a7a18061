// Package samtest is a software SAM module (GA 467 ID-card reader) on a
// pseudo-terminal: the driver in package sam opens its tty as it would open
// /dev/ttyUSB0, so tests and the demo run the real serial path.
//
// The emulator answers like a module: find (9F, or 80 without a card, and
// 80 again after a successful read until the card is taken away), select,
// read (text and photo, or with fingerprints), status, reset and the
// module ID; bad host frames get 10 or 11, unknown commands 21. Tests can
// lay cards on it and take them away, make it answer any result code,
// corrupt checksums, send garbage, answer slowly or in pieces, fall silent,
// and pull its cable (Unplug) and plug it back (Plug). A stable Link path
// (like /dev/serial/by-id/...) follows the pty across Unplug and Plug.
package samtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/vetnet/vetnet/edge-agent/reader/sam"
)

// Options configure an Emulator.
type Options struct {
	// Link is a path the emulator keeps as a symbolic link to its tty,
	// removed while unplugged. Optional; without it use Path.
	Link string
	// Logf logs the emulator's doings. Default: none.
	Logf func(format string, a ...any)
}

// Emulator is a SAM module on a pty. Its methods are safe for concurrent
// use.
type Emulator struct {
	o Options

	mu      sync.Mutex
	master  *os.File
	tty     *os.File // held open so the line does not hang up between driver opens
	path    string
	done    chan struct{}
	card    *slot
	refind  bool
	silent  bool
	delay   time.Duration
	chunk   int
	gap     time.Duration
	fails   map[[2]byte]*failure
	corrupt int
	garbage []byte
	log     []string
	closed  bool
}

type slot struct {
	text, photo []byte
	found, sel  bool
	readDone    bool // read once: the module wants the card out of the field first
}

type failure struct {
	sw3   sam.Status
	times int // < 0: for ever
}

// Start makes a pty and serves the module on it.
func Start(o Options) (*Emulator, error) {
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	e := &Emulator{o: o, fails: map[[2]byte]*failure{}}
	if err := e.Plug(); err != nil {
		return nil, err
	}
	return e, nil
}

// Path is the tty the driver opens: Link when set, else the pty's own name
// (which changes after Unplug and Plug).
func (e *Emulator) Path() string {
	if e.o.Link != "" {
		return e.o.Link
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.path
}

// TTY is the current pty's own name, "" while unplugged.
func (e *Emulator) TTY() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.path
}

// Plug connects the module: a new pty (and Link pointing at it). It does
// nothing when already plugged.
func (e *Emulator) Plug() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errors.New("samtest: closed")
	}
	if e.master != nil {
		return nil
	}
	m, t, err := pty.Open()
	if err != nil {
		return fmt.Errorf("samtest: open pty: %w", err)
	}
	if err := makeRaw(t); err != nil {
		m.Close()
		t.Close()
		return fmt.Errorf("samtest: raw mode: %w", err)
	}
	if m, err = pollable(m); err != nil {
		t.Close()
		return fmt.Errorf("samtest: %w", err)
	}
	if e.o.Link != "" {
		_ = os.Remove(e.o.Link)
		if err := os.Symlink(t.Name(), e.o.Link); err != nil {
			m.Close()
			t.Close()
			return fmt.Errorf("samtest: link: %w", err)
		}
	}
	e.master, e.tty, e.path, e.done = m, t, t.Name(), make(chan struct{})
	go e.serve(m, e.done)
	e.o.Logf("samtest: plugged in at %s", t.Name())
	return nil
}

// pollable returns m as a non-blocking file on Go's poller, so that Close
// interrupts a Read in progress (Unplug must not wait for the driver to
// send something).
func pollable(m *os.File) (*os.File, error) {
	fd, err := unix.Dup(int(m.Fd()))
	m.Close()
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "ptmx"), nil
}

// makeRaw puts the tty in raw mode (as cfmakeraw does), so that no byte
// is echoed or translated even before the driver opens it.
func makeRaw(f *os.File) error {
	fd := int(f.Fd())
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

// Unplug pulls the cable: the pty closes (the driver's reads fail, its
// tty disappears) and Link is removed. The card stays on the reader.
func (e *Emulator) Unplug() error {
	e.mu.Lock()
	m, t, done := e.master, e.tty, e.done
	e.master, e.tty, e.path = nil, nil, ""
	if e.o.Link != "" {
		_ = os.Remove(e.o.Link)
	}
	e.mu.Unlock()
	if m == nil {
		return nil
	}
	err := m.Close()
	t.Close()
	<-done
	e.o.Logf("samtest: unplugged")
	return err
}

// Close unplugs the module for good.
func (e *Emulator) Close() error {
	err := e.Unplug()
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	return err
}

// Present lays a card on the reader; it stays until Remove (or another
// Present). The photo is a blank WLT of 1024 bytes.
func (e *Emulator) Present(c sam.Card) error {
	text, err := sam.EncodeText(c)
	if err != nil {
		return err
	}
	e.PresentText(text, nil)
	return nil
}

// PresentText lays a card with a raw text block (any length) and photo
// (nil: 1024 bytes of a fixed pattern) on the reader.
func (e *Emulator) PresentText(text, photo []byte) {
	if photo == nil {
		photo = bytes.Repeat([]byte{0x57, 0x4C}, 512) // "WL…": not a real WLT
	}
	e.mu.Lock()
	e.card = &slot{text: append([]byte(nil), text...), photo: append([]byte(nil), photo...)}
	e.mu.Unlock()
}

// Remove takes the card away.
func (e *Emulator) Remove() {
	e.mu.Lock()
	e.card = nil
	e.mu.Unlock()
}

// Tap presents c for hold and then takes it away, as a visitor does.
func (e *Emulator) Tap(c sam.Card, hold time.Duration) error {
	text, err := sam.EncodeText(c)
	if err != nil {
		return err
	}
	e.PresentText(text, nil)
	e.mu.Lock()
	s := e.card
	e.mu.Unlock()
	time.AfterFunc(hold, func() {
		e.mu.Lock()
		if e.card == s {
			e.card = nil
		}
		e.mu.Unlock()
	})
	return nil
}

// HasCard reports whether a card lies on the reader.
func (e *Emulator) HasCard() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.card != nil
}

// SetRefind makes the module find a card again after it was read, while it
// still lies on the reader (as some modules do); by default it answers 80
// until the card leaves the field.
func (e *Emulator) SetRefind(on bool) {
	e.mu.Lock()
	e.refind = on
	e.mu.Unlock()
}

// SetSilent makes the module stop answering (a hung module).
func (e *Emulator) SetSilent(on bool) {
	e.mu.Lock()
	e.silent = on
	e.mu.Unlock()
}

// SetDelay makes the module wait d before each answer.
func (e *Emulator) SetDelay(d time.Duration) {
	e.mu.Lock()
	e.delay = d
	e.mu.Unlock()
}

// SetChunks makes the module write each answer in pieces of size bytes
// with gap between them (0 size: whole).
func (e *Emulator) SetChunks(size int, gap time.Duration) {
	e.mu.Lock()
	e.chunk, e.gap = size, gap
	e.mu.Unlock()
}

// Fail makes the next times answers to cmd carry sw3 (with no data);
// times < 0 for ever, 0 to stop.
func (e *Emulator) Fail(cmd sam.Command, sw3 sam.Status, times int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := [2]byte{cmd.Cmd, cmd.Para}
	if times == 0 {
		delete(e.fails, k)
		return
	}
	e.fails[k] = &failure{sw3: sw3, times: times}
}

// CorruptNext gives the next n answers a wrong checksum.
func (e *Emulator) CorruptNext(n int) {
	e.mu.Lock()
	e.corrupt = n
	e.mu.Unlock()
}

// Garbage sends b before the next answer.
func (e *Emulator) Garbage(b []byte) {
	e.mu.Lock()
	e.garbage = append(e.garbage, b...)
	e.mu.Unlock()
}

// Commands returns the names of the commands received so far ("find",
// "read", "bad-checksum", ...).
func (e *Emulator) Commands() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.log...)
}

// Count returns how many commands named name were received.
func (e *Emulator) Count(name string) int {
	n := 0
	for _, c := range e.Commands() {
		if c == name {
			n++
		}
	}
	return n
}

func (e *Emulator) serve(m *os.File, done chan struct{}) {
	defer close(done)
	var buf []byte
	tmp := make([]byte, 1024)
	for {
		n, err := m.Read(tmp)
		if err != nil {
			return
		}
		buf = append(buf, tmp[:n]...)
		for len(buf) > 0 {
			body, k, ferr := sam.ParseFrame(buf)
			if ferr != nil {
				buf = buf[k:]
				var fe *sam.FrameError
				if errors.As(ferr, &fe) {
					e.note("bad-" + fe.Reason)
					sw := sam.StatusHostChecksum
					if fe.Reason == sam.ReasonLength {
						sw = sam.StatusHostLength
					}
					e.send(m, sam.Response{SW3: sw})
				}
				continue
			}
			if body == nil {
				if k == 0 {
					break
				}
				buf = buf[k:]
				continue
			}
			cmd, cerr := sam.ParseCommand(append([]byte(nil), body...))
			buf = buf[k:]
			if cerr != nil {
				e.note("bad-short")
				e.send(m, sam.Response{SW3: sam.StatusHostLength})
				continue
			}
			e.note(cmd.Name())
			if r, ok := e.answer(cmd); ok {
				e.send(m, r)
			}
		}
	}
}

func (e *Emulator) note(s string) {
	e.mu.Lock()
	e.log = append(e.log, s)
	e.mu.Unlock()
}

// answer is the module's logic. ok is false when it stays silent.
func (e *Emulator) answer(cmd sam.Command) (sam.Response, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.silent {
		return sam.Response{}, false
	}
	if f := e.fails[[2]byte{cmd.Cmd, cmd.Para}]; f != nil {
		if f.times > 0 {
			f.times--
			if f.times == 0 {
				delete(e.fails, [2]byte{cmd.Cmd, cmd.Para})
			}
		}
		return sam.Response{SW3: f.sw3}, true
	}
	ok := sam.Response{SW3: sam.StatusOK}
	c := e.card
	switch [2]byte{cmd.Cmd, cmd.Para} {
	case [2]byte{0x10, 0xFF}, [2]byte{0x11, 0xFF}:
		return ok, true
	case [2]byte{0x12, 0xFF}:
		ok.Data = []byte{0x05, 0x01, 0x00, 0x00, 0x20, 0x10, 0x12, 0x31, 0x00, 0x00, 0x30, 0x39, 0x00, 0x00, 0x00, 0x01}
		return ok, true
	case [2]byte{0x20, 0x01}:
		if c == nil || (c.readDone && !e.refind) {
			return sam.Response{SW3: sam.StatusFindFailed}, true
		}
		c.found, c.sel = true, false
		return sam.Response{SW3: sam.StatusFound, Data: []byte{0, 0, 0, 0}}, true
	case [2]byte{0x20, 0x02}:
		if c == nil || !c.found {
			return sam.Response{SW3: sam.StatusSelectFailed}, true
		}
		c.sel = true
		ok.Data = make([]byte, 8)
		return ok, true
	case [2]byte{0x30, 0x01}, [2]byte{0x30, 0x10}:
		if c == nil || !c.sel {
			return sam.Response{SW3: sam.StatusReadFailed}, true
		}
		fp := cmd.Para == 0x10
		rd := sam.ReadData{Text: c.text, Photo: c.photo}
		if fp {
			rd.Fingerprint = make([]byte, 1024)
		}
		c.found, c.sel, c.readDone = false, false, true
		ok.Data = sam.EncodeReadData(rd, fp)
		return ok, true
	case [2]byte{0x30, 0x03}:
		if c == nil || !c.sel {
			return sam.Response{SW3: sam.StatusReadFailed}, true
		}
		return sam.Response{SW3: sam.StatusNoContent}, true
	}
	return sam.Response{SW3: sam.StatusCommand}, true
}

func (e *Emulator) send(m *os.File, r sam.Response) {
	frame := r.Encode()
	e.mu.Lock()
	if e.corrupt > 0 {
		e.corrupt--
		frame[len(frame)-1] ^= 0xFF
	}
	frame = append(e.garbage, frame...)
	e.garbage = nil
	delay, chunk, gap := e.delay, e.chunk, e.gap
	e.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	if chunk <= 0 {
		chunk = len(frame)
	}
	for len(frame) > 0 {
		n := min(chunk, len(frame))
		if _, err := m.Write(frame[:n]); err != nil {
			return
		}
		frame = frame[n:]
		if len(frame) > 0 && gap > 0 {
			time.Sleep(gap)
		}
	}
}
