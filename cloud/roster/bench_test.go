package roster_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/roster"
)

// BenchmarkCompute: a meeting of a district's 1,000 stations (50 towns of
// 19 villages and a post), each with six presence transitions and three
// roll-calls.
func BenchmarkCompute(b *testing.B) {
	reg := []vetnet.Station{{ID: "d", Level: vetnet.LevelDistrict}}
	m := vetnet.Meeting{ID: "01KB1P0000MTNGABCDEFGHJKMN", Start: t0, End: t0.Add(time.Hour), Roles: []vetnet.StaffRole{vetnet.RoleHead}}
	logs := map[string][]cloud.LogEntry{}
	var att []cloud.Attendance
	for t := 0; t < 50; t++ {
		town := fmt.Sprintf("t%02d", t)
		reg = append(reg, vetnet.Station{ID: town, Level: vetnet.LevelTown, Parent: "d"})
		for v := 0; v < 20; v++ {
			id := fmt.Sprintf("%s-v%02d", town, v)
			reg = append(reg, vetnet.Station{ID: id, Level: vetnet.LevelVillage, Parent: town})
		}
	}
	for _, st := range reg[1:] {
		m.Stations = append(m.Stations, st.ID)
		for i := 0; i < 6; i++ {
			s := cloud.StateOnline
			if i%2 == 1 {
				s = cloud.StateOffline
			}
			logs[st.ID] = append(logs[st.ID], pres(st.ID, -10+i*12, s))
		}
		for i := 0; i < 3; i++ {
			att = append(att, cloud.Attendance{ID: fmt.Sprintf("%s-%d", st.ID, i), MeetingID: m.ID, Station: st.ID, Kind: cloud.AttendStaff,
				Staff: fmt.Sprintf("%s-s%d", st.ID, i), Role: vetnet.RoleHead, At: t0.Add(time.Duration(i) * time.Minute), ReceivedAt: t0})
		}
	}
	in := roster.Input{Meeting: m, Registry: reg, Log: logs, Attendance: att, Grace: 5 * time.Minute, Early: 30 * time.Minute, Now: t0.Add(2 * time.Hour)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := roster.Compute(in)
		if len(r.Stations) != len(m.Stations) {
			b.Fatal(len(r.Stations))
		}
	}
}
