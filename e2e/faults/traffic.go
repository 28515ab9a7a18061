package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/vetnettest"
)

// plan returns the faults to inject, shuffled, and the share of the
// traffic after which each is due: evenly spread, with jitter.
func (r *run) plan(rng *rand.Rand) ([]FaultKind, []int) {
	var kinds []FaultKind
	for _, k := range r.cfg.Kinds {
		for i := 0; i < r.cfg.FaultsPerKind; i++ {
			kinds = append(kinds, k)
		}
	}
	rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	n := len(kinds)
	slot := float64(r.cfg.CheckIns) / float64(n+1)
	at := make([]int, n)
	for i := range at {
		jitter := (rng.Float64() - 0.5) * slot * 0.6
		at[i] = int(float64(i+1)*slot + jitter)
	}
	sort.Ints(at)
	return kinds, at
}

// traffic runs the kiosks and the fault plan until every request was made
// and every fault injected (or TrafficLimit passed).
func (r *run) traffic(ctx context.Context) error {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, 0xfa17))
	kinds, at := r.plan(rng)
	slot := r.cfg.CheckIns / (len(kinds) + 1)
	first := r.cfg.CheckIns
	if len(at) > 0 {
		first = at[0] + slot/2
	}
	r.budget = newBudget(r.cfg.CheckIns, first)
	tctx, cancel := context.WithTimeout(ctx, r.cfg.TrafficLimit)
	defer cancel()
	r.trafficStart = time.Now()

	var kiosks sync.WaitGroup
	for i, st := range r.stations {
		kiosks.Add(1)
		go func() {
			defer kiosks.Done()
			r.cardKiosk(tctx, st, rand.New(rand.NewPCG(r.cfg.Seed, uint64(1000*i))))
		}()
		for d := 0; d < r.cfg.Desks; d++ {
			kiosks.Add(1)
			go func() {
				defer kiosks.Done()
				r.desk(tctx, st, rand.New(rand.NewPCG(r.cfg.Seed, uint64(1000*i+d+1))))
			}()
		}
	}
	trafficDone := make(chan struct{})
	go func() {
		kiosks.Wait()
		close(trafficDone)
	}()
	progress := time.NewTicker(10 * time.Second)
	defer progress.Stop()

	injected := 0
	for i, kind := range kinds {
		// Wait for the fault's moment in the traffic.
		for r.budget.done() < at[i] {
			select {
			case <-tctx.Done():
			case <-trafficDone:
			case <-progress.C:
				r.logProgress()
				continue
			case <-time.After(5 * time.Millisecond):
				continue
			}
			break
		}
		if tctx.Err() != nil {
			break
		}
		next := r.cfg.CheckIns
		if i+1 < len(at) {
			next = at[i+1] + slot/2
		}
		r.budget.setLimit(next)
		f := r.inject(tctx, kind, rng)
		f.At = time.Since(r.trafficStart) - f.Down - f.Back
		r.mu.Lock()
		r.rep.Faults = append(r.rep.Faults, f)
		r.mu.Unlock()
		injected++
		r.logf("fault %d/%d %s on %s: %s (down %v, back after %v) at %d check-ins",
			injected, len(kinds), f.Kind, f.Target, f.Detail, f.Down.Round(time.Millisecond), f.Back.Round(time.Millisecond), r.budget.done())
		r.checkAlive(tctx)
	}
	r.budget.setLimit(r.cfg.CheckIns)
	select {
	case <-trafficDone:
	case <-tctx.Done():
	}
	r.budget.stop()
	cancel()
	kiosks.Wait()
	r.rep.Traffic = time.Since(r.trafficStart)
	if injected < len(kinds) {
		r.problem("only %d of %d faults were injected within %v", injected, len(kinds), r.cfg.TrafficLimit)
	}
	if n := r.budget.done(); n < r.cfg.CheckIns {
		r.problem("only %d of %d check-ins were made within %v", n, r.cfg.CheckIns, r.cfg.TrafficLimit)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	r.logProgress()
	return nil
}

func (r *run) logProgress() {
	made, done, unknown := 0, 0, 0
	for _, st := range r.stations {
		m, d, u := st.ledger.Counts()
		made, done, unknown = made+m, done+d, unknown+u
	}
	el := time.Since(r.trafficStart)
	r.logf("progress: %d check-ins made (%d done, %d unknown) in %v, %.0f/s", made, done, unknown,
		el.Round(time.Second), float64(made)/el.Seconds())
}

