package profile_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/firmware-config/profile"
)

// The shipped profiles load.
func TestShippedProfiles(t *testing.T) {
	paths, err := filepath.Glob("../profiles/*.toml")
	if err != nil || len(paths) < 3 {
		t.Fatalf("profiles: %v %v", paths, err)
	}
	for _, p := range paths {
		pr, err := profile.Load(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if pr.Name+".toml" != filepath.Base(p) {
			t.Errorf("%s: name %q does not match the file", p, pr.Name)
		}
	}
	rpi, _ := profile.Load("../profiles/rpi-kiosk.toml")
	if rpi.IDCard.Baud != 115200 || rpi.Badge.Hz != 1_000_000 || rpi.Badge.Name != "badge0" || rpi.Scanner.Driver != "evdev" ||
		rpi.Indicators.LED != "GPIO17" || rpi.Indicators.Buzzer != "GPIO27" {
		t.Errorf("rpi-kiosk: %+v %+v %+v %+v", rpi.IDCard, rpi.Badge, rpi.Scanner, rpi.Indicators)
	}
	demo, _ := profile.Load("../profiles/demo-emulator.toml")
	if demo.IDCard.Driver != profile.IDCardEmulator || demo.IDCard.Poll != 200*time.Millisecond || demo.Badge != nil {
		t.Errorf("demo: %+v", demo.IDCard)
	}
	if pr := demo.Printer; pr == nil || pr.Driver != profile.PrinterEmulator || pr.Name != "printer0" || !pr.Status || !pr.Cut {
		t.Errorf("demo printer: %+v", demo.Printer)
	}
	if pr := rpi.Printer; pr == nil || pr.Driver != profile.PrinterSerial || pr.Baud != 9600 || pr.Device != "/dev/ttyAMA0" {
		t.Errorf("rpi printer: %+v", rpi.Printer)
	}
	desk, _ := profile.Load("../profiles/desk-usb.toml")
	if pr := desk.Printer; pr == nil || pr.Driver != profile.PrinterUSB || pr.Status || !pr.Cut {
		t.Errorf("desk printer: %+v", desk.Printer)
	}
}

func TestErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"bad baud", "name=\"x\"\n[idcard]\ndriver=\"sam\"\nport=\"/dev/ttyUSB0\"\nbaud=12345", "idcard.baud: 12345 is not one of"},
		{"no port", "name=\"x\"\n[idcard]\ndriver=\"sam\"", "idcard.port: required"},
		{"relative port", "name=\"x\"\n[idcard]\ndriver=\"sam\"\nport=\"ttyUSB0\"", "idcard.port: \"ttyUSB0\" is not an absolute"},
		{"unknown driver", "name=\"x\"\n[idcard]\ndriver=\"nfc\"", "idcard.driver: \"nfc\" is not"},
		{"bad poll", "name=\"x\"\n[idcard]\ndriver=\"sim\"\npoll=\"fast\"", "idcard.poll: \"fast\" is not a duration"},
		{"poll too short", "name=\"x\"\n[idcard]\ndriver=\"sim\"\npoll=\"1ms\"", "idcard.poll: 1ms is not within"},
		{"spi clock", "name=\"x\"\n[badge]\ndriver=\"mfrc522\"\nhz=20000000", "bad.toml:4: badge.hz: 20000000 is not within"},
		{"spi name", "name=\"x\"\n[badge]\ndriver=\"mfrc522\"\nspi=\"spi0\"", "badge.spi: \"spi0\" is not"},
		{"scanner device", "name=\"x\"\n[scanner]\ndriver=\"evdev\"\ndevice=\"/dev/ttyACM0\"", "scanner.device: \"/dev/ttyACM0\" is not under /dev/input/"},
		{"scanner driver", "name=\"x\"\n[scanner]\ndriver=\"bt\"\ndevice=\"/dev/x\"", "scanner.driver:"},
		{"led pin", "name=\"x\"\n[indicators]\nled=\"GPIO 17\"", "indicators.led: \"GPIO 17\" is not a pin name"},
		{"same pin", "name=\"x\"\n[indicators]\nled=\"GPIO17\"\nbuzzer=\"GPIO17\"", "indicators.buzzer: the same pin"},
		{"empty indicators", "name=\"x\"\n[indicators]", "bad.toml:2: indicators: neither"},
		{"unknown field", "name=\"x\"\n[idcard]\ndriver=\"sim\"\nspeed=1", "bad.toml:4: idcard.speed: unknown field"},
		{"bad name", "name=\"X Y\"", "name: 1–32"},
		{"duplicate reader names", "name=\"x\"\n[idcard]\ndriver=\"sim\"\nname=\"r\"\n[scanner]\nname=\"r\"\ndriver=\"serial\"\ndevice=\"/dev/ttyACM0\"", "bad.toml:6: scanner.name: \"r\" is also"},
		{"toml syntax", "name=", "bad.toml:1:"},
		{"printer driver", "name=\"x\"\n[printer]\ndriver=\"bluetooth\"", "printer.driver: \"bluetooth\" is not"},
		{"printer without driver", "name=\"x\"\n[printer]\ndevice=\"/dev/usb/lp0\"", "printer.driver: required"},
		{"printer device", "name=\"x\"\n[printer]\ndriver=\"usb\"", "bad.toml:2: printer.device: required"},
		{"printer relative device", "name=\"x\"\n[printer]\ndriver=\"serial\"\ndevice=\"ttyUSB1\"", "printer.device: \"ttyUSB1\" is not an absolute"},
		{"printer baud", "name=\"x\"\n[printer]\ndriver=\"serial\"\ndevice=\"/dev/ttyUSB1\"\nbaud=50", "printer.baud: 50 is not within"},
		{"usb printer baud", "name=\"x\"\n[printer]\ndriver=\"usb\"\ndevice=\"/dev/usb/lp0\"\nbaud=9600", "printer.baud: a USB printer"},
		{"emulated printer device", "name=\"x\"\n[printer]\ndriver=\"emulator\"\ndevice=\"/dev/x\"", "printer.device: the emulated"},
		{"printer unknown field", "name=\"x\"\n[printer]\ndriver=\"emulator\"\npaper=\"58mm\"", "printer.paper: unknown field"},
		{"printer named as a reader", "name=\"x\"\n[idcard]\ndriver=\"sim\"\nname=\"r\"\n[printer]\ndriver=\"emulator\"\nname=\"r\"", "printer.name: \"r\" is also"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := profile.Parse("bad.toml", tt.text)
			if vetnet.ErrorCode(err) != vetnet.EINVALID {
				t.Fatalf("err = %v", err)
			}
			if msg := vetnet.ErrorMessage(err, "en"); !strings.Contains(msg, tt.want) || !strings.HasPrefix(msg, "bad.toml") {
				t.Errorf("message %q, want it to name the field: %q", msg, tt.want)
			}
			if !strings.Contains(vetnet.ErrorMessage(err, "zh"), "硬件配置有误") {
				t.Errorf("zh: %q", vetnet.ErrorMessage(err, "zh"))
			}
		})
	}
}

