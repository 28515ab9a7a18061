package hub

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/wire"
)

func TestCalendar(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	r := DefaultRules()
	cal, err := NewCalendar(r.Holidays, r.Workdays)
	if err != nil {
		t.Fatal(err)
	}
	at := func(d string) time.Time {
		x, _ := time.ParseInLocation("2006-01-02 15:04", d+" 10:00", cst)
		return x
	}
	tests := []struct {
		name string
		from string
		n    int
		want string
	}{
		{"weekdays", "2026-11-23", 3, "2026-11-26"},
		{"over a weekend", "2026-11-27", 1, "2026-11-30"},
		{"fifteen working days", "2026-11-26", 15, "2026-12-17"},
		{"a rating on a Saturday", "2026-11-28", 1, "2026-11-30"},
		{"National Day", "2026-09-30", 1, "2026-10-08"},
		{"a make-up Sunday before it", "2026-09-18", 1, "2026-09-20"},
		{"a make-up Saturday after it", "2026-10-09", 1, "2026-10-10"},
		{"Spring Festival", "2026-02-13", 2, "2026-02-24"},
		{"New Year", "2025-12-31", 2, "2026-01-05"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cal.AddWorkingDays(at(tt.from), tt.n, cst)
			if got.Format("2006-01-02 15:04:05") != tt.want+" 23:59:59" {
				t.Errorf("%s + %d working days = %s, want %s", tt.from, tt.n, got, tt.want)
			}
		})
	}
	if _, err := NewCalendar([]string{"2026-13-01"}, nil); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Errorf("a bad date: %v", err)
	}
}

func TestLoadRules(t *testing.T) {
	shipped, err := LoadRules(filepath.Join("..", "..", "firmware-config", "alerts", "rules.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(shipped, DefaultRules()) {
		t.Errorf("the shipped rules differ from the defaults:\n%+v\n%+v", shipped, DefaultRules())
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		name, text string
		ok         bool
		check      func(Rules) bool
	}{
		{"override", "offline_minutes = 5\nholidays = []\nwebhook = \"http://127.0.0.1:9/x\"\n", true,
			func(r Rules) bool {
				return r.OfflineMinutes == 5 && len(r.Holidays) == 0 && r.BacklogDepth == 100 && r.Webhook != ""
			}},
		{"unknown key", "offline_minute = 5\n", false, nil},
		{"negative", "backlog_depth = -1\n", false, nil},
		{"bad date", "workdays = [\"2026-02-30\"]\n", false, nil},
		{"not TOML", "offline_minutes = \n", false, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".toml")
			os.WriteFile(p, []byte(tt.text), 0o644)
			r, err := LoadRules(p)
			if (err == nil) != tt.ok {
				t.Fatalf("err %v", err)
			}
			if tt.ok && !tt.check(r) {
				t.Errorf("rules %+v", r)
			}
		})
	}
}

// alertMsgs returns the alert events the hub published, and the retained
// alert topics as they stand.
func alertMsgs(t *testing.T, tr *fakeTransport) (events []AlertMessage, retained map[string]AlertMessage) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	retained = map[string]AlertMessage{}
	for _, m := range tr.msgs {
		switch {
		case m.topic == AlertsTopic:
			var a AlertMessage
			if err := json.Unmarshal(m.payload, &a); err != nil {
				t.Fatal(err)
			}
			events = append(events, a)
		case strings.HasPrefix(m.topic, AlertsActiveTopic):
			if !m.retain {
				t.Fatalf("%s not retained", m.topic)
			}
			if len(m.payload) == 0 {
				delete(retained, m.topic)
				continue
			}
			var a AlertMessage
			json.Unmarshal(m.payload, &a)
			retained[m.topic] = a
		}
	}
	return events, retained
}

