package e2e_test

import (
	"context"
	"math"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/agent"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

// TestClockSkew runs a station whose clock is 5 hours fast, then set back
// 7 hours (2 hours slow) in the middle of its work: the hub still has its
// timeline in the order the check-ins were made (by sequence), keeps its
// own receive times, and reports the skew.
func TestClockSkew(t *testing.T) {
	stations, a, _ := district(t)
	h := startHub(t, hubOpts{dir: t.TempDir(), mqttListen: "127.0.0.1:0", stations: stations})
	defer h.Close()
	var st vetnet.Station
	for _, s := range stations {
		if s.ID == a {
			st = s
		}
	}
	var offset atomic.Int64
	offset.Store(int64(5 * time.Hour))
	ag, err := agent.New(agent.Config{
		StationID: st.ID, DataDir: t.TempDir(), BrokerURL: "tcp://" + h.MQTTAddr(), APIAddr: "127.0.0.1:0",
		Station: &st, HeartbeatInterval: time.Second, SimReader: true, ReconnectInterval: time.Second,
		Logf: logf(t), Now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ag.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer ag.Close()
	k := newKiosk(t, localapi.NewClient(ag.APIAddr()), vetnet.ServiceRecords)
	var made []string
	for i := 0; i < 6; i++ {
		if i == 3 {
			offset.Store(int64(-2 * time.Hour))
		}
		made = append(made, k.checkIn().ID)
	}
	eventually(t, 30*time.Second, "the outbox to drain", func() bool { return outboxEmpty(ag) })
	start := time.Now()

	// The timeline in sequence order.
	q := url.Values{"station": {a}, "order": {"seq"}, "limit": {"100"}}
	var page struct {
		CheckIns []struct {
			ID         string    `json:"id"`
			Seq        uint64    `json:"seq"`
			At         time.Time `json:"at"`
			ReceivedAt time.Time `json:"received_at"`
		} `json:"checkins"`
	}
	err = api(t, h).Get(context.Background(), "/api/v1/checkins?"+q.Encode(), &page)
	if err != nil || len(page.CheckIns) != len(made) {
		t.Fatalf("%d check-ins, %v", len(page.CheckIns), err)
	}
	for i, c := range page.CheckIns {
		if c.ID != made[i] || c.Seq != uint64(i+1) {
			t.Fatalf("position %d: seq %d id %s, want seq %d id %s", i, c.Seq, c.ID, i+1, made[i])
		}
		if d := time.Since(c.ReceivedAt); d < 0 || d > time.Minute+time.Since(start) {
			t.Fatalf("received_at %v is not the hub's time", c.ReceivedAt)
		}
	}
	if !page.CheckIns[3].At.Before(page.CheckIns[2].At) {
		t.Fatal("the station's own times should jump back at seq 4 (the test's premise)")
	}

	// The skew as the dashboard shows it: about −2 h after the change.
	eventually(t, 30*time.Second, "the clock skew to be reported", func() bool {
		p, ok := h.Presence(a)
		return ok && math.Abs(p.ClockSkew.Hours()+2) < 0.01
	})
}
