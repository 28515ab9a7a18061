package storekit

import (
	"errors"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
)

func TestDayOf(t *testing.T) {
	sh := time.FixedZone("CST", 8*3600)
	for _, c := range []struct {
		t    time.Time
		want int64
	}{
		{time.Date(1970, 1, 1, 0, 0, 0, 0, sh), 0},
		{time.Date(1970, 1, 1, 23, 59, 59, 0, sh), 0},
		{time.Date(1969, 12, 31, 23, 59, 59, 0, sh), -1},
		{time.Date(1969, 12, 31, 0, 0, 0, 0, sh), -1},
		{time.Date(2026, 3, 1, 7, 0, 0, 0, time.UTC), 20513}, // 15:00 in CST
		{time.Date(2026, 2, 28, 16, 0, 0, 0, time.UTC), 20513},
		{time.Date(2026, 2, 28, 15, 59, 59, 0, time.UTC), 20512},
	} {
		if got := DayOf(c.t, sh); got != c.want {
			t.Errorf("DayOf(%v) = %d, want %d", c.t, got, c.want)
		}
		if got := DayStart(c.want, sh); DayOf(got, sh) != c.want || !IsMidnight(got, sh) {
			t.Errorf("DayStart(%d) = %v, not the midnight of that day", c.want, got)
		}
	}
	if IsMidnight(time.Date(2026, 3, 1, 0, 0, 0, 1, sh), sh) {
		t.Error("IsMidnight counts a nanosecond past midnight")
	}
	if !IsMidnight(time.Date(2026, 2, 28, 16, 0, 0, 0, time.UTC), sh) {
		t.Error("IsMidnight misses a midnight given in another zone")
	}
}

func TestClampTime(t *testing.T) {
	mid := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if got := ClampTime(mid); !got.Equal(mid) {
		t.Errorf("ClampTime(%v) = %v", mid, got)
	}
	if got := ClampTime(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)); got.Year() != 1680 {
		t.Errorf("ClampTime(year 1) = %v", got)
	}
	if got := ClampTime(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)); got.Year() != 2260 {
		t.Errorf("ClampTime(year 9999) = %v", got)
	}
}

func TestCompactStrings(t *testing.T) {
	got := CompactStrings([]string{"a", "a", "b", "c", "c", "c"})
	if len(got) != 3 || got[0] != "a" || got[1] != "b" || got[2] != "c" {
		t.Errorf("CompactStrings = %q", got)
	}
}

func TestDims(t *testing.T) {
	g, err := Dims(cloud.StatsQuery{GroupBy: []cloud.Dim{cloud.DimDay, cloud.DimStation}}, cloud.DimDay, cloud.DimStation, cloud.DimService)
	if err != nil || len(g) != 2 || !g[cloud.DimDay] || !g[cloud.DimStation] {
		t.Fatalf("Dims = %v, %v", g, err)
	}
	_, err = Dims(cloud.StatsQuery{GroupBy: []cloud.Dim{cloud.DimHour}}, cloud.DimDay)
	var e *vetnet.Error
	if !errors.As(err, &e) || e.Code != vetnet.EINVALID {
		t.Fatalf("Dims with a refused dimension: %v", err)
	}
}

func TestSealLabels(t *testing.T) {
	// The labels are the embedded store's: a change makes every sealed row
	// of both stores unreadable.
	if PurposeIDNumber != "vetnet/cloud/sqlite/checkins/id_number/v1" || PurposeCheck != "vetnet/cloud/sqlite/check/v1" {
		t.Error("a sealing purpose changed")
	}
	if string(AdOf("c1", "name")) != "checkin/c1/name" {
		t.Errorf("AdOf = %q", AdOf("c1", "name"))
	}
	k := make([]byte, 32)
	if h := KeyCheckHex(k); len(h) != 32 || h == KeyCheckHex(append([]byte{1}, k[1:]...)) {
		t.Errorf("KeyCheckHex = %q", h)
	}
}