func hb(t *testing.T, st string, at time.Time, depth int, oldest time.Time, readers []wire.ReaderV1, diskLow bool) []byte {
	t.Helper()
	h := wire.Heartbeat{V: 1, Station: st, At: at, Seq: 1, IntervalS: 15, Outbox: wire.OutboxV1{Depth: depth, LastSeq: 9},
		Readers: readers, Storage: wire.StorageV1{Low: diskLow}, Agent: "0.2.0"}
	if depth > 0 {
		h.Outbox.OldestAt = &oldest
	}
	b, err := h.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAlertRules walks a station through every condition rule with a fake
// clock, and checks what is stored, published and logged.
func TestAlertRules(t *testing.T) {
	h := newTestHub(t, "", nil)
	topic := func(k wire.Kind) string { return wire.Topic(station, k) }
	active := func() map[cloud.AlertRule]cloud.Alert {
		p, err := h.store.Alerts(context.Background(), cloud.AlertFilter{States: []cloud.AlertState{cloud.AlertOpen, cloud.AlertAcknowledged}})
		if err != nil {
			t.Fatal(err)
		}
		m := map[cloud.AlertRule]cloud.Alert{}
		for _, a := range p.Alerts {
			m[a.Rule] = a
		}
		return m
	}
	ok := []wire.ReaderV1{{Name: "idcard0", Kind: "idcard", State: "ok"}, {Name: "printer0", Kind: "printer", State: "ok"}}
	h.HandleMessage(topic(wire.KindStatus), statusMsg(t, station, wire.StateOnline, "connect", t0, 15))
	h.HandleMessage(topic(wire.KindHeartbeat), hb(t, station, h.clock.Now(), 0, time.Time{}, ok, false))
	if n := len(active()); n != 0 {
		t.Fatalf("%d alerts for a healthy station", n)
	}

	// Backlog: deeper than 100, then older than an hour.
	h.HandleMessage(topic(wire.KindHeartbeat), hb(t, station, h.clock.Now(), 150, h.clock.Now().Add(-time.Minute), ok, false))
	if a, found := active()[cloud.RuleBacklog]; !found || !strings.Contains(a.MessageZH, "150") {
		t.Fatalf("no backlog alert: %+v", active())
	}
	h.HandleMessage(topic(wire.KindHeartbeat), hb(t, station, h.clock.Now(), 0, time.Time{}, ok, false))
	if _, found := active()[cloud.RuleBacklog]; found {
		t.Fatal("the backlog alert stays after the outbox drained")
	}
	h.HandleMessage(topic(wire.KindHeartbeat), hb(t, station, h.clock.Now(), 3, h.clock.Now().Add(-61*time.Minute), ok, false))
	if _, found := active()[cloud.RuleBacklog]; !found {
		t.Fatal("no alert for a backlog an hour old")
	}

	// A printer out of paper, a full disk.
	fault := []wire.ReaderV1{ok[0], {Name: "printer0", Kind: "printer", State: "fault", Detail: "paper out"}}
	h.HandleMessage(topic(wire.KindHeartbeat), hb(t, station, h.clock.Now(), 0, time.Time{}, fault, true))
	al := active()
	if a := al[cloud.RuleReaderFault]; a.Subject != "printer0" || !strings.Contains(a.MessageZH, "打印机") || !strings.Contains(a.MessageEN, "paper out") {
		t.Fatalf("device fault alert %+v", a)
	}
	if _, found := al[cloud.RuleDiskLow]; !found {
		t.Fatal("no disk alert")
	}
	if _, found := al[cloud.RuleBacklog]; found {
		t.Fatal("backlog alert after the backlog cleared")
	}

	// Offline: not yet after 29 minutes, then an alert; the station's
	// devices are not judged while it is away.
	h.HandleMessage(topic(wire.KindStatus), statusMsg(t, station, wire.StateOffline, "will", t0, 15))
	h.clock.Add(29 * time.Minute)
	h.CheckPresence()
	if _, found := active()[cloud.RuleOffline]; found {
		t.Fatal("offline alert before 30 minutes")
	}
	h.clock.Add(2 * time.Minute)
	h.CheckPresence()
	al = active()
	if _, found := al[cloud.RuleOffline]; !found {
		t.Fatal("no offline alert after 31 minutes")
	}
	if _, found := al[cloud.RuleReaderFault]; !found {
		t.Fatal("the device alert was resolved while the station was offline")
	}
	offline := al[cloud.RuleOffline]
	if _, err := h.AckAlert(context.Background(), offline.ID, "alice", "查看中"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.AckAlert(context.Background(), offline.ID, "bob", ""); vetnet.ErrorCode(err) != vetnet.ECONFLICT {
		t.Fatalf("acknowledged twice: %v", err)
	}
	h.CheckPresence() // an acknowledged alert is not opened again
	if p, _ := h.store.Alerts(context.Background(), cloud.AlertFilter{Rule: cloud.RuleOffline}); len(p.Alerts) != 1 {
		t.Fatalf("%d offline alerts", len(p.Alerts))
	}

	// Back: online and healthy; every condition alert is resolved by the
	// system.
	h.HandleMessage(topic(wire.KindStatus), statusMsg(t, station, wire.StateOnline, "connect", h.clock.Now(), 15))
	h.HandleMessage(topic(wire.KindHeartbeat), hb(t, station, h.clock.Now(), 0, time.Time{}, ok, false))
	if n := len(active()); n != 0 {
		t.Fatalf("%d alerts left: %+v", n, active())
	}
	got, _ := h.store.Alert(context.Background(), offline.ID)
	if got.ResolvedBy != SystemUser || got.ClearedAt.IsZero() || got.AckBy != "alice" {
		t.Fatalf("offline alert after the return: %+v", got)
	}

	events, retained := alertMsgs(t, h.tr)
	if len(retained) != 0 {
		t.Errorf("retained alerts left after all were resolved: %v", retained)
	}
	counts := map[string]int{}
	for _, e := range events {
		counts[e.Alert.Rule+" "+e.Event]++
		if e.V != 1 || e.Alert.Station != station || e.Alert.StationName == "" {
			t.Errorf("event %+v", e)
		}
	}
	want := map[string]int{"backlog opened": 2, "backlog resolved": 2, "reader_fault opened": 1, "reader_fault resolved": 1,
		"disk_low opened": 1, "disk_low resolved": 1, "offline opened": 1, "offline acknowledged": 1, "offline resolved": 1}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("events %v\nwant %v", counts, want)
	}

	// The station log has the transitions for its history.
	h.flushLog()
	log, err := h.store.StationLog(context.Background(), station, t0.Add(-time.Hour), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range log {
		kinds = append(kinds, string(e.Kind)+":"+e.Subject+":"+e.State)
	}
	// (A device seen healthy the first time is not a transition.)
	wantLog := "presence::online reader:printer0:fault disk::low presence::offline presence::online reader:printer0:ok disk::ok"
	if strings.Join(kinds, " ") != wantLog {
		t.Errorf("station log:\n%s\nwant\n%s", strings.Join(kinds, " "), wantLog)
	}
}

// TestBadRatingTask: a rating of 1 or 2 opens a follow-up task due 15
// working days later; resolving needs a comment.
func TestBadRatingTask(t *testing.T) {
	h := newTestHub(t, "", func(c *Config) { c.Location = time.UTC })
	cs := checkIns(t, 7, station, 1, 2)
	var recs []wire.RecordV1
	var ids []string
	for i, c := range cs {
		id, err := vetnet.NewCheckInID(t0.Add(time.Duration(i)*time.Minute), crand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		f := vetnet.Feedback{ID: id, StationID: station, CheckInID: c.ID, Service: c.Service, Rating: vetnet.Rating(5 - 3*i),
			Reasons: []vetnet.Reason{vetnet.Reasons[0]}, At: t0}
		recs = append(recs, wire.FeedbackToWire(f))
	}
	b := wire.NewCheckInBatch(station, "r", t0, cs)
	b.Records = recs
	payload, _ := b.Encode()
	if ack := h.HandleMessage(wire.Topic(station, wire.KindCheckIns), payload); ack == nil || len(ack.Rejected) > 0 {
		t.Fatalf("ack %+v", ack)
	}
	p, err := h.store.Alerts(context.Background(), cloud.AlertFilter{Rule: cloud.RuleBadRating})
	if err != nil || len(p.Alerts) != 1 {
		t.Fatalf("%d tasks for one bad rating (%v)", len(p.Alerts), err)
	}
	task := p.Alerts[0]
	// Thursday 2026-11-26 + 15 working days = Thursday 2026-12-17.
	if task.Due.Format("2006-01-02") != "2026-12-17" || task.Subject != ids[1] || !strings.Contains(task.MessageZH, "15 个工作日") {
		t.Fatalf("task %+v", task)
	}
	// Sent again: no second task.
	h.HandleMessage(wire.Topic(station, wire.KindCheckIns), payload)
	if p, _ := h.store.Alerts(context.Background(), cloud.AlertFilter{Rule: cloud.RuleBadRating}); len(p.Alerts) != 1 {
		t.Fatalf("%d tasks after a resend", len(p.Alerts))
	}
	if _, err := h.ResolveAlert(context.Background(), task.ID, "alice", "  "); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("resolved without a comment: %v", err)
	}
	done, err := h.ResolveAlert(context.Background(), task.ID, "alice", "已回访")
	if err != nil || done.State != cloud.AlertResolved || done.ResolvedComment != "已回访" {
		t.Fatalf("resolve: %+v %v", done, err)
	}
	if _, err := h.ResolveAlert(context.Background(), task.ID, "alice", "again"); vetnet.ErrorCode(err) != vetnet.ECONFLICT {
		t.Fatalf("resolved twice: %v", err)
	}
	// Tasks are never resolved by the system.
	h.CheckPresence()
	if got, _ := h.store.Alert(context.Background(), task.ID); got.ResolvedBy != "alice" {
		t.Fatalf("task %+v", got)
	}
}

// TestAlertWebhook: alert events are posted to the webhook, in order,
// and a failing webhook is retried.
func TestAlertWebhook(t *testing.T) {
	var mu sync.Mutex
	var got []AlertMessage
	fails := 1
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var m AlertMessage
		if err := json.Unmarshal(b, &m); err != nil || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook body %q: %v", b, err)
		}
		got = append(got, m)
	}))
	defer srv.Close()
	rules := DefaultRules()
	rules.Webhook = srv.URL
	h := newTestHub(t, "", func(c *Config) { c.Rules = &rules; c.PresenceEvery = time.Hour })
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.HandleMessage(wire.Topic(station, wire.KindStatus), statusMsg(t, station, wire.StateOnline, "connect", t0, 15))
	h.HandleMessage(wire.Topic(station, wire.KindHeartbeat), hb(t, station, t0, 500, t0, nil, false))
	h.HandleMessage(wire.Topic(station, wire.KindHeartbeat), hb(t, station, t0, 0, t0, nil, false))
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook got %d events", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if got[0].Event != AlertOpened || got[1].Event != AlertResolved || got[0].Alert.Rule != "backlog" || got[0].Alert.ID != got[1].Alert.ID {
		t.Fatalf("webhook events %+v", got)
	}
	if h.c.webhook.Value("ok") != 2 {
		t.Errorf("webhook counter %d", h.c.webhook.Value("ok"))
	}
}

