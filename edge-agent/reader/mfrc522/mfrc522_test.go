package mfrc522_test

import (
	"context"
	"testing"
	"time"

	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spitest"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/reader"
	"github.com/vetnet/vetnet/edge-agent/reader/mfrc522"
)

// script builds the exact SPI transfers of the MFRC522's data sheet: a
// register read is [addr<<1&7E|80, 00] answered in the second byte, a
// write is [addr<<1&7E, value], FIFO bursts repeat the address.
type script struct{ ops []conntest.IO }

func (s *script) rd(reg, v byte) {
	s.ops = append(s.ops, conntest.IO{W: []byte{(reg<<1)&0x7E | 0x80, 0}, R: []byte{0, v}})
}

func (s *script) wr(reg, v byte) { s.ops = append(s.ops, conntest.IO{W: []byte{(reg << 1) & 0x7E, v}}) }

func (s *script) fifoIn(data ...byte) {
	s.ops = append(s.ops, conntest.IO{W: append([]byte{(0x09 << 1) & 0x7E}, data...)})
}

func (s *script) fifoOut(data ...byte) {
	w := make([]byte, len(data)+1)
	for i := range data {
		w[i] = (0x09<<1)&0x7E | 0x80
	}
	s.ops = append(s.ops, conntest.IO{W: w, R: append([]byte{0}, data...)})
}

func (s *script) init(version byte) {
	s.wr(0x01, 0x0F) // SoftReset
	s.rd(0x01, 0x30) // still resetting (PowerDown set)
	s.rd(0x01, 0x20) // done
	s.rd(0x37, version)
	if _, ok := mfrc522.Versions[version]; !ok {
		return
	}
	s.wr(0x12, 0x00) // TxMode
	s.wr(0x13, 0x00) // RxMode
	s.wr(0x24, 0x26) // ModWidth
	s.wr(0x2A, 0x80) // TMode: timer starts after sending
	s.wr(0x2B, 0xA9) // TPrescaler
	s.wr(0x2C, 0x03) // TReload 0x03E8: 25 ms
	s.wr(0x2D, 0xE8)
	s.wr(0x15, 0x40) // TxASK: 100 % ASK
	s.wr(0x11, 0x3D) // Mode: CRC preset 6363h
	s.rd(0x14, 0x80) // TxControl: antenna off
	s.wr(0x14, 0x83) // antenna on
}

// transceive scripts one exchange; answer nil means no card (timer).
func (s *script) transceive(data []byte, lastBits byte, answer []byte, validBits byte, errReg byte) {
	s.wr(0x01, 0x00) // Idle
	s.wr(0x04, 0x7F) // clear ComIrq
	s.wr(0x0A, 0x80) // flush FIFO
	s.fifoIn(data...)
	s.wr(0x0D, lastBits)
	s.wr(0x01, 0x0C) // Transceive
	s.wr(0x0D, lastBits|0x80)
	s.rd(0x04, 0x00) // not yet
	if answer == nil && errReg == 0 {
		s.rd(0x04, 0x01) // TimerIRq
		return
	}
	s.rd(0x04, 0x30) // RxIRq | IdleIRq
	s.rd(0x06, errReg)
	if errReg&0x1B != 0 {
		return
	}
	s.rd(0x0A, byte(len(answer)))
	if len(answer) > 0 {
		s.fifoOut(answer...)
	}
	s.rd(0x0C, validBits)
}

// crc scripts a CRC_A computed by the chip.
func (s *script) crc(data []byte, lo, hi byte) {
	s.wr(0x01, 0x00)
	s.wr(0x05, 0x04) // clear CRCIRq
	s.wr(0x0A, 0x80)
	s.fifoIn(data...)
	s.wr(0x01, 0x03) // CalcCRC
	s.rd(0x05, 0x00)
	s.rd(0x05, 0x04)
	s.rd(0x22, lo)
	s.rd(0x21, hi)
}

