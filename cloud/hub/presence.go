package hub

import (
	"container/heap"
	"sort"
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
//
// Nothing here costs O(stations) per message or per tick: a message
// touches its station and moves the station's stale deadline in a min-heap
// (O(log n)); the timer pops only the deadlines that passed; the
// persister takes only the stations changed since it last ran. (all, for
// the dashboard and the gauges, is O(stations) per call.)
type presence struct {
	mu         sync.Mutex
	byID       map[string]*cloud.Presence
	order      []string       // registry order
	rank       map[string]int // station → index in order
	dirty      map[string]bool
	deadlines  deadlineHeap // online stations by the time they turn stale
	heartbeatS int          // used when a station has not told its interval
}

func newPresence(order []string, stored []cloud.Presence, heartbeatS int) *presence {
	p := &presence{byID: map[string]*cloud.Presence{}, order: order, rank: map[string]int{}, dirty: map[string]bool{},
		heartbeatS: heartbeatS, deadlines: deadlineHeap{at: map[string]int{}}}
	for i, id := range order {
		p.byID[id] = &cloud.Presence{Station: id, State: cloud.StateNeverSeen}
		p.rank[id] = i
	}
	for _, s := range stored {
		if _, ok := p.byID[s.Station]; ok && s.State.Valid() {
			s := s
			p.byID[s.Station] = &s
			p.schedule(&s)
		}
	}
	return p
}

// schedule puts x's stale deadline in the heap if it is online, or takes
// it out.
func (p *presence) schedule(x *cloud.Presence) {
	if x.State != cloud.StateOnline {
		p.deadlines.remove(x.Station)
		return
	}
	p.deadlines.set(x.Station, x.LastSeen.Add(time.Duration(cloud.StaleFactor*float64(p.interval(x)))))
}

// deadlineHeap is a min-heap of (station, deadline) with an index, so
// that a station's deadline moves in O(log n).
type deadlineHeap struct {
	items []deadline
	at    map[string]int // station → index in items
}

type deadline struct {
	station string
	t       time.Time
}

func (h deadlineHeap) Len() int           { return len(h.items) }
func (h deadlineHeap) Less(i, j int) bool { return h.items[i].t.Before(h.items[j].t) }
func (h deadlineHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.at[h.items[i].station], h.at[h.items[j].station] = i, j
}
func (h *deadlineHeap) Push(x any) {
	d := x.(deadline)
	h.at[d.station] = len(h.items)
	h.items = append(h.items, d)
}
func (h *deadlineHeap) Pop() any {
	d := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	delete(h.at, d.station)
	return d
}

func (h *deadlineHeap) set(station string, t time.Time) {
	if i, ok := h.at[station]; ok {
		h.items[i].t = t
		heap.Fix(h, i)
		return
	}
	heap.Push(h, deadline{station, t})
}

func (h *deadlineHeap) remove(station string) {
	if i, ok := h.at[station]; ok {
		heap.Remove(h, i)
	}
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
	p.schedule(x)
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
	p.schedule(x)
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
	for p.deadlines.Len() > 0 && now.After(p.deadlines.items[0].t) {
		d := heap.Pop(&p.deadlines).(deadline)
		x := p.byID[d.station]
		if x.State != cloud.StateOnline {
			continue
		}
		// Since is when it became stale, not when we noticed.
		p.setState(x, cloud.StateStale, d.t, ReasonHeartbeatMissed)
		p.dirty[d.station] = true
		out = append(out, clone(x))
	}
	// Registry order, as the hub reports changes.
	sort.Slice(out, func(i, j int) bool { return p.rank[out[i].Station] < p.rank[out[j].Station] })
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
	if len(p.dirty) == 0 {
		return nil
	}
	out := make([]cloud.Presence, 0, len(p.dirty))
	for id := range p.dirty {
		out = append(out, clone(p.byID[id]))
	}
	sort.Slice(out, func(i, j int) bool { return p.rank[out[i].Station] < p.rank[out[j].Station] })
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
