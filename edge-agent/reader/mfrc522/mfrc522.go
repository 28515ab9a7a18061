// Package mfrc522 reads staff badges (MIFARE and other ISO 14443 Type A
// cards) with an NXP MFRC522 module on SPI, written on periph.io's conn/v3
// (periph.io/x/devices/v3 is not used). It reads only the card's UID, which
// identifies the badge in the station's staff roster: the badge's sectors
// are never authenticated or read.
//
// Dev is the chip: Init (soft reset, version check, timer and modulation
// settings, antenna on), Request (REQA or WUPA), ReadUID (anticollision
// with the BCC check and select with the chip's CRC_A, cascade levels for
// 4-, 7- and 10-byte UIDs) and Halt. Reader polls a Dev and turns each
// badge presentation into one reader.Event with the badge's UID.
//
// The MFRC522 cannot read resident ID cards (ISO 14443 Type B): those go
// through the SAM module (package sam).
package mfrc522

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"periph.io/x/conn/v3/spi"

	"github.com/vetnet/vetnet"
)

// Registers.
const (
	RegCommand    = 0x01
	RegComIrq     = 0x04
	RegDivIrq     = 0x05
	RegError      = 0x06
	RegStatus2    = 0x08
	RegFIFOData   = 0x09
	RegFIFOLevel  = 0x0A
	RegControl    = 0x0C
	RegBitFraming = 0x0D
	RegColl       = 0x0E
	RegMode       = 0x11
	RegTxMode     = 0x12
	RegRxMode     = 0x13
	RegTxControl  = 0x14
	RegTxASK      = 0x15
	RegCRCResultH = 0x21
	RegCRCResultL = 0x22
	RegModWidth   = 0x24
	RegTMode      = 0x2A
	RegTPrescaler = 0x2B
	RegTReloadH   = 0x2C
	RegTReloadL   = 0x2D
	RegVersion    = 0x37
)

// Chip commands.
const (
	CmdIdle       = 0x00
	CmdCalcCRC    = 0x03
	CmdTransceive = 0x0C
	CmdMFAuthent  = 0x0E
	CmdSoftReset  = 0x0F
)

// Card commands (ISO 14443-3).
const (
	PICCReqA   = 0x26
	PICCWupA   = 0x52
	PICCSelCL1 = 0x93
	PICCSelCL2 = 0x95
	PICCSelCL3 = 0x97
	PICCHalt   = 0x50
	cascadeTag = 0x88
)

// Versions of the chip that Init accepts: MFRC522 1.0 and 2.0, and the
// FM17522 clone.
var Versions = map[byte]string{0x91: "MFRC522 v1.0", 0x92: "MFRC522 v2.0", 0x88: "FM17522"}

// Defaults.
const (
	// MaxHz is the chip's highest SPI clock.
	MaxHz = 10_000_000
	// DefaultHz is the clock Reader uses unless told otherwise: slow
	// enough for long jumper wires.
	DefaultHz = 1_000_000
	// resetPolls bounds the wait for the soft reset (~50 ms).
	resetPolls = 50
	// irqPolls bounds the wait for a transceive or CRC; the chip's own
	// timer (25 ms) normally ends a transceive first.
	irqPolls = 100
)

// Error is a failure of the chip or of a card exchange. It unwraps to a
// *vetnet.Error whose messages can be shown on the kiosk.
type Error struct {
	Op     string // init, request, anticollision, select, halt, crc
	Reason string // for technicians
	code   string
}

func (e *Error) Error() string { return "mfrc522: " + e.Op + ": " + e.Reason }

func (e *Error) Unwrap() error {
	switch e.code {
	case vetnet.EUNAVAILABLE:
		return vetnet.Errorz(vetnet.EUNAVAILABLE, "工作证读卡器故障，请联系管理员", "The badge reader is not working. Please call the administrator.")
	case vetnet.ENOTFOUND:
		return vetnet.Errorz(vetnet.ENOTFOUND, "未检测到工作证", "No badge on the reader.")
	}
	return vetnet.Errorz(vetnet.EINVALID, "工作证读取出错，请拿开后重新刷卡", "The badge could not be read. Take it away and tap it again.")
}

