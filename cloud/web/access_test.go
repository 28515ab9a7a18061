package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
)

// do sends a request with the token (Authorization header) and body.
func do(t *testing.T, h http.Handler, method, target, token string, body any) *httptest.ResponseRecorder {
	t.Helper()
	var r *http.Request
	if body != nil {
		b, _ := json.Marshal(body)
		r = httptest.NewRequest(method, target, bytes.NewReader(b))
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// signInCookie signs in as a browser does and returns the session cookie
// and the CSRF token.
func signInCookie(t *testing.T, h http.Handler, user string) (*http.Cookie, string) {
	t.Helper()
	rec := do(t, h, "POST", "/api/v1/session", "", map[string]string{"user": user, "password": testPassword})
	if rec.Code != 200 {
		t.Fatalf("sign-in: %d %s", rec.Code, rec.Body)
	}
	var body struct {
		CSRF string `json:"csrf_token"`
	}
	json.Unmarshal(rec.Body.Bytes(), &body)
	for _, c := range rec.Result().Cookies() {
		if c.Name == SessionCookie {
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.MaxAge <= 0 {
				t.Fatalf("session cookie %+v", c)
			}
			return c, body.CSRF
		}
	}
	t.Fatal("no session cookie")
	return nil, ""
}

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		req  any
		code int
	}{
		{"wrong password", map[string]string{"user": "admin", "password": "nope-nope-nope"}, 401},
		{"unknown user", map[string]string{"user": "ghost", "password": testPassword}, 401},
		{"not JSON", "x", 400},
		{"unknown field", map[string]string{"user": "admin", "password": testPassword, "role": "x"}, 400},
		{"right", map[string]string{"user": "admin", "password": testPassword}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if rec := do(t, e.srv, "POST", "/api/v1/session", "", tt.req); rec.Code != tt.code {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
		})
	}
	// Without a session: 401 on the API, the page itself is public.
	for _, p := range []string{"/api/v1/stations", "/api/v1/checkins", "/api/v1/stats", "/api/v1/alerts", "/api/v1/events", "/api/v1/export/checkins"} {
		if rec := do(t, e.srv, "GET", p, "", nil); rec.Code != 401 {
			t.Errorf("%s without a session: %d", p, rec.Code)
		}
		if rec := do(t, e.srv, "GET", p, "made-up-token", nil); rec.Code != 401 {
			t.Errorf("%s with a made-up token: %d", p, rec.Code)
		}
	}
	if rec := do(t, e.srv, "GET", "/", "", nil); rec.Code != 200 {
		t.Errorf("the page: %d", rec.Code)
	}
	// Signing out ends the session.
	if rec := do(t, e.srv, "DELETE", "/api/v1/session", e.token, nil); rec.Code != 204 {
		t.Fatalf("sign out: %d", rec.Code)
	}
	if rec := do(t, e.srv, "GET", "/api/v1/stations", e.token, nil); rec.Code != 401 {
		t.Fatalf("after sign-out: %d", rec.Code)
	}
	// Audited: sign-ins, the failures, the sign-out.
	p, err := e.store.Audit(context.Background(), cloud.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	n := map[cloud.AuditAction]int{}
	for _, x := range p.Entries {
		n[x.Action]++
	}
	if n[cloud.AuditSignIn] != 2 || n[cloud.AuditSignInFailed] != 2 || n[cloud.AuditSignOut] != 1 {
		t.Errorf("audit %v", n)
	}
}

func TestSignInThrottle(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 5; i++ {
		if rec := do(t, e.srv, "POST", "/api/v1/session", "", map[string]string{"user": "admin", "password": "wrong-password"}); rec.Code != 401 {
			t.Fatalf("failure %d: %d", i, rec.Code)
		}
	}
	// Locked now, even with the right password.
	rec := do(t, e.srv, "POST", "/api/v1/session", "", map[string]string{"user": "admin", "password": testPassword})
	if rec.Code != 429 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("after 5 failures: %d", rec.Code)
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t)
	clock := now
	e.srv.o.Now = func() time.Time { return clock }
	if rec := do(t, e.srv, "GET", "/api/v1/stations", e.token, nil); rec.Code != 200 {
		t.Fatalf("fresh: %d", rec.Code)
	}
	clock = now.Add(13 * time.Hour)
	if rec := do(t, e.srv, "GET", "/api/v1/stations", e.token, nil); rec.Code != 401 {
		t.Fatalf("after 13 hours: %d", rec.Code)
	}
}

