package hub

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/auth"
	"github.com/vetnet/vetnet/cloud/roster"
	"github.com/vetnet/vetnet/wire"
)

// lastMeetings returns the last meeting set published for station.
func (f *fakeTransport) lastMeetings(t *testing.T, station string) (wire.Meetings, int) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	var last wire.Meetings
	n := 0
	for _, m := range f.msgs {
		if m.topic == wire.Topic(station, wire.KindMeetings) {
			if !m.retain {
				t.Fatal("meetings published without retain")
			}
			p, err := wire.DecodeMeetings(station, m.payload)
			if err != nil {
				t.Fatalf("the hub published meetings that do not decode: %v", err)
			}
			last, n = p, n+1
		}
	}
	return last, n
}

func TestMeetingsToStationsAndRoster(t *testing.T) { testMeetingsToStationsAndRoster(t, nil) }

// testMeetingsToStationsAndRoster runs on the embedded store, or on the
// store that store sets (meetings_pg_test.go: PostgreSQL).
func testMeetingsToStationsAndRoster(t *testing.T, store func(c *Config)) {
	h := newTestHub(t, "", func(c *Config) {
		c.VideoBaseURL = "https://meet.district.lan/"
		if store != nil {
			store(c)
		}
	})
	if h.mtg.store == nil {
		t.Fatal("the store keeps no meetings")
	}
	ctx := context.Background()
	start := t0.Add(time.Hour)
	ms, err := h.CreateMeeting(ctx, vetnet.Meeting{Title: "培训", Kind: vetnet.MeetingTraining, Start: start, End: start.Add(time.Hour),
		Invite: vetnet.Invitation{Levels: []vetnet.Level{vetnet.LevelVillage}, Under: "st-d-t1"}, Veterans: true}, nil, "admin")
	if err != nil {
		t.Fatal(err)
	}
	m := ms[0]
	if strings.Join(m.Stations, ",") != "st-d-t1-v1,st-d-t1-v2" || h.MeetingLink(m) != "https://meet.district.lan/"+m.Room {
		t.Fatalf("meeting %+v link %q", m, h.MeetingLink(m))
	}
	p, _ := h.tr.lastMeetings(t, "st-d-t1-v1")
	if len(p.Meetings) != 1 || p.Meetings[0].ID != m.ID || p.Meetings[0].Link == "" {
		t.Fatalf("v1 got %+v", p)
	}
	if p, n := h.tr.lastMeetings(t, "st-d-post"); n != 1 || len(p.Meetings) != 0 {
		t.Fatalf("the post got %+v (%d sets)", p, n)
	}
	// Nothing changed for the post: not sent again.
	h.syncMeetings(false)
	if _, n := h.tr.lastMeetings(t, "st-d-post"); n != 1 {
		t.Fatalf("unchanged set sent again: %d", n)
	}
	// A series of 3 weekly meetings for v2.
	series, err := h.CreateMeeting(ctx, vetnet.Meeting{Title: "例会", Kind: vetnet.MeetingSupervision, Start: start.Add(24 * time.Hour),
		End: start.Add(25 * time.Hour), Invite: vetnet.Invitation{Stations: []string{"st-d-t1-v2"}}}, &vetnet.Recurrence{Freq: vetnet.Weekly, Count: 3}, "admin")
	if err != nil || len(series) != 3 || series[2].SeriesID != series[0].ID || !series[2].Start.Equal(start.Add(15*24*time.Hour)) {
		t.Fatalf("series %+v %v", series, err)
	}
	if p, _ := h.tr.lastMeetings(t, "st-d-t1-v2"); len(p.Meetings) != 4 {
		t.Fatalf("v2 has %d meetings", len(p.Meetings))
	}
	cancelled, err := h.CancelMeeting(ctx, series[1].ID, true, "admin")
	if err != nil || len(cancelled) != 3 {
		t.Fatalf("cancel series: %d %v", len(cancelled), err)
	}
	if p, _ := h.tr.lastMeetings(t, "st-d-t1-v2"); len(p.Meetings) != 4 || !p.Meetings[1].Cancelled || p.Meetings[0].Cancelled {
		t.Fatalf("v2 after the cancellation: %+v", p.Meetings)
	}

	// v1 online from before the start; v2 offline throughout, its staff
	// roll-call arriving after the end.
	h.HandleMessage(wire.Topic("st-d-t1-v1", wire.KindStatus), statusMsg(t, "st-d-t1-v1", wire.StateOnline, wire.StatusConnect, t0, 3600))
	h.clock.Add(2*time.Hour + 10*time.Minute) // past the end
	b := wire.NewCheckInBatch("st-d-t1-v2", "r1-1", h.clock.Now(), nil)
	b.Records = []wire.RecordV1{wire.RollCallToWire(vetnet.RollCall{ID: "01KB1Q2900ABCDEFGHJKMNPQRS", MeetingID: m.ID, Staff: "v2-head",
		Role: vetnet.RoleHead, Method: vetnet.RollCallBadge, At: start.Add(2 * time.Minute)})}
	payload, _ := b.Encode()
	for i := 0; i < 2; i++ {
		ack := h.HandleMessage(wire.Topic("st-d-t1-v2", wire.KindCheckIns), payload)
		if ack == nil || len(ack.IDs) != 1 || len(ack.Rejected) != 0 {
			t.Fatalf("ack %+v", ack)
		}
	}
	r, err := h.Roster(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]roster.Station{}
	for _, s := range r.Stations {
		got[s.ID] = s
	}
	if s := got["st-d-t1-v1"]; s.Status != roster.Joined || s.Source != "presence" {
		t.Errorf("v1 %+v", s)
	}
	if s := got["st-d-t1-v2"]; s.Status != roster.Joined || s.Source != "rollcall" || !s.ReportedLate || s.Staff != 1 {
		t.Errorf("v2 %+v", s)
	}
	if v := h.c.rollCalls.Value("stored"); v != 1 {
		t.Errorf("roll-calls stored %d", v)
	}
}

