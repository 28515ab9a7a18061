// Package storetest is the conformance suite of cloud.Store: every store
// implementation (the embedded SQLite store now, PostgreSQL later) runs
// Run from its own tests and must pass all of it. The suite checks what
// the hub relies on: idempotence by check-in ID, all-or-nothing batches,
// keyset paging without gaps or repeats, filters, stats and the presence
// round trip.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/vetnettest"
)

// T0 is the base time of the suite's check-ins.
var T0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// NewCheckIns returns n valid check-ins of station with sequence numbers
// from firstSeq, At from start in steps of step, synthetic visitors from r
// and ReceivedAt set to start plus an hour (the hub's clock).
func NewCheckIns(tb testing.TB, r *rand.Rand, station string, firstSeq uint64, n int, start time.Time, step time.Duration) []vetnet.CheckIn {
	tb.Helper()
	out := make([]vetnet.CheckIn, n)
	for i := range out {
		at := start.Add(time.Duration(i) * step)
		id, err := vetnet.NewCheckInID(at, randReader{r})
		if err != nil {
			tb.Fatal(err)
		}
		sv := vetnet.Services[r.IntN(len(vetnet.Services))]
		info, _ := sv.Info()
		out[i] = vetnet.CheckIn{
			ID: id, StationID: station, Seq: firstSeq + uint64(i), Visitor: vetnettest.Veteran(r),
			Service: sv, Method: vetnet.MethodCard, QueueNo: fmt.Sprintf("%c%03d", info.QueuePrefix, i+1),
			At: at, ReceivedAt: start.Add(time.Hour),
		}
		if len(info.Options) > 0 && i%2 == 0 { // every other one with a sub-choice, when its service has them
			out[i].Detail = info.Options[i%len(info.Options)].Key
		}
	}
	return out
}

// NewFeedback makes a rating of each check-in, a minute after it, with
// ratings drawn from r (a fifth of them bad, with a reason).
func NewFeedback(tb testing.TB, r *rand.Rand, cs []vetnet.CheckIn) []vetnet.Feedback {
	tb.Helper()
	out := make([]vetnet.Feedback, len(cs))
	for i, c := range cs {
		at := c.At.Add(time.Minute)
		id, err := vetnet.NewCheckInID(at, randReader{r})
		if err != nil {
			tb.Fatal(err)
		}
		f := vetnet.Feedback{ID: id, StationID: c.StationID, CheckInID: c.ID, Service: c.Service,
			Rating: vetnet.Rating(3 + r.IntN(3)), At: at, ReceivedAt: c.ReceivedAt}
		if r.IntN(5) == 0 {
			f.Rating = vetnet.Rating(1 + r.IntN(2))
			f.Reasons = []vetnet.Reason{vetnet.Reasons[r.IntN(len(vetnet.Reasons))]}
			f.Comment = "等候时间太长"
		}
		out[i] = f
	}
	return out
}

type randReader struct{ r *rand.Rand }

func (rr randReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(rr.r.Uint32())
	}
	return len(p), nil
}

// Stations returns a small valid tree: a district, a town, two villages
// and a post.
func Stations() []vetnet.Station {
	return []vetnet.Station{
		{ID: "st-d", Name: "测试区退役军人服务中心", NameEN: "Test District Centre", Level: vetnet.LevelDistrict},
		{ID: "st-d-t1", Name: "一号镇退役军人服务站", NameEN: "Town One", Level: vetnet.LevelTown, Parent: "st-d",
			Services: []vetnet.Service{vetnet.ServiceBenefits, vetnet.ServiceEmployment}},
		{ID: "st-d-t1-v1", Name: "一村退役军人服务站", Level: vetnet.LevelVillage, Parent: "st-d-t1", Address: "一村村委会", Contact: "0519-0000"},
		{ID: "st-d-t1-v2", Name: "二村退役军人服务站", Level: vetnet.LevelVillage, Parent: "st-d-t1"},
		{ID: "st-d-post", Name: "车站驿站", Level: vetnet.LevelPost, Parent: "st-d"},
	}
}