// checkAlive reports a process that ended by itself, and starts it again
// so that the run can go on.
func (r *run) checkAlive(ctx context.Context) {
	if r.mosq != nil && r.mosq.Exited() {
		r.problem("mosquitto ended by itself (see %s)", r.mosq.Log)
		r.mosq.Kill()
		_ = r.mosq.Start()
	}
	if r.hub.Exited() {
		r.problem("the hub ended by itself (see %s)", r.hub.Log)
		r.hub.Kill()
		_ = r.startHub(ctx)
	}
	for _, st := range r.stations {
		if st.agent.Exited() {
			r.problem("agent %s ended by itself (see %s)", st.id, st.agent.Log)
			st.up.Store(false)
			st.agent.Kill()
			r.startAgent(ctx, st)
		}
	}
}

// startAgent starts a station's agent and lets its kiosks go once it
// answers.
func (r *run) startAgent(ctx context.Context, st *station) time.Duration {
	t0 := time.Now()
	if err := st.agent.Start(); err != nil {
		r.problem("start agent %s: %v", st.id, err)
		return 0
	}
	if err := waitHTTP(context.WithoutCancel(ctx), "http://"+st.api+localapi.PathHealth, 60*time.Second); err != nil {
		r.problem("agent %s did not come back: %v", st.id, err)
		return time.Since(t0)
	}
	st.tr.CloseIdleConnections() // connections to the dead process
	st.up.Store(true)
	return time.Since(t0)
}

// inject injects one fault and returns once everything it broke runs
// again.
func (r *run) inject(ctx context.Context, kind FaultKind, rng *rand.Rand) Fault {
	f := Fault{Kind: kind, Down: pick(rng, r.cfg.DownMin, r.cfg.DownMax)}
	ctx = context.WithoutCancel(ctx) // a fault always ends with everything running again
	switch kind {
	case AgentKill:
		st := r.stations[rng.IntN(len(r.stations))]
		f.Target = st.id
		// Mid-commit: wait (briefly) for requests in flight to this agent.
		deadline := time.Now().Add(2 * time.Second)
		for st.inflight.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		n := st.inflight.Load()
		st.up.Store(false)
		st.agent.Kill()
		f.Detail = fmt.Sprintf("SIGKILL with %d check-in requests in flight", n)
		time.Sleep(f.Down)
		f.Back = r.startAgent(ctx, st)
	case BrokerRestart:
		if r.mosq != nil {
			sig := "SIGKILL"
			if rng.IntN(2) == 0 {
				r.mosq.Kill()
			} else {
				sig = "SIGTERM"
				if !r.mosq.Stop(15 * time.Second) {
					r.problem("mosquitto did not stop within 15 s of SIGTERM")
				}
			}
			f.Target, f.Detail = "mosquitto", sig+", then started again"
			time.Sleep(f.Down)
			t0 := time.Now()
			if err := r.mosq.Start(); err != nil {
				r.problem("start mosquitto: %v", err)
			} else if err := waitTCP(ctx, r.brokerAt, 30*time.Second); err != nil {
				r.problem("mosquitto did not come back: %v", err)
			}
			f.Back = time.Since(t0)
			break
		}
		t0 := time.Now()
		if !r.hub.Stop(15 * time.Second) {
			r.problem("the hub did not stop within 15 s of SIGTERM (see %s)", r.hub.Log)
		}
		f.Target = "hub"
		f.Detail = fmt.Sprintf("embedded broker: SIGTERM to the hub (stopped in %v), then started again", time.Since(t0).Round(time.Millisecond))
		time.Sleep(f.Down)
		t0 = time.Now()
		if err := r.startHub(ctx); err != nil {
			r.problem("%v", err)
		}
		f.Back = time.Since(t0)
	case HubRestart:
		f.Target, f.Detail = "hub", "SIGKILL, then started again"
		r.hub.Kill()
		time.Sleep(f.Down)
		t0 := time.Now()
		if err := r.startHub(ctx); err != nil {
			r.problem("%v", err)
		}
		f.Back = time.Since(t0)
	case LinkCut:
		mode := CutReset
		if rng.IntN(2) == 0 {
			mode = CutBlackhole
		}
		k := 1 + rng.IntN(max(1, len(r.stations)/4))
		var names []string
		for _, i := range rng.Perm(len(r.stations))[:k] {
			r.stations[i].proxy.Cut(mode)
			names = append(names, r.stations[i].id)
		}
		time.Sleep(f.Down)
		for _, st := range r.stations {
			st.proxy.Restore()
		}
		f.Target = strings.Join(names, ",")
		f.Detail = fmt.Sprintf("%s of %d station links", mode, k)
	}
	return f
}

// waitUp waits until the station's agent runs; false when ctx ended.
func (st *station) waitUp(ctx context.Context) bool {
	for !st.up.Load() {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(10 * time.Millisecond):
		}
	}
	return ctx.Err() == nil
}