func chipErr(op, format string, a ...any) *Error {
	return &Error{Op: op, Reason: fmt.Sprintf(format, a...), code: vetnet.EUNAVAILABLE}
}

func cardErr(op, format string, a ...any) *Error {
	return &Error{Op: op, Reason: fmt.Sprintf(format, a...), code: vetnet.EINVALID}
}

// errNoAnswer is a card exchange that timed out: no card (or a halted one).
var errNoAnswer = &Error{Op: "transceive", Reason: "no answer", code: vetnet.ENOTFOUND}

// IsNoCard reports whether err means that no card answered.
func IsNoCard(err error) bool {
	e, ok := err.(*Error)
	return ok && e.code == vetnet.ENOTFOUND
}

// UID is a card's unique identifier: 4, 7 or 10 bytes.
type UID []byte

// String is the UID in upper-case hex, as vetnet.NormalizeBadgeUID has it.
func (u UID) String() string { return strings.ToUpper(hex.EncodeToString(u)) }

// Dev is an MFRC522 on an SPI connection (mode 0, 8 bits, at most 10 MHz).
// It is not safe for concurrent use.
type Dev struct {
	c       spi.Conn
	sleep   func(time.Duration)
	version byte
}

// Options of New.
type Options struct {
	// Sleep waits between polls of the reset; default time.Sleep. Tests
	// pass a no-op.
	Sleep func(time.Duration)
}

// New initialises the chip on c (see Init) and returns it.
//
// Errors: *Error (EUNAVAILABLE) when the chip does not answer as an
// MFRC522.
func New(c spi.Conn, o Options) (*Dev, error) {
	if o.Sleep == nil {
		o.Sleep = time.Sleep
	}
	d := &Dev{c: c, sleep: o.Sleep}
	if err := d.Init(); err != nil {
		return nil, err
	}
	return d, nil
}

// Version is the chip's version register, read by Init.
func (d *Dev) Version() byte { return d.version }

func addrRead(reg byte) byte  { return ((reg << 1) & 0x7E) | 0x80 }
func addrWrite(reg byte) byte { return (reg << 1) & 0x7E }

func (d *Dev) read(reg byte) (byte, error) {
	var r [2]byte
	if err := d.c.Tx([]byte{addrRead(reg), 0x00}, r[:]); err != nil {
		return 0, chipErr("spi", "read %02X: %v", reg, err)
	}
	return r[1], nil
}

func (d *Dev) write(reg, v byte) error {
	if err := d.c.Tx([]byte{addrWrite(reg), v}, nil); err != nil {
		return chipErr("spi", "write %02X: %v", reg, err)
	}
	return nil
}

// writeFIFO writes data to the FIFO in one transfer: the address once,
// then the bytes.
func (d *Dev) writeFIFO(data []byte) error {
	w := append([]byte{addrWrite(RegFIFOData)}, data...)
	if err := d.c.Tx(w, nil); err != nil {
		return chipErr("spi", "write FIFO: %v", err)
	}
	return nil
}

// readFIFO reads n bytes from the FIFO in one transfer: the address n
// times, then 0.
func (d *Dev) readFIFO(n int) ([]byte, error) {
	w := make([]byte, n+1)
	for i := 0; i < n; i++ {
		w[i] = addrRead(RegFIFOData)
	}
	r := make([]byte, n+1)
	if err := d.c.Tx(w, r); err != nil {
		return nil, chipErr("spi", "read FIFO: %v", err)
	}
	return r[1:], nil
}

