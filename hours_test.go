package vetnet_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
)

func TestOpeningHours(t *testing.T) {
	h, err := vetnet.ParseOpeningHours([]string{"mon-fri 08:30-12:00,14:00-17:30", "sat,sun 09:00-11:00"})
	if err != nil {
		t.Fatal(err)
	}
	loc := time.FixedZone("CST", 8*3600)
	at := func(day, hh, mm int) time.Time { return time.Date(2026, 3, day, hh, mm, 0, 0, loc) } // 2026-03-02 is a Monday
	tests := []struct {
		name string
		t    time.Time
		open bool
	}{
		{"monday morning", at(2, 8, 30), true},
		{"monday before", at(2, 8, 29), false},
		{"monday lunch", at(2, 12, 0), false},
		{"friday afternoon", at(6, 17, 29), true},
		{"friday closing", at(6, 17, 30), false},
		{"saturday", at(7, 10, 0), true},
		{"sunday late", at(8, 11, 0), false},
	}
	for _, tt := range tests {
		if got := h.OpenAt(tt.t); got != tt.open {
			t.Errorf("%s: open %v, want %v", tt.name, got, tt.open)
		}
	}
	if !(vetnet.OpeningHours{}).OpenAt(at(2, 3, 0)) {
		t.Error("unpublished hours are always open")
	}
}

func TestOpeningHoursErrors(t *testing.T) {
	tests := []struct {
		name  string
		rules []string
		want  string
	}{
		{"no times", []string{"mon"}, "want"},
		{"bad day", []string{"mond 08:00-09:00"}, `"mond" is not a day`},
		{"backwards week", []string{"fri-mon 08:00-09:00"}, "runs backwards"},
		{"bad time", []string{"mon 8:00-09:00"}, "is not a time range"},
		{"late", []string{"mon 08:00-24:30"}, "is not a time range"},
		{"empty range", []string{"mon 09:00-09:00"}, "ends before it starts"},
		{"overlap", []string{"mon 08:00-12:00,11:00-13:00"}, "overlaps"},
		{"day twice", []string{"mon-fri 08:00-12:00", "wed 13:00-14:00"}, "wed is already named"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := vetnet.ParseOpeningHours(tt.rules)
			if err == nil || !strings.Contains(err.Error(), tt.want) || vetnet.ErrorCode(err) != vetnet.EINVALID {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
