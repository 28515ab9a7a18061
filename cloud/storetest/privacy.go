package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
)

// statsSnapshot reads the check-in and rating statistics by every
// dimension, for comparing before and after an erasure.
func statsSnapshot(t *testing.T, s cloud.Store) [][]cloud.StatsRow {
	t.Helper()
	var out [][]cloud.StatsRow
	for _, g := range [][]cloud.Dim{nil, {cloud.DimDay, cloud.DimService}, {cloud.DimStation, cloud.DimHour}} {
		rows, err := s.CheckInStats(ctx(t), cloud.StatsQuery{GroupBy: g})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rows)
	}
	rows, err := s.RatingStats(ctx(t), cloud.StatsQuery{GroupBy: []cloud.Dim{cloud.DimStation, cloud.DimRating}})
	if err != nil {
		t.Fatal(err)
	}
	return append(out, rows)
}

// testPersonData: one person's check-ins are found by ID number, exported
// in full with their ratings, and erased without changing the statistics;
// Anonymise does the same by age.
func testPersonData(t *testing.T, s cloud.Store) {
	cs, fs := seed(t, s)
	// Make one person a returning visitor: three check-ins at three stations.
	person := cs[0].Visitor
	again := []vetnet.CheckIn{cs[0]}
	for _, i := range []int{len(cs) / 3, len(cs) / 2} {
		c := cs[i]
		c.ID += "x"
		c.Seq += 100000
		c.Visitor = person
		c.At = c.At.Add(time.Second)
		again = append(again, c)
	}
	if _, err := s.Save(ctx(t), cloud.Batch{CheckIns: again[1:]}); err != nil {
		t.Fatal(err)
	}
	before := statsSnapshot(t, s)
	n0, _ := s.CountCheckIns(ctx(t), cloud.CheckInFilter{})

	pd, err := s.PersonData(ctx(t), person.IDNumber)
	if err != nil {
		t.Fatal(err)
	}
	if len(pd.CheckIns) != 3 {
		t.Fatalf("person's check-ins: %d, want 3", len(pd.CheckIns))
	}
	for _, c := range pd.CheckIns {
		if c.Visitor != person {
			t.Fatalf("another person's check-in: %+v", c.Visitor)
		}
	}
	if len(pd.Feedback) != 1 || pd.Feedback[0].ID != fs[0].ID {
		t.Fatalf("person's ratings: %+v", pd.Feedback)
	}
	if _, err := s.PersonData(ctx(t), ""); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("empty ID number: %v", err)
	}
	if pd, err := s.PersonData(ctx(t), "320411195003070011"); err != nil || len(pd.CheckIns) != 0 {
		t.Fatalf("a stranger: %+v %v", pd, err)
	}

	e, err := s.ErasePerson(ctx(t), person.IDNumber, T0)
	if err != nil {
		t.Fatal(err)
	}
	wantFB := 0
	if fs[0].Comment != "" {
		wantFB = 1
	}
	if e.CheckIns != 3 || e.Feedback != wantFB {
		t.Fatalf("erased %+v, want 3 check-ins, %d ratings", e, wantFB)
	}
	if pd, err := s.PersonData(ctx(t), person.IDNumber); err != nil || len(pd.CheckIns) != 0 {
		t.Fatalf("after erasure: %+v %v", pd, err)
	}
	c, err := s.CheckIn(ctx(t), cs[0].ID)
	if err != nil || c.Visitor.IDNumber != "" || c.Visitor.Name != "" || c.Service != cs[0].Service {
		t.Fatalf("erased check-in: %+v %v", c, err)
	}
	if other, err := s.CheckIn(ctx(t), cs[1].ID); err != nil || other.Visitor != cs[1].Visitor {
		t.Fatalf("another person's check-in after erasure: %+v %v", other, err)
	}
	if e, err := s.ErasePerson(ctx(t), person.IDNumber, T0); err != nil || e.CheckIns != 0 {
		t.Fatalf("second erasure: %+v %v", e, err)
	}

	// Retention: everything older than ten days loses its personal data.
	cut := T0.Add(-10 * 24 * time.Hour)
	old := 0
	for _, c := range append(cs, again[1:]...) {
		if c.At.Before(cut) && c.Visitor.IDNumber != person.IDNumber {
			old++
		}
	}
	total := 0
	for {
		n, err := s.Anonymise(ctx(t), cut, T0, 50)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		total += n
	}
	if total != old {
		t.Fatalf("anonymised %d, want %d", total, old)
	}
	p, err := s.CheckIns(ctx(t), cloud.CheckInFilter{Limit: cloud.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for ; ; p, err = s.CheckIns(ctx(t), cloud.CheckInFilter{Limit: cloud.MaxLimit, Cursor: p.Next}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.CheckIns {
			erased := c.ID == cs[0].ID || isAgain(c.ID, again)
			switch {
			case (c.At.Before(cut) || erased) && (c.Visitor.IDNumber != "" || c.Visitor.Name != ""):
				t.Fatalf("check-in at %v kept its personal data", c.At)
			case !c.At.Before(cut) && !erased && c.Visitor.IDNumber == "":
				t.Fatalf("recent check-in at %v lost its ID number", c.At)
			}
		}
		if p.Next == "" {
			break
		}
	}
	if n, _ := s.CountCheckIns(ctx(t), cloud.CheckInFilter{}); n != n0 {
		t.Fatalf("count %d after anonymising, want %d", n, n0)
	}
	if after := statsSnapshot(t, s); !reflect.DeepEqual(before, after) {
		t.Fatalf("statistics changed:\nbefore %v\nafter  %v", before, after)
	}
}

func isAgain(id string, again []vetnet.CheckIn) bool {
	for _, c := range again {
		if c.ID == id {
			return true
		}
	}
	return false
}