// Init soft-resets the chip, checks its version, sets the receive timeout
// (25 ms), 100 % ASK modulation and CRC preset 6363h, and turns the
// antenna on.
//
// Errors: *Error (EUNAVAILABLE): the reset does not finish, the version
// is not one of Versions (no reader on the bus reads as 00 or FF).
func (d *Dev) Init() error {
	if err := d.write(RegCommand, CmdSoftReset); err != nil {
		return err
	}
	for i := 0; ; i++ {
		d.sleep(time.Millisecond)
		v, err := d.read(RegCommand)
		if err != nil {
			return err
		}
		if v&0x10 == 0 { // PowerDown cleared: the reset is over
			break
		}
		if i >= resetPolls {
			return chipErr("init", "soft reset did not finish")
		}
	}
	v, err := d.read(RegVersion)
	if err != nil {
		return err
	}
	if _, ok := Versions[v]; !ok {
		return chipErr("init", "version %02X: no MFRC522 on this bus", v)
	}
	d.version = v
	for _, rv := range [][2]byte{
		{RegTxMode, 0x00}, {RegRxMode, 0x00}, {RegModWidth, 0x26},
		{RegTMode, 0x80}, {RegTPrescaler, 0xA9}, {RegTReloadH, 0x03}, {RegTReloadL, 0xE8},
		{RegTxASK, 0x40}, {RegMode, 0x3D},
	} {
		if err := d.write(rv[0], rv[1]); err != nil {
			return err
		}
	}
	tx, err := d.read(RegTxControl)
	if err != nil {
		return err
	}
	if tx&0x03 != 0x03 {
		return d.write(RegTxControl, tx|0x03)
	}
	return nil
}

// Transceive sends data to the card (the last byte with txLastBits bits,
// 0 meaning 8) and returns its answer and the valid bits of the answer's
// last byte (0 meaning 8).
//
// Errors: *Error: ENOTFOUND when no card answers in 25 ms, EINVALID for a
// protocol, parity, overflow or collision error, EUNAVAILABLE for SPI.
func (d *Dev) Transceive(op string, data []byte, txLastBits byte) ([]byte, byte, error) {
	for _, rv := range [][2]byte{{RegCommand, CmdIdle}, {RegComIrq, 0x7F}, {RegFIFOLevel, 0x80}} {
		if err := d.write(rv[0], rv[1]); err != nil {
			return nil, 0, err
		}
	}
	if err := d.writeFIFO(data); err != nil {
		return nil, 0, err
	}
	framing := txLastBits & 0x07
	if err := d.write(RegBitFraming, framing); err != nil {
		return nil, 0, err
	}
	if err := d.write(RegCommand, CmdTransceive); err != nil {
		return nil, 0, err
	}
	if err := d.write(RegBitFraming, framing|0x80); err != nil { // StartSend
		return nil, 0, err
	}
	for i := 0; ; i++ {
		irq, err := d.read(RegComIrq)
		if err != nil {
			return nil, 0, err
		}
		if irq&0x30 != 0 { // RxIRq or IdleIRq: done
			break
		}
		if irq&0x01 != 0 { // TimerIRq: nobody answered
			return nil, 0, errNoAnswer
		}
		if i >= irqPolls {
			return nil, 0, chipErr(op, "the chip never finished (ComIrq %02X)", irq)
		}
	}
	e, err := d.read(RegError)
	if err != nil {
		return nil, 0, err
	}
	if e&0x13 != 0 { // BufferOvfl, ParityErr, ProtocolErr
		return nil, 0, cardErr(op, "error register %02X", e)
	}
	if e&0x08 != 0 {
		return nil, 0, cardErr(op, "collision: more than one card on the reader")
	}
	n, err := d.read(RegFIFOLevel)
	if err != nil {
		return nil, 0, err
	}
	n &= 0x7F
	var out []byte
	if n > 0 {
		if out, err = d.readFIFO(int(n)); err != nil {
			return nil, 0, err
		}
	}
	ctl, err := d.read(RegControl)
	if err != nil {
		return nil, 0, err
	}
	return out, ctl & 0x07, nil
}

// CRC computes CRC_A of data with the chip; it returns the low byte first,
// as it goes on the air.
//
// Errors: *Error (EUNAVAILABLE).
func (d *Dev) CRC(data []byte) ([2]byte, error) {
	for _, rv := range [][2]byte{{RegCommand, CmdIdle}, {RegDivIrq, 0x04}, {RegFIFOLevel, 0x80}} {
		if err := d.write(rv[0], rv[1]); err != nil {
			return [2]byte{}, err
		}
	}
	if err := d.writeFIFO(data); err != nil {
		return [2]byte{}, err
	}
	if err := d.write(RegCommand, CmdCalcCRC); err != nil {
		return [2]byte{}, err
	}
	for i := 0; ; i++ {
		v, err := d.read(RegDivIrq)
		if err != nil {
			return [2]byte{}, err
		}
		if v&0x04 != 0 {
			break
		}
		if i >= irqPolls {
			return [2]byte{}, chipErr("crc", "CRC never finished")
		}
	}
	lo, err := d.read(RegCRCResultL)
	if err != nil {
		return [2]byte{}, err
	}
	hi, err := d.read(RegCRCResultH)
	if err != nil {
		return [2]byte{}, err
	}
	return [2]byte{lo, hi}, nil
}

