package hub

import (
	"sort"
	"sync"

	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/web"
)

// seqs tracks, per station, which sequence numbers the hub holds, as runs
// of consecutive numbers. A station sends in order, so a station normally
// has one run 1..N and adding a batch extends it; a gap (numbers missing
// below the highest held) appears when check-ins arrive out of order (a
// resend after a reconnect), when the hub rejected some (the station parks
// them) or when the station lost data. Gaps that persist while the
// station's outbox is empty are what a technician must look at.
type seqs struct {
	mu   sync.Mutex
	runs map[string][]cloud.SeqRun
}

func newSeqs(stored map[string][]cloud.SeqRun) *seqs {
	s := &seqs{runs: map[string][]cloud.SeqRun{}}
	for st, rs := range stored {
		s.runs[st] = append([]cloud.SeqRun(nil), rs...)
	}
	return s
}

// GenerationShift places the device generation in a sequence number: a
// station's device of generation g numbers its check-ins from g<<32 + 1.
const GenerationShift = 32

// Gaps sums up the numbers missing below the highest held, within each
// device generation.
type Gaps struct {
	Max     uint64         // highest sequence number held; 0 when none
	Missing uint64         // how many numbers in 1..Max are not held
	Runs    []cloud.SeqRun // the missing ranges, oldest first (at most maxGapRuns)
}

const maxGapRuns = 20

// add records the sequence numbers of stored check-ins and returns the
// station's gaps afterwards.
func (s *seqs) add(station string, nums []uint64) Gaps {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.runs[station]
	for _, n := range nums {
		rs = insertSeq(rs, n)
	}
	s.runs[station] = rs
	return gapsOf(rs)
}

// gaps returns the station's gaps.
func (s *seqs) gaps(station string) Gaps {
	s.mu.Lock()
	defer s.mu.Unlock()
	return gapsOf(s.runs[station])
}

// totalMissing sums the missing numbers of every station.
func (s *seqs) totalMissing() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n uint64
	for _, rs := range s.runs {
		n += gapsOf(rs).Missing
	}
	return n
}

// insertSeq adds n to the sorted, merged runs rs.
func insertSeq(rs []cloud.SeqRun, n uint64) []cloud.SeqRun {
	if n == 0 {
		return rs
	}
	if k := len(rs); k > 0 && rs[k-1].Last+1 == n { // the usual case: the next number
		rs[k-1].Last = n
		return rs
	}
	// i is the first run that ends at or after n-1 (n may extend it).
	i := sort.Search(len(rs), func(i int) bool { return rs[i].Last+1 >= n })
	switch {
	case i < len(rs) && rs[i].First <= n && n <= rs[i].Last:
		return rs // held already
	case i < len(rs) && rs[i].Last+1 == n:
		rs[i].Last = n
	case i < len(rs) && rs[i].First == n+1:
		rs[i].First = n
	default:
		rs = append(rs, cloud.SeqRun{})
		copy(rs[i+1:], rs[i:])
		rs[i] = cloud.SeqRun{First: n, Last: n}
	}
	// Merge run i with its neighbours where they now touch.
	if i+1 < len(rs) && rs[i].Last+1 >= rs[i+1].First {
		rs[i].Last = max(rs[i].Last, rs[i+1].Last)
		rs = append(rs[:i+1], rs[i+2:]...)
	}
	if i > 0 && rs[i-1].Last+1 >= rs[i].First {
		rs[i-1].Last = max(rs[i-1].Last, rs[i].Last)
		rs = append(rs[:i], rs[i+1:]...)
	}
	return rs
}

func gapsOf(rs []cloud.SeqRun) Gaps {
	var g Gaps
	if len(rs) == 0 {
		return g
	}
	g.Max = rs[len(rs)-1].Last
	next := uint64(1)
	for _, r := range rs {
		// A replacement device numbers from its generation's base
		// (generation << 32, see docs/protocol.md): the numbers between
		// the last device's highest and the new base were never given.
		if base := r.First>>GenerationShift<<GenerationShift + 1; next < base {
			next = base
		}
		if r.First > next {
			g.Missing += r.First - next
			if len(g.Runs) < maxGapRuns {
				g.Runs = append(g.Runs, cloud.SeqRun{First: next, Last: r.First - 1})
			}
		}
		next = r.Last + 1
	}
	return g
}

// Gaps returns the sequence numbers the hub is missing for station: below
// the highest it holds, not held.
func (h *Hub) Gaps(station string) Gaps { return h.seqs.gaps(station) }

func (h *Hub) gapsView(station string) web.Gaps {
	g := h.seqs.gaps(station)
	return web.Gaps{Max: g.Max, Missing: g.Missing, Runs: g.Runs}
}
