package main

import (
	"bufio"

	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet/kiosk/internal/fakeagent"
)

// startXvfb starts an X server on a free display and returns it (":N").
func startXvfb(b *testing.B) string {
	b.Helper()
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		b.Skip("no Xvfb (Debian package xvfb)")
	}
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(xvfb, "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	w.Close()
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(r).ReadString('\n')
	r.Close()
	if err != nil {
		b.Fatalf("Xvfb gave no display: %v", err)
	}
	return ":" + strings.TrimSpace(line)
}

// BenchmarkColdStart starts the built kiosk binary under Xvfb (Mesa's GL
// in software), against a fake agent on loopback, and times from exec to
// the kiosk's log line "attract screen shown", which it writes once the
// attract screen's content is set on the window with the agent's status.
// Every iteration is a new process: the Go runtime, Fyne, GLFW, the GL
// context, the CJK font (about 4 MB) and the first screen. Target ≤ 2 s.
func BenchmarkColdStart(b *testing.B) {
	display := startXvfb(b)
	dir := b.TempDir()
	bin := filepath.Join(dir, "kiosk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	a := fakeagent.New(fakeagent.DemoStatus())
	defer a.Close()
	font := os.Getenv("FYNE_FONT")
	if font == "" {
		font = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"
	}
	b.ResetTimer()
	for range b.N {
		cmd := exec.Command(bin, "-agent", a.Addr(), "-voice=false")
		cmd.Env = append(os.Environ(), "DISPLAY="+display, "FYNE_FONT="+font)
		stderr, err := cmd.StderrPipe()
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(stderr)
		shown := false
		var log []string
		for sc.Scan() {
			log = append(log, sc.Text())
			if strings.Contains(sc.Text(), "attract screen shown") {
				shown = true
				break
			}
		}
		elapsed := time.Since(start)
		b.StopTimer()
		cmd.Process.Kill()
		go func() { _, _ = bufio.NewReader(stderr).WriteTo(discard{}) }()
		cmd.Wait()
		if !shown {
			b.Fatalf("no attract screen; log:\n%s", strings.Join(log, "\n"))
		}
		b.ReportMetric(float64(elapsed.Milliseconds()), "ms-last")
		b.StartTimer()
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
