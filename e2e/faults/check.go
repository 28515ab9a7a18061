package faults

import (
	"fmt"
	"sort"
	"sync"
)

// Ledger is what one station's kiosks were told: every check-in answered
// with success (its ID and sequence number), and how many requests ended
// without an answer (unknown: the agent may or may not have committed
// them) or with a refusal. It is safe for concurrent use.
type Ledger struct {
	mu      sync.Mutex
	made    int
	done    map[string]uint64 // ID → seq, told done
	bySeq   map[uint64]string // seq → ID, told done
	replays int               // a retried card token got its first answer again
	unknown int
	refused map[string]int // by error code
	clashes []string       // answers that contradict each other
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{done: map[string]uint64{}, bySeq: map[uint64]string{}, refused: map[string]int{}}
}

// Done records a success answer to a new request.
func (l *Ledger) Done(id string, seq uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.made++
	l.told(id, seq)
}

// Replayed records the success answer to a request retried after its
// first answer was lost (the same card token again): one request, now
// known to be done.
func (l *Ledger) Replayed(id string, seq uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.made++
	l.replays++
	l.told(id, seq)
}

func (l *Ledger) told(id string, seq uint64) {
	if old, ok := l.done[id]; ok && old != seq {
		l.clashes = append(l.clashes, fmt.Sprintf("ID %s was told done with seq %d and with seq %d", id, old, seq))
	}
	if old, ok := l.bySeq[seq]; ok && old != id {
		l.clashes = append(l.clashes, fmt.Sprintf("seq %d was told done for ID %s and for ID %s", seq, old, id))
	}
	if _, ok := l.done[id]; ok {
		l.clashes = append(l.clashes, fmt.Sprintf("ID %s was told done to two requests", id))
	}
	l.done[id] = seq
	l.bySeq[seq] = id
}

// Unknown records a request whose answer never came.
func (l *Ledger) Unknown() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.made++
	l.unknown++
}

// Refused records a request the agent answered with an error (nothing
// committed).
func (l *Ledger) Refused(code string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.made++
	l.refused[code]++
}

// Counts returns requests made, told done and unknown.
func (l *Ledger) Counts() (made, done, unknown int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.made, len(l.done), l.unknown
}

// Row is one check-in the hub holds.
type Row struct {
	ID  string `json:"id"`
	Seq uint64 `json:"seq"`
}

// AgentState is what the station's agent says at the end.
type AgentState struct {
	LastSeq  uint64 // last sequence number committed
	Depth    int    // outbox: waiting for the hub
	Rejected int    // outbox: parked as rejected by the hub
}

// StationResult is the verdict on one station.
type StationResult struct {
	Station   string
	Made      int // requests the kiosks made
	Done      int // told done (HTTP 200)
	Replays   int // of which after a retry with the same card token
	Unknown   int // no answer (agent killed with the request in flight)
	Refused   int // answered with an error
	Committed uint64
	Stored    int // rows the hub holds for the station
	Lost      int // told done but not at the hub (or at the hub with another seq)
	Doubled   int // rows beyond the first with the same ID or the same seq
	Gaps      int // seq 1..Committed the hub lacks
	Beyond    int // rows with a seq above Committed
	Extra     int // rows never told done: unknown requests that were committed
	Depth     int
	Rejected  int
	Problems  []string
}

// OK is the pass condition: nothing lost, nothing doubled, the hub holds
// exactly 1..Committed, every extra row explained by an unknown request,
// the outbox empty.
func (r StationResult) OK() bool { return len(r.Problems) == 0 }

// Verify compares what the kiosks were told (l), what the agent committed
// (a) and what the hub holds (rows) for one station.
func Verify(station string, l *Ledger, a AgentState, rows []Row) StationResult {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := StationResult{Station: station, Made: l.made, Done: len(l.done), Replays: l.replays, Unknown: l.unknown,
		Committed: a.LastSeq, Stored: len(rows), Depth: a.Depth, Rejected: a.Rejected}
	for _, n := range l.refused {
		r.Refused += n
	}
	problem := func(format string, args ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, args...)) }
	r.Problems = append(r.Problems, l.clashes...)

	byID := map[string][]uint64{}
	bySeq := map[uint64]map[string]bool{}
	for _, row := range rows {
		byID[row.ID] = append(byID[row.ID], row.Seq)
		if bySeq[row.Seq] == nil {
			bySeq[row.Seq] = map[string]bool{}
		}
		bySeq[row.Seq][row.ID] = true
	}
	for id, seqs := range byID {
		if len(seqs) > 1 {
			r.Doubled += len(seqs) - 1
			problem("ID %s is stored %d times", id, len(seqs))
		}
		if _, told := l.done[id]; !told {
			r.Extra++
		}
	}
	for s, ids := range bySeq {
		if len(ids) > 1 {
			r.Doubled += len(ids) - 1
			problem("seq %d is stored with %d different IDs", s, len(ids))
		}
		if s == 0 || s > a.LastSeq {
			r.Beyond++
		}
	}
	for s := uint64(1); s <= a.LastSeq; s++ {
		if len(bySeq[s]) == 0 {
			r.Gaps++
		}
	}
	told := make([]string, 0, len(l.done))
	for id := range l.done {
		told = append(told, id)
	}
	sort.Slice(told, func(i, j int) bool { return l.done[told[i]] < l.done[told[j]] })
	for _, id := range told {
		seq := l.done[id]
		got, ok := byID[id]
		switch {
		case !ok:
			r.Lost++
			problem("told done, not at the hub: ID %s seq %d", id, seq)
		case got[0] != seq:
			r.Lost++
			problem("told done as seq %d, at the hub as seq %d: ID %s", seq, got[0], id)
		}
		if seq > a.LastSeq {
			problem("told done with seq %d, above the station's last seq %d", seq, a.LastSeq)
		}
	}
	if r.Gaps > 0 {
		problem("%d of seq 1..%d missing at the hub", r.Gaps, a.LastSeq)
	}
	if r.Beyond > 0 {
		problem("%d rows with a seq outside 1..%d", r.Beyond, a.LastSeq)
	}
	if r.Extra > r.Unknown {
		problem("%d rows were never told done but only %d requests went unanswered", r.Extra, r.Unknown)
	}
	if uint64(r.Done+r.Extra) != a.LastSeq && r.Doubled == 0 && r.Lost == 0 {
		problem("%d told done + %d extra != %d committed", r.Done, r.Extra, a.LastSeq)
	}
	if r.Depth != 0 || r.Rejected != 0 {
		problem("outbox not empty: %d waiting, %d rejected", r.Depth, r.Rejected)
	}
	// Print no more than a screenful per station.
	if len(r.Problems) > 12 {
		n := len(r.Problems)
		r.Problems = append(r.Problems[:10], fmt.Sprintf("... and %d more", n-10))
	}
	return r
}
