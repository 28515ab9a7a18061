// Package profile reads hardware profiles: which devices a station has and
// where they are attached (the ID-card reader's serial port and speed, the
// badge reader's SPI port, the scanner's device, the GPIO pins of the LED
// and the buzzer). A profile is a TOML file a technician can read and edit
// (firmware-config/profiles/*.toml); the edge agent builds its drivers from
// it (edge-agent -profile). Load checks every field and names the file and
// the field of each problem.
package profile

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/firmware-config/tomlpos"
)

// Drivers of the ID-card reader.
const (
	IDCardSAM      = "sam"          // a SAM module (GA 467) on a serial line
	IDCardEmulator = "sam-emulator" // a SAM emulator on a pty, run by the agent (demo, tests)
	IDCardSim      = "sim"          // the simulated reader (no serial path at all)
)

// Drivers of the badge reader and the scanner.
const (
	BadgeMFRC522    = "mfrc522" // NXP MFRC522 on SPI
	ScannerKeyboard = "evdev"   // keyboard-wedge scanner: /dev/input/eventN
	ScannerSerial   = "serial"  // USB CDC or RS-232 scanner: a tty
)

// Drivers of the receipt printer.
const (
	PrinterSerial   = "serial"   // ESC/POS over RS-232 or USB-serial: a tty
	PrinterUSB      = "usb"      // ESC/POS over the USB printer class: /dev/usb/lpN
	PrinterEmulator = "emulator" // an emulated printer on a pty, run by the agent (demo, tests)
)

// SAMBauds are the speeds a SAM module can be set to (as sam.Bauds).
var SAMBauds = []int{9600, 19200, 38400, 57600, 115200}

// Profile is a station's hardware. A nil device is not fitted.
type Profile struct {
	Name        string // e.g. "rpi-kiosk"
	Description string
	IDCard      *IDCard
	Badge       *Badge
	Scanner     *Scanner
	Indicators  *Indicators
	Printer     *Printer
}

// Printer is the ESC/POS receipt printer of queue tickets.
type Printer struct {
	Name   string // its name in heartbeats; default printer0
	Driver string // PrinterSerial, PrinterUSB or PrinterEmulator
	Device string // serial: the tty; usb: /dev/usb/lpN; emulator: none
	Baud   int    // serial: line speed; default 9600
	// Status says the printer answers real-time status requests (DLE
	// EOT): paper out and cover open are then found before a ticket is
	// printed. Default true; set false for printers that do not answer
	// (many USB models), whose health then follows only the device.
	Status bool
	Cut    bool // cut the paper after each ticket; default true
}

// IDCard is the resident ID card reader.
type IDCard struct {
	Name      string        // reader name in heartbeats; default idcard0
	Driver    string        // IDCardSAM, IDCardEmulator or IDCardSim
	Port      string        // sam: the serial device; sam-emulator: where to keep a link to the pty (optional)
	Baud      int           // sam: line speed, one of SAMBauds; default 115200
	Poll      time.Duration // pause between looks for a card; default the driver's (250 ms)
	KeepPhoto bool          // keep the card's photo in memory for the read (default false: wiped at once)
}

// Badge is the staff badge reader.
type Badge struct {
	Name   string        // default badge0
	Driver string        // BadgeMFRC522
	SPI    string        // SPI port: "" for the first, /dev/spidev0.0 or SPI0.0
	Hz     int           // SPI clock; default 1 MHz, at most 10 MHz
	Poll   time.Duration // default 200 ms
}

// Scanner is the QR or barcode scanner.
type Scanner struct {
	Name   string // default qr0
	Driver string // ScannerKeyboard or ScannerSerial
	Device string // /dev/input/by-id/...-event-kbd, or /dev/ttyACM0
	Baud   int    // serial: default 9600
}

// Indicators are the GPIO signals.
type Indicators struct {
	LED       string // GPIO pin of the status LED (e.g. GPIO17); "" for none
	Buzzer    string // GPIO pin of the buzzer (e.g. GPIO27); "" for none
	ActiveLow bool   // the pins are wired to be on when low
}

