package faults

import (
	"strings"
	"testing"
)

func TestVerify(t *testing.T) {
	type told struct {
		id  string
		seq uint64
	}
	tests := []struct {
		name    string
		done    []told
		unknown int
		agent   AgentState
		rows    []Row
		ok      bool
		want    string // in the problems when not ok
		lost    int
		doubled int
		gaps    int
		extra   int
	}{
		{name: "all there", done: []told{{"a", 1}, {"b", 2}}, agent: AgentState{LastSeq: 2},
			rows: []Row{{"a", 1}, {"b", 2}}, ok: true},
		{name: "unknown committed", done: []told{{"a", 1}, {"c", 3}}, unknown: 1, agent: AgentState{LastSeq: 3},
			rows: []Row{{"a", 1}, {"b", 2}, {"c", 3}}, ok: true, extra: 1},
		{name: "unknown not committed", done: []told{{"a", 1}}, unknown: 2, agent: AgentState{LastSeq: 1},
			rows: []Row{{"a", 1}}, ok: true},
		{name: "told done, missing", done: []told{{"a", 1}, {"b", 2}}, agent: AgentState{LastSeq: 2},
			rows: []Row{{"a", 1}}, want: "not at the hub", lost: 1, gaps: 1},
		{name: "stored twice", done: []told{{"a", 1}}, agent: AgentState{LastSeq: 1},
			rows: []Row{{"a", 1}, {"a", 1}}, want: "stored 2 times", doubled: 1},
		{name: "one seq, two IDs", done: []told{{"a", 1}}, unknown: 1, agent: AgentState{LastSeq: 1},
			rows: []Row{{"a", 1}, {"x", 1}}, want: "different IDs", doubled: 1, extra: 1},
		{name: "gap from an unknown request", done: []told{{"a", 1}, {"c", 3}}, unknown: 1, agent: AgentState{LastSeq: 3},
			rows: []Row{{"a", 1}, {"c", 3}}, want: "missing at the hub", gaps: 1},
		{name: "more rows than unknown requests", done: []told{{"a", 1}}, agent: AgentState{LastSeq: 2},
			rows: []Row{{"a", 1}, {"b", 2}}, want: "never told done", extra: 1},
		{name: "seq beyond the station's", done: []told{{"a", 1}}, unknown: 1, agent: AgentState{LastSeq: 1},
			rows: []Row{{"a", 1}, {"b", 2}}, want: "outside 1..1", extra: 1},
		{name: "another seq at the hub", done: []told{{"a", 1}, {"b", 2}}, agent: AgentState{LastSeq: 2},
			rows: []Row{{"a", 2}, {"b", 1}}, want: "at the hub as seq", lost: 2},
		{name: "outbox not empty", done: []told{{"a", 1}}, agent: AgentState{LastSeq: 1, Depth: 1},
			rows: []Row{{"a", 1}}, want: "outbox not empty"},
		{name: "parked as rejected", done: []told{{"a", 1}}, agent: AgentState{LastSeq: 1, Rejected: 1},
			rows: []Row{{"a", 1}}, want: "outbox not empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLedger()
			for _, d := range tt.done {
				l.Done(d.id, d.seq)
			}
			for i := 0; i < tt.unknown; i++ {
				l.Unknown()
			}
			r := Verify("st", l, tt.agent, tt.rows)
			if r.OK() != tt.ok {
				t.Fatalf("OK = %v, problems %q", r.OK(), r.Problems)
			}
			if !tt.ok && !strings.Contains(strings.Join(r.Problems, "\n"), tt.want) {
				t.Errorf("problems %q, want one with %q", r.Problems, tt.want)
			}
			if r.Lost != tt.lost || r.Doubled != tt.doubled || r.Gaps != tt.gaps || r.Extra != tt.extra {
				t.Errorf("lost %d doubled %d gaps %d extra %d, want %d %d %d %d", r.Lost, r.Doubled, r.Gaps, r.Extra,
					tt.lost, tt.doubled, tt.gaps, tt.extra)
			}
			if r.Made != len(tt.done)+tt.unknown || r.Done != len(tt.done) || r.Unknown != tt.unknown || r.Stored != len(tt.rows) {
				t.Errorf("counts %+v", r)
			}
		})
	}
}

func TestLedgerClashes(t *testing.T) {
	tests := []struct {
		name string
		fill func(l *Ledger)
		want string
	}{
		{"one seq for two IDs", func(l *Ledger) { l.Done("a", 1); l.Done("b", 1) }, "seq 1 was told done for ID a and for ID b"},
		{"one ID for two requests", func(l *Ledger) { l.Done("a", 1); l.Done("a", 1) }, "told done to two requests"},
		{"a replay with another seq", func(l *Ledger) { l.Done("a", 1); l.Replayed("a", 2) }, "with seq 1 and with seq 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLedger()
			tt.fill(l)
			r := Verify("st", l, AgentState{LastSeq: 2}, []Row{{"a", 1}, {"b", 2}})
			if r.OK() || !strings.Contains(strings.Join(r.Problems, "\n"), tt.want) {
				t.Fatalf("problems %q, want one with %q", r.Problems, tt.want)
			}
		})
	}
}
