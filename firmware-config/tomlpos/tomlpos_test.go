package tomlpos_test

import (
	"testing"

	"github.com/vetnet/vetnet/firmware-config/tomlpos"
)

func TestLines(t *testing.T) {
	text := `# comment
title = "x"   # 2

[[station]]   # 4
id = "a"
services = [
  "b",        # id = "not a key"
]
notes = """
[[station]]
"""
[[station.staff]] # 12
id = "s1"
[[station]]   # 14
id = "c"
[station.extra]
k = 1         # 17
[[station.staff]]
badge = "x"   # 19
`
	ix := tomlpos.New(text)
	tests := map[string]int{
		"title":                     2,
		"station[0]":                4,
		"station[0].id":             5,
		"station[0].services":       6,
		"station[0].notes":          9,
		"station[0].staff[0]":       12,
		"station[0].staff[0].id":    13,
		"station[1].id":             15,
		"station[1].extra.k":        17,
		"station[1].staff[0].badge": 19,
		"station[1].parent":         14, // absent: its table
		"station[0].staff[0].role":  12,
		"nothing":                   0,
	}
	for path, want := range tests {
		if got := ix.Line(path); got != want {
			t.Errorf("Line(%q) = %d, want %d", path, got, want)
		}
	}
	if p, n := ix.Undecoded("station.staff.badge"); n != 19 || p != "station[1].staff[0].badge" {
		t.Errorf("Undecoded: %s %d", p, n)
	}
}
