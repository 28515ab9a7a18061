package web

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/auth"
	"github.com/vetnet/vetnet/cloud/sqlite"
	"github.com/vetnet/vetnet/cloud/storetest"
)

var now = time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)

type env struct {
	token  string // the district administrator's session
	srv    *Server
	store  cloud.Store
	cs     []vetnet.CheckIn
	events chan cloud.Event
	subs   sync.WaitGroup
}

func newEnv(t testing.TB) *env {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "hub.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := rand.New(rand.NewPCG(1, 2))
	// 40 yesterday and today at one village, 17 today at the other.
	cs := storetest.NewCheckIns(t, r, "st-d-t1-v1", 1, 40, now.Add(-30*time.Hour), time.Hour/2)
	cs = append(cs, storetest.NewCheckIns(t, r, "st-d-t1-v2", 1, 17, now.Add(-10*time.Hour), 7*time.Minute)...)
	if _, err := cloud.SaveCheckIns(context.Background(), st, cs); err != nil {
		t.Fatal(err)
	}
	e := &env{store: st, cs: cs, events: make(chan cloud.Event, 10)}
	presences := []cloud.Presence{
		{Station: "st-d-t1-v1", State: cloud.StateOnline, Since: now.Add(-time.Hour), Reason: "connect", LastSeen: now,
			LastHeartbeat: now, HeartbeatS: 15, Agent: "0.1.0", Outbox: cloud.Backlog{Depth: 2, OldestAt: now.Add(-time.Minute), LastSeq: 42},
			Readers: []cloud.Reader{{Name: "idcard0", Kind: "idcard", State: "ok"}}},
	}
	e.srv = New(Options{
		Store:     st,
		Stations:  storetest.Stations,
		Presences: func() []cloud.Presence { return presences },
		Subscribe: func() (<-chan cloud.Event, func()) {
			e.subs.Done()
			return e.events, func() {}
		},
		Location:  time.UTC,
		Now:       func() time.Time { return now },
		KeepAlive: 50 * time.Millisecond,
	})
	e.token = addUser(t, e.srv, st, cloud.User{Name: "admin", Role: cloud.RoleDistrictAdmin})
	return e
}

// testPassword is every test user's password.
const testPassword = "test-password-1"

// tokens are the sessions of the servers under test: get signs its
// requests in with them.
var tokens sync.Map // *Server → string

// addUser stores u with testPassword, signs it in and returns its token;
// the first user of a server signs get's requests.
func addUser(t testing.TB, srv *Server, st cloud.Store, u cloud.User) string {
	t.Helper()
	var err error
	if u.PasswordHash, err = auth.HashPassword(testPassword); err != nil {
		t.Fatal(err)
	}
	if err := st.PutUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/session", strings.NewReader(`{"user":"`+u.Name+`","password":"`+testPassword+`"}`)))
	var body struct {
		Token string `json:"token"`
	}
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Token == "" {
		t.Fatalf("sign-in of %s: %d %s", u.Name, rec.Code, rec.Body)
	}
	tokens.LoadOrStore(srv, body.Token)
	return body.Token
}

func get(t *testing.T, h http.Handler, target string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", target, nil)
	if tok, ok := tokens.Load(h); ok {
		req.Header.Set("Authorization", "Bearer "+tok.(string))
	}
	h.ServeHTTP(rec, req)
	var body map[string]any
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: body is not JSON: %v", target, err)
		}
	}
	return rec, body
}

// noPersonalData fails if any full ID number or name of cs appears.
func noPersonalData(t *testing.T, body string, cs []vetnet.CheckIn) {
	t.Helper()
	for _, c := range cs {
		if strings.Contains(body, c.Visitor.IDNumber) {
			t.Fatalf("an ID number appears unmasked")
		}
		if len([]rune(c.Visitor.Name)) > 1 && strings.Contains(body, `"`+c.Visitor.Name+`"`) {
			t.Fatalf("a name appears unmasked: %s", c.Visitor.Name)
		}
	}
}

