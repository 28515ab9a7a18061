package hw_test

import (
	"context"
	"testing"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/hw"
	"github.com/vetnet/vetnet/edge-agent/reader"
	"github.com/vetnet/vetnet/firmware-config/profile"
)

func load(t *testing.T, name string) *profile.Profile {
	p, err := profile.Load("../../firmware-config/profiles/" + name + ".toml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDemoProfile(t *testing.T) {
	st, err := hw.Build(load(t, "demo-emulator"), hw.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if len(st.Readers) != 1 || st.Emulator == nil || st.SimTap == nil || st.Indicator != nil || st.Printer == nil || st.PrinterEmulator == nil {
		t.Fatalf("%+v", st)
	}
	if err := st.Printer.Check(context.Background()); err != nil {
		t.Fatalf("the emulated printer: %v", err)
	}
	if h := st.Readers[0].Health(); h.Kind != reader.KindIDCard || h.Name != "idcard0" {
		t.Errorf("health %+v", h)
	}
	if err := st.SimTap(nil); err != nil {
		t.Fatal(err)
	}
	if err := st.SimTap(nil); vetnet.ErrorCode(err) != vetnet.EFULL {
		t.Fatalf("a second tap while the card lies there: %v", err)
	}
}

func TestDeskProfile(t *testing.T) {
	st, err := hw.Build(load(t, "desk-usb"), hw.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var kinds []string
	for _, r := range st.Readers {
		kinds = append(kinds, r.Health().Kind)
	}
	if len(kinds) != 2 || kinds[0] != reader.KindIDCard || kinds[1] != reader.KindQR || st.SimTap != nil {
		t.Fatalf("readers %v", kinds)
	}
	// The USB printer is not plugged in here: absent once checked.
	if st.Printer == nil || st.PrinterEmulator != nil {
		t.Fatalf("printer %+v", st)
	}
	if err := st.Printer.Check(context.Background()); vetnet.ErrorCode(err) != vetnet.EUNAVAILABLE {
		t.Fatalf("check of a missing printer: %v", err)
	}
	if h := st.Printer.Health(); h.Kind != "printer" || h.State != reader.StateAbsent || h.Name != "printer0" {
		t.Fatalf("printer health %+v", h)
	}
}

func TestSimProfile(t *testing.T) {
	p := &profile.Profile{Name: "sim", IDCard: &profile.IDCard{Name: "idcard0", Driver: profile.IDCardSim},
		Badge: &profile.Badge{Name: "badge0", Driver: profile.BadgeMFRC522, Hz: 1_000_000}}
	st, err := hw.Build(p, hw.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if len(st.Readers) != 2 || st.SimTap == nil || st.Readers[1].Health().Kind != reader.KindBadge {
		t.Fatalf("%+v", st)
	}
}

// On a machine without the profile's GPIO pins, Build says which pin.
func TestMissingPin(t *testing.T) {
	p := &profile.Profile{Name: "x", Indicators: &profile.Indicators{LED: "GPIO_NO_SUCH_PIN"}}
	_, err := hw.Build(p, hw.Options{})
	if err == nil {
		t.Fatal("built an LED on a pin that does not exist")
	}
	if c := vetnet.ErrorCode(err); c != vetnet.ENOTFOUND && c != vetnet.EUNAVAILABLE {
		t.Fatalf("err = %v", err)
	}
	t.Log(vetnet.ErrorMessage(err, "en"))
}
