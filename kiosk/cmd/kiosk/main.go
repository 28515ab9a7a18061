// Command kiosk is the station's touchscreen: it shows the screens of a
// check-in and talks to the edge agent's local API on the same device.
//
//	kiosk [-agent 127.0.0.1:7474] [-fullscreen] [-lang zh|en] [-look standard|large|contrast|large+contrast] [-voice=false] [-size 1280x800]
//	kiosk -kiosk-mode                      full screen, no decorations, no way out without a staff sign-in
//	kiosk -hall                            the hall's "now serving" screen
//	kiosk -autopilot [-tap-every 30s]      headless demo: checks in every card
//	kiosk -screenshots DIR [-screens a,b]  saves a PNG of every screen (and the hall's) and exits
//	kiosk -soak N                          drives N visits through the screens, logging memory, and exits
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/kiosk/autopilot"
	"github.com/vetnet/vetnet/kiosk/ui"
)

func main() {
	m := NewMain()
	if err := m.ParseFlags(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "kiosk:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := m.Run(ctx)
	m.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kiosk:", err)
		os.Exit(1)
	}
}

// Main is the program, separate from main() so that tests can run it.
type Main struct {
	Agent       string        // the agent's host:port
	Fullscreen  bool          // fill the screen
	Autopilot   bool          // no window: check in every card by itself
	TapEvery    time.Duration // with Autopilot: tap a simulated card this often
	Screenshots string        // save every screen to this directory and exit
	Lang        string        // primary language: zh or en
	Size        fyne.Size     // window size when not fullscreen
	KioskMode   bool          // full screen, borderless, refuses to close; staff leave from the staff menu
	Hall        bool          // show the hall's "now serving" screen instead of the kiosk
	Voice       bool          // spoken prompts with espeak-ng when it is installed
	Look        ui.Look       // the starting look
	Soak        int           // drive this many visits through the screens, logging memory, then exit
	Screens     []string      // with Screenshots: save only these screens of the tour (nil: all)

	Stderr io.Writer
	Getenv func(string) string

	kiosk *ui.Kiosk
	hall  *ui.Hall
}

// suffix names the screenshots of a language and look: "" for Chinese in
// the standard look, else "-en", "-large", "-contrast" joined.
func (m *Main) suffix() string {
	var s string
	if m.Lang == "en" {
		s += "-en"
	}
	if m.Look&ui.LookLarge != 0 {
		s += "-large"
	}
	if m.Look&ui.LookContrast != 0 {
		s += "-contrast"
	}
	return s
}

// NewMain returns a Main with the defaults.
func NewMain() *Main {
	return &Main{Agent: localapi.DefaultAddr, Lang: "zh", Size: fyne.NewSize(1280, 800), Voice: true, Stderr: os.Stderr, Getenv: os.Getenv}
}

