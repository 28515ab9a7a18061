// Package escpos drives an ESC/POS thermal receipt printer, the kind
// stations put beside the kiosk for queue tickets, over a serial line
// (go.bug.st/serial) or a USB printer-class device (/dev/usb/lp*).
//
// Encode turns a Ticket into the printer's bytes: initialise, Chinese
// character mode, the station's name, the queue number in large type, the
// service, the time, how many wait ahead, a QR code of the ticket made by
// the printer itself (GS ( k, model 2), feed and cut. Text is encoded in
// GB18030, the character set of printers sold in China (ASCII is the same
// in it). The encoding is pure and tested against recorded bytes.
//
// A Printer owns the device: it opens it on first use, asks the printer's
// real-time status (DLE EOT) before each ticket and when Check is called,
// and reports its health as a device of kind "printer": ok, fault (paper
// out, cover open, no answer, write failed) or absent (no device). Where a
// printer does not answer DLE EOT (many USB models), set NoStatus: health
// then follows only whether the device opens and takes the bytes.
//
// A printer failure never fails a check-in: the agent commits the check-in
// first and reports only whether the ticket came out.
package escpos

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/vetnet/vetnet"
)

// Command bytes.
const (
	ESC = 0x1b
	GS  = 0x1d
	FS  = 0x1c
	DLE = 0x10
	EOT = 0x04
	LF  = 0x0a
)

// Ticket is what a queue ticket shows. Only Station, QueueNo and Service
// are required.
type Ticket struct {
	Station       string    // the station's name
	QueueNo       string    // e.g. B007, printed large
	Service       string    // the service in Chinese, e.g. 优抚待遇
	ServiceEN     string    // the service in English; optional
	Detail        string    // the sub-choice, e.g. 待遇申请; optional
	At            time.Time // when the ticket was issued; printed in At's location
	Ahead         int       // tickets waiting ahead
	ExpectedWaitS int       // expected wait in seconds; 0 prints none
	QR            string    // the QR code's content; empty prints none
	Footer        string    // a closing line; optional
}

// Layout tunes Encode. The zero value suits a 58 mm printer.
type Layout struct {
	// QRSize is the QR code's module size in dots, 1–16. Default 6 (about
	// 25 mm for a ticket's payload on a 203 dpi printer).
	QRSize int
	// NumberSize is the queue number's magnification, 1–8 in both
	// directions (GS !). Default 4.
	NumberSize int
	// Feed is how many lines to feed before the cut, so the printed part
	// clears the cutter. Default 4.
	Feed int
	// NoCut leaves the paper uncut (printers without a cutter).
	NoCut bool
}

// Builder accumulates ESC/POS commands.
type Builder struct {
	buf bytes.Buffer
	err error
}

// Bytes returns the commands so far and the first encoding error.
func (b *Builder) Bytes() ([]byte, error) { return b.buf.Bytes(), b.err }

func (b *Builder) raw(p ...byte) *Builder { b.buf.Write(p); return b }

// Init resets the printer (ESC @) and selects Chinese character mode
// (FS &), in which multi-byte GB18030 text prints as Chinese.
func (b *Builder) Init() *Builder { return b.raw(ESC, '@', FS, '&') }

// Align sets the justification: 0 left, 1 centre, 2 right (ESC a).
func (b *Builder) Align(n byte) *Builder { return b.raw(ESC, 'a', n) }

// Bold turns emphasis on or off (ESC E).
func (b *Builder) Bold(on bool) *Builder {
	if on {
		return b.raw(ESC, 'E', 1)
	}
	return b.raw(ESC, 'E', 0)
}

// Size sets the character magnification, 1–8 wide and high (GS !).
func (b *Builder) Size(w, h int) *Builder {
	w, h = min(max(w, 1), 8), min(max(h, 1), 8)
	return b.raw(GS, '!', byte((w-1)<<4|(h-1)))
}

