package e2e_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/agent"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

// TestDiskNearlyFull: a station whose disk is nearly full refuses new
// check-ins with a message for the visitor, keeps and delivers what it
// has, and the hub's dashboard shows the station's disk as low.
func TestDiskNearlyFull(t *testing.T) {
	stations, a, _ := district(t)
	h := startHub(t, hubOpts{dir: t.TempDir(), mqttListen: "127.0.0.1:0", stations: stations})
	defer h.Close()
	var st vetnet.Station
	for _, s := range stations {
		if s.ID == a {
			st = s
		}
	}
	var free atomic.Uint64
	free.Store(10 << 30)
	ag, err := agent.New(agent.Config{
		StationID: st.ID, DataDir: t.TempDir(), BrokerURL: "tcp://" + h.MQTTAddr(), APIAddr: "127.0.0.1:0",
		Station: &st, HeartbeatInterval: time.Second, SimReader: true, ReconnectInterval: time.Second,
		MinFree: 256 << 20, FreeSpace: func(string) (uint64, error) { return free.Load(), nil }, Logf: logf(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ag.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer ag.Close()
	c := localapi.NewClient(ag.APIAddr())
	k := newKiosk(t, c, vetnet.ServiceBenefits)
	first := k.checkIn()

	free.Store(100 << 20)
	ctx := context.Background()
	eventually(t, 10*time.Second, "the agent to see its disk low", func() bool {
		s, err := c.Status(ctx)
		return err == nil && s.Storage.Low
	})
	_, err = c.CheckIn(ctx, localapi.CheckInRequest{IDNumber: "11010519491231002X", Service: "benefits"})
	if vetnet.ErrorCode(err) != vetnet.EFULL || vetnet.ErrorMessage(err, "zh") == "" {
		t.Fatalf("check-in on a nearly full disk: %v", err)
	}
	eventually(t, 30*time.Second, "the hub to see the disk low and hold the first check-in", func() bool {
		p, ok := h.Presence(a)
		return ok && p.Disk.Low && outboxEmpty(ag)
	})
	exactlyOnce(t, h, a, []string{first.ID})
}
