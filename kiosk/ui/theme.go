package ui

import (
	"image/color"
	"log"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// DefaultFontPath is the CJK font used when $FYNE_FONT is not set. It is a
// TrueType file: Fyne cannot load TrueType collections (.ttc).
const DefaultFontPath = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"

// Sizes of the kiosk's text, beyond Fyne's own. A kiosk is read standing,
// often by people with poor eyesight, from half a metre or more.
const (
	SizeHero     fyne.ThemeSizeName = "kiosk.hero"     // the one thing to read: 请刷身份证, the greeting
	SizeTitle    fyne.ThemeSizeName = "kiosk.title"    // a screen's title
	SizeBody     fyne.ThemeSizeName = "kiosk.body"     // Chinese lines, button labels
	SizeSmall    fyne.ThemeSizeName = "kiosk.small"    // English beside Chinese, hints
	SizeStatus   fyne.ThemeSizeName = "kiosk.status"   // the status line for staff
	SizeQueue    fyne.ThemeSizeName = "kiosk.queue"    // the queue number
	SizeTile     fyne.ThemeSizeName = "kiosk.tile"     // min height of a service button
	SizeButton   fyne.ThemeSizeName = "kiosk.button"   // min height of an action button
	SizeGap      fyne.ThemeSizeName = "kiosk.gap"      // space between blocks
	SizeMargin   fyne.ThemeSizeName = "kiosk.margin"   // space around the screen's content
	SizeHeaderLn fyne.ThemeSizeName = "kiosk.headerLn" // the station's name in the header
	SizeTileEN   fyne.ThemeSizeName = "kiosk.tileEN"   // a service's English name as a tile's primary line
)

var sizes = map[fyne.ThemeSizeName]float32{
	SizeHero:     76,
	SizeTitle:    44,
	SizeBody:     32,
	SizeSmall:    22,
	SizeStatus:   17,
	SizeQueue:    180,
	SizeTile:     96,
	SizeButton:   84,
	SizeGap:      24,
	SizeMargin:   40,
	SizeHeaderLn: 32,
	SizeTileEN:   28,

	theme.SizeNameText:         24,
	theme.SizeNamePadding:      6,
	theme.SizeNameInnerPadding: 14,
	theme.SizeNameInputRadius:  14,
}

// Colours of the kiosk: calm, warm paper with deep navy, and a red accent
// used sparingly; body text keeps a contrast of at least 7:1 on its
// background (WCAG AAA), for older eyes and a bright hall; the colours
// below 7:1 are used only for large text (AAA asks 4.5:1 there).
var (
	colPaper   = color.NRGBA{0xF6, 0xF3, 0xEC, 0xFF} // background
	colInk     = color.NRGBA{0x1B, 0x22, 0x30, 0xFF} // text: 14.4:1 on paper
	colMuted   = color.NRGBA{0x45, 0x4E, 0x5C, 0xFF} // English and hints: 7.6:1 on paper
	colNavy    = color.NRGBA{0x17, 0x3A, 0x63, 0xFF} // header, primary buttons: 11.5:1 with white
	colNavyHi  = color.NRGBA{0x23, 0x4F, 0x85, 0xFF} // pressed on navy
	colRed     = color.NRGBA{0xA8, 0x1F, 0x2A, 0xFF} // accent, errors: 7.3:1 on white, 6.5:1 on paper
	colWhite   = color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF}
	colOnNavy2 = color.NRGBA{0xD5, 0xDF, 0xEC, 0xFF} // English on navy: 8.6:1
	colTile    = color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF} // service buttons
	colLine    = color.NRGBA{0xD9, 0xD3, 0xC6, 0xFF} // borders and separators
	colOK      = color.NRGBA{0x1E, 0x6B, 0x3A, 0xFF} // success: 5.9:1 on paper, used large only
	colWarn    = color.NRGBA{0x8A, 0x4B, 0x00, 0xFF} // offline: 6.1:1 on paper, always with words
)

// Theme is the kiosk's look: Fyne's default theme with larger sizes, the
// kiosk's colours (always light: a hall is bright) and a font that has
// Chinese. It overrides only what differs.
type Theme struct {
	fyne.Theme
	font fyne.Resource // nil: Fyne's default
}

// NewTheme returns the kiosk theme with the CJK font loaded from
// $FYNE_FONT, else DefaultFontPath. A missing or unreadable font is logged
// and Fyne's default font is used: the kiosk still works, with boxes for
// Chinese, and the log says why.
func NewTheme(logf func(string, ...any)) *Theme {
	if logf == nil {
		logf = log.Printf
	}
	path := os.Getenv("FYNE_FONT")
	if path == "" {
		path = DefaultFontPath
	}
	return &Theme{Theme: theme.DefaultTheme(), font: loadFont(path, logf)}
}

func loadFont(path string, logf func(string, ...any)) fyne.Resource {
	if strings.HasSuffix(strings.ToLower(path), ".ttc") {
		logf("kiosk: font %s is a TrueType collection, which Fyne cannot load; using the default font (Chinese will not render)", path)
		return nil
	}
	res, err := fyne.LoadResourceFromPath(path)
	if err != nil {
		logf("kiosk: cannot load font %s: %v; using the default font (Chinese will not render)", path, err)
		return nil
	}
	return res
}

// HasCJKFont reports whether the theme found its Chinese font.
func (t *Theme) HasCJKFont() bool { return t.font != nil }

// Font returns the CJK font for text; Fyne falls back to its own font for
// the Latin letters the CJK font lacks, so English keeps its shapes.
func (t *Theme) Font(s fyne.TextStyle) fyne.Resource {
	if t.font == nil || s.Monospace || s.Symbol {
		return t.Theme.Font(s)
	}
	return t.font
}

// Size returns the kiosk's sizes.
func (t *Theme) Size(n fyne.ThemeSizeName) float32 {
	if s, ok := sizes[n]; ok {
		return s
	}
	return t.Theme.Size(n)
}

// Color returns the kiosk's colours, in the light variant whatever the
// system prefers.
func (t *Theme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNameBackground:
		return colPaper
	case theme.ColorNameForeground:
		return colInk
	case theme.ColorNamePrimary:
		return colNavy
	case theme.ColorNameForegroundOnPrimary:
		return colWhite
	case theme.ColorNameButton:
		return colTile
	case theme.ColorNameHover:
		return color.NRGBA{0x17, 0x3A, 0x63, 0x14}
	case theme.ColorNamePressed:
		return color.NRGBA{0x17, 0x3A, 0x63, 0x33}
	case theme.ColorNameError:
		return colRed
	case theme.ColorNameSuccess:
		return colOK
	case theme.ColorNameWarning:
		return colWarn
	case theme.ColorNameSeparator, theme.ColorNameInputBorder:
		return colLine
	case theme.ColorNameShadow:
		return color.NRGBA{0x00, 0x00, 0x00, 0x22}
	case theme.ColorNamePlaceHolder, theme.ColorNameDisabled:
		return colMuted
	}
	return t.Theme.Color(n, theme.VariantLight)
}
