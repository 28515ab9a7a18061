package faults

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Summary is one line: the verdict and the totals.
func (r *Report) Summary() string {
	t := r.Totals()
	verdict := "PASS"
	if !r.OK() {
		verdict = "FAIL"
	}
	n := r.FaultCounts()
	var fk []string
	for _, k := range Kinds {
		if n[k] > 0 {
			fk = append(fk, fmt.Sprintf("%s %d", k, n[k]))
		}
	}
	return fmt.Sprintf("%s: %s broker, %d stations: %d made, %d told done, %d unknown, %d stored, %d lost, %d doubled, %d extra; faults: %s",
		verdict, r.Config.Broker, len(r.Stations), t.Made, t.Done, t.Unknown, t.Stored, t.Lost, t.Doubled, t.Extra, strings.Join(fk, ", "))
}

// WriteText writes the report for people: the run, the faults, a table of
// the stations and the verdict. With faults, every fault gets a line.
func (r *Report) WriteText(w io.Writer, faults bool) {
	c := r.Config
	fmt.Fprintf(w, "fault run: %s broker, %d stations, %d check-ins, %d faults of each of %v, seed %d, faults last %v..%v\n",
		c.Broker, c.Stations, c.CheckIns, c.FaultsPerKind, c.Kinds, c.Seed, c.DownMin, c.DownMax)
	fmt.Fprintf(w, "machine: %s\n", r.Machine)
	t := r.Totals()
	rate := 0.0
	if r.Traffic > 0 {
		rate = float64(t.Made) / r.Traffic.Seconds()
	}
	fmt.Fprintf(w, "time: set-up %v, traffic and faults %v (%.0f check-ins/s), drain %v, total %v\n",
		r.Setup.Round(time.Millisecond), r.Traffic.Round(time.Millisecond), rate, r.Drain.Round(time.Millisecond), r.Total.Round(time.Millisecond))
	n := r.FaultCounts()
	var fk []string
	for _, k := range Kinds {
		fk = append(fk, fmt.Sprintf("%s %d", k, n[k]))
	}
	fmt.Fprintf(w, "faults injected: %s\n", strings.Join(fk, ", "))
	if faults {
		for i, f := range r.Faults {
			fmt.Fprintf(w, "  %3d %8v %-14s %-28s %s; down %v, answering again after %v\n", i+1, f.At.Round(time.Millisecond), f.Kind,
				short(f.Target, 28), f.Detail, f.Down.Round(time.Millisecond), f.Back.Round(time.Millisecond))
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "station\tmade\ttold done\t(replayed)\tunknown\trefused\tcommitted\tstored\tlost\tdoubled\tgaps\textra\toutbox\tverdict\t")
	row := func(s StationResult, verdict string) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", s.Station, s.Made, s.Done, s.Replays, s.Unknown, s.Refused,
			s.Committed, s.Stored, s.Lost, s.Doubled, s.Gaps, s.Extra, s.Depth+s.Rejected, verdict)
	}
	for _, s := range r.Stations {
		v := "ok"
		if !s.OK() {
			v = "FAIL"
		}
		row(s, v)
	}
	v := "ok"
	if !r.OK() {
		v = "FAIL"
	}
	row(t, v)
	tw.Flush()
	fmt.Fprintf(w, "hub holds %d check-ins in all\n", r.HubTotal)
	for _, s := range r.Stations {
		for _, p := range s.Problems {
			fmt.Fprintf(w, "%s: %s\n", s.Station, p)
		}
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "problem: %s\n", p)
	}
	fmt.Fprintln(w, r.Summary())
}

func short(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
