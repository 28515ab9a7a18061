// Package hw builds a station's device drivers from its hardware profile
// (firmware-config/profile): the ID-card reader (the SAM driver on a serial
// port, on the agent's own SAM emulator, or the simulated reader), the
// MFRC522 badge reader, the QR scanner, the GPIO indicators and the ESC/POS
// receipt printer (on serial, USB, or an emulator on a pty).
//
// With the sam-emulator driver the agent hosts a samtest.Emulator on a
// pseudo-terminal and reads it through the real SAM driver and serial
// path; the kiosk's demo button (the local API's sim tap) lays a synthetic
// card on it. That is how the demo runs the driver without hardware.
package hw

import (
	"errors"
	"sync"
	"time"

	"periph.io/x/conn/v3/spi"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/indicator"
	"github.com/vetnet/vetnet/edge-agent/periph"
	"github.com/vetnet/vetnet/edge-agent/printer/escpos"
	"github.com/vetnet/vetnet/edge-agent/printer/escpos/escpostest"
	"github.com/vetnet/vetnet/edge-agent/reader"
	"github.com/vetnet/vetnet/edge-agent/reader/mfrc522"
	"github.com/vetnet/vetnet/edge-agent/reader/sam"
	"github.com/vetnet/vetnet/edge-agent/reader/sam/samtest"
	"github.com/vetnet/vetnet/edge-agent/reader/scanner"
	"github.com/vetnet/vetnet/edge-agent/reader/sim"
	"github.com/vetnet/vetnet/firmware-config/profile"
	"github.com/vetnet/vetnet/vetnettest"
)

// TapHold is how long a demo tap leaves the card on the emulated reader.
const TapHold = 1500 * time.Millisecond

// Options configure Build.
type Options struct {
	// SimInterval makes the simulated reader (driver sim) read by itself
	// this often; 0 only on tap.
	SimInterval time.Duration
	// Now is the readers' clock. Default time.Now.
	Now func() time.Time
	// Logf logs the drivers' faults. Default: none.
	Logf func(format string, a ...any)
}

// Station is the built hardware of a station.
type Station struct {
	// Readers are the readers to run (the agent supervises them).
	Readers []reader.Reader
	// Indicator drives the LED and buzzer; nil without [indicators].
	Indicator *indicator.Indicator
	// SimTap lays a card on the emulated or simulated reader (nil visitor:
	// a synthetic one; empty fields are filled); nil with real hardware.
	// Errors: EFULL while the last tap's card still lies on the reader.
	SimTap func(v *vetnet.Visitor) error
	// Emulator is the SAM emulator of the sam-emulator driver, else nil.
	Emulator *samtest.Emulator
	// Printer is the receipt printer; nil without [printer].
	Printer *escpos.Printer
	// PrinterEmulator is the emulated printer of the emulator driver, else
	// nil.
	PrinterEmulator *escpostest.Printer

	closers []func() error
}

// Build makes the drivers of p. Devices are opened by the readers' Run
// (a missing device is a fault they report and retry), except the GPIO
// pins of the indicators, which must exist on this board.
//
// Errors: ENOTFOUND (a GPIO pin), EUNAVAILABLE (the host drivers, the
// emulator's pty), EINVALID.
func Build(p *profile.Profile, o Options) (_ *Station, err error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	st := &Station{}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	if c := p.IDCard; c != nil {
		if err := st.idcard(c, o); err != nil {
			return nil, err
		}
	}
	if b := p.Badge; b != nil {
		port := b.SPI
		r, err := mfrc522.NewReader(mfrc522.ReaderOptions{Name: b.Name, Hz: b.Hz, Poll: b.Poll, Now: o.Now, Logf: o.Logf,
			Open: func() (spi.PortCloser, error) { return periph.OpenSPI(port) }})
		if err != nil {
			return nil, err
		}
		st.Readers = append(st.Readers, r)
	}
	if s := p.Scanner; s != nil {
		mode := scanner.ModeKeyboard
		if s.Driver == profile.ScannerSerial {
			mode = scanner.ModeSerial
		}
		r, err := scanner.New(scanner.Options{Name: s.Name, Mode: mode, Path: s.Device, Baud: s.Baud, Now: o.Now, Logf: o.Logf})
		if err != nil {
			return nil, err
		}
		st.Readers = append(st.Readers, r)
	}
	if pr := p.Printer; pr != nil {
		if err := st.printer(pr, o); err != nil {
			return nil, err
		}
	}
	if in := p.Indicators; in != nil {
		io := indicator.Options{ActiveLow: in.ActiveLow, Logf: o.Logf}
		if in.LED != "" {
			pin, err := periph.Pin(in.LED)
			if err != nil {
				return nil, err
			}
			io.LED = pin
		}
		if in.Buzzer != "" {
			pin, err := periph.Pin(in.Buzzer)
			if err != nil {
				return nil, err
			}
			io.Buzzer = pin
		}
		st.Indicator = indicator.New(io)
	}
	return st, nil
}

