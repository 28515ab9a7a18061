package hub

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/storetest"
	"github.com/vetnet/vetnet/wire"
)

var t0 = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)

// clock is a fake clock for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeTransport records what the hub publishes.
type fakeTransport struct {
	mu   sync.Mutex
	msgs []published
	fail bool
}

type published struct {
	topic   string
	payload []byte
	retain  bool
}

func (f *fakeTransport) Publish(topic string, payload []byte, retain bool, qos byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return vetnet.Errorz(vetnet.EUNAVAILABLE, "断开", "down")
	}
	f.msgs = append(f.msgs, published{topic, append([]byte(nil), payload...), retain})
	return nil
}
func (f *fakeTransport) Up() bool     { return true }
func (f *fakeTransport) Close() error { return nil }

func (f *fakeTransport) acks(t *testing.T, station string) []wire.Ack {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []wire.Ack
	for _, m := range f.msgs {
		if m.topic == wire.Topic(station, wire.KindAcks) {
			a, err := wire.DecodeAck(station, m.payload)
			if err != nil {
				t.Fatalf("the hub published an ack that does not decode: %v", err)
			}
			out = append(out, a)
		}
	}
	return out
}

func testStations() []vetnet.Station { return storetest.Stations() }

type testHub struct {
	*Hub
	clock *clock
	tr    *fakeTransport
	dir   string
}

