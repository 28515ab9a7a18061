package e2e_test

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
)

// TestRateLimitedStationLosesNothing: a hub that lets a station send one
// message a second (burst 2) answers a busy kiosk's stream of check-ins
// with rate_limited acks; the agent keeps them in its outbox, backs off,
// sends them again coalesced, and every check-in reaches the hub exactly
// once; another station of the same hub checks in as usual.
func TestRateLimitedStationLosesNothing(t *testing.T) {
	stations, village, post := district(t)
	byID := map[string]vetnet.Station{}
	for _, st := range stations {
		byID[st.ID] = st
	}
	addr := freeAddr(t)
	h := startHub(t, hubOpts{dir: t.TempDir(), mqttListen: addr, stations: stations, ingestRate: 1, burst: 2})
	defer h.Close()
	busy, busyAPI := startAgent(t, byID[village], "tcp://"+addr)
	quiet, quietAPI := startAgent(t, byID[post], "tcp://"+addr)
	k := newKiosk(t, busyAPI, vetnet.ServiceBenefits)
	var made []string
	for range 25 {
		made = append(made, k.checkIn().ID)
	}
	q := newKiosk(t, quietAPI, vetnet.ServiceConsultation)
	quietMade := []string{q.checkIn().ID}
	eventually(t, 60*time.Second, "the busy station's outbox drained", func() bool { return outboxEmpty(busy) })
	eventually(t, 30*time.Second, "the quiet station's outbox drained", func() bool { return outboxEmpty(quiet) })
	exactlyOnce(t, h, village, made)
	exactlyOnce(t, h, post, quietMade)

	var m bytes.Buffer
	h.Metrics().WriteTo(&m)
	limited := regexp.MustCompile(`vetnet_hub_rate_limited_total\{kind="checkins"\} (\d+)`).FindSubmatch(m.Bytes())
	if limited == nil {
		t.Fatalf("no rate-limited batches counted:\n%s", m.String())
	}
	if n, _ := strconv.Atoi(string(limited[1])); n == 0 {
		t.Fatal("the busy station was never limited: the test proves nothing")
	} else {
		t.Logf("%d batches answered rate_limited; all %d check-ins arrived", n, len(made))
	}
}
