package hub

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
)

// BenchmarkRoster: the live board's read of a meeting of 1,000 stations
// (50 towns of 19 villages), each with six presence transitions in the
// store's station log and three staff roll-calls: what each "meeting"
// event costs the hub per open board.
func BenchmarkRoster(b *testing.B) {
	reg := []vetnet.Station{{ID: "bd", Name: "区", Level: vetnet.LevelDistrict}}
	for t := 0; t < 50; t++ {
		town := fmt.Sprintf("bd-t%02d", t)
		reg = append(reg, vetnet.Station{ID: town, Name: town, Level: vetnet.LevelTown, Parent: "bd"})
		for v := 0; v < 19; v++ {
			reg = append(reg, vetnet.Station{ID: fmt.Sprintf("%s-v%02d", town, v), Name: "村", Level: vetnet.LevelVillage, Parent: town})
		}
	}
	c := &clock{t: t0}
	h, err := New(Config{DataDir: b.TempDir(), Stations: reg, Now: c.Now, Logf: func(string, ...any) {}, AdminPassword: testAdminPassword})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	ctx := context.Background()
	start := t0.Add(time.Hour)
	ms, err := h.CreateMeeting(ctx, vetnet.Meeting{Title: "培训", Kind: vetnet.MeetingTraining, Start: start, End: start.Add(time.Hour),
		Invite: vetnet.Invitation{Levels: []vetnet.Level{vetnet.LevelTown, vetnet.LevelVillage}}}, nil, "admin")
	if err != nil {
		b.Fatal(err)
	}
	m := ms[0]
	var log []cloud.LogEntry
	var rcs []vetnet.RollCall
	for i, st := range m.Stations {
		for j := 0; j < 6; j++ {
			s := cloud.StateOnline
			if j%2 == 1 {
				s = cloud.StateOffline
			}
			log = append(log, cloud.LogEntry{Station: st, At: start.Add(time.Duration(-10+j*12) * time.Minute), Kind: cloud.LogPresence, State: string(s)})
		}
		for j := 0; j < 3; j++ {
			id, _ := vetnet.NewCheckInID(start.Add(time.Duration(i*3+j)*time.Millisecond), nil)
			rcs = append(rcs, vetnet.RollCall{ID: id, StationID: st, MeetingID: m.ID, Staff: fmt.Sprintf("s%d-%d", i, j), Role: vetnet.RoleHead,
				Method: vetnet.RollCallBadge, At: start.Add(time.Duration(j) * time.Minute), ReceivedAt: start})
		}
	}
	if err := h.store.AppendLog(ctx, log); err != nil {
		b.Fatal(err)
	}
	if _, err := h.store.Save(ctx, cloud.Batch{RollCalls: rcs}); err != nil {
		b.Fatal(err)
	}
	c.Add(3 * time.Hour)
	b.ResetTimer()
	for b.Loop() {
		r, err := h.Roster(ctx, m)
		if err != nil || len(r.Stations) != 1000 || r.Total.Staff != 3000 {
			b.Fatalf("%v %d %+v", err, len(r.Stations), r.Total)
		}
	}
}
