package vetnet_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
)

func meetingRegistry() []vetnet.Station {
	return []vetnet.Station{
		{ID: "d", Level: vetnet.LevelDistrict},
		{ID: "t1", Level: vetnet.LevelTown, Parent: "d"},
		{ID: "t1-v1", Level: vetnet.LevelVillage, Parent: "t1"},
		{ID: "t1-p", Level: vetnet.LevelPost, Parent: "t1"},
		{ID: "t2", Level: vetnet.LevelTown, Parent: "d"},
		{ID: "t2-v1", Level: vetnet.LevelVillage, Parent: "t2"},
	}
}

func TestInvitationResolve(t *testing.T) {
	tests := []struct {
		name string
		inv  vetnet.Invitation
		want string
		err  bool
	}{
		{"villages of a town", vetnet.Invitation{Levels: []vetnet.Level{vetnet.LevelVillage}, Under: "t1"}, "[t1-v1]", false},
		{"towns and villages of the district", vetnet.Invitation{Levels: []vetnet.Level{vetnet.LevelTown, vetnet.LevelVillage}}, "[t1 t1-v1 t2 t2-v1]", false},
		{"a subtree with its root", vetnet.Invitation{Levels: vetnet.Levels, Under: "t2"}, "[t2 t2-v1]", false},
		{"one by one and by level, no repeats", vetnet.Invitation{Levels: []vetnet.Level{vetnet.LevelVillage}, Under: "t1", Stations: []string{"t1-v1", "t2"}}, "[t1-v1 t2]", false},
		{"nothing", vetnet.Invitation{}, "[]", false},
		{"unknown station", vetnet.Invitation{Stations: []string{"x"}}, "", true},
		{"unknown subtree", vetnet.Invitation{Levels: vetnet.Levels, Under: "x"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.inv.Resolve(meetingRegistry())
			if (err != nil) != tt.err {
				t.Fatalf("err %v", err)
			}
			if !tt.err && fmt.Sprint(got) != tt.want {
				t.Fatalf("got %v, want %s", got, tt.want)
			}
		})
	}
}

func TestRecurrence(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	first := time.Date(2026, 1, 31, 9, 0, 0, 0, loc)
	tests := []struct {
		name string
		r    vetnet.Recurrence
		want []string
		err  bool
	}{
		{"weekly, 3", vetnet.Recurrence{Freq: vetnet.Weekly, Count: 3}, []string{"01-31", "02-07", "02-14"}, false},
		{"monthly on the 31st skips short months", vetnet.Recurrence{Freq: vetnet.Monthly, Count: 3}, []string{"01-31", "03-31", "05-31"}, false},
		{"weekly until a date", vetnet.Recurrence{Freq: vetnet.Weekly, Until: time.Date(2026, 2, 14, 23, 59, 0, 0, loc)}, []string{"01-31", "02-07", "02-14"}, false},
		{"count and until", vetnet.Recurrence{Freq: vetnet.Weekly, Count: 2, Until: first}, nil, true},
		{"neither", vetnet.Recurrence{Freq: vetnet.Weekly}, nil, true},
		{"daily", vetnet.Recurrence{Freq: "daily", Count: 2}, nil, true},
		{"too many", vetnet.Recurrence{Freq: vetnet.Weekly, Count: 105}, nil, true},
		{"until too far", vetnet.Recurrence{Freq: vetnet.Weekly, Until: first.AddDate(5, 0, 0)}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.r.Occurrences(first)
			if (err != nil) != tt.err {
				t.Fatalf("err %v", err)
			}
			var days []string
			for _, d := range got {
				days = append(days, d.Format("01-02"))
				if d.Hour() != 9 {
					t.Errorf("%v: not at 9:00", d)
				}
			}
			if !tt.err && fmt.Sprint(days) != fmt.Sprint(tt.want) {
				t.Fatalf("got %v, want %v", days, tt.want)
			}
		})
	}
}

func TestMeetingValidate(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC)
	ok := vetnet.Meeting{ID: "01KB1P0000MTNGABCDEFGHJKMN", Title: "培训", Kind: vetnet.MeetingTraining, Start: t0, End: t0.Add(time.Hour),
		Room: "vetnet-1", Stations: []string{"t1"}, Roles: []vetnet.StaffRole{vetnet.RoleHead}, Veterans: true}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(m *vetnet.Meeting){
		"no title":              func(m *vetnet.Meeting) { m.Title = " " },
		"unknown kind":          func(m *vetnet.Meeting) { m.Kind = "party" },
		"ends before it starts": func(m *vetnet.Meeting) { m.End = m.Start },
		"too long":              func(m *vetnet.Meeting) { m.End = m.Start.Add(13 * time.Hour) },
		"bad room":              func(m *vetnet.Meeting) { m.Room = "a room/../x" },
		"nobody invited":        func(m *vetnet.Meeting) { m.Stations = nil },
		"unknown role":          func(m *vetnet.Meeting) { m.Roles = []vetnet.StaffRole{"boss"} },
		"veterans at supervision": func(m *vetnet.Meeting) {
			m.Kind = vetnet.MeetingSupervision
		},
		"bad ID": func(m *vetnet.Meeting) { m.ID = "1" },
	} {
		m := ok
		f(&m)
		if err := m.Validate(); vetnet.ErrorCode(err) != vetnet.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
	c := vetnet.CheckIn{ID: "01KB1Q0V00ABCDEFGHJKMNPQRS", StationID: "cz-xb", Seq: 1, At: t0, Method: vetnet.MethodCard,
		Visitor: vetnet.Visitor{IDNumber: "320411195801150016", DocType: vetnet.DocResident},
		Meeting: "01KB1P0000MTNGABCDEFGHJKMN", Service: vetnet.ServiceTraining}
	if err := c.Validate(t0); err != nil {
		t.Fatalf("roll-call check-in: %v", err)
	}
	c.Service = vetnet.ServiceBenefits
	if err := c.Validate(t0); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Error("a roll-call check-in of another service was accepted")
	}
	c.Service, c.Meeting = vetnet.ServiceTraining, "lunch"
	if err := c.Validate(t0); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Error("a malformed meeting ID was accepted")
	}
}
