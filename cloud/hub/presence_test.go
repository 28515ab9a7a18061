package hub

import (
	"fmt"
	"testing"
	"time"

	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/wire"
)

func statusMsg(t *testing.T, st string, state wire.State, reason string, since time.Time, hbS int) []byte {
	t.Helper()
	b, err := wire.Status{V: 1, Station: st, State: state, Reason: reason, Since: since, Agent: "0.1.0", HeartbeatS: hbS}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func heartbeatMsg(t *testing.T, st string, at time.Time, intervalS, depth int) []byte {
	t.Helper()
	oldest := at.Add(-2 * time.Minute)
	hb := wire.Heartbeat{V: 1, Station: st, At: at, Seq: 1, UptimeS: 60, IntervalS: intervalS,
		Outbox:  wire.OutboxV1{Depth: depth, LastSeq: 42, Rejected: 1},
		Readers: []wire.ReaderV1{{Name: "idcard0", Kind: "idcard", State: wire.ReaderFault, Detail: "no SAM"}},
		Agent:   "0.2.0", ConfigVersion: "cabc"}
	if depth > 0 {
		hb.Outbox.OldestAt = &oldest
	}
	b, err := hb.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPresenceTransitions walks one station through every state with a
// fake clock; each step names what happens and the state expected after.
func TestPresenceTransitions(t *testing.T) {
	h := newTestHub(t, "", nil)
	events, cancel := h.Subscribe()
	defer cancel()
	connected := t0.Add(-5 * time.Second) // station clock
	status := func(state wire.State, reason string, since time.Time) func() {
		return func() {
			h.HandleMessage(wire.Topic(station, wire.KindStatus), statusMsg(t, station, state, reason, since, 10))
		}
	}
	heartbeat := func(depth int) func() {
		return func() {
			h.HandleMessage(wire.Topic(station, wire.KindHeartbeat), heartbeatMsg(t, station, h.clock.Now(), 10, depth))
		}
	}
	wait := func(d time.Duration) func() { return func() { h.clock.Add(d); h.CheckPresence() } }

	steps := []struct {
		name    string
		do      func()
		state   cloud.PresenceState
		since   time.Duration // after t0
		reason  string
		changed bool // a change event is expected
	}{
		{"registered, never heard of", func() {}, cloud.StateNeverSeen, -1, "", false},
		{"quiet is not stale when never seen", wait(time.Hour), cloud.StateNeverSeen, -1, "", false},
		{"status online", status(wire.StateOnline, wire.StatusConnect, connected), cloud.StateOnline, time.Hour, wire.StatusConnect, true},
		{"heartbeat keeps online", heartbeat(3), cloud.StateOnline, time.Hour, wire.StatusConnect, false},
		{"24 s of silence (< 2.5 × 10 s)", wait(24 * time.Second), cloud.StateOnline, time.Hour, wire.StatusConnect, false},
		{"26 s of silence", wait(2 * time.Second), cloud.StateStale, time.Hour + 25*time.Second, ReasonHeartbeatMissed, true},
		{"still stale", wait(time.Minute), cloud.StateStale, time.Hour + 25*time.Second, ReasonHeartbeatMissed, false},
		{"heartbeat again", heartbeat(0), cloud.StateOnline, time.Hour + 86*time.Second, ReasonHeartbeat, true},
		{"last will", status(wire.StateOffline, wire.StatusWill, connected), cloud.StateOffline, time.Hour + 86*time.Second, wire.StatusWill, true},
		{"offline is never stale", wait(time.Hour), cloud.StateOffline, time.Hour + 86*time.Second, wire.StatusWill, false},
		{"reconnect", status(wire.StateOnline, wire.StatusConnect, connected.Add(2*time.Hour)), cloud.StateOnline, 2*time.Hour + 86*time.Second, wire.StatusConnect, true},
		{"the old connection's will, late", status(wire.StateOffline, wire.StatusWill, connected), cloud.StateOnline, 2*time.Hour + 86*time.Second, wire.StatusConnect, false},
		{"shutdown", status(wire.StateOffline, wire.StatusShutdown, connected.Add(2*time.Hour)), cloud.StateOffline, 2*time.Hour + 86*time.Second, wire.StatusShutdown, true},
		{"a heartbeat means online", heartbeat(1), cloud.StateOnline, 2*time.Hour + 86*time.Second, ReasonHeartbeat, true},
	}
	for _, s := range steps {
		for len(events) > 0 {
			<-events
		}
		s.do()
		p, ok := h.Presence(station)
		if !ok {
			t.Fatalf("%s: no presence", s.name)
		}
		if p.State != s.state || p.Reason != s.reason {
			t.Fatalf("%s: %s (%s), want %s (%s)", s.name, p.State, p.Reason, s.state, s.reason)
		}
		wantSince := time.Time{}
		if s.since >= 0 {
			wantSince = t0.Add(s.since)
		}
		if !p.Since.Equal(wantSince) {
			t.Fatalf("%s: since %v, want %v", s.name, p.Since, wantSince)
		}
		changed := false
		for len(events) > 0 {
			e := <-events
			if e.Kind == cloud.EventPresence && e.Changed && e.Presence.Station == station {
				changed = true
			}
		}
		if changed != s.changed {
			t.Fatalf("%s: change event %v, want %v", s.name, changed, s.changed)
		}
	}
	// Other stations were never heard from.
	if p, _ := h.Presence("st-d-post"); p.State != cloud.StateNeverSeen {
		t.Fatalf("an untouched station is %s", p.State)
	}
	if h.c.transitions.Value("stale") != 1 || h.c.transitions.Value("offline") != 2 {
		t.Fatalf("transitions stale %d offline %d", h.c.transitions.Value("stale"), h.c.transitions.Value("offline"))
	}
	if h.c.ignored.Value("old_will") != 1 {
		t.Fatal("the late will was not counted")
	}
}

func TestHeartbeatDataKept(t *testing.T) {
	h := newTestHub(t, "", nil)
	h.HandleMessage(wire.Topic(station, wire.KindHeartbeat), heartbeatMsg(t, station, t0, 30, 4))
	p, _ := h.Presence(station)
	want := cloud.Backlog{Depth: 4, OldestAt: t0.Add(-2 * time.Minute), LastSeq: 42, Rejected: 1}
	if p.Outbox != want || p.HeartbeatS != 30 || p.Agent != "0.2.0" || p.ConfigVersion != "cabc" || p.UptimeS != 60 ||
		len(p.Readers) != 1 || p.Readers[0].State != wire.ReaderFault || !p.LastHeartbeat.Equal(t0) {
		t.Fatalf("presence %+v", p)
	}
	// The station's own interval decides staleness: 2.5 × 30 s.
	h.clock.Add(74 * time.Second)
	if ch := h.CheckPresence(); len(ch) != 0 {
		t.Fatalf("stale too early: %+v", ch)
	}
	h.clock.Add(2 * time.Second)
	if ch := h.CheckPresence(); len(ch) != 1 || ch[0].State != cloud.StateStale {
		t.Fatalf("not stale after 76 s: %+v", ch)
	}
}

// TestPresencePersisted restarts the hub on the same data directory.
func TestPresencePersisted(t *testing.T) {
	dir := t.TempDir()
	h := newTestHub(t, dir, nil)
	h.HandleMessage(wire.Topic(station, wire.KindStatus), statusMsg(t, station, wire.StateOnline, wire.StatusConnect, t0, 15))
	h.HandleMessage(wire.Topic(station, wire.KindHeartbeat), heartbeatMsg(t, station, t0, 15, 2))
	h.clock.Add(time.Minute)
	h.HandleMessage(wire.Topic("st-d", wire.KindStatus), statusMsg(t, "st-d", wire.StateOnline, wire.StatusConnect, t0, 15))
	h.HandleMessage(wire.Topic("st-d", wire.KindStatus), statusMsg(t, "st-d", wire.StateOffline, wire.StatusShutdown, t0, 15))
	before := h.Presences()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}

	h2 := newTestHub(t, dir, nil)
	after := h2.Presences()
	if len(after) != len(before) {
		t.Fatalf("%d presences after restart, want %d", len(after), len(before))
	}
	for i := range before {
		b, a := before[i], after[i]
		if a.Station != b.Station || a.State != b.State || !a.Since.Equal(b.Since) || !a.LastSeen.Equal(b.LastSeen) ||
			a.Outbox.Depth != b.Outbox.Depth || a.Agent != b.Agent {
			t.Fatalf("after restart\n%+v\nwant\n%+v", a, b)
		}
	}
	if p, _ := h2.Presence("st-d"); p.State != cloud.StateOffline || !p.LastSeen.Equal(t0.Add(time.Minute)) {
		t.Fatalf("st-d after restart: %+v", p)
	}
	// A station that was online when the hub stopped goes stale if it
	// stays silent.
	h2.clock.Add(time.Hour)
	if p := h2.CheckPresence(); len(p) != 1 || p[0].Station != station || p[0].State != cloud.StateStale {
		t.Fatalf("after a silent hour: %+v", p)
	}
}

func TestUnknownStationPresenceIgnored(t *testing.T) {
	h := newTestHub(t, "", nil)
	h.HandleMessage(wire.Topic("st-stranger", wire.KindStatus), statusMsg(t, "st-stranger", wire.StateOnline, wire.StatusConnect, t0, 15))
	h.HandleMessage(wire.Topic("st-stranger", wire.KindHeartbeat), heartbeatMsg(t, "st-stranger", t0, 15, 0))
	h.HandleMessage(wire.Topic(station, wire.KindStatus), nil) // a cleared retained status
	if _, ok := h.Presence("st-stranger"); ok {
		t.Fatal("an unregistered station got a presence")
	}
	if h.c.decodeFailures.Value("status", ReasonUnknownStation) != 1 || h.c.decodeFailures.Value("heartbeat", ReasonUnknownStation) != 1 {
		t.Fatal("not counted")
	}
	if h.c.ignored.Value("empty_status") != 1 {
		t.Fatal("the empty status was not counted")
	}
}

// TestPresenceDeadlines: with many stations, a tick turns stale exactly
// those whose deadline passed, each at its own deadline, in registry
// order; a heartbeat moves a station's deadline; an offline station never
// turns stale; and the persister takes only the stations that changed.
func TestPresenceDeadlines(t *testing.T) {
	const n = 2000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("st-%04d", i)
	}
	p := newPresence(ids, nil, 10)
	now := t0
	// Station i says it is online at now + i ms with a heartbeat interval
	// of 10 s: stale 25 s + i ms later.
	for i, id := range ids {
		p.status(id, wire.Status{V: 1, Station: id, State: wire.StateOnline, Reason: wire.StatusConnect, Since: now, HeartbeatS: 10},
			now.Add(time.Duration(i)*time.Millisecond))
	}
	if got := len(p.takeDirty()); got != n {
		t.Fatalf("%d dirty after connecting, want %d", got, n)
	}
	// Station 5 keeps beating; station 7 goes offline.
	p.heartbeat(ids[5], wire.Heartbeat{V: 1, Station: ids[5], At: now, IntervalS: 10}, now.Add(20*time.Second))
	p.status(ids[7], wire.Status{V: 1, Station: ids[7], State: wire.StateOffline, Reason: wire.StatusShutdown, Since: now}, now.Add(time.Second))
	p.takeDirty()
	// 25.0995 s: stations 0..99 are past their deadline, minus 5 and 7.
	got := p.evaluate(now.Add(25*time.Second + 99*time.Millisecond + 500*time.Microsecond))
	if len(got) != 98 {
		t.Fatalf("%d turned stale, want 98", len(got))
	}
	for i, x := range got {
		if x.State != cloud.StateStale || x.Reason != ReasonHeartbeatMissed {
			t.Fatalf("%s: %s %s", x.Station, x.State, x.Reason)
		}
		if i > 0 && x.Station <= got[i-1].Station {
			t.Fatalf("not in registry order: %s after %s", x.Station, got[i-1].Station)
		}
		var k int
		fmt.Sscanf(x.Station, "st-%d", &k)
		if k == 5 || k == 7 || k > 99 {
			t.Fatalf("%s turned stale", x.Station)
		}
		if want := now.Add(25*time.Second + time.Duration(k)*time.Millisecond); !x.Since.Equal(want) {
			t.Fatalf("%s stale since %v, want %v", x.Station, x.Since, want)
		}
	}
	if d := p.takeDirty(); len(d) != 98 {
		t.Fatalf("%d dirty, want the 98 changed", len(d))
	}
	if again := p.evaluate(now.Add(25*time.Second + 99*time.Millisecond + 500*time.Microsecond)); len(again) != 0 {
		t.Fatalf("%d turned stale twice", len(again))
	}
	// Station 5's deadline moved to 45 s; 7 stays offline for ever.
	rest := p.evaluate(now.Add(time.Hour))
	if len(rest) != n-98-1 { // all but the 98 and station 7
		t.Fatalf("%d more turned stale, want %d", len(rest), n-98-1)
	}
	if x, _ := p.get(ids[5]); x.State != cloud.StateStale || !x.Since.Equal(now.Add(45*time.Second)) {
		t.Fatalf("station 5: %s since %v", x.State, x.Since)
	}
	if x, _ := p.get(ids[7]); x.State != cloud.StateOffline {
		t.Fatalf("station 7: %s", x.State)
	}
	if p.deadlines.Len() != 0 {
		t.Fatalf("%d deadlines left, want none", p.deadlines.Len())
	}
}

// BenchmarkPresenceHeartbeat is one heartbeat's presence work (and a
// thousandth of a tick's) at 1,000 and 100,000 stations: O(log n), not
// O(n).
func BenchmarkPresenceHeartbeat(b *testing.B) {
	for _, n := range []int{1000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchPresence(b, n) })
	}
}

func benchPresence(b *testing.B, n int) {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("st-%06d", i)
	}
	p := newPresence(ids, nil, 30)
	now := t0
	for _, id := range ids {
		p.status(id, wire.Status{V: 1, Station: id, State: wire.StateOnline, Reason: wire.StatusConnect, Since: now, HeartbeatS: 30}, now)
	}
	p.takeDirty()
	i := 0
	for b.Loop() {
		now = now.Add(time.Millisecond)
		id := ids[i%n]
		p.heartbeat(id, wire.Heartbeat{V: 1, Station: id, At: now, IntervalS: 30}, now)
		if i%1000 == 0 {
			p.evaluate(now)
			p.takeDirty()
		}
		i++
	}
}
