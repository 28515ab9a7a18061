package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vetnet/vetnet/kiosk/session"
)

// Accessibility: every screen's header carries the same switches, so that
// a person can change them wherever they are: the other language, large
// type, high contrast, and (when the kiosk has a Speaker) spoken prompts.
// Each switch says in words what it does; none relies on colour.

// Look is how the kiosk draws: standard, large type, high contrast, or
// both of the latter.
type Look uint8

const (
	LookStandard Look = 0
	LookLarge    Look = 1 << iota // text and buttons 1.3 times larger
	LookContrast                  // white and yellow on black
)

// LargeScale is how much larger LookLarge draws text and buttons.
const LargeScale = 1.3

// Touch targets. The kiosk assumes a panel of about 100 pixels per inch at
// Fyne's scale 1 (a 21.5" 1920×1080 panel is 102 ppi, a 15.6" 1366×768
// one 100 ppi). At that density 15 mm, the smallest target a finger hits
// reliably (and the minimum), is 15/25.4 × 100 ≈ 59 pixels; the
// kiosk uses 60. On a denser panel set FYNE_SCALE so that 100 Fyne pixels
// stay an inch. TestTouchTargets checks every button of every screen.
const (
	AssumedPPI = 100
	MinTouchMM = 15
	MinTouch   = 60 // ≥ MinTouchMM at AssumedPPI, in Fyne pixels
)

// base sizes and colours, which applyLook scales and swaps.
var baseSizes = func() map[fyne.ThemeSizeName]float32 {
	m := map[fyne.ThemeSizeName]float32{}
	for k, v := range sizes {
		m[k] = v
	}
	return m
}()

type palette struct {
	paper, ink, muted, navy, navyHi, red, white, onNavy2, tile, line, ok, warn color.NRGBA
}

var standardPalette = palette{colPaper, colInk, colMuted, colNavy, colNavyHi, colRed, colWhite, colOnNavy2, colTile, colLine, colOK, colWarn}

// contrastPalette: white, yellow and light colours on black, every text at
// 12:1 or more; the "navy" role (titles, the header, primary buttons)
// becomes yellow, and the "white" role (text on it, panels) black.
var contrastPalette = palette{
	paper:   color.NRGBA{0x00, 0x00, 0x00, 0xFF},
	ink:     color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF},
	muted:   color.NRGBA{0xE8, 0xE8, 0xE8, 0xFF},
	navy:    color.NRGBA{0xFF, 0xE0, 0x3D, 0xFF},
	navyHi:  color.NRGBA{0xFF, 0xEE, 0x8A, 0xFF},
	red:     color.NRGBA{0xFF, 0x8A, 0x80, 0xFF},
	white:   color.NRGBA{0x00, 0x00, 0x00, 0xFF},
	onNavy2: color.NRGBA{0x1A, 0x1A, 0x1A, 0xFF},
	tile:    color.NRGBA{0x12, 0x12, 0x12, 0xFF},
	line:    color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF},
	ok:      color.NRGBA{0x8C, 0xF5, 0x9B, 0xFF},
	warn:    color.NRGBA{0xFF, 0xC0, 0x66, 0xFF},
}

// applyLook sets the sizes and colours every screen is drawn with. They
// are the package's: one kiosk runs per process.
func applyLook(l Look) {
	scale := float32(1)
	if l&LookLarge != 0 {
		scale = LargeScale
	}
	for k, v := range baseSizes {
		switch k {
		case SizeHero, SizeTitle, SizeBody, SizeSmall, SizeStatus, SizeTileEN, theme.SizeNameText:
			sizes[k] = v * scale
		default:
			// Air, the queue number (already 180), the header's name and
			// the buttons' minimum sizes stay: large type needs the room.
			sizes[k] = v
		}
	}
	p := standardPalette
	if l&LookContrast != 0 {
		p = contrastPalette
	}
	colPaper, colInk, colMuted, colNavy, colNavyHi, colRed = p.paper, p.ink, p.muted, p.navy, p.navyHi, p.red
	colWhite, colOnNavy2, colTile, colLine, colOK, colWarn = p.white, p.onNavy2, p.tile, p.line, p.ok, p.warn
}

