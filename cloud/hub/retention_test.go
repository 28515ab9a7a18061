package hub

import (
	"context"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/wire"
)

// TestAnonymise: check-ins older than AnonymiseAfter lose their ID number
// and name; newer ones keep them; counts and statistics stay; the counter
// says how many.
func TestAnonymise(t *testing.T) {
	h := newTestHub(t, "", func(c *Config) { c.AnonymiseAfter = 30 * time.Minute })
	cs := checkIns(t, 3, station, 1, 60) // one a minute from t0-1h
	if ack := h.HandleMessage(wire.Topic(station, wire.KindCheckIns), batch(t, station, "1", cs)); ack == nil || ack.Error != nil {
		t.Fatalf("ack %+v", ack)
	}
	ctx := context.Background()
	stats := func() []cloud.StatsRow {
		rows, err := h.Store().CheckInStats(ctx, cloud.StatsQuery{GroupBy: []cloud.Dim{cloud.DimStation, cloud.DimHour, cloud.DimService}})
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	before := stats()
	n := h.Anonymise(ctx)
	cut := t0.Add(-30 * time.Minute)
	want := 0
	for _, c := range cs {
		if c.At.Before(cut) {
			want++
		}
	}
	if n != want || want == 0 || want == len(cs) {
		t.Fatalf("anonymised %d, want %d of %d", n, want, len(cs))
	}
	if got := h.c.anonymised.Sum(); got != uint64(want) {
		t.Fatalf("counter %d", got)
	}
	for _, c := range cs {
		got, err := h.Store().CheckIn(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if old := c.At.Before(cut); old != (got.Visitor == vetnet.Visitor{DocType: c.Visitor.DocType}) {
			t.Fatalf("check-in at %v (old %v): visitor %+v", c.At, old, got.Visitor)
		}
	}
	after := stats()
	if len(before) != len(after) {
		t.Fatalf("statistics changed: %v → %v", before, after)
	}
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("statistics changed: %v → %v", before[i], after[i])
		}
	}
	if n, _ := h.Store().CountCheckIns(ctx, cloud.CheckInFilter{}); n != len(cs) {
		t.Fatalf("count %d", n)
	}
	if again := h.Anonymise(ctx); again != 0 {
		t.Fatalf("second sweep changed %d", again)
	}
}

func TestAnonymiseOff(t *testing.T) {
	h := newTestHub(t, "", nil)
	cs := checkIns(t, 4, station, 1, 5)
	h.HandleMessage(wire.Topic(station, wire.KindCheckIns), batch(t, station, "1", cs))
	h.clock.Add(1000 * 24 * time.Hour)
	if n := h.Anonymise(context.Background()); n != 0 {
		t.Fatalf("anonymised %d with retention off", n)
	}
}