// Run runs the conformance suite. open must return a new, empty store
// whose statistics use the zone Zone; Run closes it (a store's Close may
// be called twice).
func Run(t *testing.T, open func(t *testing.T) cloud.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s cloud.Store)
	}{
		{"Stations", testStations},
		{"SaveAndRead", testSaveAndRead},
		{"Idempotent", testIdempotent},
		{"Atomic", testAtomic},
		{"ConcurrentSaves", testConcurrentSaves},
		{"Paging", testPaging},
		{"PagingWhileInserting", testPagingWhileInserting},
		{"Filters", testFilters},
		{"BadCursor", testBadCursor},
		{"Stats", testStats},
		{"Presence", testPresence},
		{"SeqOrder", testSeqOrder},
		{"Feedback", testFeedback},
		{"VisitsAndDuty", testVisitsAndDuty},
		{"SeqRuns", testSeqRuns},
		{"Closed", testClosed},
	}
	tests = append(tests, dashboardTests...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tt.fn(t, s)
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func testStations(t *testing.T, s cloud.Store) {
	want := Stations()
	if err := s.UpsertStations(ctx(t), want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Stations(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	sorted := append([]vetnet.Station(nil), want...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	if !reflect.DeepEqual(normStations(got), normStations(sorted)) {
		t.Fatalf("stations\n%+v\nwant\n%+v", got, sorted)
	}

	// Upsert replaces one and adds one, and keeps the others.
	changed := want[3]
	changed.Name = "二村服务站(新址)"
	changed.Services = []vetnet.Service{vetnet.ServiceRecords}
	added := vetnet.Station{ID: "st-d-t1-v3", Name: "三村退役军人服务站", Level: vetnet.LevelVillage, Parent: "st-d-t1"}
	if err := s.UpsertStations(ctx(t), []vetnet.Station{changed, added}); err != nil {
		t.Fatal(err)
	}
	got, err = s.Stations(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want)+1 {
		t.Fatalf("%d stations after upsert, want %d", len(got), len(want)+1)
	}
	byID := map[string]vetnet.Station{}
	for _, st := range got {
		byID[st.ID] = st
	}
	if !reflect.DeepEqual(normStations([]vetnet.Station{byID[changed.ID]}), normStations([]vetnet.Station{changed})) {
		t.Fatalf("upserted station %+v, want %+v", byID[changed.ID], changed)
	}

	bad := vetnet.Station{ID: "Bad ID", Name: "x", Level: vetnet.LevelDistrict}
	err = s.UpsertStations(ctx(t), []vetnet.Station{added, bad})
	if vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("invalid station: %v, want code invalid", err)
	}
}

// normStations makes empty and nil service lists compare equal.
func normStations(ss []vetnet.Station) []vetnet.Station {
	out := make([]vetnet.Station, len(ss))
	for i, st := range ss {
		if len(st.Services) == 0 {
			st.Services = nil
		}
		out[i] = st
	}
	return out
}

// equalCheckIn compares check-ins with time.Equal for the times.
func equalCheckIn(a, b vetnet.CheckIn) bool {
	if !a.At.Equal(b.At) || !a.ReceivedAt.Equal(b.ReceivedAt) {
		return false
	}
	a.At, b.At, a.ReceivedAt, b.ReceivedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

func mustSave(t *testing.T, s cloud.Store, cs []vetnet.CheckIn) []string {
	t.Helper()
	ins, err := cloud.SaveCheckIns(ctx(t), s, cs)
	if err != nil {
		t.Fatal(err)
	}
	return ins
}

// all pages through the filter with the given page size and returns every
// row, failing on a repeated ID.
func all(t *testing.T, s cloud.Store, f cloud.CheckInFilter, limit int) []vetnet.CheckIn {
	t.Helper()
	f.Limit = limit
	var out []vetnet.CheckIn
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("paging does not end")
		}
		p, err := s.CheckIns(ctx(t), f)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.CheckIns) > f.PageLimit() {
			t.Fatalf("page of %d rows, limit %d", len(p.CheckIns), f.PageLimit())
		}
		for _, c := range p.CheckIns {
			if seen[c.ID] {
				t.Fatalf("check-in %s repeated across pages", c.ID)
			}
			seen[c.ID] = true
			out = append(out, c)
		}
		if p.Next == "" {
			return out
		}
		if len(p.CheckIns) == 0 {
			t.Fatal("an empty page with a next cursor")
		}
		f.Cursor = p.Next
	}
}

// newestFirst sorts as the store must: At, then ID, descending.
func newestFirst(cs []vetnet.CheckIn) []vetnet.CheckIn {
	out := append([]vetnet.CheckIn(nil), cs...)
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.After(out[j].At)
		}
		return out[i].ID > out[j].ID
	})
	return out
}

func sameOrder(t *testing.T, got, want []vetnet.CheckIn) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d check-ins, want %d", len(got), len(want))
	}
	for i := range got {
		if !equalCheckIn(got[i], want[i]) {
			t.Fatalf("check-in %d:\n%+v\nwant\n%+v", i, got[i], want[i])
		}
	}
}

