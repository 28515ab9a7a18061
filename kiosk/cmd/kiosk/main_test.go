package main

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"github.com/vetnet/vetnet/kiosk/internal/fakeagent"
	"github.com/vetnet/vetnet/kiosk/ui"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr bool
		check   func(t *testing.T, m *Main)
	}{
		{"defaults", nil, false, func(t *testing.T, m *Main) {
			if m.Agent != "127.0.0.1:7474" || m.Lang != "zh" || m.Fullscreen || m.Autopilot || m.Screenshots != "" || m.Size != fyne.NewSize(1280, 800) {
				t.Errorf("%+v", m)
			}
		}},
		{"kiosk", []string{"-agent", "127.0.0.1:9000", "-fullscreen", "-lang", "en"}, false, func(t *testing.T, m *Main) {
			if m.Agent != "127.0.0.1:9000" || !m.Fullscreen || m.Lang != "en" {
				t.Errorf("%+v", m)
			}
		}},
		{"autopilot", []string{"-autopilot", "-tap-every", "30s"}, false, func(t *testing.T, m *Main) {
			if !m.Autopilot || m.TapEvery != 30*time.Second {
				t.Errorf("%+v", m)
			}
		}},
		{"screenshots", []string{"-screenshots", "docs/screenshots", "-size", "1080x1920"}, false, func(t *testing.T, m *Main) {
			if m.Screenshots != "docs/screenshots" || m.Size != fyne.NewSize(1080, 1920) {
				t.Errorf("%+v", m)
			}
		}},
		{"kiosk mode", []string{"-kiosk-mode", "-look", "large+contrast", "-voice=false"}, false, func(t *testing.T, m *Main) {
			if !m.KioskMode || m.Look != ui.LookLarge|ui.LookContrast || m.Voice || m.suffix() != "-large-contrast" {
				t.Errorf("%+v", m)
			}
		}},
		{"hall", []string{"-hall", "-lang", "en"}, false, func(t *testing.T, m *Main) {
			if !m.Hall || m.suffix() != "-en" || !m.Voice {
				t.Errorf("%+v", m)
			}
		}},
		{"unknown look", []string{"-look", "huge"}, true, nil},
		{"unknown language", []string{"-lang", "fr"}, true, nil},
		{"bad size", []string{"-size", "big"}, true, nil},
		{"tiny size", []string{"-size", "100x100"}, true, nil},
		{"stray argument", []string{"now"}, true, nil},
		{"unknown flag", []string{"-kiosk"}, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMain()
			m.Stderr = &bytes.Buffer{}
			err := m.ParseFlags(tc.args)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

func TestNoDisplay(t *testing.T) {
	m := NewMain()
	m.Stderr = &bytes.Buffer{}
	m.Getenv = func(string) string { return "" }
	if err := m.Run(context.Background()); !errors.Is(err, ErrNoDisplay) {
		t.Fatalf("Run without a display: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestAutopilotNeedsNoDisplay(t *testing.T) {
	a := fakeagent.New(fakeagent.DemoStatus())
	defer a.Close()
	m := NewMain()
	logs := &syncBuffer{}
	m.Stderr = logs
	m.Getenv = func(string) string { return "" }
	if err := m.ParseFlags([]string{"-autopilot", "-agent", a.Addr(), "-tap-every", "100ms"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for len(a.CheckIns()) == 0 || !strings.Contains(logs.String(), "checked in") {
		if time.Now().After(deadline) {
			t.Fatalf("no check-in; log:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	m.Close()
}

// TestScreenshots runs the real binary under Xvfb, as the docs are made,
// and checks every screen was saved as a full, non-blank picture.
func TestScreenshots(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the GUI binary")
	}
	xvfb, err := exec.LookPath("xvfb-run")
	if err != nil {
		t.Skip("no xvfb-run")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "kiosk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	shots := filepath.Join(dir, "shots")
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	// Three screens: software GL paints slowly, and the screens
	// themselves are covered by the golden tests. (The hall's screen
	// needs more than this 1024×768 X screen.)
	cmd := exec.CommandContext(ctx, xvfb, "-a", "-s", "-screen 0 1024x768x24", bin, "-screenshots", shots, "-size", "1024x768",
		"-screens", "idle,confirmed,staff-queue")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kiosk -screenshots: %v\n%s", err, out)
	}
	names := []string{"kiosk-idle.png", "kiosk-confirmed.png", "kiosk-staff-queue.png"}
	if _, err := os.Stat(filepath.Join(shots, "hall.png")); err == nil {
		t.Error("a screen not asked for was saved")
	}
	for _, name := range names {
		path := filepath.Join(shots, name)
		f, err := os.Open(path)
		if err != nil {
			t.Error(err)
			continue
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if b := img.Bounds(); b.Dx() != 1024 || b.Dy() != 768 {
			t.Errorf("%s is %v, want 1024x768", path, b)
		}
		// The header is navy and the body paper: a blank capture is one colour.
		if img.At(5, 5) == img.At(5, 700) {
			t.Errorf("%s looks blank", path)
		}
	}
}
