package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/storetest"
)

// TestGroupCommitAttendance: concurrent Saves of batches holding roll-calls
// and roll-call check-ins, each batch sent twice (so groups hold the same
// IDs twice), store each attendance row once, each Save names exactly the
// roll-calls it stored first, and a person's row opens to the check-in's
// ID number.
func TestGroupCommitAttendance(t *testing.T) {
	s := MustOpen(t, nil)
	ctx := context.Background()
	const meeting = "01KB1P0000MTNGABCDEFGHJKMN"
	r := rand.New(rand.NewPCG(7, 7))
	cs := storetest.NewCheckIns(t, r, "st-a", 1, 60, storetest.T0, time.Minute)
	for i := range cs {
		if i%2 == 0 {
			cs[i].Meeting, cs[i].Service = meeting, vetnet.ServiceTraining
		}
	}
	var rcs []vetnet.RollCall
	for i := 0; i < 60; i++ {
		rcs = append(rcs, vetnet.RollCall{ID: fmt.Sprintf("01KB1Q%02dRCABCDEFGHJKMNPQRS", i), StationID: "st-a", MeetingID: meeting,
			Staff: fmt.Sprintf("a-%d", i), Role: vetnet.RoleHead, Method: vetnet.RollCallBadge,
			At: storetest.T0.Add(time.Duration(i) * time.Second), ReceivedAt: storetest.T0.Add(time.Hour)})
	}
	var mu sync.Mutex
	claimed := map[string]int{}
	var wg sync.WaitGroup
	for rep := 0; rep < 2; rep++ {
		for i := 0; i < len(cs); i += 6 {
			wg.Add(1)
			go func(b cloud.Batch) {
				defer wg.Done()
				saved, err := s.Save(ctx, b)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, id := range saved.RollCalls {
					claimed[id]++
				}
				mu.Unlock()
			}(cloud.Batch{CheckIns: cs[i : i+6], RollCalls: rcs[i : i+6]})
		}
	}
	wg.Wait()
	if len(claimed) != len(rcs) {
		t.Fatalf("%d roll-calls reported new, want %d", len(claimed), len(rcs))
	}
	for id, n := range claimed {
		if n != 1 {
			t.Fatalf("%s reported new %d times", id, n)
		}
	}
	att, err := s.Attendance(ctx, cloud.AttendanceFilter{Meeting: meeting})
	if err != nil {
		t.Fatal(err)
	}
	if len(att) != len(rcs)+len(cs)/2 {
		t.Fatalf("%d attendance rows, want %d", len(att), len(rcs)+len(cs)/2)
	}
	byID := map[string]cloud.Attendance{}
	for _, a := range att {
		byID[a.ID] = a
	}
	for i, c := range cs {
		a, ok := byID[c.ID]
		if ok != (i%2 == 0) {
			t.Fatalf("check-in %d in attendance: %v", i, ok)
		}
		if ok && (a.Kind != cloud.AttendPerson || a.IDNumber != c.Visitor.IDNumber || a.Name != c.Visitor.Name) {
			t.Fatalf("person row %+v, want %+v", a, c.Visitor)
		}
	}
}