// TestAlertGolden keeps the alert payload's shape.
func TestAlertGolden(t *testing.T) {
	due := time.Date(2026, 12, 17, 15, 59, 59, 0, time.UTC)
	a := cloud.Alert{ID: 12, Rule: cloud.RuleBadRating, Key: "bad_rating/01F", Station: "st-d-t1-v1", Subject: "01KB1Q2100ABCDEFGHJKMNPQRS",
		State: cloud.AlertAcknowledged, MessageZH: "评价 2 分(不满意):等候时间长", MessageEN: "Rated 2 (Dissatisfied): Waited too long",
		OpenedAt: time.Date(2026, 11, 26, 1, 32, 1, 0, time.UTC), Due: due, AckAt: time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC),
		AckBy: "sanjing", AckComment: "已联系"}
	b, err := json.MarshalIndent(AlertMessage{V: 1, Event: AlertAcknowledged, Alert: alertV1(a, storetestStation(a.Station))}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "alert.v1.json")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(golden, append(b, '\n'), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(want)) != string(b) {
		t.Errorf("alert payload changed:\n%s\nwant\n%s", b, want)
	}
}

func storetestStation(id string) vetnet.Station {
	for _, s := range testStations() {
		if s.ID == id {
			return s
		}
	}
	return vetnet.Station{}
}