type file struct {
	Name        string      `toml:"name"`
	Description string      `toml:"description"`
	IDCard      *idcardT    `toml:"idcard"`
	Badge       *badgeT     `toml:"badge"`
	Scanner     *scannerT   `toml:"scanner"`
	Indicators  *indicatorT `toml:"indicators"`
	Printer     *printerT   `toml:"printer"`
}

type printerT struct {
	Name   string `toml:"name"`
	Driver string `toml:"driver"`
	Device string `toml:"device"`
	Baud   int    `toml:"baud"`
	Status *bool  `toml:"status"`
	Cut    *bool  `toml:"cut"`
}

type idcardT struct {
	Name      string `toml:"name"`
	Driver    string `toml:"driver"`
	Port      string `toml:"port"`
	Baud      int    `toml:"baud"`
	Poll      string `toml:"poll"`
	KeepPhoto bool   `toml:"keep_photo"`
}

type badgeT struct {
	Name   string `toml:"name"`
	Driver string `toml:"driver"`
	SPI    string `toml:"spi"`
	Hz     int    `toml:"hz"`
	Poll   string `toml:"poll"`
}

type scannerT struct {
	Name   string `toml:"name"`
	Driver string `toml:"driver"`
	Device string `toml:"device"`
	Baud   int    `toml:"baud"`
}

type indicatorT struct {
	LED       string `toml:"led"`
	Buzzer    string `toml:"buzzer"`
	ActiveLow bool   `toml:"active_low"`
}

// Load reads and validates the profile at path.
//
// Errors: ENOTFOUND (cannot read the file), EINVALID listing every
// problem as "file: field: what is wrong".
func Load(path string) (*Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, vetnet.Wrap(vetnet.ENOTFOUND, err, "无法读取硬件配置文件", "Cannot read the hardware profile "+path+".")
	}
	return Parse(path, string(b))
}

var (
	nameRe   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	readerRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	pinRe    = regexp.MustCompile(`^[A-Za-z0-9_]{1,32}$`)
)

// Parse validates profile text; name is used in error messages.
func Parse(name, text string) (*Profile, error) {
	var f file
	md, err := toml.Decode(text, &f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, invalid([]string{fmt.Sprintf("%s:%d: %s", name, pe.Position.Line, pe.Message)})
		}
		return nil, invalid([]string{fmt.Sprintf("%s: %v", name, err)})
	}
	c := &checker{file: name, pos: tomlpos.New(text)}
	for _, k := range md.Undecoded() {
		c.bad(k.String(), "unknown field")
	}
	p := &Profile{Name: f.Name, Description: f.Description}
	if !nameRe.MatchString(f.Name) {
		c.bad("name", "1–32 lower-case letters, digits, '-' or '_'")
	}
	if f.IDCard != nil {
		p.IDCard = c.idcard(f.IDCard)
	}
	if f.Badge != nil {
		p.Badge = c.badge(f.Badge)
	}
	if f.Scanner != nil {
		p.Scanner = c.scanner(f.Scanner)
	}
	if f.Indicators != nil {
		p.Indicators = c.indicators(f.Indicators)
	}
	if f.Printer != nil {
		p.Printer = c.printer(f.Printer)
	}
	names := map[string]string{}
	printerName := ""
	if p.Printer != nil {
		printerName = p.Printer.Name
	}
	for _, rn := range [][2]string{{"idcard", nameOf(p.IDCard)}, {"badge", nameOfB(p.Badge)}, {"scanner", nameOfS(p.Scanner)}, {"printer", printerName}} {
		if rn[1] == "" {
			continue
		}
		if other, dup := names[rn[1]]; dup {
			c.bad(rn[0]+".name", fmt.Sprintf("%q is also the name of %s", rn[1], other))
		}
		names[rn[1]] = rn[0]
	}
	if len(c.problems) > 0 {
		return nil, invalid(c.problems)
	}
	return p, nil
}