func newTestHub(t testing.TB, dir string, mod func(*Config)) *testHub {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	c := &clock{t: t0}
	cfg := Config{DataDir: dir, Stations: testStations(), Now: c.Now, Logf: t.Logf, AdminPassword: testAdminPassword}
	if mod != nil {
		mod(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr := &fakeTransport{}
	h.setTransport(tr, "fake")
	t.Cleanup(func() { h.Close() })
	return &testHub{Hub: h, clock: c, tr: tr, dir: dir}
}

const station = "st-d-t1-v1"

// testAdminPassword is the district administrator's password in tests.
const testAdminPassword = "hub-test-password"

// apiGet signs in as the district administrator and gets path from the
// hub's handler.
func (h *testHub) apiGet(t *testing.T, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/session",
		strings.NewReader(`{"user":"admin","password":"`+testAdminPassword+`"}`)))
	var body struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Token == "" {
		t.Fatalf("sign-in: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+body.Token)
	h.Handler().ServeHTTP(rec, req)
	return rec
}

func checkIns(t testing.TB, seed uint64, st string, first uint64, n int) []vetnet.CheckIn {
	return storetest.NewCheckIns(t, rand.New(rand.NewPCG(seed, seed)), st, first, n, t0.Add(-time.Hour), time.Minute)
}

func batch(t testing.TB, st, label string, cs []vetnet.CheckIn) []byte {
	t.Helper()
	b, err := wire.NewCheckInBatch(st, label, t0, cs).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ids(cs []vetnet.CheckIn) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func count(t *testing.T, h *Hub) int {
	t.Helper()
	n, err := h.Store().CountCheckIns(context.Background(), cloud.CheckInFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestIngest runs messages through HandleMessage in sequence, on one hub,
// and checks the ack, the rows stored and the counters after each.
func TestIngest(t *testing.T) {
	h := newTestHub(t, "", nil)
	events, cancel := h.Subscribe()
	defer cancel()

	first := checkIns(t, 1, station, 1, 3)
	more := checkIns(t, 2, station, 4, 2)
	bad := checkIns(t, 3, station, 6, 3)
	bad[1].Visitor.IDNumber = bad[1].Visitor.IDNumber[:17] + "0"
	if bad[1].Visitor.IDNumber == bad[1].Visitor.IDNumber[:17]+string(vetnet.IDCheckChar(bad[1].Visitor.IDNumber[:17])) {
		bad[1].Visitor.IDNumber = bad[1].Visitor.IDNumber[:17] + "1"
	}
	goodOfBad := []vetnet.CheckIn{bad[0], bad[2]}
	huge := `{"v":1,"station":"` + station + `","pad":"` + strings.Repeat("x", wire.MaxCheckInsPayload) + `"}`

	tests := []struct {
		name     string
		topic    string
		payload  []byte
		ack      bool     // an ack is published
		ids      []string // its IDs
		rejected []string // IDs it rejects
		problem  string   // its Error reason
		stored   int      // rows stored after
		counter  func() uint64
		want     uint64
	}{
		{name: "new batch", topic: wire.Topic(station, wire.KindCheckIns), payload: batch(t, station, "1-3", first),
			ack: true, ids: ids(first), stored: 3, counter: func() uint64 { return h.c.checkIns.Value("stored") }, want: 3},
		{name: "same batch again", topic: wire.Topic(station, wire.KindCheckIns), payload: batch(t, station, "1-3", first),
			ack: true, ids: ids(first), stored: 3, counter: func() uint64 { return h.c.checkIns.Value("duplicate") }, want: 3},
		{name: "overlapping batch", topic: wire.Topic(station, wire.KindCheckIns), payload: batch(t, station, "2-5", append(first[1:], more...)),
			ack: true, ids: ids(append(first[1:], more...)), stored: 5, counter: func() uint64 { return h.c.checkIns.Value("stored") }, want: 5},
		{name: "invalid check-in", topic: wire.Topic(station, wire.KindCheckIns), payload: batch(t, station, "6-8", bad),
			ack: true, ids: []string{}, rejected: []string{bad[1].ID}, stored: 5, counter: func() uint64 { return h.c.checkIns.Value("rejected") }, want: 1},
		{name: "the rest resent", topic: wire.Topic(station, wire.KindCheckIns), payload: batch(t, station, "6,8", goodOfBad),
			ack: true, ids: ids(goodOfBad), stored: 7, counter: func() uint64 { return h.c.batches.Value("ok") }, want: 4},
		{name: "unknown station", topic: wire.Topic("st-nobody", wire.KindCheckIns), payload: batch(t, "st-nobody", "1", checkIns(t, 4, "st-nobody", 1, 1)),
			ack: true, ids: []string{}, problem: ReasonUnknownStation, stored: 7,
			counter: func() uint64 { return h.c.decodeFailures.Value("checkins", ReasonUnknownStation) }, want: 1},
		{name: "station mismatch", topic: wire.Topic(station, wire.KindCheckIns), payload: batch(t, "st-d-t1-v2", "1", checkIns(t, 5, "st-d-t1-v2", 1, 1)),
			ack: true, ids: []string{}, problem: wire.ReasonStation, stored: 7,
			counter: func() uint64 { return h.c.decodeFailures.Value("checkins", wire.ReasonStation) }, want: 1},
		{name: "malformed json", topic: wire.Topic(station, wire.KindCheckIns), payload: []byte(`{"v":1,"station":`),
			ack: true, ids: []string{}, problem: wire.ReasonJSON, stored: 7,
			counter: func() uint64 { return h.c.decodeFailures.Value("checkins", wire.ReasonJSON) }, want: 1},
		{name: "oversized", topic: wire.Topic(station, wire.KindCheckIns), payload: []byte(huge),
			ack: true, ids: []string{}, problem: wire.ReasonTooLarge, stored: 7,
			counter: func() uint64 { return h.c.decodeFailures.Value("checkins", wire.ReasonTooLarge) }, want: 1},
		{name: "unknown version", topic: wire.Topic(station, wire.KindCheckIns), payload: []byte(`{"v":9}`),
			ack: true, ids: []string{}, problem: wire.ReasonVersion, stored: 7,
			counter: func() uint64 { return h.c.decodeFailures.Value("checkins", wire.ReasonVersion) }, want: 1},
		{name: "bad topic", topic: "vs/v1/st/" + station + "/selfies", payload: []byte(`{}`),
			stored: 7, counter: func() uint64 { return h.c.decodeFailures.Value("unknown", wire.ReasonTopic) }, want: 1},
		{name: "bad status", topic: wire.Topic(station, wire.KindStatus), payload: []byte(`{"v":1}`),
			stored: 7, counter: func() uint64 { return h.c.decodeFailures.Value("status", wire.ReasonField) }, want: 1},
		{name: "bad heartbeat", topic: wire.Topic(station, wire.KindHeartbeat), payload: []byte(`[]`),
			stored: 7, counter: func() uint64 { return h.c.decodeFailures.Value("heartbeat", wire.ReasonJSON) }, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := station
			if st, _, err := wire.ParseTopic(tt.topic); err == nil {
				target = st
			}
			before := len(h.tr.acks(t, target))
			ack := h.HandleMessage(tt.topic, tt.payload)
			acks := h.tr.acks(t, target)
			if !tt.ack {
				if ack != nil || len(acks) != before {
					t.Fatalf("an ack was sent: %+v", ack)
				}
			} else {
				if ack == nil || len(acks) != before+1 {
					t.Fatalf("no ack published (returned %+v)", ack)
				}
				got := acks[len(acks)-1]
				if strings.Join(got.IDs, ",") != strings.Join(tt.ids, ",") {
					t.Fatalf("ack IDs %v, want %v", got.IDs, tt.ids)
				}
				var rej []string
				for _, r := range got.Rejected {
					rej = append(rej, r.ID)
					if r.Code != vetnet.EINVALID || r.Reason == "" || r.Seq == 0 {
						t.Fatalf("rejection without seq, code or reason: %+v", r)
					}
				}
				if strings.Join(rej, ",") != strings.Join(tt.rejected, ",") {
					t.Fatalf("rejected %v, want %v", rej, tt.rejected)
				}
				switch {
				case tt.problem == "" && got.Error != nil:
					t.Fatalf("unexpected error %+v", got.Error)
				case tt.problem != "" && (got.Error == nil || got.Error.Reason != tt.problem):
					t.Fatalf("error %+v, want reason %s", got.Error, tt.problem)
				}
				if !got.At.Equal(t0) {
					t.Fatalf("ack at %v, want the hub clock %v", got.At, t0)
				}
				raw, _ := json.Marshal(got)
				for _, c := range append(append(append([]vetnet.CheckIn{}, first...), bad...), more...) {
					if strings.Contains(string(raw), c.Visitor.IDNumber) {
						t.Fatal("an ack carries an ID number")
					}
				}
			}
			if n := count(t, h.Hub); n != tt.stored {
				t.Fatalf("%d rows stored, want %d", n, tt.stored)
			}
			if got := tt.counter(); got != tt.want {
				t.Fatalf("counter %d, want %d", got, tt.want)
			}
		})
	}

	// One live event per newly stored check-in, masked.
	var got []string
	for len(events) > 0 {
		e := <-events
		if e.Kind != cloud.EventCheckIn {
			continue
		}
		got = append(got, e.CheckIn.ID)
		if e.CheckIn.Visitor.IDNumber != vetnet.MaskIDNumber(e.CheckIn.Visitor.IDNumber) || !strings.Contains(e.CheckIn.Visitor.IDNumber, "****") {
			t.Fatalf("event carries an unmasked ID number")
		}
	}
	if len(got) != 7 {
		t.Fatalf("%d check-in events, want 7 (one per new row)", len(got))
	}
	if h.c.acks.Sum() != 10 {
		t.Fatalf("%d acks counted, want 10", h.c.acks.Sum())
	}
}

// TestReceivedAt checks that stored rows carry the hub's clock and the
// station's time, both in UTC.
func TestReceivedAt(t *testing.T) {
	h := newTestHub(t, "", nil)
	cs := checkIns(t, 7, station, 1, 1)
	h.HandleMessage(wire.Topic(station, wire.KindCheckIns), batch(t, station, "1", cs))
	p, err := h.Store().CheckIns(context.Background(), cloud.CheckInFilter{})
	if err != nil || len(p.CheckIns) != 1 {
		t.Fatal(p, err)
	}
	c := p.CheckIns[0]
	if !c.ReceivedAt.Equal(t0) || !c.At.Equal(cs[0].At) || c.StationID != station || c.Visitor != cs[0].Visitor {
		t.Fatalf("stored %+v", c)
	}
}

// failingStore fails Save as a full disk or a locked database would.
type failingStore struct {
	cloud.Store
}

func (failingStore) Save(context.Context, cloud.Batch) (cloud.Saved, error) {
	return cloud.Saved{}, vetnet.Errorz(vetnet.EUNAVAILABLE, "数据库忙", "busy")
}

func TestNoAckWithoutCommit(t *testing.T) {
	inner := newTestHub(t, "", nil) // only for its store
	h := newTestHub(t, "", func(c *Config) { c.Store = failingStore{inner.Store()}; c.DataDir = "" })
	cs := checkIns(t, 8, station, 1, 2)
	if ack := h.HandleMessage(wire.Topic(station, wire.KindCheckIns), batch(t, station, "1-2", cs)); ack != nil {
		t.Fatalf("acked a batch that was not stored: %+v", ack)
	}
	if len(h.tr.acks(t, station)) != 0 {
		t.Fatal("an ack was published")
	}
	if h.c.storeErrors.Value("save_checkins") != 1 || h.c.batches.Value("store_failed") != 1 {
		t.Fatal("the store failure was not counted")
	}
}

func TestAckPublishFailureCounted(t *testing.T) {
	h := newTestHub(t, "", nil)
	h.tr.fail = true
	cs := checkIns(t, 9, station, 1, 1)
	h.HandleMessage(wire.Topic(station, wire.KindCheckIns), batch(t, station, "1", cs))
	if h.c.publishFailures.Value("acks") != 1 || h.c.acks.Sum() != 0 {
		t.Fatal("a failed ack publish was not counted")
	}
	if count(t, h.Hub) != 1 {
		t.Fatal("the batch was not stored")
	}
}

func TestNewRejectsBadRegistry(t *testing.T) {
	dup := append(testStations(), testStations()[0])
	bad := append(testStations(), vetnet.Station{ID: "X", Name: "x", Level: vetnet.LevelDistrict})
	for name, sts := range map[string][]vetnet.Station{"duplicate": dup, "invalid": bad} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(Config{DataDir: t.TempDir(), Stations: sts}); vetnet.ErrorCode(err) != vetnet.EINVALID {
				t.Fatalf("got %v, want code invalid", err)
			}
		})
	}
	if _, err := New(Config{Stations: testStations()}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("no data dir: %v", err)
	}
}

func TestConfigsPublished(t *testing.T) {
	h := newTestHub(t, "", func(c *Config) { c.HeartbeatS = 20 })
	h.publishConfigs()
	h.tr.mu.Lock()
	defer h.tr.mu.Unlock()
	if len(h.tr.msgs) != len(testStations()) {
		t.Fatalf("%d messages, want one config per station", len(h.tr.msgs))
	}
	for i, m := range h.tr.msgs {
		st := testStations()[i]
		cfg, err := wire.DecodeConfig(st.ID, m.payload)
		if err != nil || !m.retain || m.topic != wire.Topic(st.ID, wire.KindConfig) {
			t.Fatalf("config %d: %v, retained %v, topic %s", i, err, m.retain, m.topic)
		}
		if cfg.HeartbeatS != 20 || cfg.Version != wire.NewConfig(st, 20, t0).Version {
			t.Fatalf("config %+v", cfg)
		}
	}
}

// TestGapsAndSkew: check-ins arriving out of order open a gap that the
// later batch closes; a gap that stays is reported with its range; the
// station's clock skew is taken from its heartbeat.
func TestGapsAndSkew(t *testing.T) {
	h := newTestHub(t, "", nil)
	topic := wire.Topic(station, wire.KindCheckIns)
	cs := checkIns(t, 9, station, 1, 8)
	h.HandleMessage(topic, batch(t, station, "1-2", cs[:2]))
	h.HandleMessage(topic, batch(t, station, "5-6", cs[4:6]))
	if g := h.Gaps(station); g.Missing != 2 || g.Max != 6 || len(g.Runs) != 1 || g.Runs[0] != (cloud.SeqRun{First: 3, Last: 4}) {
		t.Fatalf("gaps %+v", g)
	}
	if h.c.gapsOpened.Value() != 1 {
		t.Fatal("gap not counted")
	}
	h.HandleMessage(topic, batch(t, station, "3-4", cs[2:4]))
	if g := h.Gaps(station); g.Missing != 0 || g.Max != 6 {
		t.Fatalf("after the late batch: %+v", g)
	}
	h.HandleMessage(topic, batch(t, station, "8", cs[7:8]))

	// The API shows it; a restarted hub rebuilds it from the store.
	rec := h.apiGet(t, "/api/v1/stations")
	if !strings.Contains(rec.Body.String(), `"seq":{"max":8,"missing":1,"gaps":[{"first":7,"last":7}]}`) {
		t.Fatalf("stations API does not report the gap: %s", rec.Body.String())
	}
	h.Close()
	h2 := newTestHub(t, h.dir, nil)
	if g := h2.Gaps(station); g.Missing != 1 || g.Max != 8 {
		t.Fatalf("after restart: %+v", g)
	}

	// A heartbeat from a clock 5 hours ahead.
	now := h2.clock.Now()
	h2.HandleMessage(wire.Topic(station, wire.KindHeartbeat), heartbeatMsg(t, station, now.Add(5*time.Hour), 15, 0))
	if p, _ := h2.Presence(station); p.ClockSkew != 5*time.Hour {
		t.Fatalf("clock skew %v", p.ClockSkew)
	}
}

// TestIngestFeedback: ratings travel with check-ins, are acked by ID,
// stored once, and a bad one refuses the whole batch by name.
func TestIngestFeedback(t *testing.T) {
	h := newTestHub(t, "", nil)
	events, cancel := h.Subscribe()
	defer cancel()
	topic := wire.Topic(station, wire.KindCheckIns)
	cs := checkIns(t, 11, station, 1, 3)
	fs := storetest.NewFeedback(t, rand.New(rand.NewPCG(1, 2)), cs)
	mixed := func(label string, cs []vetnet.CheckIn, fs []vetnet.Feedback) []byte {
		b := wire.NewCheckInBatch(station, label, t0, cs)
		for _, f := range fs {
			b.Records = append(b.Records, wire.FeedbackToWire(f))
		}
		data, err := b.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	ack := h.HandleMessage(topic, mixed("a", cs, fs[:2]))
	if ack == nil || len(ack.IDs) != 5 || ack.IDs[3] != fs[0].ID {
		t.Fatalf("ack %+v", ack)
	}
	ack = h.HandleMessage(topic, mixed("b", nil, fs))
	if ack == nil || len(ack.IDs) != 3 || h.c.feedback.Value("duplicate") != 2 || h.c.feedback.Value("stored") != 3 {
		t.Fatalf("resend: ack %+v, counters %d/%d", ack, h.c.feedback.Value("stored"), h.c.feedback.Value("duplicate"))
	}
	bad := storetest.NewFeedback(t, rand.New(rand.NewPCG(3, 4)), cs[:2])
	bad[1].Rating = 9
	more := checkIns(t, 12, station, 4, 1)
	ack = h.HandleMessage(topic, mixed("c", more, bad))
	if ack == nil || len(ack.IDs) != 0 || len(ack.Rejected) != 1 || ack.Rejected[0].ID != bad[1].ID {
		t.Fatalf("a batch with a bad rating: %+v", ack)
	}
	if n := count(t, h.Hub); n != 3 {
		t.Fatalf("%d check-ins stored, want 3", n)
	}
	p, err := h.Store().Feedback(context.Background(), cloud.CheckInFilter{Station: station})
	if err != nil || len(p.Feedback) != 3 {
		t.Fatalf("stored ratings %d, %v", len(p.Feedback), err)
	}
	n := 0
	for n < 3 {
		select {
		case e := <-events:
			if e.Kind == cloud.EventFeedback {
				n++
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%d rating events of 3", n)
		}
	}
}

// TestIngestVisitsAndDuty: visit and duty events travel as records, are
// acked by ID, stored once and counted; an invalid one refuses its batch by
// name.
func TestIngestVisitsAndDuty(t *testing.T) {
	h := newTestHub(t, "", nil)
	topic := wire.Topic(station, wire.KindCheckIns)
	cs := checkIns(t, 21, station, 1, 2)
	vs := storetest.NewVisits(t, rand.New(rand.NewPCG(5, 6)), cs, "xb-0107")
	ds := storetest.NewDuty(t, rand.New(rand.NewPCG(7, 8)), station, "xb-0107", 2, t0)
	batch := func(label string, cs []vetnet.CheckIn, vs []vetnet.VisitEvent, ds []vetnet.DutyEvent) []byte {
		b := wire.NewCheckInBatch(station, label, t0, cs)
		for _, v := range vs {
			b.Records = append(b.Records, wire.VisitToWire(v))
		}
		for _, d := range ds {
			b.Records = append(b.Records, wire.DutyToWire(d))
		}
		data, err := b.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	ack := h.HandleMessage(topic, batch("a", cs, vs[:2], ds[:1]))
	if ack == nil || len(ack.IDs) != 5 || ack.IDs[2] != vs[0].ID || ack.IDs[4] != ds[0].ID || ack.Error != nil {
		t.Fatalf("ack %+v", ack)
	}
	ack = h.HandleMessage(topic, batch("b", nil, vs, ds))
	if ack == nil || len(ack.IDs) != len(vs)+len(ds) || h.c.visits.Value("stored") != uint64(len(vs)) ||
		h.c.visits.Value("duplicate") != 2 || h.c.duty.Value("stored") != 2 || h.c.duty.Value("duplicate") != 1 {
		t.Fatalf("resend: ack %+v, visits %d/%d, duty %d/%d", ack, h.c.visits.Value("stored"), h.c.visits.Value("duplicate"),
			h.c.duty.Value("stored"), h.c.duty.Value("duplicate"))
	}
	// A transfer without its target passes the decoder but not the domain.
	bad := storetest.NewVisits(t, rand.New(rand.NewPCG(9, 10)), cs[:1], "")
	bad[0].Action = vetnet.VisitTransferred
	more := checkIns(t, 22, station, 3, 1)
	ack = h.HandleMessage(topic, batch("c", more, bad, nil))
	if ack == nil || len(ack.IDs) != 0 || len(ack.Rejected) != 1 || ack.Rejected[0].ID != bad[0].ID || ack.Rejected[0].Code != vetnet.EINVALID {
		t.Fatalf("a batch with a bad visit event: %+v", ack)
	}
	if n := count(t, h.Hub); n != 2 {
		t.Fatalf("%d check-ins stored, want 2", n)
	}
	vp, err := h.Store().VisitEvents(context.Background(), cloud.CheckInFilter{Station: station})
	if err != nil || len(vp.Visits) != len(vs) {
		t.Fatalf("stored visit events %d, %v", len(vp.Visits), err)
	}
	dp, err := h.Store().DutyEvents(context.Background(), cloud.CheckInFilter{Station: station})
	if err != nil || len(dp.Duty) != 2 || dp.Duty[0].StationID != station {
		t.Fatalf("stored duty %+v, %v", dp, err)
	}
}
