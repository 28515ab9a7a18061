// Package escpostest emulates an ESC/POS receipt printer on a pty, for
// tests and the demo: it answers the real-time status requests (DLE EOT 1,
// 2 and 4) as a printer with the paper, cover and silence set by the test
// would, and records every other byte as printed. Describe renders printer
// bytes as readable commands, for golden files.
package escpostest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Printer is an emulated printer on a pty. Its methods are safe for
// concurrent use.
type Printer struct {
	mu        sync.Mutex
	master    *os.File
	tty       *os.File
	printed   bytes.Buffer
	pending   []byte // a DLE or DLE EOT waiting for the rest of the request
	paperOut  bool
	paperLow  bool
	coverOpen bool
	silent    bool
	requests  int
	done      chan struct{}
}

// Start makes a pty and serves the printer on it.
func Start() (*Printer, error) {
	m, t, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("escpostest: open pty: %w", err)
	}
	if err := makeRaw(t); err != nil {
		m.Close()
		t.Close()
		return nil, fmt.Errorf("escpostest: raw mode: %w", err)
	}
	fd, err := unix.Dup(int(m.Fd()))
	m.Close()
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("escpostest: %w", err)
	}
	p := &Printer{master: os.NewFile(uintptr(fd), "ptmx"), tty: t, done: make(chan struct{})}
	go p.serve()
	return p, nil
}

// Path is the tty the driver opens.
func (p *Printer) Path() string { return p.tty.Name() }

// Close unplugs the printer.
func (p *Printer) Close() error {
	err := p.master.Close()
	p.tty.Close()
	<-p.done
	return err
}

// SetPaperOut, SetPaperLow, SetCoverOpen and SetSilent change what the
// status requests answer (silent: nothing at all, as a printer that does
// not implement DLE EOT).
func (p *Printer) SetPaperOut(on bool)  { p.mu.Lock(); p.paperOut = on; p.mu.Unlock() }
func (p *Printer) SetPaperLow(on bool)  { p.mu.Lock(); p.paperLow = on; p.mu.Unlock() }
func (p *Printer) SetCoverOpen(on bool) { p.mu.Lock(); p.coverOpen = on; p.mu.Unlock() }
func (p *Printer) SetSilent(on bool)    { p.mu.Lock(); p.silent = on; p.mu.Unlock() }

// Printed returns the bytes printed so far (status requests removed).
func (p *Printer) Printed() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bytes.Clone(p.printed.Bytes())
}

// Cuts counts the cuts (GS V) printed so far: one per ticket.
func (p *Printer) Cuts() int { return bytes.Count(p.Printed(), []byte{0x1d, 'V'}) }

// StatusRequests counts the DLE EOT requests received.
func (p *Printer) StatusRequests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// Reset forgets what was printed.
func (p *Printer) Reset() {
	p.mu.Lock()
	p.printed.Reset()
	p.mu.Unlock()
}

func (p *Printer) serve() {
	defer close(p.done)
	buf := make([]byte, 4096)
	for {
		n, err := p.master.Read(buf)
		if n > 0 {
			if reply := p.take(buf[:n]); len(reply) > 0 {
				p.master.Write(reply)
			}
		}
		if err != nil {
			return
		}
	}
}

// take sorts incoming bytes into status requests and print data, and
// returns the answers.
func (p *Printer) take(in []byte) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	data := append(p.pending, in...)
	p.pending = nil
	var reply []byte
	for i := 0; i < len(data); i++ {
		if data[i] != 0x10 {
			p.printed.WriteByte(data[i])
			continue
		}
		if i+2 >= len(data) {
			p.pending = append([]byte(nil), data[i:]...)
			break
		}
		if data[i+1] != 0x04 {
			p.printed.WriteByte(data[i])
			continue
		}
		p.requests++
		if b, ok := p.status(data[i+2]); ok && !p.silent {
			reply = append(reply, b)
		}
		i += 2
	}
	return reply
}

func (p *Printer) status(n byte) (byte, bool) {
	b := byte(0x12)
	switch n {
	case 1:
		if p.paperOut || p.coverOpen {
			b |= 0x08 // offline
		}
	case 2:
		if p.coverOpen {
			b |= 0x04
		}
		if p.paperOut {
			b |= 0x20
		}
	case 3:
	case 4:
		if p.paperLow || p.paperOut {
			b |= 0x0c
		}
		if p.paperOut {
			b |= 0x60
		}
	default:
		return 0, false
	}
	return b, true
}

// makeRaw puts the tty in raw mode, so that no byte is translated.
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

// Describe renders printer bytes as one command or text run per line,
// text decoded from GB18030: a readable form of a ticket for golden files
// and reviews. Unknown bytes are shown in hex.
func Describe(b []byte) (string, error) {
	var out strings.Builder
	var text []byte
	flush := func() error {
		if len(text) == 0 {
			return nil
		}
		s, err := simplifiedchinese.GB18030.NewDecoder().Bytes(text)
		if err != nil {
			return err
		}
		fmt.Fprintf(&out, "TEXT %q\n", s)
		text = nil
		return nil
	}
	need := func(i, n int) error {
		if i+n > len(b) {
			return errors.New("escpostest: command cut short at the end")
		}
		return nil
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 0x20 && c != 0x7f {
			text = append(text, c)
			continue
		}
		if err := flush(); err != nil {
			return "", err
		}
		switch {
		case c == 0x0a:
			out.WriteString("LF\n")
		case c == 0x1b && i+1 < len(b) && b[i+1] == '@':
			out.WriteString("ESC @ init\n")
			i++
		case c == 0x1c && i+1 < len(b) && b[i+1] == '&':
			out.WriteString("FS & chinese\n")
			i++
		case c == 0x1b && i+1 < len(b) && strings.IndexByte("aEd", b[i+1]) >= 0:
			if err := need(i, 3); err != nil {
				return "", err
			}
			name := map[byte]string{'a': "align", 'E': "bold", 'd': "feed"}[b[i+1]]
			fmt.Fprintf(&out, "ESC %c %s %d\n", b[i+1], name, b[i+2])
			i += 2
		case c == 0x1d && i+1 < len(b) && b[i+1] == '!':
			if err := need(i, 3); err != nil {
				return "", err
			}
			fmt.Fprintf(&out, "GS ! size %dx%d\n", b[i+2]>>4+1, b[i+2]&0x0f+1)
			i += 2
		case c == 0x1d && i+1 < len(b) && b[i+1] == 'V':
			if err := need(i, 4); err != nil {
				return "", err
			}
			fmt.Fprintf(&out, "GS V cut %d %d\n", b[i+2], b[i+3])
			i += 3
		case c == 0x1d && i+2 < len(b) && b[i+1] == '(' && b[i+2] == 'k':
			if err := need(i, 5); err != nil {
				return "", err
			}
			n := int(b[i+3]) | int(b[i+4])<<8
			if err := need(i, 5+n); err != nil {
				return "", err
			}
			args := b[i+5 : i+5+n]
			if len(args) >= 3 && args[1] == 80 {
				fmt.Fprintf(&out, "GS ( k qr store %q\n", args[3:])
			} else {
				fmt.Fprintf(&out, "GS ( k qr fn %d % x\n", args[1], args[2:])
			}
			i += 4 + n
		default:
			fmt.Fprintf(&out, "0x%02x\n", c)
		}
	}
	if err := flush(); err != nil {
		return "", err
	}
	return out.String(), nil
}
