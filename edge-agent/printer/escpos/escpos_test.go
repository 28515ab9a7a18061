package escpos_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/printer/escpos"
	"github.com/vetnet/vetnet/edge-agent/printer/escpos/escpostest"
	"github.com/vetnet/vetnet/edge-agent/reader"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var cst = time.FixedZone("CST", 8*3600)

func sample() escpos.Ticket {
	return escpos.Ticket{Station: "新桥社区退役军人服务站", QueueNo: "B007", Service: "优抚待遇", ServiceEN: "Pensions & allowances",
		Detail: "待遇申请", At: time.Date(2026, 11, 26, 9, 30, 0, 0, cst), Ahead: 3, ExpectedWaitS: 540,
		QR: "VN1:cz-xb-sanjing-xinqiao:2026-11-26:B007:01KB1Q0V00ABCDEFGHJKMNPQRS", Footer: "请留意叫号 Please listen for your number"}
}

// TestGolden: the bytes of a ticket are the recorded ones, byte for byte;
// the .txt beside each is the same ticket as readable commands.
func TestGolden(t *testing.T) {
	next := sample()
	next.Ahead, next.ExpectedWaitS, next.Detail, next.ServiceEN, next.QR, next.Footer = 0, 0, "", "", "", ""
	tests := []struct {
		name   string
		ticket escpos.Ticket
		layout escpos.Layout
	}{
		{"ticket", sample(), escpos.Layout{}},
		{"ticket-minimal-nocut", next, escpos.Layout{NoCut: true, NumberSize: 3, QRSize: 4, Feed: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := escpos.Encode(tt.ticket, tt.layout)
			if err != nil {
				t.Fatal(err)
			}
			text, err := escpostest.Describe(b)
			if err != nil {
				t.Fatal(err)
			}
			bin, txt := filepath.Join("testdata", tt.name+".bin"), filepath.Join("testdata", tt.name+".txt")
			if *update {
				os.MkdirAll("testdata", 0o755)
				os.WriteFile(bin, b, 0o644)
				os.WriteFile(txt, []byte(text), 0o644)
			}
			want, err := os.ReadFile(bin)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if !bytes.Equal(b, want) {
				t.Fatalf("bytes differ from %s; as commands:\n%s", bin, text)
			}
			wantText, _ := os.ReadFile(txt)
			if text != string(wantText) {
				t.Fatalf("description differs from %s:\n%s", txt, text)
			}
		})
	}
}