// TestCSRF: a cookie session changes nothing without the CSRF token or
// from another origin; a bearer token needs neither.
func TestCSRF(t *testing.T) {
	e := newEnv(t)
	cookie, csrf := signInCookie(t, e.srv, "admin")
	id := e.cs[0].ID
	tests := []struct {
		name   string
		token  string
		origin string
		code   int
	}{
		{"no token", "", "", 403},
		{"wrong token", "x", "", 403},
		{"other origin", csrf, "http://evil.example", 403},
		{"right", csrf, "http://example.com", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/v1/checkins/"+id+"/unmask", strings.NewReader(`{"reason":"核对"}`))
			r.AddCookie(cookie)
			if tt.token != "" {
				r.Header.Set(CSRFHeader, tt.token)
			}
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			rec := httptest.NewRecorder()
			e.srv.ServeHTTP(rec, r)
			if rec.Code != tt.code {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
		})
	}
	// GETs with the cookie need no token.
	r := httptest.NewRequest("GET", "/api/v1/session", nil)
	r.AddCookie(cookie)
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, r)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), csrf) {
		t.Fatalf("session: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, e.srv, "POST", "/api/v1/checkins/"+id+"/unmask", e.token, map[string]string{"reason": "核对"}); rec.Code != 200 {
		t.Fatalf("bearer: %d", rec.Code)
	}
}

