// Package sim simulates many stations against a hub: each station speaks
// through the agent's own uplink (edge-agent/mqtt: client ID, last will,
// retained status, acks, reconnection with backoff) and the real wire
// encoding, and keeps its outbox in memory instead of bbolt, so that one
// process holds thousands of stations. A station makes check-ins at a
// chosen rate (and may start with a backlog), sends them in batches with
// one batch in flight, clears only what the hub acknowledges, resends
// after an ack timeout, and sends heartbeats with its outbox's depth.
//
// Outages take a station off the network for a while (its uplink closed,
// then opened again); Storm takes every station off at once and brings
// them all back together, as after a broker restart or a network outage
// of a whole region.
package sim

import (
	crand "crypto/rand"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/mqtt"
	"github.com/vetnet/vetnet/vetnettest"
	"github.com/vetnet/vetnet/wire"
)

// Options configure a simulation.
type Options struct {
	Broker     string           // broker URL, e.g. tcp://127.0.0.1:1883; required
	Stations   []vetnet.Station // the stations to simulate; required
	HeartbeatS int              // heartbeat interval, seconds; default 30
	// Rate is each station's check-ins per second (a Poisson process);
	// 0 makes none beyond the backlog.
	Rate float64
	// Backlog is how many check-ins each station holds before it first
	// connects (a station back from a long outage).
	Backlog int
	// BatchMax is the most check-ins per batch. Default 50 (the agent's).
	BatchMax int
	// AckTimeout is how long a batch waits for its ack before it is sent
	// again. Default 10 s.
	AckTimeout time.Duration
	// Spread is the window over which the stations first connect.
	// Default 0: all at once.
	Spread time.Duration
	// OutageEvery is the mean time between a station's outages; 0: none.
	OutageEvery time.Duration
	// OutageFor is how long an outage lasts. Default 30 s.
	OutageFor time.Duration
	// KeepAlive is the MQTT keep-alive of each station. Default 30 s.
	KeepAlive time.Duration
	// MaxReconnect caps the stations' reconnection backoff. Default 10 s.
	MaxReconnect time.Duration
	Logf         func(format string, a ...any) // default: none
}

// Totals sum up the stations.
type Totals struct {
	Stations  int
	Connected int   // uplinks up and subscribed
	Made      int64 // check-ins made
	Acked     int64 // check-ins cleared by an ack
	Outbox    int64 // check-ins waiting for an ack
	Batches   int64 // batches sent (resends included)
	Resent    int64 // batches sent again after the ack timeout or a reconnect
	Outages   int64
}

// Sim is a running simulation.
type Sim struct {
	opts     Options
	stations []*station
	making   atomic.Bool
	made     atomic.Int64
	acked    atomic.Int64
	batches  atomic.Int64
	resent   atomic.Int64
	outages  atomic.Int64
	stop     chan struct{}
	wg       sync.WaitGroup
	closeOne sync.Once
}

type station struct {
	sim *Sim
	st  vetnet.Station
	svc []vetnet.Service
	r   *rand.Rand

	mu     sync.Mutex
	up     *mqtt.Uplink
	outbox []vetnet.CheckIn // in sequence order
	seq    uint64
	start  time.Time
	hbSeq  uint64

	// The batch in flight: its ID, check-ins and when it was sent.
	batch  string
	inBat  map[string]bool
	sentAt time.Time
	nBatch int

	storm chan storm // Storm: go down
	wake  chan struct{}
}

