package scanner

import (
	"encoding/binary"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vetnet/vetnet"
)

// Input event constants (linux/input-event-codes.h).
const (
	EvSyn = 0x00
	EvKey = 0x01
	EvMsc = 0x04

	KeyEnter      = 28
	KeyKPEnter    = 96
	KeyLeftShift  = 42
	KeyRightShift = 54
	KeyCapsLock   = 58

	// EventSize is the size of struct input_event on 64-bit Linux: a
	// timeval of two 64-bit words, then u16 type, u16 code, s32 value.
	EventSize = 24
)

// Limits of a code.
const (
	// MaxCodeLen bounds a scanned code in bytes. A QR code holds at most
	// about 3 KB; the tokens of slips and cards are far shorter.
	MaxCodeLen = 1024
	// DefaultMaxGap is the longest pause between two keys of one code:
	// a scanner types a code in a burst, so a longer pause means the
	// characters before it were a fragment (a person at a keyboard, or a
	// read cut short) and are dropped.
	DefaultMaxGap = 500 * time.Millisecond
)

// keymap maps key codes of a US layout to their characters without and
// with shift. Scanners in keyboard mode type as a US keyboard unless set
// otherwise.
var keymap = map[uint16][2]byte{
	2: {'1', '!'}, 3: {'2', '@'}, 4: {'3', '#'}, 5: {'4', '$'}, 6: {'5', '%'}, 7: {'6', '^'},
	8: {'7', '&'}, 9: {'8', '*'}, 10: {'9', '('}, 11: {'0', ')'}, 12: {'-', '_'}, 13: {'=', '+'},
	16: {'q', 'Q'}, 17: {'w', 'W'}, 18: {'e', 'E'}, 19: {'r', 'R'}, 20: {'t', 'T'}, 21: {'y', 'Y'},
	22: {'u', 'U'}, 23: {'i', 'I'}, 24: {'o', 'O'}, 25: {'p', 'P'}, 26: {'[', '{'}, 27: {']', '}'},
	30: {'a', 'A'}, 31: {'s', 'S'}, 32: {'d', 'D'}, 33: {'f', 'F'}, 34: {'g', 'G'}, 35: {'h', 'H'},
	36: {'j', 'J'}, 37: {'k', 'K'}, 38: {'l', 'L'}, 39: {';', ':'}, 40: {'\'', '"'}, 41: {'`', '~'},
	43: {'\\', '|'}, 44: {'z', 'Z'}, 45: {'x', 'X'}, 46: {'c', 'C'}, 47: {'v', 'V'}, 48: {'b', 'B'},
	49: {'n', 'N'}, 50: {'m', 'M'}, 51: {',', '<'}, 52: {'.', '>'}, 53: {'/', '?'}, 57: {' ', ' '},
	// keypad
	55: {'*', '*'}, 71: {'7', '7'}, 72: {'8', '8'}, 73: {'9', '9'}, 74: {'-', '-'}, 75: {'4', '4'},
	76: {'5', '5'}, 77: {'6', '6'}, 78: {'+', '+'}, 79: {'1', '1'}, 80: {'2', '2'}, 81: {'3', '3'},
	82: {'0', '0'}, 83: {'.', '.'}, 98: {'/', '/'},
}

// Scan is one code read, or why a code was refused.
type Scan struct {
	Code string // the payload: an opaque token
	Err  error  // a *vetnet.Error (EINVALID) for people; Code is then empty
	At   time.Time
}

var (
	errUnmappable = vetnet.Errorz(vetnet.EINVALID, "无法识别扫码内容，请使用工作人员提供的二维码或刷身份证",
		"The code has characters the scanner cannot type. Please use a code from the staff or your ID card.")
	errTooLong = vetnet.Errorz(vetnet.EINVALID, "扫码内容过长，无法识别", "The scanned code is too long.")
	errBadText = vetnet.Errorz(vetnet.EINVALID, "扫码内容无法识别", "The scanned code is not readable text.")
)

// KeyDecoder turns the input events of a keyboard-wedge scanner into
// codes: it follows the shift keys, types the US layout, ends a code at
// Enter, and drops a code with a key it cannot type, one longer than
// MaxCodeLen, or the part before a pause longer than MaxGap. Feed it the
// bytes read from /dev/input/eventN in any pieces. The zero value is
// ready (MaxGap DefaultMaxGap).
type KeyDecoder struct {
	// MaxGap is the longest pause between keys of a code; zero means
	// DefaultMaxGap, negative means no limit.
	MaxGap time.Duration

	partial []byte // an event cut by a read
	code    []byte
	shift   [2]bool
	caps    bool
	bad     error
	lastKey time.Time
	started bool
}

