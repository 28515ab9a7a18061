package sim_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/hub"
	"github.com/vetnet/vetnet/cloud/sqlite"
	"github.com/vetnet/vetnet/e2e/sim"
	"github.com/vetnet/vetnet/firmware-config/registry"
)

// TestSimulation: simulated stations with backlogs, live check-ins,
// outages and a storm (every station down at once, back together) end
// with every check-in stored once at the hub and every outbox empty, and
// every station online.
func TestSimulation(t *testing.T) {
	stations := sim.District("simtest", 24)
	var buf bytes.Buffer
	if err := sim.WriteRegistry(&buf, stations); err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Parse("sim.toml", buf.String())
	if err != nil {
		t.Fatalf("the registry written does not load: %v", err)
	}
	if len(reg.Stations()) != len(stations) {
		t.Fatalf("registry of %d stations, want %d", len(reg.Stations()), len(stations))
	}
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "hub.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hub.New(hub.Config{Store: st, MQTTListen: "127.0.0.1:0", Stations: reg.Stations(), HeartbeatS: 1,
		Logf: func(string, ...any) {}, AdminPassword: "sim-admin-password"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	s, err := sim.Start(sim.Options{Broker: "tcp://" + h.MQTTAddr(), Stations: stations, HeartbeatS: 1, Rate: 2,
		Backlog: 30, BatchMax: 10, AckTimeout: 3 * time.Second, OutageEvery: 4 * time.Second, OutageFor: 500 * time.Millisecond,
		MaxReconnect: time.Second, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	time.Sleep(2 * time.Second)
	s.Storm(time.Second, 5)
	time.Sleep(3 * time.Second)
	s.StopMaking()
	deadline := time.Now().Add(60 * time.Second)
	for {
		tot := s.Totals()
		if tot.Outbox == 0 && tot.Connected == tot.Stations {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not drained: %+v", tot)
		}
		time.Sleep(100 * time.Millisecond)
	}
	tot := s.Totals()
	if tot.Made < int64(30*len(stations)) || tot.Acked != tot.Made || tot.Outages < int64(len(stations)) {
		t.Fatalf("totals %+v", tot)
	}
	n, err := st.CountCheckIns(context.Background(), cloud.CheckInFilter{})
	if err != nil || int64(n) != tot.Made {
		t.Fatalf("hub holds %d check-ins (%v), the stations made %d", n, err, tot.Made)
	}
	deadline = time.Now().Add(20 * time.Second)
	for _, x := range stations {
		for {
			p, ok := h.Presence(x.ID)
			if ok && p.State == cloud.StateOnline {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: presence %+v", x.ID, p)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