func nameOf(d *IDCard) string {
	if d == nil {
		return ""
	}
	return d.Name
}

func nameOfB(d *Badge) string {
	if d == nil {
		return ""
	}
	return d.Name
}

func nameOfS(d *Scanner) string {
	if d == nil {
		return ""
	}
	return d.Name
}

type checker struct {
	file     string
	pos      *tomlpos.Index
	problems []string
}

// bad records "file:line: field: what", with the line of the field, else
// of its table, else none.
func (c *checker) bad(field, what string) {
	if n := c.pos.Line(field); n > 0 {
		c.problems = append(c.problems, fmt.Sprintf("%s:%d: %s: %s", c.file, n, field, what))
		return
	}
	c.problems = append(c.problems, fmt.Sprintf("%s: %s: %s", c.file, field, what))
}

func (c *checker) readerName(field, name, def string) string {
	if name == "" {
		return def
	}
	if !readerRe.MatchString(name) {
		c.bad(field, "1–32 lower-case letters, digits, '-' or '_'")
	}
	return name
}

func (c *checker) duration(field, s string, lo, hi time.Duration) time.Duration {
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		c.bad(field, fmt.Sprintf("%q is not a duration such as \"250ms\"", s))
		return 0
	}
	if d < lo || d > hi {
		c.bad(field, fmt.Sprintf("%v is not within %v to %v", d, lo, hi))
	}
	return d
}

func (c *checker) device(field, path string, required bool) {
	switch {
	case path == "" && required:
		c.bad(field, "required")
	case path != "" && !strings.HasPrefix(path, "/"):
		c.bad(field, fmt.Sprintf("%q is not an absolute device path", path))
	}
}

func (c *checker) idcard(t *idcardT) *IDCard {
	d := &IDCard{Name: c.readerName("idcard.name", t.Name, "idcard0"), Driver: t.Driver, Port: t.Port, Baud: t.Baud, KeepPhoto: t.KeepPhoto}
	d.Poll = c.duration("idcard.poll", t.Poll, 50*time.Millisecond, 5*time.Second)
	switch t.Driver {
	case IDCardSAM:
		c.device("idcard.port", t.Port, true)
		if d.Baud == 0 {
			d.Baud = 115200
		}
		ok := false
		for _, b := range SAMBauds {
			ok = ok || b == d.Baud
		}
		if !ok {
			c.bad("idcard.baud", fmt.Sprintf("%d is not one of %v", d.Baud, SAMBauds))
		}
	case IDCardEmulator:
		c.device("idcard.port", t.Port, false)
		if t.Baud != 0 {
			c.bad("idcard.baud", "the emulator has no line speed")
		}
	case IDCardSim:
		if t.Port != "" || t.Baud != 0 {
			c.bad("idcard.port", "the simulated reader has no port")
		}
	case "":
		c.bad("idcard.driver", "required: sam, sam-emulator or sim")
	default:
		c.bad("idcard.driver", fmt.Sprintf("%q is not sam, sam-emulator or sim", t.Driver))
	}
	return d
}

func (c *checker) badge(t *badgeT) *Badge {
	d := &Badge{Name: c.readerName("badge.name", t.Name, "badge0"), Driver: t.Driver, SPI: t.SPI, Hz: t.Hz}
	d.Poll = c.duration("badge.poll", t.Poll, 50*time.Millisecond, 5*time.Second)
	if t.Driver != BadgeMFRC522 {
		c.bad("badge.driver", fmt.Sprintf("%q is not mfrc522", t.Driver))
	}
	if d.Hz == 0 {
		d.Hz = 1_000_000
	}
	if d.Hz < 10_000 || d.Hz > 10_000_000 {
		c.bad("badge.hz", fmt.Sprintf("%d is not within 10 kHz to 10 MHz (the MFRC522's limit)", d.Hz))
	}
	if t.SPI != "" && !strings.HasPrefix(t.SPI, "/dev/spidev") && !regexp.MustCompile(`^SPI\d+\.\d+$`).MatchString(t.SPI) {
		c.bad("badge.spi", fmt.Sprintf("%q is not /dev/spidevB.C or SPIB.C", t.SPI))
	}
	return d
}