// SetLook switches the look and redraws the screen.
func (k *Kiosk) SetLook(l Look) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.setLook(l)
}

func (k *Kiosk) setLook(l Look) {
	k.look = l
	applyLook(l)
	k.app.Settings().SetTheme(k.theme)
	k.render()
}

// Look returns the current look.
func (k *Kiosk) Look() Look {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.look
}

// Lang returns the primary language, "zh" or "en".
func (k *Kiosk) Lang() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.lang.en {
		return "en"
	}
	return "zh"
}

// switches are the header's accessibility buttons.
func (k *Kiosk) switches() []fyne.CanvasObject {
	var out []fyne.CanvasObject
	add := func(id, zh, en string, on func()) {
		b := widget.NewButton("", func() {
			k.mu.Lock()
			defer k.mu.Unlock()
			k.sess.Step(session.Touch{})
			on()
		})
		b.Importance = widget.MediumImportance
		k.buttons[id] = b
		p, s := k.lang.pair(zh, en)
		out = append(out, switchButton(b, p, s))
	}
	// The language switch names the other language in that language, so
	// that a person who reads only it can find it.
	if k.lang.en {
		add("lang", "中文", "Chinese", func() { k.lang = newLang("zh"); k.render() })
	} else {
		add("lang", "English", "English", func() { k.lang = newLang("en"); k.render() })
	}
	if k.look&LookLarge == 0 {
		add("large", "大字", "Large text", func() { k.setLook(k.look | LookLarge) })
	} else {
		add("large", "标准字号", "Normal text", func() { k.setLook(k.look &^ LookLarge) })
	}
	if k.look&LookContrast == 0 {
		add("contrast", "高对比", "High contrast", func() { k.setLook(k.look | LookContrast) })
	} else {
		add("contrast", "标准颜色", "Normal colours", func() { k.setLook(k.look &^ LookContrast) })
	}
	if k.cfg.Speaker != nil {
		if k.voice {
			add("voice", "语音：开", "Voice: on", func() { k.voice = false; k.cfg.Speaker.Stop(); k.render() })
		} else {
			add("voice", "语音：关", "Voice: off", func() { k.voice = true; k.spoken = -1; k.render() })
		}
	}
	return out
}

// switchButton is a compact two-line button of the header, still at least
// MinTouch in both directions.
func switchButton(b *widget.Button, primary, secondary string) fyne.CanvasObject {
	if primary == secondary {
		secondary = ""
	}
	fg, fg2 := color.Color(colInk), color.Color(colMuted)
	labels := []fyne.CanvasObject{line(primary, SizeStatus, fg, false)}
	if secondary != "" {
		small := line(secondary, SizeStatus, fg2, false)
		small.TextSize = size(SizeStatus) * 0.7
		labels = append(labels, small)
	}
	border := canvas.NewRectangle(color.Transparent)
	border.StrokeColor = colLine
	border.StrokeWidth = 2
	border.CornerRadius = size(theme.SizeNameInputRadius) / 2
	return container.NewStack(fixed(MinTouch, MinTouch), b, border,
		container.New(layout.NewCustomPaddedLayout(4, 4, 6, 6), container.NewCenter(stackV(labels...))))
}

// newWindow makes the kiosk's window: in kiosk mode a borderless one (the
// desktop driver's splash window has no decorations), else an ordinary one.
func newWindow(a fyne.App, title string, kiosk bool) fyne.Window {
	if kiosk {
		if d, ok := a.Driver().(desktop.Driver); ok {
			w := d.CreateSplashWindow()
			w.SetTitle(title)
			return w
		}
	}
	return a.NewWindow(title)
}