// Start makes the stations (and their backlogs) and connects them.
// Errors: EINVALID (no broker or stations).
func Start(opts Options) (*Sim, error) {
	if opts.Broker == "" || len(opts.Stations) == 0 {
		return nil, vetnet.Errorz(vetnet.EINVALID, "模拟需要消息服务器地址和站点", "The simulation needs a broker and stations.")
	}
	if opts.HeartbeatS <= 0 {
		opts.HeartbeatS = 30
	}
	if opts.BatchMax <= 0 {
		opts.BatchMax = 50
	}
	if opts.AckTimeout <= 0 {
		opts.AckTimeout = 10 * time.Second
	}
	if opts.OutageFor <= 0 {
		opts.OutageFor = 30 * time.Second
	}
	if opts.KeepAlive <= 0 {
		opts.KeepAlive = 30 * time.Second
	}
	if opts.MaxReconnect <= 0 {
		opts.MaxReconnect = 10 * time.Second
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	s := &Sim{opts: opts, stop: make(chan struct{})}
	s.making.Store(true)
	now := time.Now()
	for i, st := range opts.Stations {
		x := &station{sim: s, st: st, svc: st.OfferedServices(), r: rand.New(rand.NewPCG(uint64(i)+1, 77)), start: now,
			storm: make(chan storm, 1), wake: make(chan struct{}, 1)}
		for j := 0; j < opts.Backlog; j++ {
			x.make(now.Add(-time.Duration(opts.Backlog-j) * time.Second))
		}
		s.stations = append(s.stations, x)
	}
	for i, x := range s.stations {
		var delay time.Duration
		if opts.Spread > 0 {
			delay = time.Duration(int64(opts.Spread) * int64(i) / int64(len(s.stations)))
		}
		s.wg.Add(1)
		go x.run(delay)
	}
	return s, nil
}

// StopMaking stops new check-ins; the stations keep sending what they
// hold.
func (s *Sim) StopMaking() { s.making.Store(false) }

// storm is one Storm's orders to a station.
type storm struct {
	down    time.Duration
	backlog int
}

// Storm takes every station off the network at once and brings all of
// them back together after down; while off, each makes backlog
// check-ins (visitors served while the network was down).
func (s *Sim) Storm(down time.Duration, backlog int) {
	for _, x := range s.stations {
		select {
		case x.storm <- storm{down, backlog}:
		default:
		}
	}
}

// Totals returns the current sums.
func (s *Sim) Totals() Totals {
	t := Totals{Stations: len(s.stations), Made: s.made.Load(), Acked: s.acked.Load(), Batches: s.batches.Load(),
		Resent: s.resent.Load(), Outages: s.outages.Load()}
	for _, x := range s.stations {
		x.mu.Lock()
		t.Outbox += int64(len(x.outbox))
		if x.up != nil && x.up.Connected() {
			t.Connected++
		}
		x.mu.Unlock()
	}
	return t
}

// Close stops every station: their uplinks announce shutdown and
// disconnect.
func (s *Sim) Close() {
	s.closeOne.Do(func() { close(s.stop) })
	s.wg.Wait()
}

// make appends a new check-in to the outbox.
func (x *station) make(at time.Time) {
	x.seq++
	id, err := vetnet.NewCheckInID(at, crand.Reader)
	if err != nil {
		return
	}
	sv := x.svc[x.r.IntN(len(x.svc))]
	info, _ := sv.Info()
	x.outbox = append(x.outbox, vetnet.CheckIn{ID: id, StationID: x.st.ID, Seq: x.seq, Visitor: vetnettest.Veteran(x.r),
		Service: sv, Method: vetnet.MethodCard, QueueNo: fmt.Sprintf("%c%03d", info.QueuePrefix, x.seq%1000), At: at})
	x.sim.made.Add(1)
}

func (x *station) open() error {
	up, err := mqtt.Open(mqtt.Options{Broker: x.sim.opts.Broker, StationID: x.st.ID, Agent: "sim",
		HeartbeatS: x.sim.opts.HeartbeatS, KeepAlive: x.sim.opts.KeepAlive, MaxReconnectInterval: x.sim.opts.MaxReconnect,
		RetryInterval: time.Second})
	if err != nil {
		return err
	}
	x.mu.Lock()
	x.up = up
	x.batch = "" // whatever was in flight is sent again on this connection
	x.mu.Unlock()
	return nil
}

func (x *station) closeUp() {
	x.mu.Lock()
	up := x.up
	x.up = nil
	x.mu.Unlock()
	if up != nil {
		up.Close()
	}
}

func (x *station) run(delay time.Duration) {
	defer x.sim.wg.Done()
	defer x.closeUp()
	o := x.sim.opts
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-x.sim.stop:
			return
		}
	}
	if err := x.open(); err != nil {
		o.Logf("sim: %s: %v", x.st.ID, err)
		return
	}
	hb := time.NewTicker(time.Duration(o.HeartbeatS) * time.Second)
	defer hb.Stop()
	check := time.NewTicker(time.Second)
	defer check.Stop()
	nextMake := x.nextMake()
	nextOutage := x.nextOutage()
	for {
		x.mu.Lock()
		up := x.up
		x.mu.Unlock()
		var acks <-chan wire.Ack
		var changes <-chan struct{}
		if up != nil {
			acks, changes = up.Acks(), up.Changes()
		}
		select {
		case <-x.sim.stop:
			return
		case a := <-acks:
			x.onAck(a)
			x.send()
		case <-changes:
			x.mu.Lock()
			if x.up != nil && x.up.Connected() && x.batch != "" {
				// A batch sent on a lost connection may never be
				// answered: send it again now.
				x.batch = ""
				x.sim.resent.Add(1)
			}
			x.mu.Unlock()
			x.send()
		case <-hb.C:
			x.heartbeat()
		case <-check.C:
			x.mu.Lock()
			if x.batch != "" && time.Since(x.sentAt) > o.AckTimeout {
				x.batch = ""
				x.sim.resent.Add(1)
			}
			x.mu.Unlock()
			x.send()
		case <-timerC(nextMake):
			if x.sim.making.Load() {
				x.mu.Lock()
				x.make(time.Now())
				x.mu.Unlock()
			}
			nextMake = x.nextMake()
			x.send()
		case <-timerC(nextOutage):
			x.sim.outages.Add(1)
			x.down(o.OutageFor)
			nextOutage = x.nextOutage()
		case st := <-x.storm:
			x.sim.outages.Add(1)
			x.closeUp()
			x.mu.Lock()
			for i := 0; i < st.backlog; i++ {
				x.make(time.Now().Add(time.Duration(i) * st.down / time.Duration(max(st.backlog, 1))))
			}
			x.mu.Unlock()
			x.down(st.down)
		}
	}
}