func (c *checker) scanner(t *scannerT) *Scanner {
	d := &Scanner{Name: c.readerName("scanner.name", t.Name, "qr0"), Driver: t.Driver, Device: t.Device, Baud: t.Baud}
	c.device("scanner.device", t.Device, true)
	switch t.Driver {
	case ScannerKeyboard:
		if t.Baud != 0 {
			c.bad("scanner.baud", "a keyboard-wedge scanner has no line speed")
		}
		if t.Device != "" && !strings.HasPrefix(t.Device, "/dev/input/") {
			c.bad("scanner.device", fmt.Sprintf("%q is not under /dev/input/", t.Device))
		}
	case ScannerSerial:
		if d.Baud == 0 {
			d.Baud = 9600
		}
		if d.Baud < 1200 || d.Baud > 921600 {
			c.bad("scanner.baud", fmt.Sprintf("%d is not within 1200 to 921600", d.Baud))
		}
	default:
		c.bad("scanner.driver", fmt.Sprintf("%q is not evdev or serial", t.Driver))
	}
	return d
}

func (c *checker) printer(t *printerT) *Printer {
	d := &Printer{Name: c.readerName("printer.name", t.Name, "printer0"), Driver: t.Driver, Device: t.Device, Baud: t.Baud,
		Status: t.Status == nil || *t.Status, Cut: t.Cut == nil || *t.Cut}
	switch t.Driver {
	case PrinterSerial:
		c.device("printer.device", t.Device, true)
		if d.Baud == 0 {
			d.Baud = 9600
		}
		if d.Baud < 1200 || d.Baud > 921600 {
			c.bad("printer.baud", fmt.Sprintf("%d is not within 1200 to 921600", d.Baud))
		}
	case PrinterUSB:
		c.device("printer.device", t.Device, true)
		if t.Baud != 0 {
			c.bad("printer.baud", "a USB printer has no line speed")
		}
	case PrinterEmulator:
		if t.Device != "" || t.Baud != 0 {
			c.bad("printer.device", "the emulated printer has no device")
		}
	case "":
		c.bad("printer.driver", "required: serial, usb or emulator")
	default:
		c.bad("printer.driver", fmt.Sprintf("%q is not serial, usb or emulator", t.Driver))
	}
	return d
}

func (c *checker) indicators(t *indicatorT) *Indicators {
	d := &Indicators{LED: t.LED, Buzzer: t.Buzzer, ActiveLow: t.ActiveLow}
	if t.LED != "" && !pinRe.MatchString(t.LED) {
		c.bad("indicators.led", fmt.Sprintf("%q is not a pin name such as GPIO17", t.LED))
	}
	if t.Buzzer != "" && !pinRe.MatchString(t.Buzzer) {
		c.bad("indicators.buzzer", fmt.Sprintf("%q is not a pin name such as GPIO27", t.Buzzer))
	}
	if t.LED != "" && t.LED == t.Buzzer {
		c.bad("indicators.buzzer", "the same pin as the LED")
	}
	if t.LED == "" && t.Buzzer == "" {
		c.bad("indicators", "neither led nor buzzer: leave the table out instead")
	}
	return d
}

func invalid(problems []string) error {
	sort.SliceStable(problems, func(i, j int) bool { return lineOf(problems[i]) < lineOf(problems[j]) })
	return &vetnet.Error{Code: vetnet.EINVALID, Message: strings.Join(problems, "\n"),
		MessageZH: "硬件配置有误：\n" + strings.Join(problems, "\n")}
}

// lineOf reads the line of "file:line: ..." (0 without one).
func lineOf(p string) int {
	_, rest, _ := strings.Cut(p, ":")
	n := 0
	for _, r := range rest {
		if r < '0' || r > '9' {
			break
		}
		n = n*10 + int(r-'0')
	}
	return n
}
