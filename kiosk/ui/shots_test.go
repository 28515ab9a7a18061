package ui

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// TestWriteScreenshots writes the screenshots of docs/kiosk when
// VETNET_KIOSK_SHOTS names a directory: every screen of the tour at
// 1280×800 in Chinese, in English and in the large-type look, and the
// hall's screen in each, drawn by Fyne's software painter (the painter of
// the golden tests; the binary's -screenshots under Xvfb draws the same
// screens with GL). scripts/screenshots.sh runs it.
func TestWriteScreenshots(t *testing.T) {
	dir := os.Getenv("VETNET_KIOSK_SHOTS")
	if dir == "" {
		t.Skip("set VETNET_KIOSK_SHOTS to a directory to write the screenshots")
	}
	if !NewTheme(t.Logf).HasCJKFont() {
		t.Fatal("no CJK font: the screenshots would show boxes")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	size := fyne.NewSize(1280, 800)
	for _, v := range []struct {
		suffix, lang string
		look         Look
	}{{"", "zh", LookStandard}, {"-en", "en", LookStandard}, {"-large", "zh", LookLarge}} {
		k, _ := tourKiosk(t, Config{Lang: v.lang, Look: v.look, Size: size, Speaker: &recorder{}})
		everyScreen(t, k, func(t *testing.T, st TourStep) {
			k.mu.Lock()
			img := k.Window.Canvas().Capture()
			k.mu.Unlock()
			writePNG(t, filepath.Join(dir, "kiosk-"+st.Name+v.suffix+".png"), img)
		})
		app := test.NewApp()
		h := LoadHall(app, Config{Lang: v.lang, Look: v.look, Size: size, Now: k.now, Logf: t.Logf})
		h.SetStatus(TourStatus())
		h.SetQueue(TourQueue())
		h.mu.Lock()
		img := h.Window.Canvas().Capture()
		h.mu.Unlock()
		writePNG(t, filepath.Join(dir, "hall"+v.suffix+".png"), img)
		app.Quit()
	}
}

// writePNG saves img opaque and small: quantised to the 256 colours the
// screen uses most (flat UI colours; the antialiased edges of text take
// the nearest), at best compression.
func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	b := img.Bounds()
	out := image.NewNRGBA(b)
	count := map[color.NRGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			c := color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 0xFF}
			out.SetNRGBA(x, y, c)
			count[c]++
		}
	}
	cs := make([]color.NRGBA, 0, len(count))
	for c := range count {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool {
		if count[cs[i]] != count[cs[j]] {
			return count[cs[i]] > count[cs[j]]
		}
		a, b := cs[i], cs[j]
		return a.R < b.R || a.R == b.R && (a.G < b.G || a.G == b.G && a.B < b.B)
	})
	pal := color.Palette{}
	for _, c := range cs[:min(256, len(cs))] {
		pal = append(pal, c)
	}
	p := image.NewPaletted(b, pal)
	draw.Draw(p, b, out, b.Min, draw.Src)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(f, p); err != nil {
		t.Fatal(err)
	}
}
