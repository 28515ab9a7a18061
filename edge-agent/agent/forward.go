package agent

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/bolt"
	"github.com/vetnet/vetnet/wire"
)

// flight is a published batch waiting for its ack.
type flight struct {
	label    string
	seqs     []uint64        // check-ins
	rseqs    []uint64        // other records (ratings, visit and duty events)
	ids      map[string]bool // not yet answered
	deadline time.Time
}

// forwarder is the state of the forward loop; only that goroutine uses
// it. Its deadlines are on the monotonic clock (time.Now), not Config.Now,
// because they drive real timers.
type forwarder struct {
	a         *Agent
	flights   []*flight
	inFlight  map[uint64]bool
	rInFlight map[uint64]bool
	// sent is the highest sequence number published since the outbox was
	// last read from its start: fill reads only past it. It goes back to
	// 0 whenever a batch is released unanswered (timeout, reconnect), so
	// that its check-ins are read and sent again. rsent is the same for
	// the records outbox.
	sent, rsent uint64
	failures    int       // consecutive timeouts and errors; grows the waits
	holdUntil   time.Time // no publishing before this (after errors)
}

// backoff returns the wait after n consecutive failures: AckTimeout
// doubled n times, plus up to a quarter of jitter so that stations that
// lost the hub together do not come back in step, capped at MaxBackoff.
func (a *Agent) backoff(n int) time.Duration {
	d := a.cfg.AckTimeout
	for i := 0; i < n && d < a.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d += time.Duration(rand.Int64N(int64(d)/4 + 1))
	return min(d, a.cfg.MaxBackoff)
}

func (a *Agent) forward(ctx context.Context) {
	f := &forwarder{a: a, inFlight: map[uint64]bool{}, rInFlight: map[uint64]bool{}}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		f.expire(now)
		if a.up.Connected() && !now.Before(f.holdUntil) {
			f.fill(now)
		}
		timer.Reset(f.nextWake(time.Now()))
		select {
		case <-ctx.Done():
			return
		case <-a.wake:
		case <-timer.C:
		case <-a.up.Changes():
			a.statusChanged()
			if a.up.Connected() {
				// The old connection's batches may be lost: send again now.
				f.releaseAll()
				f.holdUntil = time.Time{}
			}
		case ack := <-a.up.Acks():
			f.handleAck(ack, time.Now())
		}
	}
}

// nextWake is how long to sleep when nothing happens: until the first
// deadline, or the end of a hold.
func (f *forwarder) nextWake(now time.Time) time.Duration {
	next := now.Add(time.Hour)
	for _, fl := range f.flights {
		if fl.deadline.Before(next) {
			next = fl.deadline
		}
	}
	if f.holdUntil.After(now) && f.holdUntil.Before(next) {
		next = f.holdUntil
	}
	return max(next.Sub(now), time.Millisecond)
}

// release forgets flight i. answered says its check-ins were acknowledged
// or parked; otherwise they go back to being sent.
func (f *forwarder) release(i int, answered bool) {
	for _, s := range f.flights[i].seqs {
		delete(f.inFlight, s)
	}
	for _, s := range f.flights[i].rseqs {
		delete(f.rInFlight, s)
	}
	f.flights = append(f.flights[:i], f.flights[i+1:]...)
	if !answered {
		f.sent, f.rsent = 0, 0
	}
}

func (f *forwarder) releaseAll() {
	f.flights = nil
	clear(f.inFlight)
	clear(f.rInFlight)
	f.sent, f.rsent = 0, 0
}

// expire releases the batches whose ack is late; their check-ins are sent
// again by fill, with a longer wait.
func (f *forwarder) expire(now time.Time) {
	for i := 0; i < len(f.flights); {
		if fl := f.flights[i]; !now.Before(fl.deadline) {
			f.a.cfg.Logf("agent: no ack for batch %s; sending again", fl.label)
			f.a.resends.Add(1)
			f.release(i, false)
			f.failures++
			continue
		}
		i++
	}
}