// Request asks for a card in the field: REQA (cards not halted) or, with
// wakeup, WUPA (halted ones too). It returns the card's ATQA.
//
// Errors: *Error: ENOTFOUND when no card is there (IsNoCard), EINVALID,
// EUNAVAILABLE.
func (d *Dev) Request(wakeup bool) ([2]byte, error) {
	coll, err := d.read(RegColl)
	if err != nil {
		return [2]byte{}, err
	}
	if err := d.write(RegColl, coll&0x7F); err != nil { // ValuesAfterColl off
		return [2]byte{}, err
	}
	cmd := byte(PICCReqA)
	if wakeup {
		cmd = PICCWupA
	}
	ans, bits, err := d.Transceive("request", []byte{cmd}, 7)
	if err != nil {
		return [2]byte{}, err
	}
	if len(ans) != 2 || bits != 0 {
		return [2]byte{}, cardErr("request", "ATQA of %d bytes, %d bits", len(ans), bits)
	}
	return [2]byte{ans[0], ans[1]}, nil
}

// ReadUID runs anticollision and select through the cascade levels and
// returns the UID of the (one) card answering; the card is then selected.
// Call it after Request.
//
// Errors: *Error: EINVALID (BCC or CRC wrong, collision, odd answers),
// ENOTFOUND (the card left), EUNAVAILABLE.
func (d *Dev) ReadUID() (UID, error) {
	var uid UID
	for _, sel := range []byte{PICCSelCL1, PICCSelCL2, PICCSelCL3} {
		ans, bits, err := d.Transceive("anticollision", []byte{sel, 0x20}, 0)
		if err != nil {
			return nil, err
		}
		if len(ans) != 5 || bits != 0 {
			return nil, cardErr("anticollision", "%d bytes, %d bits", len(ans), bits)
		}
		if bcc := ans[0] ^ ans[1] ^ ans[2] ^ ans[3]; bcc != ans[4] {
			return nil, cardErr("anticollision", "BCC %02X, computed %02X", ans[4], bcc)
		}
		frame := append([]byte{sel, 0x70}, ans...)
		crc, err := d.CRC(frame)
		if err != nil {
			return nil, err
		}
		sak, bits, err := d.Transceive("select", append(frame, crc[0], crc[1]), 0)
		if err != nil {
			return nil, err
		}
		if len(sak) != 3 || bits != 0 {
			return nil, cardErr("select", "SAK of %d bytes, %d bits", len(sak), bits)
		}
		want, err := d.CRC(sak[:1])
		if err != nil {
			return nil, err
		}
		if sak[1] != want[0] || sak[2] != want[1] {
			return nil, cardErr("select", "CRC of SAK % X, computed % X", sak[1:], want)
		}
		if sak[0]&0x04 == 0 { // UID complete
			return append(uid, ans[:4]...), nil
		}
		if ans[0] != cascadeTag {
			return nil, cardErr("select", "SAK says the UID goes on, but no cascade tag")
		}
		uid = append(uid, ans[1:4]...)
	}
	return nil, cardErr("select", "UID longer than three cascade levels")
}

// Halt puts the selected card to sleep, so that REQA does not find it
// again while it stays in the field. Success is silence.
//
// Errors: *Error (EINVALID when the card answers, EUNAVAILABLE).
func (d *Dev) Halt() error {
	frame := []byte{PICCHalt, 0x00}
	crc, err := d.CRC(frame)
	if err != nil {
		return err
	}
	_, _, err = d.Transceive("halt", append(frame, crc[0], crc[1]), 0)
	if IsNoCard(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return cardErr("halt", "the card answered HLTA")
}
