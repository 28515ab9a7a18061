package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
)

// MeetingStore is a store that keeps meetings.
type MeetingStore interface {
	cloud.Store
	cloud.MeetingStore
}

// RunMeetings runs the conformance suite of cloud.MeetingStore against
// a fresh store from open (closed when the test ends): meetings and their
// filters, attendance stored by Save once however often it is sent (and
// the ID numbers and names of roll-call check-ins read back in full, and
// gone after ErasePerson), follow-ups, and the presence log of a roster.
func RunMeetings(t *testing.T, open func(t *testing.T) MeetingStore) {
	s := open(t)
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	t0 := time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC)
	m := vetnet.Meeting{ID: "01KB1P0000MTNGABCDEFGHJKMN", SeriesID: "01KB1P0000MTNGABCDEFGHJKMN", Title: "培训", Kind: vetnet.MeetingTraining,
		Start: t0, End: t0.Add(time.Hour), Room: "vetnet-1", Stations: []string{"cz-b", "cz-a"},
		Invite: vetnet.Invitation{Levels: []vetnet.Level{vetnet.LevelVillage}, Under: "cz"}, Roles: []vetnet.StaffRole{vetnet.RoleHead, vetnet.RoleGrid},
		Veterans: true, CreatedBy: "admin", CreatedAt: t0.Add(-time.Hour), UpdatedAt: t0.Add(-time.Hour)}
	m2 := m
	m2.ID, m2.Start, m2.End, m2.Stations = "01KB1P1000MTNGABCDEFGHJKMN", t0.Add(7*24*time.Hour), t0.Add(7*24*time.Hour+time.Hour), []string{"cz-c"}
	if err := s.PutMeetings(ctx, []vetnet.Meeting{m2, m}); err != nil {
		t.Fatal(err)
	}
	bad := m
	bad.ID, bad.Title = "01KB1P2000MTNGABCDEFGHJKMN", ""
	if err := s.PutMeetings(ctx, []vetnet.Meeting{bad}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("invalid meeting: %v", err)
	}
	got, err := s.Meeting(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != m.Title || !got.Start.Equal(m.Start) || len(got.Stations) != 2 || got.Stations[0] != "cz-b" || got.Invite.Under != "cz" ||
		len(got.Invite.Levels) != 1 || len(got.Roles) != 2 || !got.Veterans || got.SeriesID != m.SeriesID {
		t.Fatalf("read back %+v", got)
	}
	if _, err := s.Meeting(ctx, "01KB1P9000MTNGABCDEFGHJKMN"); vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		t.Fatalf("missing meeting: %v", err)
	}
	// Cancel one: gone from the default list, there with WithCancelled.
	got.Cancelled = true
	if err := s.PutMeetings(ctx, []vetnet.Meeting{got}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		f    cloud.MeetingFilter
		want int
	}{
		{"all not cancelled", cloud.MeetingFilter{}, 1},
		{"all", cloud.MeetingFilter{WithCancelled: true}, 2},
		{"by station", cloud.MeetingFilter{Station: "cz-a", WithCancelled: true}, 1},
		{"by scope", cloud.MeetingFilter{Stations: []string{"cz-c", "cz-x"}, WithCancelled: true}, 1},
		{"empty scope", cloud.MeetingFilter{Stations: []string{}, WithCancelled: true}, 0},
		{"ending after", cloud.MeetingFilter{EndsAfter: t0.Add(2 * time.Hour), WithCancelled: true}, 1},
		{"starting before", cloud.MeetingFilter{StartsBefore: t0.Add(time.Hour), WithCancelled: true}, 1},
		{"series", cloud.MeetingFilter{Series: m.SeriesID, WithCancelled: true}, 2},
	} {
		ms, err := s.Meetings(ctx, tt.f)
		if err != nil || len(ms) != tt.want {
			t.Errorf("%s: %d meetings (%v), want %d", tt.name, len(ms), err, tt.want)
		}
	}

	// Attendance comes with Save: a roll-call, and a check-in naming the
	// meeting; both once, however often they are sent.
	rc := vetnet.RollCall{ID: "01KB1Q2900ABCDEFGHJKMNPQRS", StationID: "cz-a", MeetingID: m.ID, Staff: "a-1", Role: vetnet.RoleHead,
		Method: vetnet.RollCallBadge, At: t0.Add(time.Minute), ReceivedAt: t0.Add(3 * time.Hour)}
	c := vetnet.CheckIn{ID: "01KB1Q3100ABCDEFGHJKMNPQRS", StationID: "cz-a", Seq: 1, At: t0.Add(2 * time.Minute), ReceivedAt: t0.Add(3 * time.Hour),
		Service: vetnet.ServiceTraining, Method: vetnet.MethodCard, Meeting: m.ID,
		Visitor: vetnet.Visitor{IDNumber: "320411195801150016", Name: "张建国", DocType: vetnet.DocResident}}
	plain := c
	plain.ID, plain.Seq, plain.Meeting, plain.Service = "01KB1Q3200ABCDEFGHJKMNPQRS", 2, "", vetnet.ServiceBenefits
	for i := 0; i < 2; i++ {
		saved, err := s.Save(ctx, cloud.Batch{CheckIns: []vetnet.CheckIn{c, plain}, RollCalls: []vetnet.RollCall{rc}})
		if err == nil && i == 0 && (len(saved.CheckIns) != 2 || saved.CheckIns[0] != c.ID) {
			t.Fatalf("save %d: check-ins %v", i, saved.CheckIns)
		}
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 && len(saved.RollCalls) != 1 || i == 1 && len(saved.RollCalls) != 0 {
			t.Fatalf("save %d: %+v", i, saved)
		}
	}
	// A batch of roll-calls alone is stored too.
	rc2 := rc
	rc2.ID, rc2.Staff, rc2.At = "01KB1Q2A00ABCDEFGHJKMNPQRS", "b-1", t0.Add(3*time.Minute)
	rc2.StationID = "cz-b"
	if saved, err := s.Save(ctx, cloud.Batch{RollCalls: []vetnet.RollCall{rc2}}); err != nil || len(saved.RollCalls) != 1 {
		t.Fatalf("roll-call alone: %+v %v", saved, err)
	}
	att, err := s.Attendance(ctx, cloud.AttendanceFilter{Meeting: m.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(att) != 3 || att[2].ID != rc2.ID || att[2].Station != "cz-b" || att[0].Kind != cloud.AttendStaff || att[0].Staff != "a-1" || att[0].Role != vetnet.RoleHead || !att[0].ReceivedAt.Equal(rc.ReceivedAt) ||
		att[1].Kind != cloud.AttendPerson || att[1].IDNumber != "320411195801150016" || att[1].Name != "张建国" || att[1].Method != "card" {
		t.Fatalf("attendance %+v", att)
	}
	if att, _ := s.Attendance(ctx, cloud.AttendanceFilter{From: t0, To: t0.Add(90 * time.Second), Stations: []string{"cz-a"}}); len(att) != 1 {
		t.Fatalf("attendance by period: %+v", att)
	}
	if att, _ := s.Attendance(ctx, cloud.AttendanceFilter{From: t0, To: t0.Add(time.Hour), Stations: []string{"cz-b"}}); len(att) != 1 || att[0].ID != rc2.ID {
		t.Fatalf("attendance by period and station: %+v", att)
	}
	if att, _ := s.Attendance(ctx, cloud.AttendanceFilter{Meeting: m.ID, Stations: []string{}}); len(att) != 0 {
		t.Fatalf("attendance by period: %+v", att)
	}
	if _, err := s.Attendance(ctx, cloud.AttendanceFilter{}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("attendance of everything: %v", err)
	}
	badRC := rc
	badRC.MeetingID = ""
	if _, err := s.Save(ctx, cloud.Batch{RollCalls: []vetnet.RollCall{badRC}}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("roll-call without a meeting: %v", err)
	}

	// Erasing the person removes their ID number and name from the
	// attendance too; the row stays.
	if _, err := s.ErasePerson(ctx, c.Visitor.IDNumber, t0.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if att, err := s.Attendance(ctx, cloud.AttendanceFilter{Meeting: m.ID}); err != nil || len(att) != 3 || att[1].ID != c.ID || att[1].IDNumber != "" || att[1].Name != "" {
		t.Fatalf("attendance after erasure: %+v %v", att, err)
	}

	// Follow-ups.
	if _, err := s.AddFollowUp(ctx, cloud.FollowUp{MeetingID: m.ID, Station: "cz-b", At: t0, By: "admin", Outcome: "dinner"}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("bad outcome: %v", err)
	}
	id, err := s.AddFollowUp(ctx, cloud.FollowUp{MeetingID: m.ID, Station: "cz-b", At: t0.Add(2 * time.Hour), By: "admin", Outcome: "no_answer", Note: "再打"})
	if err != nil || id == 0 {
		t.Fatal(err)
	}
	fus, err := s.FollowUps(ctx, m.ID)
	if err != nil || len(fus) != 1 || fus[0].Note != "再打" || fus[0].Station != "cz-b" || !fus[0].At.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("follow-ups %+v %v", fus, err)
	}

	// Presence of several stations at once: the state at from, then the
	// transitions inside; other kinds and stations left out.
	e := func(st string, min int, kind cloud.LogKind, state string) cloud.LogEntry {
		return cloud.LogEntry{Station: st, At: t0.Add(time.Duration(min) * time.Minute), Kind: kind, State: state}
	}
	if err := s.AppendLog(ctx, []cloud.LogEntry{
		e("cz-a", -30, cloud.LogPresence, "online"), e("cz-a", -20, cloud.LogPresence, "offline"), e("cz-a", -10, cloud.LogReader, "fault"),
		e("cz-a", 10, cloud.LogPresence, "online"), e("cz-a", 70, cloud.LogPresence, "offline"),
		e("cz-b", -5, cloud.LogPresence, "online"), e("cz-c", 5, cloud.LogPresence, "online"),
	}); err != nil {
		t.Fatal(err)
	}
	pl, err := s.PresenceLog(ctx, []string{"cz-a", "cz-b", "cz-x"}, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if a := pl["cz-a"]; len(a) != 2 || a[0].State != "offline" || !a[0].At.Equal(t0.Add(-20*time.Minute)) || a[1].State != "online" {
		t.Errorf("cz-a: %+v", a)
	}
	if b := pl["cz-b"]; len(b) != 1 || b[0].State != "online" {
		t.Errorf("cz-b: %+v", b)
	}
	if len(pl) != 2 {
		t.Errorf("stations: %v", pl)
	}
}