func testSaveAndRead(t *testing.T, s cloud.Store) {
	r := rand.New(rand.NewPCG(1, 2))
	cs := NewCheckIns(t, r, "st-a", 1, 5, T0, time.Minute)
	// Every field, including optional ones, must survive.
	cs[1].Visitor.Name = ""
	cs[1].Method, cs[1].Staff = vetnet.MethodManual, "xb-0107"
	cs[2].Visitor = vetnet.Visitor{IDNumber: cs[2].Visitor.IDNumber, Name: "John Smith", DocType: vetnet.DocForeign}
	cs[3].QueueNo = ""
	cs[4].At = T0.Add(123456789 * time.Nanosecond) // sub-second precision
	ins := mustSave(t, s, cs)
	if len(ins) != len(cs) {
		t.Fatalf("inserted %d, want %d", len(ins), len(cs))
	}
	for i, id := range ins {
		if id != cs[i].ID {
			t.Fatalf("inserted[%d] = %s, want %s (input order)", i, id, cs[i].ID)
		}
	}
	got := all(t, s, cloud.CheckInFilter{}, 0)
	sameOrder(t, got, newestFirst(cs))
	for _, c := range got {
		if c.At.Location() != time.UTC || c.ReceivedAt.Location() != time.UTC {
			t.Fatalf("times not in UTC: %v %v", c.At, c.ReceivedAt)
		}
	}
}

func testIdempotent(t *testing.T, s cloud.Store) {
	r := rand.New(rand.NewPCG(3, 4))
	cs := NewCheckIns(t, r, "st-a", 1, 10, T0, time.Minute)
	if got := mustSave(t, s, cs[:6]); len(got) != 6 {
		t.Fatalf("first save inserted %d, want 6", len(got))
	}
	// The same batch again: nothing new.
	if got := mustSave(t, s, cs[:6]); len(got) != 0 {
		t.Fatalf("repeated batch inserted %v", got)
	}
	// A regrouped batch overlapping the stored ones, with a changed row: only
	// the new ones are stored, and the stored row is left as it was.
	again := append([]vetnet.CheckIn(nil), cs[4:]...)
	again[0].QueueNo = "Z999"
	again[0].ReceivedAt = T0.Add(48 * time.Hour)
	got := mustSave(t, s, again)
	if !reflect.DeepEqual(got, []string{cs[6].ID, cs[7].ID, cs[8].ID, cs[9].ID}) {
		t.Fatalf("overlapping batch inserted %v", got)
	}
	rows := all(t, s, cloud.CheckInFilter{}, 3)
	sameOrder(t, rows, newestFirst(cs))
	if n, err := s.CountCheckIns(ctx(t), cloud.CheckInFilter{}); err != nil || n != 10 {
		t.Fatalf("count %d, %v; want 10", n, err)
	}
	if got := mustSave(t, s, nil); len(got) != 0 {
		t.Fatalf("empty save inserted %v", got)
	}
}

func testAtomic(t *testing.T, s cloud.Store) {
	r := rand.New(rand.NewPCG(5, 6))
	cs := NewCheckIns(t, r, "st-a", 1, 4, T0, time.Minute)
	tests := []struct {
		name   string
		break_ func(c *vetnet.CheckIn)
	}{
		{"empty id", func(c *vetnet.CheckIn) { c.ID = "" }},
		{"zero at", func(c *vetnet.CheckIn) { c.At = time.Time{} }},
		{"zero received", func(c *vetnet.CheckIn) { c.ReceivedAt = time.Time{} }},
		{"no station", func(c *vetnet.CheckIn) { c.StationID = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			batch := append([]vetnet.CheckIn(nil), cs...)
			tt.break_(&batch[2])
			ins, err := cloud.SaveCheckIns(ctx(t), s, batch)
			if vetnet.ErrorCode(err) != vetnet.EINVALID {
				t.Fatalf("got %v, %v; want code invalid", ins, err)
			}
			if n, err := s.CountCheckIns(ctx(t), cloud.CheckInFilter{}); err != nil || n != 0 {
				t.Fatalf("%d rows stored after a failed batch (%v); want none", n, err)
			}
		})
	}
	// A batch that repeats an ID inside itself stores the first only.
	dup := []vetnet.CheckIn{cs[0], cs[1], cs[0]}
	if got := mustSave(t, s, dup); len(got) != 2 {
		t.Fatalf("batch with a repeated ID inserted %v", got)
	}
}

