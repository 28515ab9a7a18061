package e2e_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
)

// Every log line of the hubs and agents the end-to-end tests run (and of
// the standard logger) is written to one file as well as to the test's
// output, so that TestNoPersonalDataLeaks can scan all of it for
// unmasked identities. The file is $VETNET_E2E_LOG, or e2e-<pid>.log in
// the temporary directory; it is kept after the run and its path printed.

var capture struct {
	mu   sync.Mutex
	f    *os.File
	path string
}

func TestMain(m *testing.M) {
	path := os.Getenv("VETNET_E2E_LOG")
	if path == "" {
		path = filepath.Join(os.TempDir(), fmt.Sprintf("vetnet-e2e-%d.log", os.Getpid()))
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: log capture:", err)
		os.Exit(2)
	}
	capture.f, capture.path = f, path
	log.SetOutput(io.MultiWriter(os.Stderr, lockedWriter{}))
	code := m.Run()
	capture.mu.Lock()
	f.Close()
	capture.f = nil
	capture.mu.Unlock()
	// Whatever identities the tests made up, no log line may hold a full
	// ID number (the checks of TestNoPersonalDataLeaks cover its own known
	// identities, names included, in every form).
	if b, err := os.ReadFile(path); err == nil {
		if found := fullIDNumbers(b); len(found) > 0 {
			fmt.Fprintf(os.Stderr, "e2e: the captured logs hold %d full ID numbers, e.g. %s\n", len(found), vetnet.MaskIDNumber(found[0]))
			code = 1
		}
	}
	if testing.Verbose() || code != 0 {
		fmt.Fprintln(os.Stderr, "e2e: logs captured in", path)
	}
	os.Exit(code)
}

type lockedWriter struct{}

func (lockedWriter) Write(p []byte) (int, error) {
	capture.mu.Lock()
	defer capture.mu.Unlock()
	if capture.f == nil {
		return len(p), nil
	}
	return capture.f.Write(p)
}

var idNumberRe = regexp.MustCompile(`(?:^|[^0-9A-Za-z])([0-9]{17}[0-9X])(?:[^0-9A-Za-z]|$)`)

// fullIDNumbers returns the valid ID numbers (region, birth date, check
// character) that appear whole in b.
func fullIDNumbers(b []byte) []string {
	var out []string
	for _, m := range idNumberRe.FindAllSubmatch(b, -1) {
		if s := string(m[1]); vetnet.ValidateIDNumber(s, time.Now()) == nil {
			out = append(out, s)
		}
	}
	return out
}

// logf returns a Logf for hubs and agents: the line goes to the test's
// output and to the capture file.
func logf(t testing.TB) func(string, ...any) {
	return func(format string, a ...any) {
		line := fmt.Sprintf(format, a...)
		t.Log(line)
		lockedWriter{}.Write([]byte(t.Name() + ": " + line + "\n"))
	}
}

// capturedLogs returns what the capture file holds so far.
func capturedLogs(t testing.TB) []byte {
	t.Helper()
	capture.mu.Lock()
	defer capture.mu.Unlock()
	if capture.f != nil {
		capture.f.Sync()
	}
	b, err := os.ReadFile(capture.path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