// fill publishes batches of pending check-ins not in flight until the
// window is full.
func (f *forwarder) fill(now time.Time) {
	a := f.a
	free := maxInFlight - len(f.flights)
	if free <= 0 {
		return
	}
	// Read past what is in flight; after a release, from the start,
	// skipping what is still in flight.
	limit := free * a.cfg.BatchMax
	if f.sent == 0 {
		limit += len(f.inFlight)
	}
	pending, err := a.store.PendingAfter(f.sent, limit)
	if err != nil {
		a.cfg.Logf("agent: read outbox: %v", err)
		f.hold(now)
		return
	}
	var todo []vetnet.CheckIn
	for _, c := range pending {
		if !f.inFlight[c.Seq] {
			todo = append(todo, c)
		}
	}
	topic := a.up.Topic(wire.KindCheckIns)
	for len(todo) > 0 && len(f.flights) < maxInFlight {
		n := min(len(todo), a.cfg.BatchMax)
		var payload []byte
		var label string
		for {
			batch := todo[:n]
			label = fmt.Sprintf("%d-%d", batch[0].Seq, batch[n-1].Seq)
			payload, err = wire.NewCheckInBatch(a.cfg.StationID, label, a.cfg.Now(), batch).Encode()
			if err != nil {
				a.cfg.Logf("agent: encode batch %s: %v", label, err)
				f.hold(now)
				return
			}
			if len(payload) <= wire.MaxCheckInsPayload || n == 1 {
				break
			}
			n /= 2 // long names: fewer per batch
		}
		if err := a.up.Publish(topic, payload, 1, false); err != nil {
			a.cfg.Logf("agent: publish batch %s: %v", label, err)
			f.hold(now)
			return
		}
		fl := &flight{label: label, ids: map[string]bool{}, deadline: time.Now().Add(a.backoff(f.failures))}
		for _, c := range todo[:n] {
			fl.seqs = append(fl.seqs, c.Seq)
			fl.ids[c.ID] = true
			f.inFlight[c.Seq] = true
		}
		f.flights = append(f.flights, fl)
		f.sent = max(f.sent, todo[n-1].Seq)
		todo = todo[n:]
	}
	f.fillRecords(now)
}

// fillRecords publishes batches of waiting records (ratings) in the room
// the check-ins left in the window. Check-ins go first: a backlog of visits
// matters more than their ratings.
func (f *forwarder) fillRecords(now time.Time) {
	a := f.a
	free := maxInFlight - len(f.flights)
	if free <= 0 {
		return
	}
	limit := free * a.cfg.BatchMax
	if f.rsent == 0 {
		limit += len(f.rInFlight)
	}
	pending, err := a.store.PendingRecordsAfter(f.rsent, limit)
	if err != nil {
		a.cfg.Logf("agent: read records outbox: %v", err)
		f.hold(now)
		return
	}
	var todo []bolt.Record
	for _, r := range pending {
		if !f.rInFlight[r.Seq] {
			todo = append(todo, r)
		}
	}
	topic := a.up.Topic(wire.KindCheckIns)
	for len(todo) > 0 && len(f.flights) < maxInFlight {
		n := min(len(todo), a.cfg.BatchMax)
		label := fmt.Sprintf("r%d-%d", todo[0].Seq, todo[n-1].Seq)
		b := wire.NewCheckInBatch(a.cfg.StationID, label, a.cfg.Now(), nil)
		for _, r := range todo[:n] {
			b.Records = append(b.Records, recordToWire(r))
		}
		payload, err := b.Encode()
		if err != nil {
			a.cfg.Logf("agent: encode batch %s: %v", label, err)
			f.hold(now)
			return
		}
		if err := a.up.Publish(topic, payload, 1, false); err != nil {
			a.cfg.Logf("agent: publish batch %s: %v", label, err)
			f.hold(now)
			return
		}
		fl := &flight{label: label, ids: map[string]bool{}, deadline: time.Now().Add(a.backoff(f.failures))}
		for _, r := range todo[:n] {
			fl.rseqs = append(fl.rseqs, r.Seq)
			fl.ids[r.ID()] = true
			f.rInFlight[r.Seq] = true
		}
		f.flights = append(f.flights, fl)
		f.rsent = max(f.rsent, todo[n-1].Seq)
		todo = todo[n:]
	}
}

// recordToWire converts a record of the records outbox by its kind.
func recordToWire(r bolt.Record) wire.RecordV1 {
	switch r.Kind {
	case bolt.KindVisit:
		return wire.VisitToWire(r.Visit)
	case bolt.KindDuty:
		return wire.DutyToWire(r.Duty)
	case bolt.KindRollCall:
		return wire.RollCallToWire(r.RollCall)
	}
	return wire.FeedbackToWire(r.Feedback)
}

// hold stops publishing for a growing while after an error.
func (f *forwarder) hold(now time.Time) {
	f.holdUntil = now.Add(f.a.backoff(f.failures))
	f.failures++
}

