package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud/hub"
	"github.com/vetnet/vetnet/cloud/web"
	"github.com/vetnet/vetnet/edge-agent/agent"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

const mosquittoURL = "tcp://127.0.0.1:1883"

// district returns a small registry: a district centre, a town and two of
// its stations, with IDs unique to this run so that tests sharing
// Mosquitto never see each other's retained messages.
func district(t *testing.T) (stations []vetnet.Station, a, b string) {
	t.Helper()
	var r [3]byte
	_, _ = rand.Read(r[:])
	p := "e2e-" + hex.EncodeToString(r[:])
	stations = []vetnet.Station{
		{ID: p, Name: "测试区退役军人服务中心", Level: vetnet.LevelDistrict},
		{ID: p + "-town", Name: "测试镇退役军人服务站", Level: vetnet.LevelTown, Parent: p},
		{ID: p + "-village", Name: "测试村退役军人服务站", Level: vetnet.LevelVillage, Parent: p + "-town"},
		{ID: p + "-post", Name: "测试驿站", Level: vetnet.LevelPost, Parent: p,
			Services: []vetnet.Service{vetnet.ServicePostServices, vetnet.ServiceConsultation}},
	}
	return stations, p + "-village", p + "-post"
}

type hubOpts struct {
	dir        string
	mqttListen string // embedded broker address ("" with brokerURL)
	brokerURL  string // external broker
	stations   []vetnet.Station
	ingestRate float64 // per-station messages a second; 0: the hub's default
	burst      int
}

