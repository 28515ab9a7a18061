package scanner_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/reader"
	"github.com/vetnet/vetnet/edge-agent/reader/scanner"
)

var t0 = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)

// rec is a recording of a keyboard-wedge scanner as the kernel delivers
// it: each key is MSC_SCAN, KEY press, SYN, then MSC_SCAN, KEY release, SYN,
// a few milliseconds apart.
type rec struct {
	b  []byte
	at time.Time
}

func (r *rec) ev(typ, code uint16, value int32) {
	r.b = append(r.b, scanner.KeyEvent(r.at, typ, code, value)...)
}

func (r *rec) key(code uint16) {
	r.at = r.at.Add(4 * time.Millisecond)
	r.ev(scanner.EvMsc, 4, 0x70000+int32(code))
	r.ev(scanner.EvKey, code, 1)
	r.ev(scanner.EvSyn, 0, 0)
	r.at = r.at.Add(2 * time.Millisecond)
	r.ev(scanner.EvMsc, 4, 0x70000+int32(code))
	r.ev(scanner.EvKey, code, 0)
	r.ev(scanner.EvSyn, 0, 0)
}

func (r *rec) shifted(code uint16) {
	r.ev(scanner.EvKey, scanner.KeyLeftShift, 1)
	r.key(code)
	r.ev(scanner.EvKey, scanner.KeyLeftShift, 0)
}

// typeText records s as a US keyboard types it.
func (r *rec) typeText(s string) {
	codes := map[byte]uint16{}
	upper := map[byte]uint16{}
	for k, v := range map[uint16]string{2: "1!", 3: "2@", 4: "3#", 5: "4$", 6: "5%", 7: "6^", 8: "7&", 9: "8*", 10: "9(", 11: "0)",
		12: "-_", 13: "=+", 16: "qQ", 17: "wW", 18: "eE", 19: "rR", 20: "tT", 21: "yY", 22: "uU", 23: "iI", 24: "oO", 25: "pP",
		30: "aA", 31: "sS", 32: "dD", 33: "fF", 34: "gG", 35: "hH", 36: "jJ", 37: "kK", 38: "lL", 39: ";:", 44: "zZ", 45: "xX",
		46: "cC", 47: "vV", 48: "bB", 49: "nN", 50: "mM", 51: ",<", 52: ".>", 53: "/?", 57: "  "} {
		codes[v[0]], upper[v[1]] = k, k
	}
	for i := 0; i < len(s); i++ {
		if k, ok := codes[s[i]]; ok {
			r.key(k)
		} else {
			r.shifted(upper[s[i]])
		}
	}
}

func (r *rec) enter() { r.key(scanner.KeyEnter) }

func TestKeyDecoder(t *testing.T) {
	tests := []struct {
		name   string
		record func(r *rec)
		want   []string // codes; "!code" for an error of that vetnet code
	}{
		{"digits", func(r *rec) { r.typeText("20261126093000"); r.enter() }, []string{"20261126093000"}},
		{"mixed case and symbols", func(r *rec) { r.typeText("VS:Ab-12/x?q=9&k=Z"); r.enter() }, []string{"VS:Ab-12/x?q=9&k=Z"}},
		{"two codes", func(r *rec) { r.typeText("A1"); r.enter(); r.typeText("b2"); r.key(scanner.KeyKPEnter) }, []string{"A1", "b2"}},
		{"right shift", func(r *rec) {
			r.ev(scanner.EvKey, scanner.KeyRightShift, 1)
			r.key(30)
			r.ev(scanner.EvKey, scanner.KeyRightShift, 0)
			r.key(30)
			r.enter()
		}, []string{"Aa"}},
		{"caps lock", func(r *rec) {
			r.key(scanner.KeyCapsLock)
			r.key(30)
			r.shifted(31)
			r.key(scanner.KeyCapsLock)
			r.key(32)
			r.enter()
		}, []string{"Asd"}},
		{"keypad digits", func(r *rec) { r.key(79); r.key(80); r.key(82); r.enter() }, []string{"120"}},
		{"stray enter", func(r *rec) { r.enter(); r.typeText("x"); r.enter() }, []string{"x"}},
		{"auto-repeat types nothing", func(r *rec) {
			r.typeText("a")
			r.ev(scanner.EvKey, 30, 2)
			r.enter()
		}, []string{"a"}},
		{"unmappable key", func(r *rec) { r.typeText("ab"); r.key(59 /* F1 */); r.enter(); r.typeText("ok"); r.enter() }, []string{"!" + vetnet.EINVALID, "ok"}},
		{"fragment before a pause is dropped", func(r *rec) {
			r.typeText("stale")
			r.at = r.at.Add(2 * time.Second)
			r.typeText("fresh")
			r.enter()
		}, []string{"fresh"}},
		{"too long", func(r *rec) {
			for i := 0; i <= scanner.MaxCodeLen; i++ {
				r.key(2)
			}
			r.enter()
		}, []string{"!" + vetnet.EINVALID}},
		{"no enter, no code", func(r *rec) { r.typeText("pending") }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &rec{at: t0}
			tt.record(r)
			for _, split := range []int{0, 1, 7, scanner.EventSize - 1, scanner.EventSize + 5} {
				var d scanner.KeyDecoder
				var got []scanner.Scan
				if split == 0 {
					got = d.Feed(r.b)
				} else {
					for b := r.b; len(b) > 0; {
						n := min(split, len(b))
						got = append(got, d.Feed(b[:n])...)
						b = b[n:]
					}
				}
				if len(got) != len(tt.want) {
					t.Fatalf("split %d: %d scans %+v, want %v", split, len(got), got, tt.want)
				}
				for i, w := range tt.want {
					if w[0] == '!' {
						if got[i].Err == nil || vetnet.ErrorCode(got[i].Err) != w[1:] || vetnet.ErrorMessage(got[i].Err, "zh") == "" {
							t.Errorf("scan %d: %+v, want error %s", i, got[i], w[1:])
						}
						continue
					}
					if got[i].Code != w || got[i].Err != nil || got[i].At.IsZero() {
						t.Errorf("scan %d: %+v, want %q", i, got[i], w)
					}
				}
			}
		})
	}
}

