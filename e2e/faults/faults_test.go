package faults

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds the hub and the edge agent once for the package's tests.
func binaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "vetnet-faults-bin-")
		if buildErr == nil {
			buildErr = Build(context.Background(), binDir)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// TestShortRun is the short form of the fault run (the long form is
// e2e/cmd/faultrun): the real hub and four real agents, 2,000 check-ins
// from card kiosks and staff desks, and two faults of each kind (agent
// SIGKILL mid-commit, broker restart, hub SIGKILL, link cut), on the
// hub's embedded broker and on a private Mosquitto. Every check-in a kiosk
// was told was done must be at the hub exactly once, the hub must hold
// each station's seq 1..N, and every outbox must be empty.
func TestShortRun(t *testing.T) {
	for _, broker := range []Broker{BrokerEmbedded, BrokerMosquitto} {
		t.Run(string(broker), func(t *testing.T) {
			if broker == BrokerMosquitto {
				if _, err := MosquittoPath(); err != nil {
					if os.Getenv("VETNET_REQUIRE_MOSQUITTO") != "" {
						t.Fatal(err)
					}
					t.Skip(err)
				}
			}
			dir := t.TempDir()
			cfg := Config{
				Stations: 4, CheckIns: 2000, FaultsPerKind: 2, Broker: broker, Seed: 7,
				DownMin: 200 * time.Millisecond, DownMax: time.Second,
				TrafficLimit: 3 * time.Minute, DrainLimit: 2 * time.Minute,
				Dir: dir, Bin: binaries(t), Logf: t.Logf,
			}
			rep, err := Run(context.Background(), cfg)
			if rep != nil {
				var b strings.Builder
				rep.WriteText(&b, true)
				t.Log("\n" + b.String())
			}
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() {
				logTails(t, filepath.Join(dir, "logs"))
				t.Fatal(rep.Summary())
			}
			n := rep.FaultCounts()
			for _, k := range Kinds {
				if n[k] != 2 {
					t.Errorf("%d faults of kind %s, want 2", n[k], k)
				}
			}
			if tt := rep.Totals(); tt.Made != 2000 || tt.Done+tt.Unknown+tt.Refused != tt.Made || tt.Stored != rep.HubTotal {
				t.Errorf("totals %+v, hub %d", tt, rep.HubTotal)
			}
		})
	}
}

// logTails shows the end of each process's log after a failure.
func logTails(t *testing.T, dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(lines) > 40 {
			lines = lines[len(lines)-40:]
		}
		t.Logf("---- %s (last lines)\n%s", filepath.Base(f), strings.Join(lines, "\n"))
	}
}