func (s *script) request(atqa []byte) {
	s.rd(0x0E, 0x80) // Coll
	s.wr(0x0E, 0x00) // ValuesAfterColl off
	s.transceive([]byte{0x26}, 7, atqa, 0, 0)
}

// crcA is ISO 14443-3 CRC_A, to fill the chip's answers with right values.
func crcA(data []byte) (lo, hi byte) {
	crc := uint16(0x6363)
	for _, b := range data {
		b ^= byte(crc)
		b ^= b << 4
		crc = crc>>8 ^ uint16(b)<<8 ^ uint16(b)<<3 ^ uint16(b)>>4
	}
	return byte(crc), byte(crc >> 8)
}

// level scripts anticollision and select of one cascade level.
func (s *script) level(sel byte, uid4 []byte, sak byte) {
	bcc := uid4[0] ^ uid4[1] ^ uid4[2] ^ uid4[3]
	s.transceive([]byte{sel, 0x20}, 0, append(append([]byte{}, uid4...), bcc), 0, 0)
	frame := append([]byte{sel, 0x70}, append(append([]byte{}, uid4...), bcc)...)
	lo, hi := crcA(frame)
	s.crc(frame, lo, hi)
	slo, shi := crcA([]byte{sak})
	s.transceive(append(frame, lo, hi), 0, []byte{sak, slo, shi}, 0, 0)
	s.crc([]byte{sak}, slo, shi)
}

func (s *script) halt() {
	lo, hi := crcA([]byte{0x50, 0x00})
	s.crc([]byte{0x50, 0x00}, lo, hi)
	s.transceive([]byte{0x50, 0x00, lo, hi}, 0, nil, 0, 0)
}

func play(s *script) *spitest.Playback {
	return &spitest.Playback{Playback: conntest.Playback{Ops: s.ops, DontPanic: true}}
}

