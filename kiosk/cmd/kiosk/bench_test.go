package main

import (
	"bufio"
	"fmt"
	"io"

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
		b.ReportMetric(float64(elapsed.Milliseconds()), "ms-exec-to-attract-last")
		// The kiosk's own figure: from its package initialisation (after
		// exec and the Go runtime's start) to the attract screen.
		last := log[len(log)-1]
		if i := strings.Index(last, "shown, "); i >= 0 {
			if d, err := time.ParseDuration(strings.TrimSuffix(last[i+len("shown, "):], " after start")); err == nil {
				b.ReportMetric(float64(d.Milliseconds()), "ms-init-to-attract-last")
			}
		}
		b.StartTimer()
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkSoak1000Visits runs the built kiosk binary under Xvfb (the real
// GL driver) with -soak 1000 against a fake agent with a simulated
// reader: 1,000 visits through the screens, each with six taps' worth of
// screens and a rating, and reports the kiosk process's resident memory
// after 0, 500 and 1,000 visits. Run with -benchtime=1x.
func BenchmarkSoak1000Visits(b *testing.B) {
	display := startXvfb(b)
	dir := b.TempDir()
	bin := filepath.Join(dir, "kiosk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	for range b.N {
		a := fakeagent.New(fakeagent.DemoStatus())
		visits := "1000"
		if v := os.Getenv("VETNET_SOAK_VISITS"); v != "" {
			visits = v // a shorter run on a slow machine
		}
		cmd := exec.Command(bin, "-agent", a.Addr(), "-voice=false", "-soak", visits)
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		var buf strings.Builder
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if p := os.Getenv("VETNET_SOAK_LOG"); p != "" {
			f, err := os.Create(p) // follow the run as it goes
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			w := io.MultiWriter(&buf, f) // one writer: exec then uses one pipe
			cmd.Stdout, cmd.Stderr = w, w
		}
		err := cmd.Run()
		out := buf.String()
		a.Close()
		if err != nil {
			b.Fatalf("soak: %v\n%s", err, out)
		}
		for _, l := range strings.Split(out, "\n") {
			var n int
			var rss, heap float64
			i := strings.Index(l, "soak: ")
			if i < 0 {
				continue
			}
			if _, err := fmt.Sscanf(l[i:], "soak: %d visits: RSS %f MB, Go heap %f MB", &n, &rss, &heap); err == nil && n%500 == 0 {
				b.ReportMetric(rss, fmt.Sprintf("MB-RSS-%d", n))
				b.ReportMetric(heap, fmt.Sprintf("MB-heap-%d", n))
			}
			b.Log(strings.TrimSpace(l[i:]))
		}
	}
}