// Feed decodes events and returns the codes they complete.
func (d *KeyDecoder) Feed(p []byte) []Scan {
	var out []Scan
	if len(d.partial) > 0 {
		need := EventSize - len(d.partial)
		if len(p) < need {
			d.partial = append(d.partial, p...)
			return nil
		}
		d.partial = append(d.partial, p[:need]...)
		p = p[need:]
		if s, ok := d.event(d.partial); ok {
			out = append(out, s)
		}
		d.partial = d.partial[:0]
	}
	for len(p) >= EventSize {
		if s, ok := d.event(p[:EventSize]); ok {
			out = append(out, s)
		}
		p = p[EventSize:]
	}
	d.partial = append(d.partial, p...)
	return out
}

func (d *KeyDecoder) event(ev []byte) (Scan, bool) {
	sec := int64(binary.LittleEndian.Uint64(ev[0:]))
	usec := int64(binary.LittleEndian.Uint64(ev[8:]))
	typ := binary.LittleEndian.Uint16(ev[16:])
	code := binary.LittleEndian.Uint16(ev[18:])
	value := int32(binary.LittleEndian.Uint32(ev[20:]))
	if typ != EvKey {
		return Scan{}, false
	}
	switch code {
	case KeyLeftShift, KeyRightShift:
		d.shift[code/50] = value != 0 // 42/50 = 0, 54/50 = 1
		return Scan{}, false
	}
	if value != 1 { // releases and auto-repeats type nothing
		return Scan{}, false
	}
	at := time.Unix(sec, usec*1000)
	if usec < 0 || usec >= 1_000_000 {
		at = time.Unix(sec, 0)
	}
	maxGap := d.MaxGap
	if maxGap == 0 {
		maxGap = DefaultMaxGap
	}
	if d.started && maxGap > 0 && (at.Sub(d.lastKey) > maxGap || at.Before(d.lastKey)) {
		d.reset() // a fragment: what came before the pause is not this code
	}
	d.lastKey, d.started = at, true
	switch code {
	case KeyEnter, KeyKPEnter:
		code, err := string(d.code), d.bad
		d.reset()
		d.started = false
		if err != nil {
			return Scan{Err: err, At: at}, true
		}
		if code == "" {
			return Scan{}, false // a stray Enter
		}
		if err := ValidateCode(code); err != nil {
			return Scan{Err: err, At: at}, true
		}
		return Scan{Code: code, At: at}, true
	case KeyCapsLock:
		d.caps = !d.caps
		return Scan{}, false
	}
	k, ok := keymap[code]
	if !ok {
		if d.bad == nil {
			d.bad = errUnmappable
		}
		return Scan{}, false
	}
	shift := d.shift[0] || d.shift[1]
	c := k[0]
	if shift {
		c = k[1]
	}
	if d.caps && c >= 'a' && c <= 'z' && !shift {
		c = k[1]
	} else if d.caps && c >= 'A' && c <= 'Z' && shift {
		c = k[0]
	}
	if len(d.code) >= MaxCodeLen {
		d.bad = errTooLong
		return Scan{}, false
	}
	d.code = append(d.code, c)
	return Scan{}, false
}

func (d *KeyDecoder) reset() {
	d.code, d.bad = d.code[:0], nil
}

// KeyEvent encodes one input event (for tests and recordings).
func KeyEvent(at time.Time, typ, code uint16, value int32) []byte {
	b := make([]byte, EventSize)
	binary.LittleEndian.PutUint64(b[0:], uint64(at.Unix()))
	binary.LittleEndian.PutUint64(b[8:], uint64(at.Nanosecond()/1000))
	binary.LittleEndian.PutUint16(b[16:], typ)
	binary.LittleEndian.PutUint16(b[18:], code)
	binary.LittleEndian.PutUint32(b[20:], uint32(value))
	return b
}

// LineDecoder turns the bytes of a serial (USB CDC) scanner into codes:
// a code ends at CR or LF (CRLF is one end), empty lines are skipped. Feed
// it bytes in any pieces. The zero value is ready.
type LineDecoder struct {
	line []byte
	long bool
}

// Feed decodes bytes and returns the codes they complete.
func (d *LineDecoder) Feed(p []byte, at time.Time) []Scan {
	var out []Scan
	for _, c := range p {
		if c != '\r' && c != '\n' {
			if len(d.line) >= MaxCodeLen {
				d.long = true
				continue
			}
			d.line = append(d.line, c)
			continue
		}
		line, long := string(d.line), d.long
		d.line, d.long = d.line[:0], false
		switch {
		case long:
			out = append(out, Scan{Err: errTooLong, At: at})
		case line == "":
		default:
			if err := ValidateCode(line); err != nil {
				out = append(out, Scan{Err: err, At: at})
			} else {
				out = append(out, Scan{Code: line, At: at})
			}
		}
	}
	return out
}

// ValidateCode checks a code as a token: 1 to MaxCodeLen bytes of UTF-8
// without control characters (a serial scanner passes Chinese through;
// the payload is otherwise opaque).
func ValidateCode(code string) error {
	if code == "" || len(code) > MaxCodeLen {
		return errTooLong
	}
	if !utf8.ValidString(code) {
		return errBadText
	}
	if strings.IndexFunc(code, func(r rune) bool { return r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0) }) >= 0 {
		return errBadText
	}
	return nil
}
