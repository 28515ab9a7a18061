package sam_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/reader"
	"github.com/vetnet/vetnet/edge-agent/reader/sam"
	"github.com/vetnet/vetnet/edge-agent/reader/sam/samtest"
)

// rig is a reader on an emulated module, through a real pty and
// go.bug.st/serial.
type rig struct {
	emu    *samtest.Emulator
	rd     *sam.Reader
	events chan reader.Event
	stop   func()
}

func newRig(t *testing.T, tune func(*sam.Options)) *rig {
	t.Helper()
	emu, err := samtest.Start(samtest.Options{Link: filepath.Join(t.TempDir(), "ttySAM"), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	o := sam.Options{Path: emu.Path(), Poll: 20 * time.Millisecond, Reopen: 50 * time.Millisecond,
		MaxReopen: 200 * time.Millisecond, Now: func() time.Time { return now }, Logf: t.Logf}
	if tune != nil {
		tune(&o)
	}
	rd, err := sam.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan reader.Event, 16)
	done := make(chan error, 1)
	go func() { done <- rd.Run(ctx, events) }()
	r := &rig{emu: emu, rd: rd, events: events}
	r.stop = func() {
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
	t.Cleanup(r.stop)
	r.waitHealth(t, reader.StateOK)
	return r
}

func (r *rig) waitHealth(t *testing.T, state string) reader.Health {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		h := r.rd.Health()
		if h.State == state {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("health %+v, want %s", h, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *rig) event(t *testing.T) reader.Event {
	t.Helper()
	select {
	case ev := <-r.events:
		return ev
	case <-time.After(15 * time.Second):
		t.Fatal("no event")
	}
	return reader.Event{}
}

// quiet checks that no event comes while the reader polls n more times.
func (r *rig) quiet(t *testing.T, n int) {
	t.Helper()
	start := r.emu.Count("find")
	deadline := time.Now().Add(20 * time.Second)
	for r.emu.Count("find") < start+n {
		select {
		case ev := <-r.events:
			t.Fatalf("unexpected event %+v", ev)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reader stopped polling (%d finds)", r.emu.Count("find")-start)
		}
	}
}

func TestReadsACard(t *testing.T) {
	r := newRig(t, nil)
	c := resident()
	if err := r.emu.Present(c); err != nil {
		t.Fatal(err)
	}
	ev := r.event(t)
	if ev.Err != nil || ev.Visitor == nil {
		t.Fatalf("event %+v", ev)
	}
	want := vetnet.Visitor{IDNumber: c.IDNumber, Name: c.Name, DocType: vetnet.DocResident}
	if *ev.Visitor != want || ev.Method != vetnet.MethodCard || ev.Reader != sam.DefaultName || ev.Photo != nil {
		t.Errorf("event %+v visitor %+v", ev, *ev.Visitor)
	}
	if got := r.emu.Commands(); got[0] != "status" {
		t.Errorf("the driver starts with %q, want a status check", got[0])
	}
}

// A card left on the reader is read once; taken away and laid again, it
// is read again.
func TestOncePerPresentation(t *testing.T) {
	for _, refind := range []bool{false, true} {
		name := "module wants the card out"
		if refind {
			name = "module finds the card again"
		}
		t.Run(name, func(t *testing.T) {
			r := newRig(t, nil)
			r.emu.SetRefind(refind)
			c := resident()
			r.emu.Present(c)
			if ev := r.event(t); ev.Visitor == nil {
				t.Fatalf("event %+v", ev)
			}
			r.quiet(t, 25)
			if refind && r.rd.Stats().Suppressed == 0 {
				t.Error("no read was suppressed; the emulator did not find the card again")
			}
			r.emu.Remove()
			r.quiet(t, 4)
			r.emu.Present(c)
			if ev := r.event(t); ev.Visitor == nil || ev.Visitor.IDNumber != c.IDNumber {
				t.Fatalf("second presentation: %+v", ev)
			}
			if got := r.rd.Stats().Reads; got != 2 {
				t.Errorf("reads = %d, want 2", got)
			}
		})
	}
}

// Another card laid quickly in place of the first is a new presentation.
func TestCardSwapped(t *testing.T) {
	r := newRig(t, nil)
	r.emu.SetRefind(true)
	r.emu.Present(resident())
	r.event(t)
	other := samtest.ResidentCard(rand.New(rand.NewPCG(7, 7)))
	r.emu.Present(other)
	if ev := r.event(t); ev.Visitor == nil || ev.Visitor.IDNumber != other.IDNumber {
		t.Fatalf("event %+v", ev)
	}
}

func TestOtherCardTypes(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	r := newRig(t, nil)
	for _, c := range []sam.Card{samtest.HMTCard(rnd), samtest.ForeignCard(rnd)} {
		r.emu.Present(c)
		ev := r.event(t)
		if ev.Visitor == nil || ev.Visitor.DocType != c.Doc || ev.Visitor.IDNumber != c.IDNumber {
			t.Fatalf("%s: event %+v", c.Doc, ev)
		}
		r.emu.Remove()
		r.quiet(t, 3)
	}
}

// An unreadable card is reported once per presentation, with a message
// for the kiosk.
func TestBadCardReportedOnce(t *testing.T) {
	r := newRig(t, nil)
	r.emu.SetRefind(true)
	text, _ := sam.EncodeText(resident())
	text[248] = 'Y' // an unknown card type
	r.emu.PresentText(text, nil)
	ev := r.event(t)
	var ue *sam.UnsupportedCardError
	if !errors.As(ev.Err, &ue) || vetnet.ErrorCode(ev.Err) != vetnet.EINVALID {
		t.Fatalf("event %+v", ev)
	}
	r.quiet(t, 20)
	if h := r.rd.Health(); h.State != reader.StateOK {
		t.Errorf("a bad card is not a reader fault: %+v", h)
	}
}

// Every result code the module may give to a read: transient ones are
// retried and reported once if they persist; module faults also make the
// health fault.
func TestReadResultCodes(t *testing.T) {
	for _, s := range sam.Statuses {
		if s.OK() || s == sam.StatusFindFailed {
			continue
		}
		t.Run(s.String(), func(t *testing.T) {
			r := newRig(t, nil)
			r.emu.SetRefind(true)
			r.emu.Fail(sam.CmdRead, s, -1)
			r.emu.Present(resident())
			ev := r.event(t)
			var se *sam.StatusError
			if !errors.As(ev.Err, &se) || se.Status != s {
				t.Fatalf("event %+v", ev)
			}
			if vetnet.ErrorMessage(ev.Err, "zh") == vetnet.ErrorMessage(ev.Err, "en") {
				t.Errorf("no Chinese message: %v", ev.Err)
			}
			if se.ModuleFault() {
				r.waitHealth(t, reader.StateFault)
			}
			r.quiet(t, 10)
			// The module recovers: the same card on the reader is read.
			r.emu.Fail(sam.CmdRead, s, 0)
			r.emu.Remove()
			r.quiet(t, 3)
			r.emu.Present(resident())
			if ev := r.event(t); ev.Visitor == nil {
				t.Fatalf("after recovery: %+v", ev)
			}
			r.waitHealth(t, reader.StateOK)
		})
	}
}

// A select that fails a few times (a card still being laid down) is not
// reported when it then succeeds.
func TestTransientFailuresSilent(t *testing.T) {
	r := newRig(t, nil)
	r.emu.Fail(sam.CmdSelect, sam.StatusSelectFailed, 2)
	r.emu.Present(resident())
	if ev := r.event(t); ev.Visitor == nil {
		t.Fatalf("event %+v", ev)
	}
}

func TestGarbledLink(t *testing.T) {
	tests := []struct {
		name string
		set  func(e *samtest.Emulator)
	}{
		{"corrupted checksums", func(e *samtest.Emulator) { e.CorruptNext(3) }},
		{"garbage before an answer", func(e *samtest.Emulator) {
			e.Garbage([]byte{0x00, 0xAA, 0xAA, 0x13, 0xAA, 0xAA, 0xAA, 0x96, 0x69, 0xFF, 0xFF, 0x42})
		}},
		{"split writes", func(e *samtest.Emulator) { e.SetChunks(7, 3*time.Millisecond) }},
		{"one byte at a time", func(e *samtest.Emulator) { e.SetChunks(1, 0) }},
		{"slow module", func(e *samtest.Emulator) { e.SetDelay(150 * time.Millisecond) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, nil)
			tt.set(r.emu)
			c := resident()
			r.emu.Present(c)
			ev := r.event(t)
			if ev.Visitor == nil || ev.Visitor.IDNumber != c.IDNumber {
				t.Fatalf("event %+v", ev)
			}
		})
	}
}

// A module that stops answering makes the reader fault; the reader opens
// the port again and recovers when the module answers.
func TestSilentModule(t *testing.T) {
	r := newRig(t, nil)
	r.emu.SetSilent(true)
	h := r.waitHealth(t, reader.StateFault)
	if h.Detail == "" {
		t.Error("fault without detail")
	}
	r.emu.SetSilent(false)
	r.waitHealth(t, reader.StateOK)
	r.emu.Present(resident())
	if ev := r.event(t); ev.Visitor == nil {
		t.Fatalf("event %+v", ev)
	}
}

// Pulling the cable (the pty closes and its device disappears) makes the
// reader fault; plugging it back, under a new pty behind the same link,
// heals it by itself.
func TestUnplugAndPlugBack(t *testing.T) {
	r := newRig(t, nil)
	old := r.emu.TTY()
	if err := r.emu.Unplug(); err != nil {
		t.Fatal(err)
	}
	h := r.waitHealth(t, reader.StateFault)
	t.Logf("unplugged: %+v", h)
	time.Sleep(300 * time.Millisecond) // a few failed reopens
	if r.rd.Health().State != reader.StateFault {
		t.Fatalf("health %+v while unplugged", r.rd.Health())
	}
	if err := r.emu.Plug(); err != nil {
		t.Fatal(err)
	}
	t.Logf("plugged back: %s (was %s)", r.emu.TTY(), old)
	r.waitHealth(t, reader.StateOK)
	r.emu.Present(resident())
	if ev := r.event(t); ev.Visitor == nil {
		t.Fatalf("event %+v", ev)
	}
	if r.rd.Stats().Opens < 2 {
		t.Errorf("opens = %d", r.rd.Stats().Opens)
	}
}

// A port that does not exist is a fault (the reader keeps trying), not a
// crash; Run returns nil when stopped.
func TestNoPort(t *testing.T) {
	rd, err := sam.New(sam.Options{Path: filepath.Join(t.TempDir(), "nothing"), Reopen: 10 * time.Millisecond, MaxReopen: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if h := rd.Health(); h.State != reader.StateAbsent {
		t.Errorf("before Run: %+v", h)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- rd.Run(ctx, make(chan reader.Event)) }()
	deadline := time.Now().Add(10 * time.Second)
	for rd.Health().State != reader.StateFault {
		if time.Now().After(deadline) {
			t.Fatalf("health %+v", rd.Health())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if h := rd.Health(); h.State != reader.StateAbsent {
		t.Errorf("after Run: %+v", h)
	}
}

func TestPhoto(t *testing.T) {
	r := newRig(t, func(o *sam.Options) { o.KeepPhoto = true })
	r.emu.Present(resident())
	if ev := r.event(t); len(ev.Photo) != 1024 {
		t.Fatalf("photo of %d bytes", len(ev.Photo))
	}
}

func TestOptions(t *testing.T) {
	for name, o := range map[string]sam.Options{
		"no path":  {},
		"bad baud": {Path: "/dev/ttyUSB0", Baud: 12345},
	} {
		if _, err := sam.New(o); vetnet.ErrorCode(err) != vetnet.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The device alone: find, select and read against the emulator.
func TestDevice(t *testing.T) {
	emu, err := samtest.Start(samtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	port, err := sam.OpenSerial(emu.Path(), 115200)
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	d := sam.NewDevice(port)
	if err := d.Status(); err != nil {
		t.Fatal(err)
	}
	if found, err := d.Find(time.Second); found || err != nil {
		t.Fatalf("find without card: %v %v", found, err)
	}
	emu.Present(resident())
	if found, err := d.Find(time.Second); !found || err != nil {
		t.Fatalf("find: %v %v", found, err)
	}
	if err := d.Select(time.Second); err != nil {
		t.Fatal(err)
	}
	rd, err := d.Read(true, 2*time.Second)
	if err != nil || len(rd.Text) != sam.TextLen || len(rd.Photo) != 1024 || len(rd.Fingerprint) != 1024 {
		t.Fatalf("read: %v", err)
	}
	if found, _ := d.Find(time.Second); found {
		t.Error("the module found the card again before it left the field")
	}
	r, err := d.Do(sam.Command{Cmd: 0x77, Para: 0x01}, time.Second)
	if err != nil || r.SW3 != sam.StatusCommand {
		t.Errorf("unknown command: %+v %v", r, err)
	}
	emu.SetSilent(true)
	_, err = d.Do(sam.CmdStatus, 100*time.Millisecond)
	var fe *sam.FrameError
	if !errors.As(err, &fe) || fe.Reason != sam.ReasonTimeout {
		t.Errorf("silent: %v", err)
	}
	emu.SetSilent(false)
	emu.CorruptNext(1)
	_, err = d.Do(sam.CmdStatus, 200*time.Millisecond)
	if !errors.As(err, &fe) || fe.Reason != sam.ReasonChecksum {
		t.Errorf("corrupt: %v", err)
	}
	emu.Unplug()
	_, err = d.Do(sam.CmdStatus, time.Second)
	var le *sam.LinkError
	if !errors.As(err, &le) || vetnet.ErrorCode(err) != vetnet.EUNAVAILABLE {
		t.Errorf("unplugged: %v", err)
	}
}

// Bad host frames get 10 and 11 from the module.
func TestEmulatorHostErrors(t *testing.T) {
	emu, err := samtest.Start(samtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	port, err := sam.OpenSerial(emu.Path(), 115200)
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	for name, tt := range map[string]struct {
		frame []byte
		want  sam.Status
	}{
		"checksum": {[]byte{0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x01, 0x23}, sam.StatusHostChecksum},
		"length":   {[]byte{0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x00}, sam.StatusHostLength},
		"short":    {[]byte{0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x02, 0x20, 0x22}, sam.StatusHostLength},
	} {
		if _, err := port.Write(tt.frame); err != nil {
			t.Fatal(err)
		}
		var buf []byte
		tmp := make([]byte, 64)
		port.SetReadTimeout(100 * time.Millisecond)
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			n, _ := port.Read(tmp)
			buf = append(buf, tmp[:n]...)
			if body, _, _ := sam.ParseFrame(buf); body != nil {
				r, _ := sam.ParseResponse(body)
				if r.SW3 != tt.want {
					t.Errorf("%s: SW3 %v, want %v", name, r.SW3, tt.want)
				}
				break
			}
		}
	}
}

// TestMinimumCollection: by default the photo is not kept (wiped as soon
// as it is read), and the reader never asks a card for its fingerprints
// (command 30 10), whatever the profile says.
func TestMinimumCollection(t *testing.T) {
	r := newRig(t, nil)
	r.emu.Present(resident())
	ev := r.event(t)
	if ev.Photo != nil {
		t.Fatalf("photo of %d bytes kept without the profile asking", len(ev.Photo))
	}
	if ev.Visitor == nil || ev.Visitor.IDNumber == "" {
		t.Fatalf("no visitor read: %+v", ev)
	}
	fp := sam.CmdReadFP.Name()
	if n := r.emu.Count(fp); n != 0 {
		t.Fatalf("the fingerprint command was sent %d times", n)
	}
	if r.emu.Count(sam.CmdRead.Name()) == 0 {
		t.Fatalf("no read command seen: %v", r.emu.Commands())
	}
}