func TestEncodeChecks(t *testing.T) {
	tests := []struct {
		name string
		edit func(*escpos.Ticket)
	}{
		{"no number", func(t *escpos.Ticket) { t.QueueNo = "" }},
		{"no service", func(t *escpos.Ticket) { t.Service = "" }},
		{"no station", func(t *escpos.Ticket) { t.Station = "" }},
		{"huge QR", func(t *escpos.Ticket) { t.QR = string(bytes.Repeat([]byte("x"), 701)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := sample()
			tt.edit(&tk)
			if _, err := escpos.Encode(tk, escpos.Layout{}); vetnet.ErrorCode(err) != vetnet.EINVALID {
				t.Fatalf("err = %v", err)
			}
		})
	}
	// Control characters in text cannot smuggle commands to the printer.
	tk := sample()
	tk.Station = "站\x1b@\x1dV"
	b, err := escpos.Encode(tk, escpos.Layout{})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(b, []byte{0x1b, '@'}) != 1 || bytes.Count(b, []byte{0x1d, 'V'}) != 1 {
		t.Fatal("a control character in the text reached the printer")
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func startEmu(t *testing.T) *escpostest.Printer {
	t.Helper()
	emu, err := escpostest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	return emu
}

// waitPrinted polls until the emulator has n cuts: the pty delivers
// asynchronously.
func waitPrinted(t *testing.T, emu *escpostest.Printer, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for emu.Cuts() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d tickets printed, want %d", emu.Cuts(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPrinterStatus: through a pty, over both drivers: a ready printer
// prints and is ok; paper out, cover open and silence refuse the ticket and
// show as faults; paper low prints with a note; a missing device is
// absent; a printer that does not do status (NoStatus) prints blind.
func TestPrinterStatus(t *testing.T) {
	want, _ := escpos.Encode(sample(), escpos.Layout{})
	tests := []struct {
		name     string
		driver   string
		setup    func(*escpostest.Printer)
		noStatus bool
		code     string // "" when it prints
		state    string
		detail   string
	}{
		{"ready serial", escpos.DriverSerial, nil, false, "", reader.StateOK, ""},
		{"ready usb", escpos.DriverUSB, nil, false, "", reader.StateOK, ""},
		{"paper low", escpos.DriverSerial, func(p *escpostest.Printer) { p.SetPaperLow(true) }, false, "", reader.StateOK, "paper low"},
		{"paper out", escpos.DriverSerial, func(p *escpostest.Printer) { p.SetPaperOut(true) }, false, vetnet.EUNAVAILABLE, reader.StateFault, "paper out"},
		{"cover open", escpos.DriverUSB, func(p *escpostest.Printer) { p.SetCoverOpen(true) }, false, vetnet.EUNAVAILABLE, reader.StateFault, "cover open"},
		{"silent", escpos.DriverSerial, func(p *escpostest.Printer) { p.SetSilent(true) }, false, vetnet.EUNAVAILABLE, reader.StateFault, "no answer to DLE EOT"},
		{"silent without status", escpos.DriverUSB, func(p *escpostest.Printer) { p.SetSilent(true) }, true, "", reader.StateOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu := startEmu(t)
			if tt.setup != nil {
				tt.setup(emu)
			}
			p, err := escpos.New(escpos.Options{Driver: tt.driver, Path: emu.Path(), NoStatus: tt.noStatus, StatusTimeout: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			err = p.Print(ctx(t), sample())
			if vetnet.ErrorCode(err) != tt.code && !(tt.code == "" && err == nil) {
				t.Fatalf("print: %v, want %q", err, tt.code)
			}
			h := p.Health()
			if h.Kind != escpos.KindPrinter || h.Name != "printer0" || h.State != tt.state || (tt.detail != "" && h.Detail != tt.detail) {
				t.Fatalf("health %+v, want %s %q", h, tt.state, tt.detail)
			}
			if tt.code != "" {
				time.Sleep(50 * time.Millisecond)
				if emu.Cuts() != 0 {
					t.Fatal("printed although the printer was not ready")
				}
				return
			}
			waitPrinted(t, emu, 1)
			if !bytes.Equal(emu.Printed(), want) {
				t.Fatalf("the printer got other bytes than the ticket's")
			}
			if !tt.noStatus && emu.StatusRequests() != 3 {
				t.Fatalf("%d status requests, want 3", emu.StatusRequests())
			}
		})
	}
}

// TestPrinterRecovers: paper put back after running out, the next ticket
// prints; a device that went away is absent, and found again.
func TestPrinterRecovers(t *testing.T) {
	emu := startEmu(t)
	link := filepath.Join(t.TempDir(), "ttyPRN")
	p, err := escpos.New(escpos.Options{Driver: escpos.DriverSerial, Path: link, StatusTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Check(ctx(t)); vetnet.ErrorCode(err) != vetnet.EUNAVAILABLE || p.Health().State != reader.StateAbsent {
		t.Fatalf("no device: %v %+v", err, p.Health())
	}
	if err := os.Symlink(emu.Path(), link); err != nil {
		t.Fatal(err)
	}
	emu.SetPaperOut(true)
	if err := p.Print(ctx(t), sample()); vetnet.ErrorCode(err) != vetnet.EUNAVAILABLE {
		t.Fatalf("paper out: %v", err)
	}
	emu.SetPaperOut(false)
	if err := p.Check(ctx(t)); err != nil || p.Health().State != reader.StateOK {
		t.Fatalf("paper back: %v %+v", err, p.Health())
	}
	for i := 0; i < 3; i++ {
		if err := p.Print(ctx(t), sample()); err != nil {
			t.Fatal(err)
		}
	}
	waitPrinted(t, emu, 3)
}

func TestNewChecks(t *testing.T) {
	if _, err := escpos.New(escpos.Options{Driver: "bluetooth", Path: "/dev/x"}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatal(err)
	}
	if _, err := escpos.New(escpos.Options{Driver: escpos.DriverUSB}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatal(err)
	}
}