// Text writes s in GB18030. Control characters are dropped, so that text
// from elsewhere cannot send commands to the printer.
func (b *Builder) Text(s string) *Builder {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	enc, err := simplifiedchinese.GB18030.NewEncoder().String(s)
	if err != nil && b.err == nil {
		b.err = vetnet.Wrap(vetnet.EINVALID, err, "凭条文字无法编码", "The ticket's text cannot be encoded for the printer.")
	}
	b.buf.WriteString(enc)
	return b
}

// Line writes s and a line feed.
func (b *Builder) Line(s string) *Builder { return b.Text(s).raw(LF) }

// Feed feeds n lines (ESC d).
func (b *Builder) Feed(n int) *Builder { return b.raw(ESC, 'd', byte(min(max(n, 0), 255))) }

// Cut feeds to the cutter and cuts, leaving a tab (GS V 66 0: partial
// cut).
func (b *Builder) Cut() *Builder { return b.raw(GS, 'V', 66, 0) }

// QR prints a QR code (model 2, error correction M) of data with the
// given module size, with the printer's own QR generator (GS ( k).
func (b *Builder) QR(data string, size int) *Builder {
	size = min(max(size, 1), 16)
	d := []byte(data)
	if len(d) > 700 {
		if b.err == nil {
			b.err = vetnet.Errorz(vetnet.EINVALID, "二维码内容过长", "The QR code's content is too long.")
		}
		return b
	}
	n := len(d) + 3
	b.raw(GS, '(', 'k', 4, 0, 49, 65, 50, 0)      // model 2
	b.raw(GS, '(', 'k', 3, 0, 49, 67, byte(size)) // module size
	b.raw(GS, '(', 'k', 3, 0, 49, 69, 49)         // error correction M
	b.raw(GS, '(', 'k', byte(n), byte(n>>8), 49, 80, 48)
	b.buf.Write(d)
	return b.raw(GS, '(', 'k', 3, 0, 49, 81, 48) // print
}

// Encode returns the bytes that print t.
//
// Errors: EINVALID (a required field is empty, text that cannot be
// encoded, a QR payload too long).
func Encode(t Ticket, l Layout) ([]byte, error) {
	if t.Station == "" || t.QueueNo == "" || t.Service == "" {
		return nil, vetnet.Errorz(vetnet.EINVALID, "凭条缺少站点、排队号或服务", "A ticket needs the station, the number and the service.")
	}
	if l.QRSize == 0 {
		l.QRSize = 6
	}
	if l.NumberSize == 0 {
		l.NumberSize = 4
	}
	if l.Feed == 0 {
		l.Feed = 4
	}
	b := &Builder{}
	b.Init().Align(1)
	b.Bold(true).Line(t.Station).Bold(false)
	b.Line("排队凭条 Queue ticket").raw(LF)
	b.Size(l.NumberSize, l.NumberSize).Bold(true).Line(t.QueueNo).Bold(false).Size(1, 1).raw(LF)
	svc := t.Service
	if t.Detail != "" {
		svc += " · " + t.Detail
	}
	b.Size(1, 2).Line(svc).Size(1, 1)
	if t.ServiceEN != "" {
		b.Line(t.ServiceEN)
	}
	b.raw(LF)
	if t.Ahead > 0 {
		b.Line(fmt.Sprintf("前面还有 %d 人等候", t.Ahead))
		b.Line(fmt.Sprintf("%d waiting ahead of you", t.Ahead))
	} else {
		b.Line("前面没有人等候").Line("You are next")
	}
	if t.ExpectedWaitS > 0 {
		m := (t.ExpectedWaitS + 59) / 60
		b.Line(fmt.Sprintf("预计等候约 %d 分钟 / about %d min", m, m))
	}
	if !t.At.IsZero() {
		b.Line(t.At.Format("2006-01-02 15:04"))
	}
	if t.QR != "" {
		b.raw(LF).QR(t.QR, l.QRSize).raw(LF)
	}
	if t.Footer != "" {
		b.Line(t.Footer)
	}
	b.Align(0).Feed(l.Feed)
	if !l.NoCut {
		b.Cut()
	}
	out, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	return out, nil
}