func (f *forwarder) handleAck(ack wire.Ack, now time.Time) {
	a := f.a
	// Release the batch answered, and any other batch whose check-ins this
	// ack answered entirely (a late ack of an earlier send): nothing of
	// them is left to wait for.
	answered := map[string]bool{}
	for _, id := range ack.IDs {
		answered[id] = true
	}
	for _, r := range ack.Rejected {
		answered[r.ID] = true
	}
	for i := 0; i < len(f.flights); {
		fl := f.flights[i]
		for id := range fl.ids {
			if answered[id] {
				delete(fl.ids, id)
			}
		}
		if len(fl.ids) == 0 {
			f.release(i, true)
			continue
		}
		if ack.Batch != "" && fl.label == ack.Batch {
			// Answered, but not all of it: the rest of a refused batch, or
			// a whole-message error. Those go back to being sent.
			f.release(i, false)
			continue
		}
		i++
	}
	if ack.Error != nil {
		// The hub refused the message whole: keep everything, try later.
		a.cfg.Logf("agent: hub refused batch %q: %s (%s)", ack.Batch, ack.Error.Reason, ack.Error.Detail)
		f.hold(now)
		return
	}
	cleared, err := a.store.Ack(ack.IDs)
	if err != nil {
		a.cfg.Logf("agent: clear acknowledged check-ins: %v", err)
	}
	parked, err := a.store.Reject(ack.Rejected)
	if err != nil {
		a.cfg.Logf("agent: park rejected check-ins: %v", err)
	}
	for _, r := range ack.Rejected {
		a.cfg.Logf("agent: hub rejected check-in seq=%d id=%s: %s %s", r.Seq, r.ID, r.Code, r.Reason)
	}
	if len(ack.IDs) > 0 || len(ack.Rejected) > 0 {
		f.failures, f.holdUntil = 0, time.Time{}
	}
	a.cfg.Logf("agent: ack for batch %s: %d cleared, %d parked", ack.Batch, cleared, parked)
	a.statusChanged()
}

// heartbeats publishes a heartbeat every interval while connected.
func (a *Agent) heartbeats(ctx context.Context) {
	every := a.heartbeatInterval()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.hbNow:
			if d := a.heartbeatInterval(); d != every {
				every = d
				t.Reset(every)
			}
		}
		a.statusChanged() // reader health is polled here too
		if a.up.Connected() {
			if err := a.sendHeartbeat(); err != nil {
				a.cfg.Logf("agent: heartbeat: %v", err)
			}
		}
	}
}

func (a *Agent) sendHeartbeat() error {
	ob, err := a.store.OutboxStats()
	if err != nil {
		return err
	}
	now := a.cfg.Now()
	hb := wire.Heartbeat{V: wire.Version, Station: a.cfg.StationID, At: now.UTC(), Seq: a.hbSeq.Add(1),
		UptimeS: int64(time.Since(a.started) / time.Second), IntervalS: seconds(a.heartbeatInterval()),
		Outbox:  wire.OutboxV1{Depth: ob.Depth, OldestAt: ob.OldestAt, LastSeq: ob.LastSeq, Rejected: ob.Rejected},
		Readers: []wire.ReaderV1{}, Agent: a.cfg.Version, ConfigVersion: a.ConfigVersion()}
	st := a.store.Storage()
	hb.Storage = wire.StorageV1{FreeBytes: st.FreeBytes, FileBytes: st.FileBytes, Low: st.Low}
	for _, h := range a.healths() {
		hb.Readers = append(hb.Readers, wire.ReaderV1{Name: h.Name, Kind: h.Kind, State: h.State, Detail: truncate(h.Detail, 256)})
	}
	b, err := hb.Encode()
	if err != nil {
		return err
	}
	return a.up.Publish(a.up.Topic(wire.KindHeartbeat), b, 0, false)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// configs applies the hub's configurations: saved first, so that what is
// applied survives a restart, then applied at once and reported in a
// heartbeat.
func (a *Agent) configs(ctx context.Context) {
	for {
		var c wire.Config
		select {
		case <-ctx.Done():
			return
		case c = <-a.up.Configs():
		}
		if c.Station != a.cfg.StationID {
			a.cfg.Logf("agent: configuration for station %q ignored", c.Station)
			continue
		}
		if c.Version == a.ConfigVersion() {
			continue
		}
		if a.cfg.ConfigKey != nil {
			if err := c.Verify(a.cfg.ConfigKey); err != nil {
				a.configsRejected.Add(1)
				a.cfg.Logf("agent: configuration %s refused: %v", c.Version, err)
				continue
			}
		}
		// The store switches to the new configuration in one transaction
		// and keeps the old one; if the last step fails, it goes back.
		if err := a.store.SaveConfig(c); err != nil {
			a.cfg.Logf("agent: configuration %s not saved, not applied: %v", c.Version, err)
			continue
		}
		if a.cfg.ApplyConfig != nil {
			if err := a.cfg.ApplyConfig(c); err != nil {
				a.configsRejected.Add(1)
				prev, ok, rerr := a.store.RollbackConfig()
				switch {
				case rerr != nil:
					a.cfg.Logf("agent: configuration %s failed to apply (%v) and the rollback failed: %v", c.Version, err, rerr)
				case ok:
					a.cfg.Logf("agent: configuration %s failed to apply (%v); back to %s", c.Version, err, prev.Version)
				default:
					a.cfg.Logf("agent: configuration %s failed to apply (%v); back to none", c.Version, err)
				}
				continue
			}
		}
		a.mu.Lock()
		a.station, a.configVersion = c.StationOf(), c.Version
		a.heartbeat = time.Duration(c.HeartbeatS) * time.Second
		a.mu.Unlock()
		a.cfg.Logf("agent: applied configuration %s: %s, %d services, heartbeat %ds", c.Version, c.Name, len(c.Services), c.HeartbeatS)
		a.statusChanged()
		signal(a.hbNow)
	}
}