func TestLineDecoder(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"cr", "ABC123\r", []string{"ABC123"}},
		{"crlf", "ABC\r\nDEF\r\n", []string{"ABC", "DEF"}},
		{"lf", "ABC\nDEF\n", []string{"ABC", "DEF"}},
		{"chinese", "退役军人优待证:0001\r\n", []string{"退役军人优待证:0001"}},
		{"unfinished", "ABC", nil},
		{"control character", "A\x01B\r", []string{"!"}},
		{"not utf-8", "A\xffB\r", []string{"!"}},
		{"too long", string(bytes.Repeat([]byte{'1'}, scanner.MaxCodeLen+1)) + "\rok\r", []string{"!", "ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d scanner.LineDecoder
			var got []scanner.Scan
			for i := 0; i < len(tt.in); i++ { // byte by byte: the worst split
				got = append(got, d.Feed([]byte{tt.in[i]}, t0)...)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%+v, want %v", got, tt.want)
			}
			for i, w := range tt.want {
				if (w == "!") != (got[i].Err != nil) || w != "!" && got[i].Code != w {
					t.Errorf("scan %d: %+v, want %q", i, got[i], w)
				}
			}
		})
	}
}

func run(t *testing.T, r *scanner.Reader) (chan reader.Event, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan reader.Event, 8)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, events) }()
	stop := func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return")
		}
	}
	return events, stop
}

func waitState(t *testing.T, r *scanner.Reader, state string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for r.Health().State != state {
		if time.Now().After(deadline) {
			t.Fatalf("health %+v, want %s", r.Health(), state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The keyboard reader on a pipe standing in for /dev/input/eventN: codes
// become events with an opaque token; the device vanishing is a fault
// that heals when it is back.
func TestKeyboardReader(t *testing.T) {
	devs := make(chan io.ReadCloser, 2)
	var writers []*os.File
	for i := 0; i < 2; i++ {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		devs <- pr
		writers = append(writers, pw)
	}
	close(devs)
	r, err := scanner.New(scanner.Options{Mode: scanner.ModeKeyboard, Path: "/dev/input/event-test",
		Reopen: 10 * time.Millisecond, MaxReopen: 20 * time.Millisecond,
		Open: func(scanner.Options) (io.ReadCloser, error) {
			d, ok := <-devs
			if !ok {
				return nil, errors.New("no such device")
			}
			return d, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	events, stop := run(t, r)
	defer stop()
	waitState(t, r, reader.StateOK)
	rc := &rec{at: t0}
	rc.typeText("VS1-abc")
	rc.enter()
	writers[0].Write(rc.b)
	select {
	case ev := <-events:
		if ev.Token != "VS1-abc" || ev.Method != vetnet.MethodQR || ev.Visitor != nil || ev.Err != nil || ev.Reader != "qr0" {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
	writers[0].Close() // unplugged
	waitState(t, r, reader.StateOK)
	writers[1].Write(rc.b)
	select {
	case ev := <-events:
		if ev.Token != "VS1-abc" {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event after reopening")
	}
	writers[1].Close()
	waitState(t, r, reader.StateFault) // no third device
}

// A serial scanner on a pty, through go.bug.st/serial.
func TestSerialReader(t *testing.T) {
	m, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	defer tty.Close()
	r, err := scanner.New(scanner.Options{Mode: scanner.ModeSerial, Path: tty.Name(), Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	events, stop := run(t, r)
	defer stop()
	waitState(t, r, reader.StateOK)
	m.Write([]byte("优待证:32041100012\r\n"))
	select {
	case ev := <-events:
		if ev.Token != "优待证:32041100012" || !ev.At.Equal(t0) {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
}

func TestOptions(t *testing.T) {
	for name, o := range map[string]scanner.Options{
		"no path": {Mode: scanner.ModeKeyboard},
		"mode":    {Path: "/dev/x", Mode: "bluetooth"},
	} {
		if _, err := scanner.New(o); vetnet.ErrorCode(err) != vetnet.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Grab is the real ioctl: on something that is not an input device it
// fails rather than pretending.
func TestGrabNotAnInputDevice(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := scanner.Grab(f); err == nil {
		t.Fatal("grabbed /dev/null")
	}
}