// ParseFlags reads the command line.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("kiosk", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&m.Agent, "agent", m.Agent, "the edge agent's local API, host:port")
	fs.BoolVar(&m.Fullscreen, "fullscreen", false, "fill the screen (a kiosk)")
	fs.BoolVar(&m.Autopilot, "autopilot", false, "headless: no window; check in every card read with a random offered service")
	fs.DurationVar(&m.TapEvery, "tap-every", 0, "with -autopilot: tap a simulated card this often (0: never)")
	fs.StringVar(&m.Screenshots, "screenshots", "", "save a PNG of every screen, with canned data, to this directory and exit")
	fs.StringVar(&m.Lang, "lang", m.Lang, "primary language, zh or en (the other is shown too)")
	fs.BoolVar(&m.KioskMode, "kiosk-mode", false, "full screen without decorations; the window refuses to close and only a signed-in staff member can leave (staff menu)")
	fs.BoolVar(&m.Hall, "hall", false, "show the hall's \"now serving\" screen (a second display) instead of the kiosk")
	fs.BoolVar(&m.Voice, "voice", m.Voice, "speak prompts in Mandarin with espeak-ng (when installed); the header can turn it off")
	fs.IntVar(&m.Soak, "soak", 0, "drive this many visits through the screens (simulated cards, taps, ratings), logging resident memory, then exit: the memory benchmark")
	screens := fs.String("screens", "", "with -screenshots: a comma-separated list of the tour's screens (and \"hall\") to save (default all)")
	look := fs.String("look", "standard", "starting look: standard, large, contrast or large+contrast (the header switches it)")
	sz := fs.String("size", "1280x800", "window size WxH when not fullscreen")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *screens != "" {
		m.Screens = strings.Split(*screens, ",")
	}
	switch *look {
	case "standard":
		m.Look = ui.LookStandard
	case "large":
		m.Look = ui.LookLarge
	case "contrast":
		m.Look = ui.LookContrast
	case "large+contrast", "contrast+large":
		m.Look = ui.LookLarge | ui.LookContrast
	default:
		return fmt.Errorf("-look must be standard, large, contrast or large+contrast, not %q", *look)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if m.Lang != "zh" && m.Lang != "en" {
		return fmt.Errorf("-lang must be zh or en, not %q", m.Lang)
	}
	s, err := parseSize(*sz)
	if err != nil {
		return err
	}
	m.Size = s
	return nil
}

func parseSize(s string) (fyne.Size, error) {
	w, h, ok := strings.Cut(s, "x")
	wi, err1 := strconv.Atoi(w)
	hi, err2 := strconv.Atoi(h)
	if !ok || err1 != nil || err2 != nil || wi < 320 || hi < 320 {
		return fyne.Size{}, fmt.Errorf("-size must be WxH (at least 320x320), not %q", s)
	}
	return fyne.NewSize(float32(wi), float32(hi)), nil
}

// ErrNoDisplay is returned when a window is needed and there is no display.
var ErrNoDisplay = errors.New("no display: set DISPLAY (or WAYLAND_DISPLAY), or run headless with -autopilot")

// Run runs the kiosk until ctx is done or the window is closed (or, with
// -screenshots, until every screen is saved).
func (m *Main) Run(ctx context.Context) error {
	client := localapi.NewClient(m.Agent)
	logf := log.New(m.Stderr, "", log.LstdFlags).Printf
	if m.Autopilot {
		logf("kiosk: autopilot on agent %s", m.Agent)
		return (&autopilot.Autopilot{Client: client, Logf: logf, TapEvery: m.TapEvery}).Run(ctx)
	}
	if m.Getenv("DISPLAY") == "" && m.Getenv("WAYLAND_DISPLAY") == "" {
		return ErrNoDisplay
	}
	if m.Screenshots != "" && m.Getenv("GALLIUM_DRIVER") == "" {
		// Under Xvfb, Mesa's default llvmpipe reads back an empty front
		// buffer, so Capture would save blank files; softpipe reads back
		// what was drawn. A real GPU driver ignores the variable.
		os.Setenv("GALLIUM_DRIVER", "softpipe")
	}
	a := app.NewWithID("net.vetnet.kiosk")
	cfg := ui.Config{Client: client, Lang: m.Lang, Fullscreen: m.Fullscreen, Size: m.Size, Logf: logf, Look: m.Look,
		KioskMode: m.KioskMode, OnExit: a.Quit}
	if m.Voice && m.Screenshots == "" {
		if sp, err := ui.NewEspeak(logf); err != nil {
			logf("kiosk: no spoken prompts: %v (Debian package espeak-ng)", err)
		} else {
			cfg.Speaker = sp
		}
	}
	if m.Screenshots != "" {
		cfg.Client = nil // canned data only
		cfg.Fullscreen, cfg.KioskMode = false, false
	}
	if m.Hall && m.Screenshots == "" {
		m.hall = ui.LoadHall(a, cfg)
		m.hall.Start()
		go func() {
			<-ctx.Done()
			fyne.Do(a.Quit)
		}()
		a.Run()
		return nil
	}
	m.kiosk = ui.LoadUI(a, cfg)
	if m.Screenshots != "" {
		var tourErr error
		go func() {
			tourErr = tour(m.kiosk, m.Screenshots, m.suffix(), m.Screens, logf)
			if tourErr == nil && (len(m.Screens) == 0 || slices.Contains(m.Screens, "hall")) {
				// The hall's screen needs 1280×800: a window grown past
				// the X screen's edge cannot be read back.
				tourErr = hallShot(a, m.kiosk, cfg, m.Screenshots, m.suffix(), logf)
			}
			fyne.Do(a.Quit)
		}()
		a.Run()
		return tourErr
	}
	if m.KioskMode {
		logf("kiosk: kiosk mode: full screen; staff sign in to leave")
	}
	m.kiosk.Start()
	var soakErr error
	if m.Soak > 0 {
		go func() {
			soakErr = soak(ctx, m.kiosk, client, m.Soak, logf)
			fyne.Do(a.Quit)
		}()
	}
	go func() {
		<-ctx.Done()
		fyne.Do(a.Quit)
	}()
	a.Run()
	return soakErr
}