func TestStations(t *testing.T) {
	e := newEnv(t)
	rec, body := get(t, e.srv, "/api/v1/stations")
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	sts := body["stations"].([]any)
	if len(sts) != len(storetest.Stations()) {
		t.Fatalf("%d stations", len(sts))
	}
	byID := map[string]map[string]any{}
	for _, s := range sts {
		m := s.(map[string]any)
		byID[m["id"].(string)] = m
	}
	v1, v2, d := byID["st-d-t1-v1"], byID["st-d-t1-v2"], byID["st-d"]
	// v1: 40 check-ins every 30 min from 09:00 yesterday, the last at
	// 04:30 today; today (UTC) from 00:00 are those at 00:00 .. 04:30.
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"v1 state", v1["state"], "online"},
		{"v1 state_zh", v1["state_zh"], "在线"},
		{"v1 today", v1["checkins_today"], 10.0},
		{"v1 last seq", v1["last_seq"], 40.0},
		{"v1 outbox depth", v1["outbox"].(map[string]any)["depth"], 2.0},
		{"v1 outbox last seq", v1["outbox"].(map[string]any)["last_seq"], 42.0},
		{"v1 agent", v1["agent"], "0.1.0"},
		{"v1 since", v1["state_since"], "2026-11-26T14:00:00Z"},
		{"v1 readers", len(v1["readers"].([]any)), 1},
		{"v2 today", v2["checkins_today"], 17.0},
		{"v2 never seen", v2["state"], "never_seen"},
		{"v2 since", v2["state_since"], nil},
		{"district level", d["level_zh"], "区服务中心"},
		{"district today", d["checkins_today"], 0.0},
		{"district readers", len(d["readers"].([]any)), 0},
		{"today from", body["today_from"], "2026-11-26T00:00:00Z"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestCheckInsPaging(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name  string
		query string
		keep  func(c vetnet.CheckIn) bool
	}{
		{"all", "", func(vetnet.CheckIn) bool { return true }},
		{"station", "station=st-d-t1-v2", func(c vetnet.CheckIn) bool { return c.StationID == "st-d-t1-v2" }},
		{"from to", "from=" + url.QueryEscape("2026-11-26T08:00:00+08:00") + "&to=2026-11-26T12:00:00Z",
			func(c vetnet.CheckIn) bool {
				return !c.At.Before(now.Add(-15*time.Hour)) && c.At.Before(now.Add(-3*time.Hour))
			}},
		{"date", "from=2026-11-26", func(c vetnet.CheckIn) bool { return !c.At.Before(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := map[string]bool{}
			for _, c := range e.cs {
				if tt.keep(c) {
					want[c.ID] = true
				}
			}
			seen := map[string]bool{}
			cursor := ""
			var last time.Time
			for pages := 0; ; pages++ {
				q := "limit=7&" + tt.query
				if cursor != "" {
					q += "&cursor=" + url.QueryEscape(cursor)
				}
				rec, body := get(t, e.srv, "/api/v1/checkins?"+q)
				if rec.Code != 200 {
					t.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				noPersonalData(t, rec.Body.String(), e.cs)
				if int(body["total"].(float64)) != len(want) {
					t.Fatalf("total %v, want %d", body["total"], len(want))
				}
				rows := body["checkins"].([]any)
				if len(rows) > 7 {
					t.Fatalf("page of %d", len(rows))
				}
				for _, r := range rows {
					m := r.(map[string]any)
					id := m["id"].(string)
					if seen[id] || !want[id] {
						t.Fatalf("row %s repeated or not matching", id)
					}
					seen[id] = true
					at, _ := time.Parse(time.RFC3339Nano, m["at"].(string))
					if !last.IsZero() && at.After(last) {
						t.Fatal("not newest first")
					}
					last = at
					if !strings.Contains(m["id_number"].(string), "********") || m["service_zh"] == "" {
						t.Fatalf("row %v", m)
					}
				}
				cursor, _ = body["next"].(string)
				if cursor == "" {
					break
				}
			}
			if len(seen) != len(want) {
				t.Fatalf("%d rows over all pages, want %d", len(seen), len(want))
			}
		})
	}
}

func TestBadParams(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name  string
		query string
		param string
	}{
		{"limit zero", "limit=0", "limit"},
		{"limit word", "limit=ten", "limit"},
		{"limit too big", "limit=501", "limit"},
		{"from garbage", "from=yesterday", "from"},
		{"to without zone", "to=2026-11-26T10:00:00", "to"},
		{"to before from", "from=2026-11-26T10:00:00Z&to=2026-11-26T09:00:00Z", "to"},
		{"station", "station=NOT%20A%20STATION", "station"},
		{"cursor", "cursor=garbage", "cursor"},
		{"repeated", "limit=5&limit=6", "limit"},
		{"order unknown", "order=name", "order"},
		{"order seq without station", "order=seq", "order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.srv.badReqs.Value(tt.param)
			rec, body := get(t, e.srv, "/api/v1/checkins?"+tt.query)
			if rec.Code != 400 {
				t.Fatalf("status %d, want 400", rec.Code)
			}
			er, _ := body["error"].(map[string]any)
			if er["code"] != "invalid" || er["param"] != tt.param || er["message"] == "" || er["message_zh"] == "" || er["message"] == er["message_zh"] {
				t.Fatalf("error body %v", body)
			}
			if e.srv.badReqs.Value(tt.param) != before+1 {
				t.Fatal("not counted")
			}
		})
	}
}

