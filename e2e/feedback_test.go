package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

// TestRatingsReachHub: visitors rate their visits at the kiosk; each
// rating reaches the hub once, through the outbox, even when the hub is
// down when it is given.
func TestRatingsReachHub(t *testing.T) {
	stations, a, _ := district(t)
	dir, addr := t.TempDir(), freeAddr(t)
	h := startHub(t, hubOpts{dir: dir, mqttListen: addr, stations: stations})
	var st vetnet.Station
	for _, s := range stations {
		if s.ID == a {
			st = s
		}
	}
	ag, c := startAgent(t, st, "tcp://"+addr)
	k := newKiosk(t, c, vetnet.ServiceBenefits)
	ctx := context.Background()
	rate := func(id string, rating int, reasons ...string) string {
		t.Helper()
		r, err := c.Feedback(ctx, localapi.FeedbackRequest{CheckInID: id, Rating: rating, Reasons: reasons})
		if err != nil {
			t.Fatalf("rating: %v", err)
		}
		return r.ID
	}
	var ratings []string
	ratings = append(ratings, rate(k.checkIn().ID, 5))
	second := k.checkIn().ID
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	ratings = append(ratings, rate(second, 1, "waiting", "attitude")) // the hub is down
	if _, err := c.Feedback(ctx, localapi.FeedbackRequest{CheckInID: second, Rating: 3}); vetnet.ErrorCode(err) != vetnet.ECONFLICT {
		t.Fatalf("a second rating of one visit: %v", err)
	}
	h = startHub(t, hubOpts{dir: dir, mqttListen: addr, stations: stations})
	defer h.Close()
	eventually(t, 60*time.Second, "the outbox to drain", func() bool { return outboxEmpty(ag) })

	var body struct {
		Feedback []struct {
			ID      string `json:"id"`
			Rating  int    `json:"rating"`
			Bad     bool   `json:"bad"`
			Reasons []struct {
				Key string `json:"key"`
			} `json:"reasons"`
		} `json:"feedback"`
	}
	if err := api(t, h).Get(context.Background(), "/api/v1/feedback?station="+a, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Feedback) != 2 {
		t.Fatalf("hub holds %d ratings, want 2", len(body.Feedback))
	}
	got := map[string]int{}
	for _, f := range body.Feedback {
		got[f.ID]++
		if f.ID == ratings[1] && (!f.Bad || len(f.Reasons) != 2 || f.Reasons[0].Key != "waiting") {
			t.Fatalf("bad rating stored as %+v", f)
		}
	}
	for _, id := range ratings {
		if got[id] != 1 {
			t.Fatalf("rating %s stored %d times", id, got[id])
		}
	}
}