// Close stops the kiosk.
func (m *Main) Close() {
	if m.kiosk != nil {
		m.kiosk.Close()
	}
	if m.hall != nil {
		m.hall.Close()
	}
}

// tour shows every screen with canned data and saves what the window shows.
func tour(k *ui.Kiosk, dir, suffix string, only []string, logf func(string, ...any)) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	time.Sleep(time.Second) // let the window map and draw once
	for _, st := range append(ui.Tour(), ui.MeetingTour()...) {
		fyne.DoAndWait(func() { st.Show(k) })
		if got := k.View().State; got != st.Want {
			return fmt.Errorf("tour %s: kiosk shows %v, want %v", st.Name, got, st.Want)
		}
		if len(only) > 0 && !slices.Contains(only, st.Name) {
			continue
		}
		time.Sleep(800 * time.Millisecond) // a few frames: layout, then paint
		var img image.Image
		fyne.DoAndWait(func() { img = k.Window.Canvas().Capture() })
		path := filepath.Join(dir, "kiosk-"+st.Name+suffix+".png")
		if err := savePNG(path, img); err != nil {
			return err
		}
		logf("kiosk: saved %s (%dx%d)", path, img.Bounds().Dx(), img.Bounds().Dy())
	}
	return nil
}

// hallShot saves the hall's screen with the tour's queue.
func hallShot(a fyne.App, k *ui.Kiosk, cfg ui.Config, dir, suffix string, logf func(string, ...any)) error {
	var h *ui.Hall
	fyne.DoAndWait(func() {
		// In the kiosk's own window: a second GL window cannot be read
		// back under Xvfb (X_GetImage fails).
		h = ui.NewHallIn(a, k.Window, cfg)
		h.SetStatus(ui.TourStatus())
		h.SetQueue(ui.TourQueue())
	})
	defer h.Close()
	time.Sleep(time.Second)
	var img image.Image
	fyne.DoAndWait(func() { img = k.Window.Canvas().Capture() })
	path := filepath.Join(dir, "hall"+suffix+".png")
	if err := savePNG(path, img); err != nil {
		return err
	}
	logf("kiosk: saved %s (%dx%d)", path, img.Bounds().Dx(), img.Bounds().Dy())
	return nil
}

// savePNG saves img as an opaque PNG: a window has no transparency, but
// the read-back framebuffer may have no alpha channel and say 0.
func savePNG(path string, img image.Image) error {
	b := img.Bounds()
	out := image.NewNRGBA(b)
	blank := true
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r|g|bl != 0 {
				blank = false
			}
			out.SetNRGBA(x, y, color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 0xFF})
		}
	}
	if blank {
		return fmt.Errorf("%s: the window captured as blank (the GL driver cannot read back its framebuffer)", path)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(f, out); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