func TestEmptyProfile(t *testing.T) {
	p, err := profile.Parse("x.toml", `name = "bare"`)
	if err != nil || p.IDCard != nil || p.Badge != nil || p.Scanner != nil || p.Indicators != nil {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err := profile.Load(filepath.Join(t.TempDir(), "none.toml")); vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		t.Fatal(err)
	}
}

// TestKeepPhotoOffByDefault: a card reader keeps the photo only when its
// profile says keep_photo = true; no shipped profile does.
func TestKeepPhotoOffByDefault(t *testing.T) {
	p, err := profile.Parse("x.toml", "name = \"x\"\n[idcard]\ndriver = \"sam-emulator\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if p.IDCard == nil || p.IDCard.KeepPhoto {
		t.Fatalf("idcard %+v", p.IDCard)
	}
	p, err = profile.Parse("x.toml", "name = \"x\"\n[idcard]\ndriver = \"sam-emulator\"\nkeep_photo = true\n")
	if err != nil || !p.IDCard.KeepPhoto {
		t.Fatalf("keep_photo = true: %+v %v", p, err)
	}
	paths, _ := filepath.Glob("../profiles/*.toml")
	for _, path := range paths {
		if pr, err := profile.Load(path); err == nil && pr.IDCard != nil && pr.IDCard.KeepPhoto {
			t.Errorf("%s keeps card photos", path)
		}
	}
}

// A broken copy of a shipped profile: every problem at its line, in order.
func TestBrokenFileNamesLines(t *testing.T) {
	text := `# a technician's edit gone wrong
name = "rpi-kiosk"

[idcard]
driver = "sam"
port   = "/dev/ttyUSB0"
baud   = 14400          # not a SAM speed

[badge]
driver = "mfrc522"
hz     = 1000000
poll   = "often"

[indicators]
led    = "GPIO17"
buzzer = "GPIO17"
`
	_, err := profile.Parse("rpi-kiosk.toml", text)
	msg := vetnet.ErrorMessage(err, "en")
	want := []string{"rpi-kiosk.toml:7: idcard.baud: 14400", "rpi-kiosk.toml:12: badge.poll: \"often\"", "rpi-kiosk.toml:16: indicators.buzzer: the same pin"}
	last := -1
	for _, w := range want {
		i := strings.Index(msg, w)
		if i <= last {
			t.Fatalf("message\n%s\nlacks %q in order", msg, w)
		}
		last = i
	}
}