// down closes the uplink for d (a clean stop, as a station switched
// off), then opens it again.
func (x *station) down(d time.Duration) {
	x.closeUp()
	select {
	case <-time.After(d):
	case <-x.sim.stop:
		return
	}
	if err := x.open(); err != nil {
		x.sim.opts.Logf("sim: %s: %v", x.st.ID, err)
	}
}

// timerC returns a channel that fires at t, or nil (never) for zero t.
func timerC(t time.Time) <-chan time.Time {
	if t.IsZero() {
		return nil
	}
	return time.After(time.Until(t))
}

func (x *station) nextMake() time.Time {
	if x.sim.opts.Rate <= 0 {
		return time.Time{}
	}
	return time.Now().Add(time.Duration(x.r.ExpFloat64() / x.sim.opts.Rate * float64(time.Second)))
}

func (x *station) nextOutage() time.Time {
	if x.sim.opts.OutageEvery <= 0 {
		return time.Time{}
	}
	return time.Now().Add(time.Duration(x.r.ExpFloat64() * float64(x.sim.opts.OutageEvery)))
}

// onAck clears the acknowledged check-ins and frees the batch slot.
func (x *station) onAck(a wire.Ack) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if a.Batch == x.batch {
		x.batch = ""
	}
	if a.Error != nil || len(a.IDs) == 0 {
		return
	}
	ok := make(map[string]bool, len(a.IDs))
	for _, id := range a.IDs {
		ok[id] = true
	}
	kept := x.outbox[:0]
	for _, c := range x.outbox {
		if ok[c.ID] {
			x.sim.acked.Add(1)
			continue
		}
		kept = append(kept, c)
	}
	x.outbox = kept
}