func (st *Station) idcard(c *profile.IDCard, o Options) error {
	switch c.Driver {
	case profile.IDCardSim:
		r := sim.New(sim.Options{Name: c.Name, Interval: o.SimInterval, Now: o.Now})
		st.Readers = append(st.Readers, r)
		st.SimTap = r.Tap
		return nil
	case profile.IDCardEmulator:
		emu, err := samtest.Start(samtest.Options{Link: c.Port})
		if err != nil {
			return vetnet.Wrap(vetnet.EUNAVAILABLE, err, "无法启动读卡器模拟程序", "Cannot start the SAM emulator.")
		}
		st.Emulator = emu
		st.closers = append(st.closers, emu.Close)
		st.SimTap = emulatorTap(emu)
		r, err := sam.New(sam.Options{Name: c.Name, Path: emu.Path(), Poll: c.Poll, KeepPhoto: c.KeepPhoto, Now: o.Now, Logf: o.Logf})
		if err != nil {
			return err
		}
		st.Readers = append(st.Readers, r)
		return nil
	}
	r, err := sam.New(sam.Options{Name: c.Name, Path: c.Port, Baud: c.Baud, Poll: c.Poll, KeepPhoto: c.KeepPhoto, Now: o.Now, Logf: o.Logf})
	if err != nil {
		return err
	}
	st.Readers = append(st.Readers, r)
	return nil
}

func (st *Station) printer(pr *profile.Printer, o Options) error {
	po := escpos.Options{Name: pr.Name, Driver: pr.Driver, Path: pr.Device, Baud: pr.Baud, NoStatus: !pr.Status,
		Layout: escpos.Layout{NoCut: !pr.Cut}, Logf: o.Logf}
	if pr.Driver == profile.PrinterEmulator {
		emu, err := escpostest.Start()
		if err != nil {
			return vetnet.Wrap(vetnet.EUNAVAILABLE, err, "无法启动打印机模拟程序", "Cannot start the printer emulator.")
		}
		st.PrinterEmulator = emu
		st.closers = append(st.closers, emu.Close)
		po.Driver, po.Path = escpos.DriverSerial, emu.Path()
	}
	p, err := escpos.New(po)
	if err != nil {
		return err
	}
	st.Printer = p
	st.closers = append(st.closers, p.Close)
	return nil
}

// emulatorTap lays a card of v (synthetic where empty) on the emulator for
// TapHold.
func emulatorTap(emu *samtest.Emulator) func(v *vetnet.Visitor) error {
	var mu sync.Mutex
	rnd := vetnettest.NewRand()
	return func(v *vetnet.Visitor) error {
		if emu.HasCard() {
			return vetnet.Errorz(vetnet.EFULL, "读卡器上已有卡片，请稍后再试", "A card is on the reader; please try again in a moment.")
		}
		mu.Lock()
		syn := vetnettest.Veteran(rnd)
		mu.Unlock()
		if v != nil {
			if v.IDNumber != "" {
				syn.IDNumber = v.IDNumber
			}
			if v.Name != "" {
				syn.Name = v.Name
			}
		}
		return emu.Tap(samtest.CardOf(syn), TapHold)
	}
}

// Close releases what Build made (the emulator's pty).
func (st *Station) Close() error {
	var errs []error
	for i := len(st.closers) - 1; i >= 0; i-- {
		errs = append(errs, st.closers[i]())
	}
	st.closers = nil
	return errors.Join(errs...)
}