func testConcurrentSaves(t *testing.T, s cloud.Store) {
	r := rand.New(rand.NewPCG(7, 8))
	cs := NewCheckIns(t, r, "st-a", 1, 60, T0, time.Second)
	// Eight writers send overlapping windows of the same check-ins, as
	// resending stations and several hub replicas would.
	var mu sync.Mutex
	inserted := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for start := w % 3; start < len(cs); start += 7 {
				end := min(start+12, len(cs))
				ins, err := cloud.SaveCheckIns(context.Background(), s, cs[start:end])
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, id := range ins {
					inserted[id]++
				}
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for id, n := range inserted {
		if n != 1 {
			t.Fatalf("%s reported inserted %d times", id, n)
		}
	}
	if len(inserted) != len(cs) {
		t.Fatalf("%d reported inserted, want %d", len(inserted), len(cs))
	}
	sameOrder(t, all(t, s, cloud.CheckInFilter{}, 7), newestFirst(cs))
}

// ties returns check-ins of several stations where many share an At, so
// that paging must break ties by ID.
func ties(t *testing.T, seed uint64) []vetnet.CheckIn {
	r := rand.New(rand.NewPCG(seed, seed+1))
	var cs []vetnet.CheckIn
	for i, st := range []string{"st-a", "st-b", "st-c"} {
		batch := NewCheckIns(t, r, st, 1, 40+i*7, T0, 30*time.Second)
		for j := range batch {
			if j%3 == 0 { // a third share their At with every other station
				batch[j].At = T0.Add(time.Duration(j/3) * time.Minute)
			}
		}
		cs = append(cs, batch...)
	}
	return cs
}

func testPaging(t *testing.T, s cloud.Store) {
	cs := ties(t, 9)
	for i := 0; i < len(cs); i += 25 {
		mustSave(t, s, cs[i:min(i+25, len(cs))])
	}
	want := newestFirst(cs)
	for _, limit := range []int{1, 2, 7, 50, 1000} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			sameOrder(t, all(t, s, cloud.CheckInFilter{}, limit), want)
		})
	}
	p, err := s.CheckIns(ctx(t), cloud.CheckInFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.CheckIns) != cloud.DefaultLimit {
		t.Fatalf("default page of %d, want %d", len(p.CheckIns), cloud.DefaultLimit)
	}
	exact, err := s.CheckIns(ctx(t), cloud.CheckInFilter{Limit: len(cs)})
	if err != nil {
		t.Fatal(err)
	}
	if len(exact.CheckIns) != len(cs) {
		t.Fatalf("page of %d, want %d", len(exact.CheckIns), len(cs))
	}
	if exact.Next != "" {
		// A store may return a cursor when the page is exactly full, but
		// the next page must then be empty and final.
		last, err := s.CheckIns(ctx(t), cloud.CheckInFilter{Limit: len(cs), Cursor: exact.Next})
		if err != nil || len(last.CheckIns) != 0 || last.Next != "" {
			t.Fatalf("page after the last: %d rows, next %q, %v", len(last.CheckIns), last.Next, err)
		}
	}
}

func testPagingWhileInserting(t *testing.T, s cloud.Store) {
	r := rand.New(rand.NewPCG(11, 12))
	old := NewCheckIns(t, r, "st-a", 1, 30, T0, time.Minute)
	mustSave(t, s, old)
	f := cloud.CheckInFilter{Limit: 4}
	var got []vetnet.CheckIn
	for i := 0; ; i++ {
		p, err := s.CheckIns(ctx(t), f)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.CheckIns...)
		// Newer check-ins arrive between pages: they belong before the
		// first page and must not show up on later ones.
		mustSave(t, s, NewCheckIns(t, r, "st-b", uint64(1+2*i), 2, T0.Add(time.Duration(24+i)*time.Hour), time.Second))
		if p.Next == "" {
			break
		}
		f.Cursor = p.Next
	}
	sameOrder(t, got, newestFirst(old))
}

func testFilters(t *testing.T, s cloud.Store) {
	cs := ties(t, 13)
	mustSave(t, s, cs)
	from, to := T0.Add(5*time.Minute), T0.Add(12*time.Minute)
	tests := []struct {
		name string
		f    cloud.CheckInFilter
		keep func(c vetnet.CheckIn) bool
	}{
		{"all", cloud.CheckInFilter{}, func(vetnet.CheckIn) bool { return true }},
		{"station", cloud.CheckInFilter{Station: "st-b"}, func(c vetnet.CheckIn) bool { return c.StationID == "st-b" }},
		{"unknown station", cloud.CheckInFilter{Station: "st-zz"}, func(vetnet.CheckIn) bool { return false }},
		{"from", cloud.CheckInFilter{From: from}, func(c vetnet.CheckIn) bool { return !c.At.Before(from) }},
		{"to", cloud.CheckInFilter{To: to}, func(c vetnet.CheckIn) bool { return c.At.Before(to) }},
		{"from to station", cloud.CheckInFilter{Station: "st-c", From: from, To: to}, func(c vetnet.CheckIn) bool {
			return c.StationID == "st-c" && !c.At.Before(from) && c.At.Before(to)
		}},
		{"from in another zone", cloud.CheckInFilter{From: from.In(time.FixedZone("CST", 8*3600))}, func(c vetnet.CheckIn) bool { return !c.At.Before(from) }},
		{"empty range", cloud.CheckInFilter{From: to, To: from}, func(vetnet.CheckIn) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []vetnet.CheckIn
			for _, c := range cs {
				if tt.keep(c) {
					want = append(want, c)
				}
			}
			sameOrder(t, all(t, s, tt.f, 6), newestFirst(want))
			n, err := s.CountCheckIns(ctx(t), tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(want) {
				t.Fatalf("count %d, want %d", n, len(want))
			}
		})
	}
}

