package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// TestGoldenScreens renders every screen of the tour headless (Fyne's
// software painter, 1024×768) and compares it with testdata/kiosk-*.png;
// the confirmation also in English, large type and high contrast, and the
// hall's screen. A changed screen fails with the new render in
// testdata/failed/, to be looked at and copied over the golden file.
// They are drawn at scale 0.5 (512×384 pixels), which keeps them small and
// quick to paint while every layout stays that of 1024×768.
// The goldens are drawn with the CJK font (DefaultFontPath); without it
// the test is skipped, as every Chinese glyph would differ.
func TestGoldenScreens(t *testing.T) {
	if !NewTheme(t.Logf).HasCJKFont() {
		t.Skip("no CJK font (" + DefaultFontPath + "): goldens are drawn with it")
	}
	k, _ := tourKiosk(t, Config{Speaker: &recorder{}})
	half(k.Window.Canvas())
	everyScreen(t, k, func(t *testing.T, st TourStep) {
		k.mu.Lock()
		defer k.mu.Unlock()
		test.AssertRendersToImage(t, "kiosk-"+st.Name+".png", k.Window.Canvas())
	})
	for _, v := range []struct {
		name string
		lang string
		look Look
	}{{"en", "en", LookStandard}, {"large", "zh", LookLarge}, {"contrast", "zh", LookContrast}} {
		k, _ := tourKiosk(t, Config{Lang: v.lang, Look: v.look, Speaker: &recorder{}})
		half(k.Window.Canvas())
		for _, st := range Tour() {
			st.Show(k)
			if st.Name == "confirmed" {
				break
			}
		}
		k.mu.Lock()
		test.AssertRendersToImage(t, "kiosk-confirmed-"+v.name+".png", k.Window.Canvas())
		k.mu.Unlock()
	}
	app := test.NewApp()
	defer app.Quit()
	h := LoadHall(app, Config{Size: k.cfg.Size, Now: k.now, Logf: t.Logf})
	half(h.Window.Canvas())
	h.SetStatus(TourStatus())
	h.SetQueue(TourQueue())
	h.mu.Lock()
	test.AssertRendersToImage(t, "hall.png", h.Window.Canvas())
	h.mu.Unlock()
}

// half draws a test canvas at scale 0.5.
func half(c fyne.Canvas) {
	if wc, ok := c.(test.WindowlessCanvas); ok {
		wc.SetScale(0.5)
	}
}