// signInAs adds a person and signs them in; it returns a bearer token.
func (h *testHub) signInAs(t *testing.T, u cloud.User, password string) string {
	t.Helper()
	hash, err := auth.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	u.PasswordHash, u.CreatedAt = hash, t0
	if err := h.Store().PutUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/session", strings.NewReader(`{"user":"`+u.Name+`","password":"`+password+`"}`)))
	var body struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Token == "" {
		t.Fatalf("sign-in: %d %s", rec.Code, rec.Body)
	}
	return body.Token
}

func TestMeetingRights(t *testing.T) {
	h := newTestHub(t, "", nil)
	town := h.signInAs(t, cloud.User{Name: "town1", Role: cloud.RoleTownAdmin, Station: "st-d-t1"}, "town-password-2026")
	auditor := h.signInAs(t, cloud.User{Name: "aud", Role: cloud.RoleAuditor}, "audit-password-2026")
	staff := h.signInAs(t, cloud.User{Name: "v1", Role: cloud.RoleStationStaff, Station: "st-d-t1-v1"}, "staff-password-2026")
	post := func(token, body string) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/api/v1/meetings", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		h.Handler().ServeHTTP(rec, req)
		return rec.Code
	}
	when := `"start":"2026-11-27T09:00:00+08:00","end":"2026-11-27T10:00:00+08:00"`
	for _, tt := range []struct {
		name, token, body string
		code              int
	}{
		{"town admin, own town by level", town, `{"title":"镇培训","kind":"training",` + when + `,"invite":{"levels":["village"]}}`, 201},
		{"town admin, another station", town, `{"title":"x","kind":"training",` + when + `,"invite":{"stations":["st-d-post"]}}`, 403},
		{"town admin, the district", town, `{"title":"x","kind":"training",` + when + `,"invite":{"levels":["village"],"under":"st-d"}}`, 403},
		{"auditor", auditor, `{"title":"x","kind":"training",` + when + `,"invite":{"stations":["st-d-t1"]}}`, 403},
		{"station staff", staff, `{"title":"x","kind":"training",` + when + `,"invite":{"stations":["st-d-t1-v1"]}}`, 403},
		{"no title", town, `{"title":"","kind":"training",` + when + `,"invite":{"stations":["st-d-t1"]}}`, 400},
		{"veterans at supervision", town, `{"title":"x","kind":"supervision","veterans":true,` + when + `,"invite":{"stations":["st-d-t1"]}}`, 201},
		{"bad kind", town, `{"title":"x","kind":"party",` + when + `,"invite":{"stations":["st-d-t1"]}}`, 400},
		{"nobody invited", town, `{"title":"x","kind":"training",` + when + `,"invite":{}}`, 400},
		{"unknown field", town, `{"title":"x","kind":"training","agenda":"y",` + when + `,"invite":{"stations":["st-d-t1"]}}`, 400},
	} {
		if code := post(tt.token, tt.body); code != tt.code {
			t.Errorf("%s: %d, want %d", tt.name, code, tt.code)
		}
	}
	// The station staff sees the town's meeting (it invites its station)
	// but not the one of the town centre alone.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/v1/meetings", nil)
	req.Header.Set("Authorization", "Bearer "+staff)
	h.Handler().ServeHTTP(rec, req)
	var list struct {
		Meetings []struct {
			Title     string `json:"title"`
			CanManage bool   `json:"can_manage"`
		} `json:"meetings"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || len(list.Meetings) != 1 || list.Meetings[0].Title != "镇培训" || list.Meetings[0].CanManage {
		t.Fatalf("staff's list: %s", rec.Body)
	}
}