func TestHealthAndMetrics(t *testing.T) {
	e := newEnv(t)
	rec, body := get(t, e.srv, "/healthz")
	if rec.Code != 200 || body["status"] != "ok" || body["db"].(map[string]any)["up"] != true {
		t.Fatalf("healthz %d %v", rec.Code, body)
	}
	get(t, e.srv, "/api/v1/checkins?limit=x")
	rec, _ = get(t, e.srv, "/metrics")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("metrics %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, want := range []string{`vetnet_http_bad_requests_total{param="limit"} 1`, `vetnet_http_requests_total{route="/healthz",code="200"} 1`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Fatalf("metrics lack %q:\n%s", want, rec.Body)
		}
	}
	e.store.Close()
	rec, body = get(t, e.srv, "/healthz")
	if rec.Code != 503 || body["status"] != "degraded" {
		t.Fatalf("healthz with the DB closed: %d %v", rec.Code, body)
	}
	rec, body = get(t, e.srv, "/api/v1/stations")
	if rec.Code != 503 || strings.Contains(rec.Body.String(), "SELECT") {
		t.Fatalf("stations with the DB closed: %d %s", rec.Code, rec.Body)
	}
	rec, _ = get(t, e.srv, "/no/such/page")
	if rec.Code != 404 {
		t.Fatalf("unknown path: %d", rec.Code)
	}
}

func TestDashboardAssets(t *testing.T) {
	e := newEnv(t)
	rec, _ := get(t, e.srv, "/")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "退役军人服务站") || !strings.Contains(rec.Body.String(), "Station monitor") {
		t.Fatalf("index: %d", rec.Code)
	}
	if !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatal("no content security policy")
	}
	// Nothing is loaded from the internet.
	fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if d.IsDir() {
			return nil
		}
		b, _ := assets.ReadFile(p)
		// The SVG namespace is a name, not an address that is loaded.
		b = []byte(strings.ReplaceAll(string(b), `"http://www.w3.org/2000/svg"`, ""))
		for _, bad := range []string{"http://", "https://", "//cdn", "innerHTML"} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s contains %q", p, bad)
			}
		}
		if p == "assets/index.html" {
			return nil // served at /
		}
		rec, _ := get(t, e.srv, "/static/"+strings.TrimPrefix(p, "assets/"))
		if rec.Code != 200 {
			t.Errorf("%s: status %d", p, rec.Code)
		}
		return nil
	})
}

// TestEvents reads the event stream over a real connection.
func TestEvents(t *testing.T) {
	e := newEnv(t)
	e.subs.Add(1)
	srv := httptest.NewServer(e.srv)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %s", ct)
	}
	e.subs.Wait()
	c := e.cs[0]
	e.events <- cloud.Event{Kind: cloud.EventCheckIn, CheckIn: c} // unmasked on purpose: the server masks anyway
	e.events <- cloud.Event{Kind: cloud.EventPresence, Changed: true, Presence: cloud.Presence{Station: "st-d-t1-v2", State: cloud.StateStale, Since: now}}

	type sse struct{ event, data string }
	got := make(chan sse, 10)
	var raw strings.Builder
	go func() {
		sc := bufio.NewScanner(resp.Body)
		var cur sse
		for sc.Scan() {
			line := sc.Text()
			raw.WriteString(line + "\n")
			switch {
			case strings.HasPrefix(line, "event: "):
				cur.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				cur.data = line[6:]
			case line == "" && cur.event != "":
				got <- cur
				cur = sse{}
			case strings.HasPrefix(line, ": keep-alive"):
				got <- sse{event: "keep-alive"}
			}
		}
		close(got)
	}()
	next := func() sse {
		select {
		case s := <-got:
			return s
		case <-time.After(10 * time.Second):
			t.Fatal("no event")
		}
		return sse{}
	}
	ci := next()
	if ci.event != "checkin" {
		t.Fatalf("first event %+v", ci)
	}
	var civ checkInView
	json.Unmarshal([]byte(ci.data), &civ)
	if civ.ID != c.ID || civ.IDNumber != vetnet.MaskIDNumber(c.Visitor.IDNumber) || civ.Name != vetnet.MaskName(c.Visitor.Name) || civ.StationName == "" {
		t.Fatalf("checkin event %+v", civ)
	}
	noPersonalData(t, ci.data, e.cs)
	pr := next()
	var pv presenceEvent
	json.Unmarshal([]byte(pr.data), &pv)
	if pr.event != "presence" || pv.Station != "st-d-t1-v2" || pv.State != "stale" || !pv.Changed || pv.StateZH != "心跳超时" {
		t.Fatalf("presence event %+v", pr)
	}
	if ka := next(); ka.event != "keep-alive" {
		t.Fatalf("expected a keep-alive, got %+v", ka)
	}
	// The hub stops: the stream ends.
	close(e.events)
	for range got {
	}
	io.Copy(io.Discard, resp.Body)
}

