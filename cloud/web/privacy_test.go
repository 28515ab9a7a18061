package web

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
)

func TestPersonExportAndErase(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// The first visitor comes back to the other village.
	back := e.cs[40]
	back.ID, back.Seq, back.Visitor = back.ID+"b", 1000, e.cs[0].Visitor
	if _, err := cloud.SaveCheckIns(ctx, e.store, []vetnet.CheckIn{back}); err != nil {
		t.Fatal(err)
	}
	person := e.cs[0].Visitor
	staff := addUser(t, e.srv, e.store, cloud.User{Name: "staff", Role: cloud.RoleStationStaff, Station: "st-d-t1-v1"})
	town := addUser(t, e.srv, e.store, cloud.User{Name: "town", Role: cloud.RoleTownAdmin, Station: "st-d-t1"})
	auditor := addUser(t, e.srv, e.store, cloud.User{Name: "auditor", Role: cloud.RoleAuditor})
	req := map[string]any{"id_number": person.IDNumber, "reason": "本人申请 the person asked"}

	for name, tok := range map[string]string{"staff": staff, "town": town, "auditor": auditor} {
		for _, path := range []string{"/api/v1/people/export", "/api/v1/people/erase"} {
			body := map[string]any{"id_number": person.IDNumber, "reason": "x", "confirm": true}
			if rec := do(t, e.srv, "POST", path, tok, body); rec.Code != 403 {
				t.Fatalf("%s %s: %d", name, path, rec.Code)
			}
		}
	}
	for name, body := range map[string]any{
		"no reason":       map[string]any{"id_number": person.IDNumber},
		"no ID number":    map[string]any{"reason": "x"},
		"unknown field":   map[string]any{"id_number": person.IDNumber, "reason": "x", "extra": 1},
		"reason too long": map[string]any{"id_number": person.IDNumber, "reason": strings.Repeat("长", 201)},
	} {
		if rec := do(t, e.srv, "POST", "/api/v1/people/export", e.token, body); rec.Code != 400 {
			t.Fatalf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}

	rec := do(t, e.srv, "POST", "/api/v1/people/export", e.token, req)
	if rec.Code != 200 {
		t.Fatalf("export: %d %s", rec.Code, rec.Body)
	}
	var out struct {
		CheckIns []personCheckIn `json:"checkins"`
		Ratings  []personRating  `json:"ratings"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.CheckIns) != 2 || out.CheckIns[0].IDNumber != person.IDNumber || out.CheckIns[1].Name != person.Name {
		t.Fatalf("exported %+v", out.CheckIns)
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatal("a person's export may be cached")
	}

	if rec := do(t, e.srv, "POST", "/api/v1/people/erase", e.token, req); rec.Code != 400 {
		t.Fatalf("erase without confirm: %d", rec.Code)
	}
	before, _ := e.store.CheckInStats(ctx, cloud.StatsQuery{GroupBy: []cloud.Dim{cloud.DimStation, cloud.DimDay}})
	req["confirm"] = true
	rec = do(t, e.srv, "POST", "/api/v1/people/erase", e.token, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"checkins":2`) {
		t.Fatalf("erase: %d %s", rec.Code, rec.Body)
	}
	after, _ := e.store.CheckInStats(ctx, cloud.StatsQuery{GroupBy: []cloud.Dim{cloud.DimStation, cloud.DimDay}})
	if len(before) == 0 || len(before) != len(after) {
		t.Fatalf("statistics changed by erasure: %v → %v", before, after)
	}
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("statistics changed by erasure: %v → %v", before[i], after[i])
		}
	}
	if c, err := e.store.CheckIn(ctx, e.cs[0].ID); err != nil || c.Visitor.IDNumber != "" || c.Visitor.Name != "" {
		t.Fatalf("erased check-in %+v %v", c.Visitor, err)
	}
	rec = do(t, e.srv, "POST", "/api/v1/people/export", e.token, map[string]any{"id_number": person.IDNumber, "reason": "again"})
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"checkins":[]`) {
		t.Fatalf("export after erasure: %d %s", rec.Code, rec.Body)
	}

	// The audit log has each request, naming the person masked only.
	p, err := e.store.Audit(ctx, cloud.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var exports, erasures, denied int
	for _, en := range p.Entries {
		line := en.Target + " " + en.Reason + " " + en.Detail
		if strings.Contains(line, person.IDNumber) || strings.Contains(line, person.Name) {
			t.Fatalf("audit entry holds personal data: %+v", en)
		}
		switch en.Action {
		case cloud.AuditPersonExport:
			exports++
			if en.Target != "person "+vetnet.MaskIDNumber(person.IDNumber) || en.User != "admin" {
				t.Fatalf("export entry %+v", en)
			}
		case cloud.AuditPersonErase:
			erasures++
		case cloud.AuditDenied:
			denied++
		}
	}
	if exports != 2 || erasures != 2 || denied != 6 {
		t.Fatalf("audit: %d exports, %d erasure entries, %d denials; want 2, 2, 6", exports, erasures, denied)
	}
}

// TestRequestBodyTrailingData: a JSON body with more after its object is
// refused, not half-read.
func TestRequestBodyTrailingData(t *testing.T) {
	e := newEnv(t)
	r := httptest.NewRequest("POST", "/api/v1/checkins/"+e.cs[0].ID+"/unmask", strings.NewReader(`{"reason":"x"} {"reason":"y"}`))
	r.Header.Set("Authorization", "Bearer "+e.token)
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, r)
	if rec.Code != 400 {
		t.Fatalf("trailing data: %d %s", rec.Code, rec.Body)
	}
}

// TestHSTSOnTLS: over TLS every answer carries Strict-Transport-Security
// and the session cookie is Secure; over plain HTTP neither.
func TestHSTSOnTLS(t *testing.T) {
	e := newEnv(t)
	for _, tlsOn := range []bool{false, true} {
		r := httptest.NewRequest("POST", "/api/v1/session", strings.NewReader(`{"user":"admin","password":"`+testPassword+`"}`))
		if tlsOn {
			r.TLS = &tls.ConnectionState{}
		}
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, r)
		if rec.Code != 200 {
			t.Fatalf("sign-in: %d", rec.Code)
		}
		if got := rec.Header().Get("Strict-Transport-Security") != ""; got != tlsOn {
			t.Fatalf("TLS %v: HSTS %q", tlsOn, rec.Header().Get("Strict-Transport-Security"))
		}
		for _, c := range rec.Result().Cookies() {
			if c.Name == SessionCookie && c.Secure != tlsOn {
				t.Fatalf("TLS %v: cookie Secure %v", tlsOn, c.Secure)
			}
		}
	}
}
