package hub

import (
	"sync"
	"time"

	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/wire"
)

// Reasons a presence changed, besides wire's status reasons (connect,
// shutdown, will).
const (
	ReasonHeartbeat       = "heartbeat"        // a heartbeat arrived from a station not marked online
	ReasonHeartbeatMissed = "heartbeat_missed" // no heartbeat for StaleFactor intervals
)

// presence tracks every registered station's presence. It is the one place
// that decides states; the hub feeds it messages and the clock.
type presence struct {
	mu         sync.Mutex
	byID       map[string]*cloud.Presence
	order      []string // registry order
	dirty      map[string]bool
	heartbeatS int // used when a station has not told its interval
}

func newPresence(order []string, stored []cloud.Presence, heartbeatS int) *presence {
	p := &presence{byID: map[string]*cloud.Presence{}, order: order, dirty: map[string]bool{}, heartbeatS: heartbeatS}
	for _, id := range order {
		p.byID[id] = &cloud.Presence{Station: id, State: cloud.StateNeverSeen}
	}
	for _, s := range stored {
		if _, ok := p.byID[s.Station]; ok && s.State.Valid() {
			s := s
			p.byID[s.Station] = &s
		}
	}
	return p
}

func (p *presence) setState(x *cloud.Presence, s cloud.PresenceState, since time.Time, reason string) bool {
	if x.State == s {
		return false
	}
	x.State, x.Since, x.Reason = s, since, reason
	return true
}

// status applies a station's Status. It returns the new presence, whether
// the state changed, and false in ok when the status was ignored (an old
// connection's will arriving after a newer connection's online).
func (p *presence) status(st string, s wire.Status, now time.Time) (out cloud.Presence, changed, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	x := p.byID[st]
	if x == nil {
		return cloud.Presence{}, false, false
	}
	switch s.State {
	case wire.StateOnline:
		x.LastSeen = now
		x.ConnectedAt = s.Since.UTC()
		x.HeartbeatS = s.HeartbeatS
		x.Agent = s.Agent
		changed = p.setState(x, cloud.StateOnline, now, s.Reason)
		if !changed {
			x.Reason = s.Reason
		}
	case wire.StateOffline:
		// A will carries the Since of the connection it belongs to; one
		// older than the connection we know of is from a connection
		// already replaced.
		if !x.ConnectedAt.IsZero() && s.Since.Before(x.ConnectedAt) {
			return *x, false, false
		}
		x.LastSeen = now
		changed = p.setState(x, cloud.StateOffline, now, s.Reason)
	}
	p.dirty[st] = true
	return clone(x), changed, true
}

// heartbeat applies a heartbeat; a station that sends one is online.
func (p *presence) heartbeat(st string, h wire.Heartbeat, now time.Time) (out cloud.Presence, changed, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	x := p.byID[st]
	if x == nil {
		return cloud.Presence{}, false, false
	}
	x.LastSeen, x.LastHeartbeat = now, now
	x.HeartbeatS = h.IntervalS
	x.Agent = h.Agent
	x.ConfigVersion = h.ConfigVersion
	x.UptimeS = h.UptimeS
	x.ClockSkew = h.At.Sub(now).Round(time.Millisecond)
	x.Disk = cloud.Disk{FreeBytes: h.Storage.FreeBytes, FileBytes: h.Storage.FileBytes, Low: h.Storage.Low}
	x.Outbox = cloud.Backlog{Depth: h.Outbox.Depth, LastSeq: h.Outbox.LastSeq, Rejected: h.Outbox.Rejected}
	if h.Outbox.OldestAt != nil {
		x.Outbox.OldestAt = h.Outbox.OldestAt.UTC()
	}
	x.Readers = x.Readers[:0]
	for _, r := range h.Readers {
		x.Readers = append(x.Readers, cloud.Reader{Name: r.Name, Kind: r.Kind, State: r.State, Detail: r.Detail})
	}
	changed = p.setState(x, cloud.StateOnline, now, ReasonHeartbeat)
	p.dirty[st] = true
	return clone(x), changed, true
}

// interval returns the heartbeat interval to expect from x.
func (p *presence) interval(x *cloud.Presence) time.Duration {
	s := x.HeartbeatS
	if s <= 0 {
		s = p.heartbeatS
	}
	return time.Duration(s) * time.Second
}

// evaluate marks stale every online station whose last sign of life is
// older than StaleFactor intervals, and returns those that changed.
func (p *presence) evaluate(now time.Time) []cloud.Presence {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []cloud.Presence
	for _, id := range p.order {
		x := p.byID[id]
		if x.State != cloud.StateOnline {
			continue
		}
		deadline := x.LastSeen.Add(time.Duration(cloud.StaleFactor * float64(p.interval(x))))
		if now.After(deadline) {
			// Since is when it became stale, not when we noticed.
			p.setState(x, cloud.StateStale, deadline, ReasonHeartbeatMissed)
			p.dirty[id] = true
			out = append(out, clone(x))
		}
	}
	return out
}

func (p *presence) get(st string) (cloud.Presence, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	x := p.byID[st]
	if x == nil {
		return cloud.Presence{}, false
	}
	return clone(x), true
}

func (p *presence) all() []cloud.Presence {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]cloud.Presence, 0, len(p.order))
	for _, id := range p.order {
		out = append(out, clone(p.byID[id]))
	}
	return out
}

// takeDirty returns the presences changed since the last call and forgets
// them; putDirty gives them back when saving failed.
func (p *presence) takeDirty() []cloud.Presence {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []cloud.Presence
	for _, id := range p.order {
		if p.dirty[id] {
			out = append(out, clone(p.byID[id]))
		}
	}
	p.dirty = map[string]bool{}
	return out
}

func (p *presence) putDirty(ps []cloud.Presence) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, x := range ps {
		p.dirty[x.Station] = true
	}
}

func clone(x *cloud.Presence) cloud.Presence {
	c := *x
	c.Readers = append([]cloud.Reader(nil), x.Readers...)
	return c
}