// send sends the next batch unless one is in flight.
func (x *station) send() {
	x.mu.Lock()
	up := x.up
	if up == nil || x.batch != "" || len(x.outbox) == 0 || !up.Connected() {
		x.mu.Unlock()
		return
	}
	n := min(len(x.outbox), x.sim.opts.BatchMax)
	cs := append([]vetnet.CheckIn(nil), x.outbox[:n]...)
	x.nBatch++
	batch := strconv.FormatInt(x.start.Unix(), 36) + "-" + strconv.Itoa(x.nBatch)
	x.batch, x.sentAt = batch, time.Now()
	x.mu.Unlock()
	data, err := wire.NewCheckInBatch(x.st.ID, batch, time.Now(), cs).Encode()
	if err != nil {
		return
	}
	x.sim.batches.Add(1)
	if err := up.Publish(up.Topic(wire.KindCheckIns), data, 1, false); err != nil {
		x.mu.Lock()
		if x.batch == batch {
			x.batch = ""
		}
		x.mu.Unlock()
	}
}

func (x *station) heartbeat() {
	x.mu.Lock()
	up := x.up
	x.hbSeq++
	hb := wire.Heartbeat{V: wire.Version, Station: x.st.ID, At: time.Now().UTC(), Seq: x.hbSeq,
		UptimeS: int64(time.Since(x.start).Seconds()), IntervalS: x.sim.opts.HeartbeatS, Agent: "sim",
		Outbox:  wire.OutboxV1{Depth: len(x.outbox), LastSeq: x.seq},
		Readers: []wire.ReaderV1{{Name: "sim0", Kind: "simulated", State: wire.ReaderOK}},
		Storage: wire.StorageV1{FreeBytes: 8 << 30, FileBytes: 1 << 20}}
	if len(x.outbox) > 0 {
		at := x.outbox[0].At.UTC()
		hb.Outbox.OldestAt = &at
	}
	x.mu.Unlock()
	if up == nil || !up.Connected() {
		return
	}
	if data, err := hb.Encode(); err == nil {
		up.Publish(up.Topic(wire.KindHeartbeat), data, 0, false)
	}
}

// District returns a registry of n stations under one district centre
// with ID prefix: the centre, a town per 20 villages, and villages.
func District(prefix string, n int) []vetnet.Station {
	if n < 1 {
		return nil
	}
	out := []vetnet.Station{{ID: prefix, Name: "模拟区退役军人服务中心", NameEN: "Simulated district centre", Level: vetnet.LevelDistrict}}
	towns := max(1, (n-1)/21)
	for t := 0; t < towns && len(out) < n; t++ {
		out = append(out, vetnet.Station{ID: fmt.Sprintf("%s-t%03d", prefix, t), Name: fmt.Sprintf("模拟%d镇退役军人服务站", t),
			Level: vetnet.LevelTown, Parent: prefix})
	}
	for v := 0; len(out) < n; v++ {
		t := v % towns
		out = append(out, vetnet.Station{ID: fmt.Sprintf("%s-t%03d-v%05d", prefix, t, v), Name: fmt.Sprintf("模拟%d村退役军人服务站", v),
			Level: vetnet.LevelVillage, Parent: fmt.Sprintf("%s-t%03d", prefix, t)})
	}
	return out
}

// WriteRegistry writes stations as a registry file the hub loads
// (firmware-config/registry's TOML).
func WriteRegistry(w io.Writer, stations []vetnet.Station) error {
	for _, st := range stations {
		if _, err := fmt.Fprintf(w, "[[station]]\nid = %q\nname = %q\nlevel = %q\n", st.ID, st.Name, string(st.Level)); err != nil {
			return err
		}
		if st.Parent != "" {
			if _, err := fmt.Fprintf(w, "parent = %q\n", st.Parent); err != nil {
				return err
			}
		}
		if _, err := fmt.Fprintln(w); err != nil {
			return err
		}
	}
	return nil
}