// TestRoles: each role sees and does what it may, enforced by the API.
func TestRoles(t *testing.T) {
	e := newEnv(t)
	town := addUser(t, e.srv, e.store, cloud.User{Name: "town", Role: cloud.RoleTownAdmin, Station: "st-d-t1"})
	staff := addUser(t, e.srv, e.store, cloud.User{Name: "staff", Role: cloud.RoleStationStaff, Station: "st-d-t1-v2"})
	auditor := addUser(t, e.srv, e.store, cloud.User{Name: "aud", Role: cloud.RoleAuditor})
	v1 := e.cs[0] // at st-d-t1-v1
	if v1.StationID != "st-d-t1-v1" {
		t.Fatal("fixture changed")
	}
	stations := func(tok string) []string {
		var body struct {
			Stations []struct{ ID string } `json:"stations"`
		}
		rec := do(t, e.srv, "GET", "/api/v1/stations", tok, nil)
		json.Unmarshal(rec.Body.Bytes(), &body)
		var ids []string
		for _, s := range body.Stations {
			ids = append(ids, s.ID)
		}
		return ids
	}
	for _, tt := range []struct {
		name, token, want string
	}{
		{"district", e.token, "st-d st-d-t1 st-d-t1-v1 st-d-t1-v2 st-d-post"},
		{"auditor", auditor, "st-d st-d-t1 st-d-t1-v1 st-d-t1-v2 st-d-post"},
		{"town", town, "st-d-t1 st-d-t1-v1 st-d-t1-v2"},
		{"staff", staff, "st-d-t1-v2"},
	} {
		if got := strings.Join(stations(tt.token), " "); got != tt.want {
			t.Errorf("%s sees %q, want %q", tt.name, got, tt.want)
		}
	}
	checks := []struct {
		name   string
		token  string
		method string
		path   string
		body   any
		code   int
	}{
		{"town reads its village", town, "GET", "/api/v1/checkins?station=st-d-t1-v1", nil, 200},
		{"town refused the post", town, "GET", "/api/v1/checkins?station=st-d-post", nil, 403},
		{"town refused under the district", town, "GET", "/api/v1/checkins?under=st-d", nil, 403},
		{"town refused the post's page", town, "GET", "/api/v1/stations/st-d-post", nil, 403},
		{"town refused stats of the district", town, "GET", "/api/v1/stats?under=st-d", nil, 403},
		{"town refused the post's export", town, "GET", "/api/v1/export/checkins?station=st-d-post", nil, 403},
		{"town refused the audit log", town, "GET", "/api/v1/audit", nil, 403},
		{"town refused people", town, "POST", "/api/v1/users", map[string]any{"name": "x", "role": "auditor", "password": "0123456789ab"}, 403},
		{"staff refused its town", staff, "GET", "/api/v1/checkins?station=st-d-t1", nil, 403},
		{"staff refused a neighbour's unmask", staff, "POST", "/api/v1/checkins/" + v1.ID + "/unmask", map[string]string{"reason": "x"}, 403},
		{"town unmasks in its town", town, "POST", "/api/v1/checkins/" + v1.ID + "/unmask", map[string]string{"reason": "核对身份"}, 200},
		{"unmask needs a reason", town, "POST", "/api/v1/checkins/" + v1.ID + "/unmask", map[string]string{"reason": " "}, 400},
		{"auditor never unmasks", auditor, "POST", "/api/v1/checkins/" + v1.ID + "/unmask", map[string]string{"reason": "x"}, 403},
		{"auditor exports masked", auditor, "GET", "/api/v1/export/checkins", nil, 200},
		{"auditor never exports unmasked", auditor, "GET", "/api/v1/export/checkins?unmasked=1&reason=x", nil, 403},
		{"auditor reads the audit log", auditor, "GET", "/api/v1/audit", nil, 200},
		{"auditor changes no alert", auditor, "POST", "/api/v1/alerts/1/ack", map[string]string{"comment": ""}, 403},
		{"district adds a person", e.token, "POST", "/api/v1/users", map[string]any{"name": "new", "role": "station_staff", "station": "st-d-post", "password": "0123456789ab"}, 201},
		{"a town administrator needs a town", e.token, "POST", "/api/v1/users", map[string]any{"name": "bad", "role": "town_admin", "station": "st-d-post", "password": "0123456789ab"}, 400},
		{"a short password", e.token, "POST", "/api/v1/users", map[string]any{"name": "bad", "role": "auditor", "password": "short"}, 400},
	}
	for _, tt := range checks {
		t.Run(tt.name, func(t *testing.T) {
			if rec := do(t, e.srv, tt.method, tt.path, tt.token, tt.body); rec.Code != tt.code {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
		})
	}
	// A town's lists hold only its stations.
	var page struct {
		CheckIns []struct{ Station string } `json:"checkins"`
		Total    int                        `json:"total"`
	}
	json.Unmarshal(do(t, e.srv, "GET", "/api/v1/checkins?limit=500", staff, nil).Body.Bytes(), &page)
	if page.Total != 17 || len(page.CheckIns) != 17 {
		t.Fatalf("staff of v2 sees %d of total %d, want 17", len(page.CheckIns), page.Total)
	}
	for _, c := range page.CheckIns {
		if c.Station != "st-d-t1-v2" {
			t.Fatalf("staff sees %s", c.Station)
		}
	}
	// Refusals and unmaskings are in the audit log, with who and why.
	p, _ := e.store.Audit(context.Background(), cloud.AuditFilter{Limit: 500})
	var unmask, denied int
	for _, x := range p.Entries {
		switch x.Action {
		case cloud.AuditUnmask:
			unmask++
			if x.User != "town" || x.Reason != "核对身份" || !strings.Contains(x.Target, v1.ID) {
				t.Errorf("unmask entry %+v", x)
			}
		case cloud.AuditDenied:
			denied++
		}
	}
	if unmask != 1 || denied < 10 {
		t.Errorf("%d unmaskings, %d refusals audited", unmask, denied)
	}
	// The unmasked answer is the full data.
	var full struct {
		IDNumber string `json:"id_number"`
	}
	json.Unmarshal(do(t, e.srv, "POST", "/api/v1/checkins/"+v1.ID+"/unmask", e.token, map[string]string{"reason": "核对"}).Body.Bytes(), &full)
	if full.IDNumber != v1.Visitor.IDNumber {
		t.Fatalf("unmasked %q, want the full number", full.IDNumber)
	}
}

func TestExports(t *testing.T) {
	e := newEnv(t)
	csvRec := do(t, e.srv, "GET", "/api/v1/export/checkins?station=st-d-t1-v2", e.token, nil)
	if csvRec.Code != 200 || !strings.HasPrefix(csvRec.Header().Get("Content-Type"), "text/csv") ||
		!strings.Contains(csvRec.Header().Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv: %d %v", csvRec.Code, csvRec.Header())
	}
	b := csvRec.Body.Bytes()
	if !bytes.HasPrefix(b, []byte("\xef\xbb\xbf签到时间 At,")) || bytes.Count(b, []byte("\n")) != 18 {
		t.Fatalf("csv body:\n%s", b)
	}
	noPersonalData(t, string(b), e.cs)

	rec := do(t, e.srv, "GET", "/api/v1/export/checkins?format=xlsx&unmasked=1&reason=%E6%A0%B8%E5%AF%B9&station=st-d-t1-v2", e.token, nil)
	if rec.Code != 200 {
		t.Fatalf("xlsx: %d %s", rec.Code, rec.Body)
	}
	f, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil || len(rows) != 18 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	found := false
	for _, c := range e.cs {
		if c.StationID == "st-d-t1-v2" && c.Visitor.IDNumber == rows[1][6] {
			found = true
		}
	}
	if !found {
		t.Fatalf("unmasked export row %v has no full ID number", rows[1])
	}

	for _, tt := range []struct {
		name, path string
		code       int
	}{
		{"ratings", "/api/v1/export/feedback?format=xlsx", 200},
		{"alerts", "/api/v1/export/alerts?state=active", 200},
		{"attendance of no meeting", "/api/v1/export/attendance?meeting=01KB1P0000MTNGABCDEFGHJKMN", 503},
		{"unknown", "/api/v1/export/people", 404},
		{"bad format", "/api/v1/export/checkins?format=pdf", 400},
		{"unmasked without a reason", "/api/v1/export/checkins?unmasked=1", 400},
	} {
		if rec := do(t, e.srv, "GET", tt.path, e.token, nil); rec.Code != tt.code {
			t.Errorf("%s: %d %s", tt.name, rec.Code, rec.Body)
		}
	}
	p, _ := e.store.Audit(context.Background(), cloud.AuditFilter{Action: cloud.AuditExport})
	if len(p.Entries) != 4 || p.Entries[2].Detail != "unmasked" || p.Entries[2].Reason != "核对" || p.Entries[3].Detail != "masked" {
		t.Fatalf("audited exports: %+v", p.Entries)
	}
	if cell("=cmd|' /C calc'!A0") != "'=cmd|' /C calc'!A0" {
		t.Fatal("a formula goes into the CSV as it is")
	}
}

func TestStatsAPI(t *testing.T) {
	e := newEnv(t)
	rec := do(t, e.srv, "GET", "/api/v1/stats?from=2026-11-25&to=2026-11-26", e.token, nil)
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var s statsResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	// 40 at v1 from 09:00 on the 25th every 30 min, 17 at v2 from 05:00
	// on the 26th every 7 min: all within the two days (UTC).
	if s.Total != 57 || len(s.ByDay) != 2 || s.ByDay[0].N+s.ByDay[1].N != 57 || len(s.ByHour) != 24 {
		t.Fatalf("stats %+v", s)
	}
	var perStation int64
	for _, x := range s.ByStation {
		perStation += x.N
	}
	var perLevel int64
	for _, x := range s.ByLevel {
		perLevel += x.N
	}
	if perStation != 57 || perLevel != 57 || s.ByStation[0].Station != "st-d-t1-v1" || s.ByStation[0].N != 40 {
		t.Fatalf("by station %+v, by level %+v", s.ByStation, s.ByLevel)
	}
	for _, bad := range []string{"from=x", "from=2026-11-26&to=2026-11-01", "service=nope"} {
		if rec := do(t, e.srv, "GET", "/api/v1/stats?"+bad, e.token, nil); rec.Code != 400 {
			t.Errorf("%s: %d", bad, rec.Code)
		}
	}
	_ = vetnet.ServiceBenefits
}