// testSeqOrder stores a station's check-ins out of order, with a clock
// that jumps back hours in the middle: in sequence order the timeline is
// the order the station made them, across pages of every size.
func testSeqOrder(t *testing.T, s cloud.Store) {
	r := rand.New(rand.NewPCG(21, 22))
	cs := NewCheckIns(t, r, "st-a", 1, 60, T0, time.Minute)
	for i := 30; i < 60; i++ { // the clock was reset 5 hours back at seq 31
		cs[i].At = cs[i].At.Add(-5 * time.Hour)
	}
	other := NewCheckIns(t, r, "st-b", 1, 10, T0, time.Minute)
	// Arrival order: the second half first, then the first half, in
	// batches, as after a resend.
	mustSave(t, s, append(append([]vetnet.CheckIn(nil), cs[30:]...), other...))
	mustSave(t, s, cs[:30])
	for _, limit := range []int{1, 7, 60, 500} {
		got := all(t, s, cloud.CheckInFilter{Station: "st-a", Order: cloud.OrderSeq}, limit)
		if len(got) != len(cs) {
			t.Fatalf("limit %d: %d check-ins, want %d", limit, len(got), len(cs))
		}
		for i, c := range got {
			if c.Seq != uint64(i+1) || c.ID != cs[i].ID {
				t.Fatalf("limit %d: position %d holds seq %d", limit, i, c.Seq)
			}
		}
	}
	if _, err := s.CheckIns(ctx(t), cloud.CheckInFilter{Order: cloud.OrderSeq}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Errorf("sequence order without a station: %v", err)
	}
	if _, err := s.CheckIns(ctx(t), cloud.CheckInFilter{Station: "st-a", Order: "alphabetical"}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Errorf("unknown order: %v", err)
	}
	// A cursor of one order is refused by the other.
	p, err := s.CheckIns(ctx(t), cloud.CheckInFilter{Station: "st-a", Order: cloud.OrderSeq, Limit: 5})
	if err != nil || p.Next == "" {
		t.Fatal(p, err)
	}
	if _, err := s.CheckIns(ctx(t), cloud.CheckInFilter{Station: "st-a", Cursor: p.Next}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Errorf("a sequence cursor in time order: %v", err)
	}
}

// testFeedback stores check-ins and their ratings in one batch, once,
// whatever is resent, and reads the ratings back page by page; a batch
// with one bad rating stores none of it.
func testFeedback(t *testing.T, s cloud.Store) {
	r := rand.New(rand.NewPCG(25, 26))
	cs := NewCheckIns(t, r, "st-a", 1, 30, T0, time.Minute)
	fs := NewFeedback(t, r, cs)
	saved, err := s.Save(ctx(t), cloud.Batch{CheckIns: cs[:20], Feedback: fs[:10]})
	if err != nil || len(saved.CheckIns) != 20 || len(saved.Feedback) != 10 {
		t.Fatalf("save: %d check-ins, %d ratings, %v", len(saved.CheckIns), len(saved.Feedback), err)
	}
	saved, err = s.Save(ctx(t), cloud.Batch{CheckIns: cs[10:], Feedback: fs})
	if err != nil || len(saved.CheckIns) != 10 || len(saved.Feedback) != 20 || saved.Feedback[0] != fs[10].ID {
		t.Fatalf("resend: %d check-ins, %d ratings, %v", len(saved.CheckIns), len(saved.Feedback), err)
	}
	bad := NewFeedback(t, r, cs[:2])
	bad[1].ReceivedAt = time.Time{}
	more := NewCheckIns(t, r, "st-a", 31, 1, T0.Add(time.Hour), time.Minute)
	if _, err := s.Save(ctx(t), cloud.Batch{CheckIns: more, Feedback: bad}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("a batch with a bad rating: %v", err)
	}
	if n, _ := s.CountCheckIns(ctx(t), cloud.CheckInFilter{Station: "st-a"}); n != 30 {
		t.Fatalf("a refused batch stored check-ins: %d", n)
	}
	var got []vetnet.Feedback
	f := cloud.CheckInFilter{Station: "st-a", Limit: 7}
	for {
		p, err := s.Feedback(ctx(t), f)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.Feedback...)
		if p.Next == "" {
			break
		}
		f.Cursor = p.Next
	}
	if len(got) != len(fs) {
		t.Fatalf("read %d ratings, want %d", len(got), len(fs))
	}
	byID := map[string]vetnet.Feedback{}
	for _, x := range fs {
		byID[x.ID] = x
	}
	for i, x := range got {
		want := byID[x.ID]
		if i > 0 && got[i-1].At.Before(x.At) {
			t.Fatal("ratings not newest first")
		}
		if x.CheckInID != want.CheckInID || x.Rating != want.Rating || x.Service != want.Service || x.Comment != want.Comment ||
			!reflect.DeepEqual(x.Reasons, want.Reasons) || !x.At.Equal(want.At) || !x.ReceivedAt.Equal(want.ReceivedAt) {
			t.Fatalf("rating %s read back as %+v, want %+v", x.ID, x, want)
		}
	}
	if p, _ := s.Feedback(ctx(t), cloud.CheckInFilter{Station: "st-b"}); len(p.Feedback) != 0 {
		t.Fatal("station filter")
	}
}