// notSent reports whether a request failed before the agent could have
// seen it: the connection was refused.
func notSent(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// answered reports whether err is the agent's own error answer (an HTTP
// error status with its body) rather than no answer at all.
func answered(err error) bool {
	var e *vetnet.Error
	return errors.As(err, &e) && e.Err != nil && strings.HasPrefix(e.Err.Error(), "HTTP ")
}

func (st *station) service(rng *rand.Rand) string {
	return st.services[rng.IntN(len(st.services))]
}

// desk is a staff desk typing ID numbers, one request at a time.
func (r *run) desk(ctx context.Context, st *station, rng *rand.Rand) {
	for r.budget.take() {
		if !st.waitUp(ctx) {
			r.budget.giveBack()
			return
		}
		v := vetnettest.Veteran(rng)
		st.inflight.Add(1)
		resp, err := st.client.CheckIn(ctx, localapi.CheckInRequest{IDNumber: v.IDNumber, Name: v.Name, Service: st.service(rng)})
		st.inflight.Add(-1)
		switch {
		case err == nil:
			st.ledger.Done(resp.ID, resp.Seq)
		case ctx.Err() != nil:
			st.ledger.Unknown()
			return
		case notSent(err):
			r.budget.giveBack()
			st.pause(ctx)
		case answered(err):
			st.ledger.Refused(vetnet.ErrorCode(err))
		default:
			st.ledger.Unknown()
			st.pause(ctx)
		}
	}
}

// pause waits a little after a failed request, so that a kiosk of a dead
// agent does not spin before the harness marks the agent down.
func (st *station) pause(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(20 * time.Millisecond):
	}
}

// cardKiosk is the station's card kiosk: it taps a synthetic veteran's
// card on the simulated reader, waits for the card event, and checks the
// visitor in with its token. An answer lost is asked for again once with
// the same token, as the kiosk does.
func (r *run) cardKiosk(ctx context.Context, st *station, rng *rand.Rand) {
	var events <-chan localapi.Event
	var stopEvents context.CancelFunc = func() {}
	defer func() { stopEvents() }()
	reset := func() {
		stopEvents()
		events = nil
	}
	for r.budget.take() {
		if !st.waitUp(ctx) {
			r.budget.giveBack()
			return
		}
		if events == nil {
			ectx, cancel := context.WithCancel(ctx)
			ch, err := st.client.Events(ectx)
			if err != nil {
				cancel()
				r.budget.giveBack()
				st.pause(ctx)
				continue
			}
			events, stopEvents = ch, cancel
		}
		v := vetnettest.Veteran(rng)
		if err := st.client.SimTap(ctx, localapi.SimTapRequest{IDNumber: v.IDNumber, Name: v.Name}); err != nil {
			// No check-in was asked for: not a request.
			r.budget.giveBack()
			reset()
			st.pause(ctx)
			continue
		}
		token := waitCard(ctx, events, vetnet.MaskIDNumber(v.IDNumber), 5*time.Second)
		if token == "" {
			r.budget.giveBack()
			reset()
			continue
		}
		req := localapi.CheckInRequest{Token: token, Service: st.service(rng)}
		st.inflight.Add(1)
		resp, err := st.client.CheckIn(ctx, req)
		st.inflight.Add(-1)
		switch {
		case err == nil:
			st.ledger.Done(resp.ID, resp.Seq)
			continue
		case ctx.Err() != nil:
			st.ledger.Unknown()
			return
		case notSent(err):
			// The agent was gone before the request: the token went with
			// it, so read the card again.
			r.budget.giveBack()
			reset()
			st.pause(ctx)
			continue
		case answered(err):
			st.ledger.Refused(vetnet.ErrorCode(err))
			continue
		}
		// The answer was lost: ask again with the same token once the
		// agent answers. A new agent process does not know the token
		// (EEXPIRED): the outcome stays unknown.
		reset()
		st.pause(ctx)
		if !st.waitUp(ctx) {
			st.ledger.Unknown()
			return
		}
		resp, err = st.client.CheckIn(ctx, req)
		if err == nil {
			st.ledger.Replayed(resp.ID, resp.Seq)
		} else {
			st.ledger.Unknown()
		}
	}
}

// waitCard waits for the card event of the card whose masked ID is
// masked and returns its token; "" when the stream ended or the wait was
// too long.
func waitCard(ctx context.Context, events <-chan localapi.Event, masked string, limit time.Duration) string {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ""
		case <-timer.C:
			return ""
		case ev, ok := <-events:
			if !ok {
				return ""
			}
			if ev.Type != localapi.EventCard {
				continue
			}
			c, err := ev.Card()
			if err == nil && c.MaskedID == masked {
				return c.Token
			}
		}
	}
}
