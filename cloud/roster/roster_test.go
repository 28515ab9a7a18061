package roster_test

import (
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/roster"
)

var t0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func registry() []vetnet.Station {
	return []vetnet.Station{
		{ID: "d", Name: "区中心", Level: vetnet.LevelDistrict},
		{ID: "t1", Name: "一镇", Level: vetnet.LevelTown, Parent: "d"},
		{ID: "t1-v1", Name: "一村", Level: vetnet.LevelVillage, Parent: "t1", Contact: "0519-1"},
		{ID: "t1-v2", Name: "二村", Level: vetnet.LevelVillage, Parent: "t1"},
		{ID: "t2", Name: "二镇", Level: vetnet.LevelTown, Parent: "d"},
		{ID: "t2-v1", Name: "三村", Level: vetnet.LevelVillage, Parent: "t2"},
		{ID: "p", Name: "驿站", Level: vetnet.LevelPost, Parent: "d"},
	}
}

func pres(st string, min int, s cloud.PresenceState) cloud.LogEntry {
	return cloud.LogEntry{Station: st, At: t0.Add(time.Duration(min) * time.Minute), Kind: cloud.LogPresence, State: string(s)}
}

func TestCompute(t *testing.T) {
	m := vetnet.Meeting{ID: "01KB1P0000MTNGABCDEFGHJKMN", Title: "培训", Kind: vetnet.MeetingTraining, Start: t0, End: t0.Add(time.Hour),
		Stations: []string{"t1", "t1-v1", "t1-v2", "t2", "t2-v1", "p"}, Roles: []vetnet.StaffRole{vetnet.RoleHead}}
	logs := map[string][]cloud.LogEntry{
		"t1":    {pres("t1", -30, cloud.StateOnline)},                                           // online throughout
		"t1-v1": {pres("t1-v1", -30, cloud.StateOffline), pres("t1-v1", 12, cloud.StateOnline)}, // late
		"t1-v2": {pres("t1-v2", -5, cloud.StateOnline), pres("t1-v2", 30, cloud.StateStale)},    // left early
		"t2":    {pres("t2", -60, cloud.StateOffline), pres("t2", 90, cloud.StateOnline)},       // offline, roll-call later
		// t2-v1: never seen; p: online only after the end
		"p": {pres("p", 70, cloud.StateOnline)},
	}
	att := []cloud.Attendance{
		{ID: "a1", MeetingID: m.ID, Station: "t2", Kind: cloud.AttendStaff, Staff: "s1", Role: vetnet.RoleHead, At: t0.Add(2 * time.Minute), ReceivedAt: t0.Add(91 * time.Minute)},
		{ID: "a2", MeetingID: m.ID, Station: "t2", Kind: cloud.AttendPerson, IDNumber: "X1", At: t0.Add(3 * time.Minute), ReceivedAt: t0.Add(91 * time.Minute)},
		{ID: "a3", MeetingID: m.ID, Station: "t2", Kind: cloud.AttendPerson, IDNumber: "X1", At: t0.Add(4 * time.Minute), ReceivedAt: t0.Add(91 * time.Minute)},
		{ID: "a4", MeetingID: m.ID, Station: "t1", Kind: cloud.AttendStaff, Staff: "s2", Role: vetnet.RoleOfficer, At: t0.Add(-10 * time.Minute), ReceivedAt: t0},
		// outside the window: does not count
		{ID: "a5", MeetingID: m.ID, Station: "t2-v1", Kind: cloud.AttendStaff, Staff: "s3", At: t0.Add(61 * time.Minute), ReceivedAt: t0.Add(61 * time.Minute)},
		{ID: "a6", MeetingID: m.ID, Station: "p", Kind: cloud.AttendStaff, Staff: "s4", At: t0.Add(-40 * time.Minute), ReceivedAt: t0},
	}
	in := roster.Input{Meeting: m, Registry: registry(), Log: logs, Attendance: att, Grace: 5 * time.Minute, Early: 30 * time.Minute}

	in.Now = t0.Add(2 * time.Hour)
	r := roster.Compute(in)
	want := map[string]roster.Status{"t1": roster.Joined, "t1-v1": roster.Late, "t1-v2": roster.LeftEarly, "t2": roster.Joined,
		"t2-v1": roster.Absent, "p": roster.Absent}
	for _, s := range r.Stations {
		if s.Status != want[s.ID] {
			t.Errorf("%s: %s, want %s", s.ID, s.Status, want[s.ID])
		}
	}
	byID := map[string]roster.Station{}
	for _, s := range r.Stations {
		byID[s.ID] = s
	}
	if s := byID["t2"]; s.Source != "rollcall" || !s.ReportedLate || s.Staff != 1 || s.Persons != 1 || len(s.MissingRoles) != 0 {
		t.Errorf("t2: %+v", s)
	}
	if s := byID["t1"]; s.Source != "both" || len(s.MissingRoles) != 1 || s.OnlineFor != time.Hour {
		t.Errorf("t1: %+v", s)
	}
	if s := byID["t1-v2"]; s.LeftAt == nil || !s.LeftAt.Equal(t0.Add(30*time.Minute)) || s.OnlineFor != 30*time.Minute {
		t.Errorf("t1-v2: %+v", s)
	}
	if r.Phase != roster.Ended || r.Total.Expected != 6 || r.Total.Joined != 4 || r.Total.Late != 1 || r.Total.LeftEarly != 1 || r.Total.Absent != 2 {
		t.Errorf("total %+v phase %s", r.Total, r.Phase)
	}
	if len(r.ByTown) != 3 || r.ByTown[0].Key != "" || r.ByTown[1].Key != "t1" || r.ByTown[1].Expected != 3 || r.ByTown[2].Joined != 1 {
		t.Errorf("by town %+v", r.ByTown)
	}
	if len(r.ByLevel) != 3 || r.ByLevel[0].Key != "town" || r.ByLevel[1].Expected != 3 {
		t.Errorf("by level %+v", r.ByLevel)
	}
	if a := r.Absentees(); len(a) != 2 || a[0].ID != "t2-v1" {
		t.Errorf("absentees %+v", a)
	}

	// During the meeting: before the grace nobody missing is absent yet;
	// after it they are, and a station still in its grace is pending.
	in.Now = t0.Add(3 * time.Minute)
	in.Attendance = nil
	r = roster.Compute(in)
	if byID := statuses(r); byID["t1-v1"] != roster.Pending || byID["t1"] != roster.Joined || byID["t2-v1"] != roster.Pending || r.Phase != roster.Live {
		t.Errorf("at +3m: %v", byID)
	}
	in.Now = t0.Add(10 * time.Minute)
	if byID := statuses(roster.Compute(in)); byID["t1-v1"] != roster.Absent {
		t.Errorf("at +10m: %v", byID)
	}
	// A station that comes online at the very moment of the roster.
	in.Now = t0.Add(12 * time.Minute)
	if byID := statuses(roster.Compute(in)); byID["t1-v1"] != roster.Late {
		t.Errorf("at +12m: %v", byID)
	}
	in.Now = t0.Add(-time.Minute)
	if r := roster.Compute(in); r.Phase != roster.Upcoming || r.Total.Pending != 6 {
		t.Errorf("before: %s %+v", r.Phase, r.Total)
	}
}

func statuses(r roster.Roster) map[string]roster.Status {
	out := map[string]roster.Status{}
	for _, s := range r.Stations {
		out[s.ID] = s.Status
	}
	return out
}