func testSeqRuns(t *testing.T, s cloud.Store) {
	if runs, err := s.SeqRuns(ctx(t)); err != nil || len(runs) != 0 {
		t.Fatalf("runs of an empty store: %v, %v", runs, err)
	}
	r := rand.New(rand.NewPCG(23, 24))
	a := NewCheckIns(t, r, "st-a", 1, 90, T0, time.Minute)
	var keep []vetnet.CheckIn
	for _, c := range a {
		if (c.Seq < 41 || c.Seq > 42) && c.Seq != 60 {
			keep = append(keep, c)
		}
	}
	mustSave(t, s, keep)
	mustSave(t, s, NewCheckIns(t, r, "st-b", 5, 3, T0, time.Minute))
	// A station whose store was wiped repeats numbers with new IDs.
	mustSave(t, s, NewCheckIns(t, r, "st-b", 1, 2, T0.Add(time.Hour), time.Minute))
	runs, err := s.SeqRuns(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]cloud.SeqRun{
		"st-a": {{First: 1, Last: 40}, {First: 43, Last: 59}, {First: 61, Last: 90}},
		"st-b": {{First: 1, Last: 2}, {First: 5, Last: 7}},
	}
	if !reflect.DeepEqual(runs, want) {
		t.Fatalf("runs %v, want %v", runs, want)
	}
}

func testBadCursor(t *testing.T, s cloud.Store) {
	for _, c := range []string{"x", "!!!", "bm90IGEgY3Vyc29y", "MTIzOg"} {
		_, err := s.CheckIns(ctx(t), cloud.CheckInFilter{Cursor: c})
		if vetnet.ErrorCode(err) != vetnet.EINVALID {
			t.Errorf("cursor %q: %v, want code invalid", c, err)
		}
	}
}