func startHub(t *testing.T, o hubOpts) *hub.Hub {
	t.Helper()
	h, err := hub.New(hub.Config{
		DataDir: o.dir, MQTTListen: o.mqttListen, BrokerURL: o.brokerURL, OwnTopicsOnly: o.brokerURL != "",
		HTTPListen: "127.0.0.1:0", Stations: o.stations, HeartbeatS: 1,
		Logf: logf(t), AdminPassword: adminPassword, IngestRate: o.ingestRate, IngestBurst: o.burst,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h
}

// adminPassword is the district administrator's password of the tests'
// hubs (user "admin").
const adminPassword = "e2e-admin-password"

// api signs in to the hub's API as the district administrator.
func api(t *testing.T, h *hub.Hub) *web.Client {
	t.Helper()
	c, err := web.SignIn(context.Background(), "http://"+h.HTTPAddr(), "admin", adminPassword)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	return c
}

func startAgent(t *testing.T, station vetnet.Station, brokerURL string) (*agent.Agent, *localapi.Client) {
	t.Helper()
	return startAgentIn(t, station, brokerURL, t.TempDir())
}

// startAgentIn starts an agent on the data directory dir (a station that
// restarts keeps its store).
func startAgentIn(t *testing.T, station vetnet.Station, brokerURL, dir string) (*agent.Agent, *localapi.Client) {
	t.Helper()
	a, err := agent.New(agent.Config{
		StationID: station.ID, DataDir: dir, BrokerURL: brokerURL, APIAddr: "127.0.0.1:0",
		Station: &station, HeartbeatInterval: time.Second, SimReader: true,
		AckTimeout: 2 * time.Second, MaxBackoff: 4 * time.Second, ReconnectInterval: time.Second,
		Version: "e2e", Logf: logf(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a, localapi.NewClient(a.APIAddr())
}

// kiosk drives an agent through its local API as the kiosk does: it
// presents a card, waits for the card event and checks the visitor in.
type kiosk struct {
	t      *testing.T
	c      *localapi.Client
	events <-chan localapi.Event
	svc    string
	detail string // the service's sub-choice of the next check-ins; "" for none
}

func newKiosk(t *testing.T, c *localapi.Client, svc vetnet.Service) *kiosk {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ev, err := c.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &kiosk{t: t, c: c, events: ev, svc: string(svc)}
}

// checkIn presents a synthetic veteran's card and checks the visitor in.
func (k *kiosk) checkIn() localapi.CheckInResponse {
	k.t.Helper()
	return k.tap(localapi.SimTapRequest{})
}

// tap presents the card of req and checks the visitor in; it returns the
// committed check-in.
func (k *kiosk) tap(req localapi.SimTapRequest) localapi.CheckInResponse {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := k.c.SimTap(ctx, req); err != nil {
		k.t.Fatalf("sim tap: %v", err)
	}
	for {
		select {
		case ev, ok := <-k.events:
			if !ok {
				k.t.Fatal("event stream closed")
			}
			if ev.Type != localapi.EventCard {
				continue
			}
			card, err := ev.Card()
			if err != nil {
				k.t.Fatal(err)
			}
			resp, err := k.c.CheckIn(ctx, localapi.CheckInRequest{Token: card.Token, Service: k.svc, Detail: k.detail})
			if err != nil {
				k.t.Fatalf("check-in: %v", err)
			}
			return resp
		case <-ctx.Done():
			k.t.Fatal("no card event")
		}
	}
}

// hubCheckIns reads every check-in of a station from the hub's API, page by
// page, and returns how often each ID appears.
func hubCheckIns(t *testing.T, h *hub.Hub, station string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	cursor := ""
	c := api(t, h)
	for page := 0; ; page++ {
		q := url.Values{"station": {station}, "limit": {"7"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var body struct {
			CheckIns []struct {
				ID       string `json:"id"`
				Station  string `json:"station"`
				IDNumber string `json:"id_number"`
			} `json:"checkins"`
			Next string `json:"next"`
		}
		if err := c.Get(context.Background(), "/api/v1/checkins?"+q.Encode(), &body); err != nil {
			t.Fatalf("GET checkins: %v", err)
		}
		for _, c := range body.CheckIns {
			if c.Station != station {
				t.Fatalf("filter by station returned %s", c.Station)
			}
			if len(c.IDNumber) != 18 || c.IDNumber[6:14] != "********" {
				t.Fatalf("ID number not masked in the API: %q", c.IDNumber)
			}
			seen[c.ID]++
		}
		if body.Next == "" {
			return seen
		}
		cursor = body.Next
		if page > 1000 {
			t.Fatal("paging does not end")
		}
	}
}

// eventually polls cond until it holds or the limit passes.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func outboxEmpty(a *agent.Agent) bool { return a.Status().Outbox.Depth == 0 }

// exactlyOnce checks that the hub holds each made ID once and nothing else.
func exactlyOnce(t *testing.T, h *hub.Hub, station string, made []string) {
	t.Helper()
	seen := hubCheckIns(t, h, station)
	for _, id := range made {
		if seen[id] != 1 {
			t.Errorf("%s: check-in %s stored %d times", station, id, seen[id])
		}
	}
	if len(seen) != len(made) {
		t.Errorf("%s: hub holds %d check-ins, the station made %d", station, len(seen), len(made))
	}
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// run makes n check-ins at each of two stations concurrently, waits for the
// outboxes to drain and checks the hub holds each exactly once.
func run(t *testing.T, h *hub.Hub, brokerURL string, stations []vetnet.Station, a, b string, n int) {
	byID := map[string]vetnet.Station{}
	for _, s := range stations {
		byID[s.ID] = s
	}
	type result struct {
		station string
		agent   *agent.Agent
		ids     []string
	}
	results := make([]*result, 2)
	var wg sync.WaitGroup
	for i, st := range []string{a, b} {
		station := byID[st]
		ag, c := startAgent(t, station, brokerURL)
		svc := station.OfferedServices()[0]
		k := newKiosk(t, c, svc)
		results[i] = &result{station: st, agent: ag}
		wg.Add(1)
		go func(r *result) {
			defer wg.Done()
			for j := 0; j < n; j++ {
				resp := k.checkIn()
				if resp.Seq != uint64(j+1) {
					t.Errorf("%s: seq %d, want %d", r.station, resp.Seq, j+1)
				}
				r.ids = append(r.ids, resp.ID)
			}
		}(results[i])
	}
	wg.Wait()
	for _, r := range results {
		eventually(t, 60*time.Second, r.station+" outbox to drain", func() bool { return outboxEmpty(r.agent) })
		exactlyOnce(t, h, r.station, r.ids)
	}
	eventually(t, 30*time.Second, "both stations online at the hub", func() bool {
		for _, st := range []string{a, b} {
			p, ok := h.Presence(st)
			if !ok || p.State != "online" {
				return false
			}
		}
		return true
	})
}

func TestCheckInsReachHubExactlyOnceEmbedded(t *testing.T) {
	stations, a, b := district(t)
	h := startHub(t, hubOpts{dir: t.TempDir(), mqttListen: "127.0.0.1:0", stations: stations})
	defer h.Close()
	run(t, h, "tcp://"+h.MQTTAddr(), stations, a, b, 25)
}

func TestCheckInsReachHubExactlyOnceMosquitto(t *testing.T) {
	if c, err := net.DialTimeout("tcp", "127.0.0.1:1883", time.Second); err != nil {
		t.Fatalf("Mosquitto is not running on 127.0.0.1:1883 (scripts/services.sh starts it): %v", err)
	} else {
		c.Close()
	}
	stations, a, b := district(t)
	h := startHub(t, hubOpts{dir: t.TempDir(), brokerURL: mosquittoURL, stations: stations})
	defer h.Close()
	run(t, h, mosquittoURL, stations, a, b, 25)
}

// TestHubOutage stops the hub (and with it the embedded broker) while the
// stations keep checking people in, then starts it again on the same data
// and port: every check-in arrives exactly once.
func TestHubOutage(t *testing.T) {
	stations, a, b := district(t)
	dir, addr := t.TempDir(), freeAddr(t)
	h := startHub(t, hubOpts{dir: dir, mqttListen: addr, stations: stations})
	broker := "tcp://" + addr

	byID := map[string]vetnet.Station{}
	for _, s := range stations {
		byID[s.ID] = s
	}
	agA, cA := startAgent(t, byID[a], broker)
	agB, cB := startAgent(t, byID[b], broker)
	kA, kB := newKiosk(t, cA, vetnet.ServiceBenefits), newKiosk(t, cB, vetnet.ServicePostServices)
	var idsA, idsB []string
	phase := func(n int) {
		for i := 0; i < n; i++ {
			idsA = append(idsA, kA.checkIn().ID)
			idsB = append(idsB, kB.checkIn().ID)
		}
	}

	phase(5)
	eventually(t, 30*time.Second, "first check-ins acknowledged", func() bool { return outboxEmpty(agA) && outboxEmpty(agB) })
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}

	// The hub is down: the kiosk still works, the outbox grows.
	phase(8)
	if d := agA.Status().Outbox.Depth; d != 8 {
		t.Fatalf("outbox depth during the outage = %d, want 8", d)
	}
	if agA.Status().Online {
		t.Fatal("agent says online while the broker is down")
	}

	h = startHub(t, hubOpts{dir: dir, mqttListen: addr, stations: stations})
	defer h.Close()
	phase(4)
	eventually(t, 60*time.Second, "outboxes to drain after the outage", func() bool { return outboxEmpty(agA) && outboxEmpty(agB) })
	exactlyOnce(t, h, a, idsA)
	exactlyOnce(t, h, b, idsB)
	if len(idsA) != 17 {
		t.Fatal(fmt.Sprint("made ", len(idsA)))
	}
}
