package hub

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/vetnet/vetnet/cloud"
)

func TestSeqGaps(t *testing.T) {
	tests := []struct {
		name    string
		adds    [][]uint64
		missing uint64
		runs    []cloud.SeqRun
	}{
		{"none", nil, 0, nil},
		{"in order", [][]uint64{{1, 2, 3}, {4, 5}}, 0, nil},
		{"late start", [][]uint64{{3, 4}}, 2, []cloud.SeqRun{{First: 1, Last: 2}}},
		{"hole filled later", [][]uint64{{1, 2}, {5, 6}, {3, 4}}, 0, nil},
		{"two holes", [][]uint64{{1}, {3}, {6, 7}}, 3, []cloud.SeqRun{{First: 2, Last: 2}, {First: 4, Last: 5}}},
		{"repeats change nothing", [][]uint64{{1, 2, 3}, {2, 3}, {1}}, 0, nil},
		{"fill from the right", [][]uint64{{1}, {10}, {9}, {8}}, 6, []cloud.SeqRun{{First: 2, Last: 7}}},
		{"bridge two runs", [][]uint64{{1, 2}, {4, 5}, {3}}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSeqs(nil)
			var g Gaps
			for _, a := range tt.adds {
				g = s.add("st", a)
			}
			if g.Missing != tt.missing || !reflect.DeepEqual(g.Runs, tt.runs) {
				t.Fatalf("gaps %+v, want missing %d runs %v", g, tt.missing, tt.runs)
			}
		})
	}
}

// TestSeqRunsRandom checks the runs against a plain set under random
// arrival orders.
func TestSeqRunsRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		s := newSeqs(nil)
		held := map[uint64]bool{}
		for i := 0; i < 60; i++ {
			n := uint64(1 + r.IntN(80))
			held[n] = true
			s.add("st", []uint64{n})
		}
		var max uint64
		for n := range held {
			max = maxU(max, n)
		}
		var missing uint64
		for n := uint64(1); n <= max; n++ {
			if !held[n] {
				missing++
			}
		}
		g := s.gaps("st")
		if g.Max != max || g.Missing != missing {
			t.Fatalf("round %d: %+v, want max %d missing %d", round, g, max, missing)
		}
		rs := s.runs["st"]
		for i := 1; i < len(rs); i++ {
			if rs[i-1].Last+1 >= rs[i].First {
				t.Fatalf("runs not merged: %v", rs)
			}
		}
	}
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}