func testStats(t *testing.T, s cloud.Store) {
	r := rand.New(rand.NewPCG(15, 16))
	a := NewCheckIns(t, r, "st-a", 1, 10, T0, time.Hour) // 09:00 .. 18:00
	b := NewCheckIns(t, r, "st-b", 7, 3, T0.Add(-48*time.Hour), time.Minute)
	mustSave(t, s, append(a, b...))
	stats, err := s.StationStats(ctx(t), T0.Add(5*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]cloud.StationStats{
		"st-a": {CheckInsSince: 5, LastSeq: 10, LastAt: a[9].At},
		"st-b": {CheckInsSince: 0, LastSeq: 9, LastAt: b[2].At},
	}
	if len(stats) != len(want) {
		t.Fatalf("stats %+v, want %+v", stats, want)
	}
	for id, w := range want {
		g := stats[id]
		if g.CheckInsSince != w.CheckInsSince || g.LastSeq != w.LastSeq || !g.LastAt.Equal(w.LastAt) {
			t.Errorf("%s: %+v, want %+v", id, g, w)
		}
	}
}

func testPresence(t *testing.T, s cloud.Store) {
	if ps, err := s.Presences(ctx(t)); err != nil || len(ps) != 0 {
		t.Fatalf("presences of an empty store: %v, %v", ps, err)
	}
	oldest := T0.Add(-90 * time.Second)
	ps := []cloud.Presence{
		{Station: "st-b", State: cloud.StateOnline, Since: T0, Reason: "connect", LastSeen: T0.Add(time.Minute),
			LastHeartbeat: T0.Add(time.Minute), HeartbeatS: 15, Agent: "0.1.0", ConfigVersion: "c0123456789ab",
			ConnectedAt: T0.Add(-time.Second), UptimeS: 61, ClockSkew: -3*time.Hour - 1500*time.Millisecond,
			Disk:    cloud.Disk{FreeBytes: 40 << 20, FileBytes: 3 << 20, Low: true},
			Outbox:  cloud.Backlog{Depth: 3, OldestAt: oldest, LastSeq: 42, Rejected: 1},
			Readers: []cloud.Reader{{Name: "idcard0", Kind: "idcard", State: "ok"}, {Name: "qr0", Kind: "qr", State: "fault", Detail: "timeout"}}},
		{Station: "st-a", State: cloud.StateOffline, Since: T0.Add(time.Hour), Reason: "will", LastSeen: T0},
	}
	if err := s.SavePresence(ctx(t), ps); err != nil {
		t.Fatal(err)
	}
	got, err := s.Presences(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []cloud.Presence{ps[1], ps[0]}
	if !equalPresences(got, want) {
		t.Fatalf("presences\n%+v\nwant\n%+v", got, want)
	}
	// Replacing one leaves the other.
	ps[0].State, ps[0].Since, ps[0].Reason, ps[0].Readers = cloud.StateStale, T0.Add(2*time.Hour), "heartbeat_missed", nil
	ps[0].Outbox = cloud.Backlog{}
	if err := s.SavePresence(ctx(t), ps[:1]); err != nil {
		t.Fatal(err)
	}
	got, err = s.Presences(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if !equalPresences(got, []cloud.Presence{ps[1], ps[0]}) {
		t.Fatalf("after replace\n%+v", got)
	}
	err = s.SavePresence(ctx(t), []cloud.Presence{{Station: "NOT VALID", State: cloud.StateOnline}})
	if vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("invalid station: %v, want code invalid", err)
	}
}

func equalPresences(a, b []cloud.Presence) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		for _, p := range [][2]*time.Time{{&x.Since, &y.Since}, {&x.LastSeen, &y.LastSeen}, {&x.LastHeartbeat, &y.LastHeartbeat},
			{&x.ConnectedAt, &y.ConnectedAt}, {&x.Outbox.OldestAt, &y.Outbox.OldestAt}} {
			if !p[0].Equal(*p[1]) {
				return false
			}
			*p[0], *p[1] = time.Time{}, time.Time{}
		}
		if len(x.Readers) == 0 && len(y.Readers) == 0 {
			x.Readers, y.Readers = nil, nil
		}
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

func testClosed(t *testing.T, s cloud.Store) {
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := cloud.SaveCheckIns(ctx(t), s, NewCheckIns(t, rand.New(rand.NewPCG(1, 1)), "st-a", 1, 1, T0, 0))
	if vetnet.ErrorCode(err) != vetnet.EUNAVAILABLE {
		t.Fatalf("save after close: %v, want code unavailable", err)
	}
	if err := s.Ping(ctx(t)); vetnet.ErrorCode(err) != vetnet.EUNAVAILABLE {
		t.Fatalf("ping after close: %v, want code unavailable", err)
	}
	var e *vetnet.Error
	if errors.As(err, &e) && e.Message == "" {
		t.Fatal("error without a message for people")
	}
}

// NewVisits makes the steps of each check-in's ticket: called a minute
// after it, then served two minutes later (every third one transferred
// instead), by staff member staff at counter "1号窗口".
func NewVisits(tb testing.TB, r *rand.Rand, cs []vetnet.CheckIn, staff string) []vetnet.VisitEvent {
	tb.Helper()
	var out []vetnet.VisitEvent
	for i, c := range cs {
		for j, a := range []vetnet.VisitAction{vetnet.VisitCalled, vetnet.VisitServed} {
			at := c.At.Add(time.Duration(1+2*j) * time.Minute)
			id, err := vetnet.NewCheckInID(at, randReader{r})
			if err != nil {
				tb.Fatal(err)
			}
			e := vetnet.VisitEvent{ID: id, StationID: c.StationID, CheckInID: c.ID, Action: a, Service: c.Service,
				QueueNo: c.QueueNo, Staff: staff, Counter: "1号窗口", At: at, ReceivedAt: c.ReceivedAt}
			if a == vetnet.VisitServed && i%3 == 0 {
				e.Action, e.ToService, e.ToQueueNo = vetnet.VisitTransferred, vetnet.ServiceLegalAid, fmt.Sprintf("L%03d", i+1)
				if c.Service == vetnet.ServiceLegalAid {
					e.ToService, e.ToQueueNo = vetnet.ServiceBenefits, fmt.Sprintf("B%03d", i+1)
				}
			}
			out = append(out, e)
		}
	}
	return out
}

// NewDuty makes n duty events of station, alternately on and off, an hour
// apart from start.
func NewDuty(tb testing.TB, r *rand.Rand, station, staff string, n int, start time.Time) []vetnet.DutyEvent {
	tb.Helper()
	out := make([]vetnet.DutyEvent, n)
	for i := range out {
		at := start.Add(time.Duration(i) * time.Hour)
		id, err := vetnet.NewCheckInID(at, randReader{r})
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = vetnet.DutyEvent{ID: id, StationID: station, Staff: staff, On: i%2 == 0, At: at, ReceivedAt: at.Add(time.Minute)}
	}
	return out
}

func testVisitsAndDuty(t *testing.T, s cloud.Store) {
	r := rand.New(rand.NewPCG(31, 32))
	cs := NewCheckIns(t, r, "st-a", 1, 12, T0, time.Minute)
	vs := NewVisits(t, r, cs, "xb-0107")
	ds := NewDuty(t, r, "st-a", "xb-0107", 5, T0.Add(-time.Hour))
	saved, err := s.Save(ctx(t), cloud.Batch{CheckIns: cs[:6], Visits: vs[:10], Duty: ds[:2]})
	if err != nil || len(saved.CheckIns) != 6 || len(saved.Visits) != 10 || len(saved.Duty) != 2 {
		t.Fatalf("save: %+v, %v", saved, err)
	}
	// A resent batch with more: only the new ones are stored.
	saved, err = s.Save(ctx(t), cloud.Batch{CheckIns: cs, Visits: vs, Duty: ds})
	if err != nil || len(saved.CheckIns) != 6 || len(saved.Visits) != len(vs)-10 || len(saved.Duty) != 3 ||
		saved.Visits[0] != vs[10].ID || saved.Duty[0] != ds[2].ID {
		t.Fatalf("resend: %+v, %v", saved, err)
	}
	// All or nothing: a bad duty event stores none of its batch.
	more := NewCheckIns(t, r, "st-a", 13, 1, T0.Add(2*time.Hour), time.Minute)
	moreVisits := NewVisits(t, r, more, "")
	bad := NewDuty(t, r, "st-a", "xb-0107", 1, T0.Add(3*time.Hour))
	bad[0].ReceivedAt = time.Time{}
	if _, err := s.Save(ctx(t), cloud.Batch{CheckIns: more, Visits: moreVisits, Duty: bad}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("a batch with a bad duty event: %v", err)
	}
	badVisit := NewVisits(t, r, more, "")[:1]
	badVisit[0].CheckInID = ""
	if _, err := s.Save(ctx(t), cloud.Batch{CheckIns: more, Visits: badVisit}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("a batch with a bad visit event: %v", err)
	}
	if p, _ := s.VisitEvents(ctx(t), cloud.CheckInFilter{Limit: cloud.MaxLimit}); len(p.Visits) != len(vs) {
		t.Fatalf("a refused batch stored visit events: %d", len(p.Visits))
	}
	if n, _ := s.CountCheckIns(ctx(t), cloud.CheckInFilter{}); n != len(cs) {
		t.Fatalf("a refused batch stored check-ins: %d", n)
	}

	// Read back in pages, newest first, every field as sent.
	var got []vetnet.VisitEvent
	f := cloud.CheckInFilter{Station: "st-a", Limit: 5}
	for {
		p, err := s.VisitEvents(ctx(t), f)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.Visits...)
		if p.Next == "" {
			break
		}
		f.Cursor = p.Next
	}
	if len(got) != len(vs) {
		t.Fatalf("read %d visit events, want %d", len(got), len(vs))
	}
	byID := map[string]vetnet.VisitEvent{}
	for _, e := range vs {
		byID[e.ID] = e
	}
	for i, e := range got {
		want := byID[e.ID]
		if i > 0 && got[i-1].At.Before(e.At) {
			t.Fatal("visit events not newest first")
		}
		if !e.At.Equal(want.At) || !e.ReceivedAt.Equal(want.ReceivedAt) {
			t.Fatalf("visit event %s times %v %v, want %v %v", e.ID, e.At, e.ReceivedAt, want.At, want.ReceivedAt)
		}
		e.At, e.ReceivedAt, want.At, want.ReceivedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if e != want {
			t.Fatalf("visit event read back as %+v, want %+v", e, want)
		}
	}
	dp, err := s.DutyEvents(ctx(t), cloud.CheckInFilter{Station: "st-a", Limit: 2})
	if err != nil || len(dp.Duty) != 2 || dp.Next == "" || dp.Duty[0].ID != ds[4].ID || !dp.Duty[0].On || dp.Duty[1].On ||
		dp.Duty[0].Staff != "xb-0107" || !dp.Duty[0].At.Equal(ds[4].At) || !dp.Duty[0].ReceivedAt.Equal(ds[4].ReceivedAt) {
		t.Fatalf("duty page %+v %v", dp, err)
	}
	dp, err = s.DutyEvents(ctx(t), cloud.CheckInFilter{Station: "st-a", Limit: 2, Cursor: dp.Next})
	if err != nil || len(dp.Duty) != 2 || dp.Duty[0].ID != ds[2].ID {
		t.Fatalf("second duty page %+v %v", dp, err)
	}
	if dp, _ := s.DutyEvents(ctx(t), cloud.CheckInFilter{From: T0}); len(dp.Duty) != 4 {
		t.Fatalf("duty from T0: %d", len(dp.Duty))
	}
	if p, _ := s.VisitEvents(ctx(t), cloud.CheckInFilter{Station: "st-b"}); len(p.Visits) != 0 {
		t.Fatal("station filter")
	}
	if _, err := s.VisitEvents(ctx(t), cloud.CheckInFilter{Cursor: "%%%"}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("bad cursor: %v", err)
	}
	// A check-in's sub-choice is kept.
	page, err := s.CheckIns(ctx(t), cloud.CheckInFilter{Station: "st-a", Order: cloud.OrderSeq, Limit: cloud.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	details := 0
	for i, c := range page.CheckIns {
		if c.Detail != cs[i].Detail {
			t.Fatalf("check-in %d detail %q, want %q", i, c.Detail, cs[i].Detail)
		}
		if c.Detail != "" {
			details++
		}
	}
	if details == 0 {
		t.Fatal("no check-in with a detail to compare")
	}
}
