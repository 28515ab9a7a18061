package faults

import (
	"context"
	"fmt"
	"time"
)

// check heals everything, waits for every outbox to empty, and verifies
// each station against the hub.
func (r *run) check(ctx context.Context) error {
	t0 := time.Now()
	for _, st := range r.stations {
		st.proxy.Restore()
	}
	r.checkAlive(ctx)
	r.logf("traffic over; waiting for every outbox to empty")
	deadline := time.Now().Add(r.cfg.DrainLimit)
	states := map[string]AgentState{}
	for {
		pending, unreachable := 0, 0
		for _, st := range r.stations {
			s, err := st.client.Status(ctx)
			if err != nil {
				unreachable++
				continue
			}
			states[st.id] = AgentState{LastSeq: s.Outbox.LastSeq, Depth: s.Outbox.Depth, Rejected: s.Outbox.Rejected}
			pending += s.Outbox.Depth
		}
		if pending == 0 && unreachable == 0 {
			break
		}
		if time.Now().After(deadline) {
			r.problem("outboxes did not empty within %v: %d check-ins waiting, %d agents unreachable", r.cfg.DrainLimit, pending, unreachable)
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	r.rep.Drain = time.Since(t0)
	r.logf("outboxes empty after %v; reading the hub", r.rep.Drain.Round(time.Millisecond))

	sum := 0
	for _, st := range r.stations {
		rows, _, err := hubRows(ctx, r.hubHTTP, r.adminPW, st.id)
		if err != nil {
			return fmt.Errorf("read the hub's check-ins of %s: %w", st.id, err)
		}
		sum += len(rows)
		res := Verify(st.id, st.ledger, states[st.id], rows)
		r.rep.Stations = append(r.rep.Stations, res)
		for _, p := range res.Problems {
			r.logf("%s: %s", st.id, p)
		}
	}
	_, total, err := hubRows(ctx, r.hubHTTP, r.adminPW, "")
	if err != nil {
		return fmt.Errorf("count the hub's check-ins: %w", err)
	}
	r.rep.HubTotal = total
	if total != sum {
		r.problem("the hub holds %d check-ins, %d of them of the stations under test", total, sum)
	}
	return nil
}