// A check-in typed by staff shows who typed it, by ID and by the name on
// the station's roster.
func TestCheckInStaff(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "hub.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs := storetest.NewCheckIns(t, rand.New(rand.NewPCG(3, 4)), "st-d-t1-v1", 1, 2, now.Add(-time.Hour), time.Minute)
	cs[1].Method, cs[1].Staff = vetnet.MethodManual, "xb-0107"
	if _, err := cloud.SaveCheckIns(context.Background(), st, cs); err != nil {
		t.Fatal(err)
	}
	stations := func() []vetnet.Station {
		ss := storetest.Stations()
		for i := range ss {
			if ss[i].ID == "st-d-t1-v1" {
				ss[i].Staff = []vetnet.Staff{{ID: "xb-0107", Name: "王立新", Role: vetnet.RoleHead, BadgeUID: "DEADBEEF"}}
			}
		}
		return ss
	}
	srv := New(Options{Store: st, Stations: stations, Presences: func() []cloud.Presence { return nil },
		Subscribe: func() (<-chan cloud.Event, func()) { return nil, func() {} }, Location: time.UTC, Now: func() time.Time { return now }})
	addUser(t, srv, st, cloud.User{Name: "admin", Role: cloud.RoleDistrictAdmin})
	_, body := get(t, srv, "/api/v1/checkins")
	list := body["checkins"].([]any)
	if len(list) != 2 {
		t.Fatalf("%d check-ins", len(list))
	}
	typed, alone := list[0].(map[string]any), list[1].(map[string]any)
	if typed["staff"] != "xb-0107" || typed["staff_name"] != "王立新" || typed["method"] != "manual" {
		t.Errorf("typed: %v", typed)
	}
	if alone["staff"] != "" || alone["staff_name"] != "" {
		t.Errorf("alone: %v", alone)
	}
}

func TestFeedbackAPI(t *testing.T) {
	e := newEnv(t)
	r := rand.New(rand.NewPCG(31, 32))
	cs := storetest.NewCheckIns(t, r, "st-d-t1-v1", 1000, 12, storetest.T0, time.Minute)
	fs := storetest.NewFeedback(t, r, cs)
	fs[0].Rating, fs[0].Reasons = vetnet.RatingVeryDissatisfied, []vetnet.Reason{vetnet.ReasonAttitude}
	if _, err := e.store.Save(context.Background(), cloud.Batch{CheckIns: cs, Feedback: fs}); err != nil {
		t.Fatal(err)
	}
	seen := 0
	cursor := ""
	for {
		q := "/api/v1/feedback?station=st-d-t1-v1&limit=5"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		rec, body := get(t, e.srv, q)
		if rec.Code != 200 {
			t.Fatalf("status %d: %v", rec.Code, body)
		}
		for _, x := range body["feedback"].([]any) {
			m := x.(map[string]any)
			seen++
			if m["id"] == fs[0].ID && (m["bad"] != true || m["rating_zh"] != "非常不满意" || m["reasons"].([]any)[0].(map[string]any)["zh"] != "服务态度") {
				t.Fatalf("bad rating shown as %v", m)
			}
		}
		cursor, _ = body["next"].(string)
		if cursor == "" {
			break
		}
	}
	if seen != len(fs) {
		t.Fatalf("%d ratings listed, want %d", seen, len(fs))
	}
	if rec, _ := get(t, e.srv, "/api/v1/feedback?order=seq&station=st-d-t1-v1"); rec.Code != 400 {
		t.Fatalf("order=seq on ratings: %d", rec.Code)
	}
}