func connect(t *testing.T, p *spitest.Playback) spi.Conn {
	c, err := p.Connect(mfrc522.DefaultHz, spi.Mode0, 8)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func noSleep(time.Duration) {}

func TestCRCAOfTheStandard(t *testing.T) {
	// ISO/IEC 14443-3 annex B: CRC_A of 00 00 is 1EA0 (sent A0 1E); of
	// HLTA 50 00 it is 57 CD.
	if lo, hi := crcA([]byte{0, 0}); lo != 0xA0 || hi != 0x1E {
		t.Fatalf("crcA(00 00) = %02X %02X", lo, hi)
	}
	if lo, hi := crcA([]byte{0x50, 0x00}); lo != 0x57 || hi != 0xCD {
		t.Fatalf("crcA(50 00) = %02X %02X", lo, hi)
	}
}

func TestInit(t *testing.T) {
	for _, v := range []byte{0x91, 0x92, 0x88} {
		s := &script{}
		s.init(v)
		p := play(s)
		d, err := mfrc522.New(connect(t, p), mfrc522.Options{Sleep: noSleep})
		if err != nil || d.Version() != v {
			t.Fatalf("version %02X: %v", v, err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInitNoReader(t *testing.T) {
	for _, v := range []byte{0x00, 0xFF, 0x12} {
		s := &script{}
		s.init(v)
		p := play(s)
		_, err := mfrc522.New(connect(t, p), mfrc522.Options{Sleep: noSleep})
		if vetnet.ErrorCode(err) != vetnet.EUNAVAILABLE || vetnet.ErrorMessage(err, "zh") == "" {
			t.Fatalf("version %02X: %v", v, err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestResetNeverFinishes(t *testing.T) {
	s := &script{}
	s.wr(0x01, 0x0F)
	for i := 0; i <= 50; i++ {
		s.rd(0x01, 0x10)
	}
	p := play(s)
	if _, err := mfrc522.New(connect(t, p), mfrc522.Options{Sleep: noSleep}); vetnet.ErrorCode(err) != vetnet.EUNAVAILABLE {
		t.Fatalf("err = %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func newDev(t *testing.T, s *script) (*mfrc522.Dev, *spitest.Playback) {
	full := &script{}
	full.init(0x92)
	full.ops = append(full.ops, s.ops...)
	p := play(full)
	d, err := mfrc522.New(connect(t, p), mfrc522.Options{Sleep: noSleep})
	if err != nil {
		t.Fatal(err)
	}
	return d, p
}

func TestRequest(t *testing.T) {
	s := &script{}
	s.request(nil)                // nothing there
	s.request([]byte{0x04, 0x00}) // a MIFARE Classic 1K
	d, p := newDev(t, s)
	if _, err := d.Request(false); !mfrc522.IsNoCard(err) || vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		t.Fatalf("no card: %v", err)
	}
	atqa, err := d.Request(false)
	if err != nil || atqa != [2]byte{0x04, 0x00} {
		t.Fatalf("card: % X %v", atqa, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWakeup(t *testing.T) {
	s := &script{}
	s.rd(0x0E, 0x00)
	s.wr(0x0E, 0x00)
	s.transceive([]byte{0x52}, 7, []byte{0x44, 0x00}, 0, 0)
	d, p := newDev(t, s)
	if atqa, err := d.Request(true); err != nil || atqa != [2]byte{0x44, 0x00} {
		t.Fatalf("% X %v", atqa, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReadUID(t *testing.T) {
	tests := []struct {
		name   string
		script func(s *script)
		want   string
	}{
		{"4-byte UID", func(s *script) { s.level(0x93, []byte{0xDE, 0xAD, 0xBE, 0xEF}, 0x08) }, "DEADBEEF"},
		{"7-byte UID", func(s *script) {
			s.level(0x93, []byte{0x88, 0x04, 0xA2, 0x2B}, 0x04)
			s.level(0x95, []byte{0x1A, 0x5C, 0x80, 0x11}, 0x00)
		}, "04A22B1A5C8011"},
		{"10-byte UID", func(s *script) {
			s.level(0x93, []byte{0x88, 0x01, 0x02, 0x03}, 0x04)
			s.level(0x95, []byte{0x88, 0x04, 0x05, 0x06}, 0x04)
			s.level(0x97, []byte{0x07, 0x08, 0x09, 0x0A}, 0x20)
		}, "0102030405060708090A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{}
			tt.script(s)
			s.halt()
			d, p := newDev(t, s)
			uid, err := d.ReadUID()
			if err != nil || uid.String() != tt.want {
				t.Fatalf("uid %v, %v", uid, err)
			}
			if err := vetnet.ValidateBadgeUID(uid.String()); err != nil {
				t.Errorf("not a badge UID: %v", err)
			}
			if err := d.Halt(); err != nil {
				t.Fatal(err)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestReadUIDErrors(t *testing.T) {
	tests := []struct {
		name   string
		script func(s *script)
		code   string
	}{
		{"bad BCC", func(s *script) {
			s.transceive([]byte{0x93, 0x20}, 0, []byte{0xDE, 0xAD, 0xBE, 0xEF, 0x00}, 0, 0)
		}, vetnet.EINVALID},
		{"collision", func(s *script) { s.transceive([]byte{0x93, 0x20}, 0, nil, 0, 0x08) }, vetnet.EINVALID},
		{"parity error", func(s *script) { s.transceive([]byte{0x93, 0x20}, 0, nil, 0, 0x02) }, vetnet.EINVALID},
		{"short answer", func(s *script) {
			s.transceive([]byte{0x93, 0x20}, 0, []byte{0xDE, 0xAD}, 0, 0)
		}, vetnet.EINVALID},
		{"card left", func(s *script) { s.transceive([]byte{0x93, 0x20}, 0, nil, 0, 0) }, vetnet.ENOTFOUND},
		{"cascade without tag", func(s *script) { s.level(0x93, []byte{0x11, 0x22, 0x33, 0x44}, 0x04) }, vetnet.EINVALID},
		{"bad CRC of SAK", func(s *script) {
			uid := []byte{0xDE, 0xAD, 0xBE, 0xEF}
			frame := []byte{0x93, 0x70, 0xDE, 0xAD, 0xBE, 0xEF, 0x22}
			s.transceive([]byte{0x93, 0x20}, 0, append(uid, 0x22), 0, 0)
			lo, hi := crcA(frame)
			s.crc(frame, lo, hi)
			s.transceive(append(frame, lo, hi), 0, []byte{0x08, 0x00, 0x00}, 0, 0)
			slo, shi := crcA([]byte{0x08})
			s.crc([]byte{0x08}, slo, shi)
		}, vetnet.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{}
			tt.script(s)
			d, p := newDev(t, s)
			_, err := d.ReadUID()
			if vetnet.ErrorCode(err) != tt.code || vetnet.ErrorMessage(err, "zh") == vetnet.ErrorMessage(err, "en") {
				t.Fatalf("err = %v (code %s), want %s", err, vetnet.ErrorCode(err), tt.code)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestHaltAnswered(t *testing.T) {
	s := &script{}
	lo, hi := crcA([]byte{0x50, 0x00})
	s.crc([]byte{0x50, 0x00}, lo, hi)
	s.transceive([]byte{0x50, 0x00, lo, hi}, 0, []byte{0x0A}, 4, 0) // a NAK
	d, p := newDev(t, s)
	if err := d.Halt(); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("err = %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

// The Reader on a played-back chip: a badge laid on it is read once (it is
// halted, so REQA no longer finds it); a chip that vanishes is a fault.
func TestReader(t *testing.T) {
	s := &script{}
	s.init(0x92)
	s.request(nil)
	s.request([]byte{0x04, 0x00})
	s.level(0x93, []byte{0x88, 0x04, 0xA2, 0x2B}, 0x04)
	s.level(0x95, []byte{0x1A, 0x5C, 0x80, 0x11}, 0x00)
	s.halt()
	s.request(nil) // halted: silent while it lies there
	s.request(nil)
	s.request(nil)
	p := play(s)
	ops := len(s.ops)
	opened := 0
	r, err := mfrc522.NewReader(mfrc522.ReaderOptions{Poll: time.Millisecond, Reopen: time.Hour, Sleep: noSleep,
		Open: func() (spi.PortCloser, error) {
			opened++
			if opened > 1 {
				return nil, errNoPort
			}
			return p, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan reader.Event, 4)
	done := make(chan error)
	go func() { done <- r.Run(ctx, events) }()
	select {
	case ev := <-events:
		if ev.Badge != "04A22B1A5C8011" || ev.Reader != "badge0" || ev.Visitor != nil || ev.Err != nil {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
	// The playback runs out: its errors make the reader fault.
	deadline := time.Now().Add(10 * time.Second)
	for r.Health().State != reader.StateFault {
		if time.Now().After(deadline) {
			t.Fatalf("health %+v", r.Health())
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case ev := <-events:
		t.Fatalf("a second event %+v", ev)
	default:
	}
	if p.Count < ops {
		t.Errorf("played %d of %d transfers", p.Count, ops)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if h := r.Health(); h.State != reader.StateAbsent {
		t.Errorf("after Run: %+v", h)
	}
}

var errNoPort = vetnet.Errorz(vetnet.EUNAVAILABLE, "无SPI", "No SPI port.")

func TestReaderOptions(t *testing.T) {
	if _, err := mfrc522.NewReader(mfrc522.ReaderOptions{}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Error(err)
	}
	open := func() (spi.PortCloser, error) { return nil, errNoPort }
	if _, err := mfrc522.NewReader(mfrc522.ReaderOptions{Open: open, Hz: 20_000_000}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Error(err)
	}
}
