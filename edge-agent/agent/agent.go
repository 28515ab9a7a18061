// Package agent is the station daemon: it composes the store (bolt), the
// readers, the uplink (mqtt) and the kiosk's local API (localapi).
//
// A read becomes a CardEvent on the local API with masked data and a
// single-use token; the full visitor stays here. A check-in (by token or
// typed ID number) is committed to the store before the API answers, goes
// to the outbox, and the forwarder publishes the outbox to the hub in
// batches until the hub's acks clear it. The station works offline: Start
// never waits for the broker, and check-ins made while it is away are
// delivered when it is back.
//
// # The forwarder
//
// The forwarder keeps up to maxInFlight batches published and waiting for
// their ack, each with a deadline. A batch whose ack does not come in time
// is released and its check-ins are sent again, regrouped with newer ones;
// the wait grows exponentially from AckTimeout to MaxBackoff with jitter,
// so a silent hub is not flooded, and shrinks back after the next ack. On a
// reconnect everything in flight is released and sent at once, since the
// old connection's messages may be lost. An ack clears exactly the IDs it
// names and parks the rejected ones; the rest of a refused batch is sent
// again. An ack with an error (the hub refused the whole message) keeps
// everything and backs off. Duplicates are harmless: the hub stores by
// check-in ID.
package agent

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"log"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/bolt"
	"github.com/vetnet/vetnet/edge-agent/indicator"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/edge-agent/mqtt"
	"github.com/vetnet/vetnet/edge-agent/reader"
	"github.com/vetnet/vetnet/edge-agent/reader/sim"
	"github.com/vetnet/vetnet/wire"
)

// Defaults of Config.
const (
	DefaultHeartbeatInterval = 15 * time.Second
	DefaultBatchMax          = 250
	DefaultAckTimeout        = 10 * time.Second
	DefaultMaxBackoff        = 60 * time.Second
	// TokenTTL is how long a card's token can be used to check in.
	TokenTTL = 2 * time.Minute
	// DBFile is the store's file name in DataDir.
	DBFile = "station.db"
)

// maxInFlight is how many batches may wait for their ack at once: enough
// to keep a slow link busy, few enough that a lost connection wastes
// little.
const maxInFlight = 4

// maxTokens bounds the cards waiting to be checked in; the oldest goes
// first.
const maxTokens = 64

// Config configures an Agent.
type Config struct {
	StationID string // required
	DataDir   string // holds station.db and its key; required; created 0700 if missing
	BrokerURL string // e.g. tcp://127.0.0.1:1883; empty runs without an uplink (the outbox only grows)
	ClientID  string // default station-{StationID}
	Username  string
	Password  string
	// TLS is the uplink's TLS configuration for ssl:// brokers: the
	// district CA and the device's client certificate from its bundle
	// (pki.ClientTLS). The certificate's CN is the station's identity at
	// the broker. Nil: Paho's default (no client certificate).
	TLS *tls.Config
	// ConfigKey is the hub's configuration-signing public key from the
	// device bundle. When set, a configuration is applied only if the hub
	// signed it; when nil, unsigned configurations are accepted (a
	// station without a bundle, the demo).
	ConfigKey ed25519.PublicKey
	// ApplyConfig, when set, is the last step of applying a configuration
	// the store has already switched to (e.g. handing it to another
	// process on the device). If it fails, the store goes back to the
	// previous configuration and the agent keeps running on it; the hub
	// sees the old version in heartbeats. Optional.
	ApplyConfig func(wire.Config) error
	// SeqBase is where check-in numbering starts on an empty store: the
	// device generation << 32 (see bolt.Options.SeqBase). Default 0.
	SeqBase uint64
	// APIAddr is the local API's address. Default localapi.DefaultAddr;
	// "127.0.0.1:0" picks a free port (see APIAddr). Loopback only.
	APIAddr string
	// Station is what the kiosk shows until the hub's configuration
	// arrives (a configuration saved earlier wins). Nil shows the station
	// ID and the default services of a village station.
	Station *vetnet.Station
	// HeartbeatInterval is used until the hub's configuration sets one.
	// Default 15 s.
	HeartbeatInterval time.Duration
	SimReader         bool          // run a simulated reader (and allow the API's sim tap)
	SimInterval       time.Duration // the simulated reader (or SimTap) reads by itself this often; 0 only on tap
	// Readers are further readers (hardware drivers) to run.
	Readers []reader.Reader
	// SimTap lays a card on an emulated reader (the demo's SAM emulator,
	// hw.Station.SimTap); it serves the API's sim tap when there is no
	// simulated reader, and with SimInterval taps by itself. Optional.
	SimTap func(v *vetnet.Visitor) error
	// Indicator is the station's LED and buzzer; the agent runs it and
	// shows ready, reading, offline and fault. Optional.
	Indicator *indicator.Indicator
	// LookupToken finds the visitor of a scanned code (a preferential-
	// treatment card, an appointment slip). Nil: scanned codes are
	// answered with "not recognised" on the kiosk. Errors: ENOTFOUND,
	// EUNAVAILABLE, shown to the visitor.
	LookupToken func(ctx context.Context, token string) (vetnet.Visitor, error)
	// BatchMax is the most check-ins in one batch. Default 250; at most
	// wire.MaxBatch.
	BatchMax int
	// AckTimeout is the first wait for a batch's ack before it is sent
	// again. Default 10 s.
	AckTimeout time.Duration
	// MaxBackoff caps the growing wait for acks and after errors. Default
	// 60 s.
	MaxBackoff time.Duration
	// ReconnectInterval caps the wait between reconnection attempts.
	// Default mqtt.DefaultMaxReconnectInterval.
	ReconnectInterval time.Duration
	// MaxOutbox is how many check-ins may wait for the hub; beyond it the
	// kiosk says the station cannot take check-ins. Default
	// bolt.DefaultMaxOutbox (100,000).
	MaxOutbox int
	// MinFree is the free disk space the station keeps; below it check-ins
	// are refused (nothing stored is dropped). Default bolt.DefaultMinFree.
	MinFree uint64
	// FreeSpace replaces the file system's free-space query (tests).
	FreeSpace func(dir string) (uint64, error)
	// Retention is how long acknowledged check-ins stay at the station.
	// Default bolt.DefaultRetention (30 days).
	Retention time.Duration
	// MaintainEvery is how often the agent purges check-ins past their
	// retention and, when the station is idle, compacts its file. Default
	// 10 minutes.
	MaintainEvery time.Duration
	// IdleFor is how long without a check-in makes the station idle
	// enough to compact its file. Default 5 minutes.
	IdleFor time.Duration
	// CompactMin is the least disk a compaction must give back to be
	// worth it (and at least half the file). Default 8 MiB.
	CompactMin int64
	// Printer prints queue tickets at check-in (CheckInResponse.Printed)
	// and on request; its health is reported as a device of kind
	// "printer". Optional: without one, nothing is printed.
	Printer Printer
	// PrintTimeout bounds the wait for a ticket. Default
	// DefaultPrintTimeout (8 s).
	PrintTimeout time.Duration
	// Location is the time zone whose calendar day numbers the queues and
	// bounds "today's" visitors. Default time.Local.
	Location *time.Location
	Version  string                        // agent software version, in heartbeats and status
	Logf     func(format string, a ...any) // default log.Printf; never given personal data unmasked
	Now      func() time.Time              // default time.Now; check-in times, token expiry
}

// Agent is a running station daemon.
type Agent struct {
	cfg     Config
	store   *bolt.Store
	up      *mqtt.Uplink
	api     *localapi.Server
	sim     *sim.Reader
	readers []reader.Reader
	started time.Time

	mu            sync.Mutex
	station       vetnet.Station
	configVersion string
	heartbeat     time.Duration
	tokens        map[string]*card
	lastStatus    []byte
	staff         staffState
	readingUntil  time.Time // the LED shows reading until then
	pace          paceOf    // today's pace of each service, for expected waits

	wake        chan struct{} // a check-in was committed
	statusDirty chan struct{} // something the kiosk shows changed
	queueDirty  chan struct{} // the queue changed
	hbNow       chan struct{} // send a heartbeat now (interval changed, config applied)

	configsRejected atomic.Int64 // configurations refused (signature) or rolled back

	hbSeq      atomic.Uint64
	resends    atomic.Int64
	lastCommit atomic.Int64 // Unix nanoseconds of the last check-in committed
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	closeOnce  sync.Once
	closeErr   error
}

// card is a read waiting to be checked in.
type card struct {
	visitor vetnet.Visitor
	method  vetnet.Method
	reader  string
	expires time.Time
	// busy is set while the token's check-in is being committed; done
	// holds the answer once it is. A token checks one visit in; asking
	// again with the same service (a kiosk retrying after a lost answer)
	// gets the same answer until the token expires, never a second visit.
	busy bool
	done *localapi.CheckInResponse
	svc  vetnet.Service
}

// New checks the configuration and fills in defaults; Start runs the
// agent.
//
// Errors: EINVALID.
func New(cfg Config) (*Agent, error) {
	if err := vetnet.ValidateStationID(cfg.StationID); err != nil {
		return nil, err
	}
	if cfg.DataDir == "" {
		return nil, vetnet.Errorz(vetnet.EINVALID, "未配置数据目录", "No data directory is configured.")
	}
	if cfg.APIAddr == "" {
		cfg.APIAddr = localapi.DefaultAddr
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if cfg.BatchMax <= 0 {
		cfg.BatchMax = DefaultBatchMax
	}
	cfg.BatchMax = min(cfg.BatchMax, wire.MaxBatch)
	if cfg.MaintainEvery <= 0 {
		cfg.MaintainEvery = 10 * time.Minute
	}
	if cfg.IdleFor <= 0 {
		cfg.IdleFor = 5 * time.Minute
	}
	if cfg.CompactMin <= 0 {
		cfg.CompactMin = 8 << 20
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = DefaultAckTimeout
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.Logf == nil {
		cfg.Logf = log.Printf
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PrintTimeout <= 0 {
		cfg.PrintTimeout = DefaultPrintTimeout
	}
	if cfg.Station != nil {
		st := *cfg.Station
		if st.ID != cfg.StationID {
			return nil, vetnet.Errorz(vetnet.EINVALID, "站点信息与站点编号不一致", "The station information is for another station ID.")
		}
		if err := st.Validate(); err != nil {
			return nil, err
		}
	}
	a := &Agent{
		cfg:         cfg,
		tokens:      map[string]*card{},
		heartbeat:   cfg.HeartbeatInterval,
		wake:        make(chan struct{}, 1),
		statusDirty: make(chan struct{}, 1),
		queueDirty:  make(chan struct{}, 1),
		hbNow:       make(chan struct{}, 1),
	}
	return a, nil
}

// Start opens the store, starts the local API and the readers, and starts
// connecting to the broker without waiting for it. The agent runs until
// Close (or until ctx is done; Close is still needed to release the store).
//
// Errors: EUNAVAILABLE (the store is locked by another agent, the API's
// address is taken), EINVALID, EINTERNAL. On error nothing is left running.
func (a *Agent) Start(ctx context.Context) (err error) {
	cfg := a.cfg
	defer func() {
		if err != nil {
			a.shutdown()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return vetnet.Wrap(vetnet.EINTERNAL, err, "无法创建数据目录", "Cannot create the data directory.")
	}
	a.store, err = bolt.Open(filepath.Join(cfg.DataDir, DBFile), bolt.Options{StationID: cfg.StationID, Now: cfg.Now, SeqBase: cfg.SeqBase,
		MaxOutbox: cfg.MaxOutbox, MinFree: cfg.MinFree, FreeSpace: cfg.FreeSpace, Retention: cfg.Retention, Location: cfg.Location})
	if err != nil {
		return err
	}
	a.started = time.Now()
	a.initStation()
	if _, err := a.Queue(); err != nil { // today's pace so far
		cfg.Logf("agent: queue: %v", err)
	}

	a.readers = append(a.readers, cfg.Readers...)
	if cfg.SimReader {
		a.sim = sim.New(sim.Options{Interval: cfg.SimInterval, Now: cfg.Now})
		a.readers = append(a.readers, a.sim)
	}

	backend := localapi.Backend{Status: a.Status, CheckIn: a.CheckIn, Feedback: a.Feedback,
		Staff: a.StaffList, StaffLogin: a.StaffLogin, StaffLogout: a.StaffLogout,
		Queue: a.Queue, Call: a.Call, Served: a.Served, NoShow: a.NoShow, Recall: a.Recall, Transfer: a.Transfer,
		Visitors: a.Visitors, Duty: a.Duty, SetDuty: a.SetDuty, Print: a.Print,
		Meetings: a.Meetings, RollCall: a.RollCall}
	if a.sim != nil {
		backend.SimTap = a.sim.Tap
	} else if cfg.SimTap != nil {
		backend.SimTap = cfg.SimTap
	}
	a.api = localapi.NewServer(backend, localapi.ServerOptions{Addr: cfg.APIAddr, Now: cfg.Now, Logf: cfg.Logf})
	if err := a.api.Open(); err != nil {
		return err
	}

	if cfg.BrokerURL != "" {
		var retry time.Duration // the uplink's default unless reconnection is to be faster
		if cfg.ReconnectInterval > 0 {
			retry = min(mqtt.DefaultRetryInterval, cfg.ReconnectInterval)
		}
		a.up, err = mqtt.Open(mqtt.Options{
			Broker: cfg.BrokerURL, StationID: cfg.StationID, ClientID: cfg.ClientID,
			Username: cfg.Username, Password: cfg.Password, Agent: cfg.Version, TLSConfig: cfg.TLS,
			HeartbeatS: seconds(a.heartbeatInterval()), MaxReconnectInterval: cfg.ReconnectInterval,
			RetryInterval: retry, Now: cfg.Now, Logf: cfg.Logf,
		})
		if err != nil {
			return err
		}
	} else {
		cfg.Logf("agent: no broker configured; check-ins stay in the outbox")
	}

	ctx, a.cancel = context.WithCancel(ctx)
	events := make(chan reader.Event, 16)
	for _, r := range a.readers {
		a.goRun(func() { a.superviseReader(ctx, r, events) })
	}
	a.goRun(func() { a.readEvents(ctx, events) })
	a.goRun(func() { a.publishStatus(ctx) })
	a.goRun(func() { a.publishQueue(ctx) })
	if cfg.Printer != nil {
		a.goRun(func() { a.checkPrinter(ctx) })
	}
	a.goRun(func() { a.maintain(ctx) })
	if cfg.Indicator != nil {
		a.goRun(func() { cfg.Indicator.Run(ctx) })
		a.goRun(func() { a.indicate(ctx) })
	}
	if a.sim == nil && cfg.SimTap != nil && cfg.SimInterval > 0 {
		a.goRun(func() { a.simTaps(ctx) })
	}
	if a.up != nil {
		a.goRun(func() { a.forward(ctx) })
		a.goRun(func() { a.heartbeats(ctx) })
		a.goRun(func() { a.configs(ctx) })
		a.goRun(func() { a.meetings(ctx) })
	}
	a.statusChanged()
	st := a.currentStation()
	cfg.Logf("agent: station %s (%s) started; API on %s; config %q", st.ID, st.Name, a.api.Addr(), a.ConfigVersion())
	return nil
}

func (a *Agent) goRun(f func()) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		f()
	}()
}

// initStation takes the station from the saved configuration, the
// configured station, or the station ID, in that order.
func (a *Agent) initStation() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.store.Config(); ok {
		a.station, a.configVersion = c.StationOf(), c.Version
		a.heartbeat = time.Duration(c.HeartbeatS) * time.Second
		return
	}
	if a.cfg.Station != nil {
		a.station = *a.cfg.Station
		return
	}
	a.station = vetnet.Station{ID: a.cfg.StationID, Name: a.cfg.StationID, Level: vetnet.LevelVillage}
}

// APIAddr returns the local API's address, with the port it picked.
func (a *Agent) APIAddr() string {
	if a.api == nil {
		return a.cfg.APIAddr
	}
	return a.api.Addr()
}

// ConfigVersion returns the version of the hub's configuration applied,
// "" if none yet.
func (a *Agent) ConfigVersion() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.configVersion
}

// Close stops the API (waiting for check-ins being committed), the
// readers and the forwarder, announces the shutdown to the broker and
// closes the store. Safe to call more than once.
func (a *Agent) Close() error {
	a.closeOnce.Do(func() { a.closeErr = a.shutdown() })
	return a.closeErr
}

func (a *Agent) shutdown() error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	if a.api != nil {
		keep(a.api.Close())
	}
	if a.cancel != nil {
		a.cancel()
	}
	a.wg.Wait()
	if a.up != nil {
		keep(a.up.Close())
	}
	if a.store != nil {
		keep(a.store.Close())
	}
	return first
}

func (a *Agent) currentStation() vetnet.Station {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.station
}

func (a *Agent) heartbeatInterval() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.heartbeat
}

func seconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return min(max(s, 1), 3600)
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (a *Agent) statusChanged() { signal(a.statusDirty) }

// Status returns what the kiosk's status screen shows.
func (a *Agent) Status() localapi.Status {
	a.mu.Lock()
	st, version := a.station, a.configVersion
	a.mu.Unlock()
	info := localapi.StationInfo{ID: st.ID, Name: st.Name, NameEN: st.NameEN, Level: string(st.Level), Services: []string{}}
	for _, s := range st.OfferedServices() {
		info.Services = append(info.Services, string(s))
	}
	s := localapi.Status{Station: info, ConfigVersion: version, Online: a.up != nil && a.up.Connected(),
		Readers: []localapi.Reader{}, Agent: a.cfg.Version, Now: a.cfg.Now(),
		SimTap: a.sim != nil || a.cfg.SimTap != nil, Staff: len(st.Staff) > 0}
	if ob, err := a.store.OutboxStats(); err == nil {
		s.Outbox = localapi.Outbox{Depth: ob.Depth, OldestAt: ob.OldestAt, LastSeq: ob.LastSeq, Rejected: ob.Rejected}
	}
	disk := a.store.Storage()
	// In whole MiB, so that every check-in does not change the status.
	s.Storage = localapi.Storage{FreeBytes: disk.FreeBytes &^ (1<<20 - 1), Low: disk.Low}
	for _, h := range a.healths() {
		s.Readers = append(s.Readers, localapi.Reader{Name: h.Name, Kind: h.Kind, State: h.State, Detail: h.Detail})
	}
	return s
}

// statusEvery is the shortest time between two status events: a draining
// backlog changes the status with every ack, and the kiosk needs no more
// than a few updates a second.
const statusEvery = 200 * time.Millisecond

// publishStatus sends a status event to the kiosk whenever what it shows
// changed, at most once every statusEvery.
func (a *Agent) publishStatus(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.statusDirty:
		}
		s := a.Status()
		now := s.Now
		s.Now = time.Time{}
		b, _ := json.Marshal(s)
		a.mu.Lock()
		same := string(b) == string(a.lastStatus)
		a.lastStatus = b
		a.mu.Unlock()
		if !same {
			s.Now = now
			a.api.Broadcast(localapi.EventStatus, s)
			select {
			case <-ctx.Done():
				return
			case <-time.After(statusEvery):
			}
		}
	}
}

// superviseReader runs a reader and restarts it after it fails, waiting
// longer after each failure (up to MaxBackoff).
func (a *Agent) superviseReader(ctx context.Context, r reader.Reader, out chan<- reader.Event) {
	wait := time.Second
	for ctx.Err() == nil {
		err := r.Run(ctx, out)
		a.statusChanged()
		if ctx.Err() != nil {
			return
		}
		a.cfg.Logf("agent: reader %s stopped: %v; restarting in %v", r.Name(), err, wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, a.cfg.MaxBackoff)
	}
}

func (a *Agent) readEvents(ctx context.Context, events <-chan reader.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-events:
			a.handleRead(ev)
		}
	}
}

func cardError(readerName string, err error) localapi.CardErrorEvent {
	return localapi.CardErrorEvent{Reader: readerName, Code: vetnet.ErrorCode(err),
		MessageZH: vetnet.ErrorMessage(err, "zh"), MessageEN: vetnet.ErrorMessage(err, "en")}
}

// handleRead turns a read into a CardEvent with a token; the visitor stays
// in memory here until the token is used or expires. A staff badge opens a
// staff session; a scanned code is looked up.
func (a *Agent) handleRead(ev reader.Event) {
	defer a.statusChanged() // reader health may have changed
	ev.Photo = nil          // no use for it yet: dropped at once
	switch {
	case ev.Err == nil && ev.Badge != "":
		a.handleBadge(ev)
		return
	case ev.Err == nil && ev.Token != "":
		v, err := a.lookupToken(ev.Token)
		if err != nil {
			ev.Err = err
		} else {
			ev.Visitor, ev.Method = &v, vetnet.MethodQR
		}
	}
	a.signalRead(ev.Err == nil && ev.Visitor != nil)
	if ev.Err != nil || ev.Visitor == nil {
		err := ev.Err
		if err == nil {
			err = vetnet.Errorz(vetnet.EINTERNAL, "读卡失败", "The card could not be read.")
		}
		a.cfg.Logf("agent: reader %s: read failed: %v", ev.Reader, err)
		a.api.Broadcast(localapi.EventCardError, cardError(ev.Reader, err))
		return
	}
	v := *ev.Visitor
	v.IDNumber = vetnet.NormalizeIDNumber(v.IDNumber)
	if v.DocType == "" {
		v.DocType = vetnet.DocResident
	}
	now := a.cfg.Now()
	if err := vetnet.ValidateDocNumber(v.DocType, v.IDNumber, now); err != nil {
		a.cfg.Logf("agent: reader %s: invalid ID number %s: %v", ev.Reader, vetnet.MaskIDNumber(v.IDNumber), err)
		a.api.Broadcast(localapi.EventCardError, cardError(ev.Reader, err))
		return
	}
	method := ev.Method
	if !method.Valid() || method == vetnet.MethodManual {
		method = vetnet.MethodCard
	}
	last, returning, err := a.store.LastVisit(v.IDNumber)
	if err != nil {
		a.cfg.Logf("agent: last visit: %v", err)
	}
	token := newToken()
	expires := now.Add(TokenTTL)
	a.mu.Lock()
	a.pruneTokens(now)
	a.tokens[token] = &card{visitor: v, method: method, reader: ev.Reader, expires: expires}
	a.mu.Unlock()

	ce := localapi.CardEvent{Token: token, ExpiresAt: expires.UTC(), MaskedName: vetnet.MaskName(v.Name),
		MaskedID: vetnet.MaskIDNumber(v.IDNumber), Doc: string(v.DocType), Reader: ev.Reader, Returning: returning}
	if returning {
		ce.LastVisit = &last
	}
	a.cfg.Logf("agent: card read by %s: %s %s returning=%v", ev.Reader, ce.MaskedID, ce.MaskedName, returning)
	a.api.Broadcast(localapi.EventCard, ce)
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// pruneTokens drops expired tokens and, above maxTokens, the oldest.
// Called with a.mu held.
func (a *Agent) pruneTokens(now time.Time) {
	for t, c := range a.tokens {
		if !now.Before(c.expires) {
			delete(a.tokens, t)
		}
	}
	for len(a.tokens) >= maxTokens {
		var oldest string
		for t, c := range a.tokens {
			if oldest == "" || c.expires.Before(a.tokens[oldest].expires) {
				oldest = t
			}
		}
		delete(a.tokens, oldest)
	}
}

var (
	errToken = vetnet.Errorz(vetnet.EEXPIRED, "刷卡信息已过期或已使用，请重新刷卡", "The card read has expired or was used; please present the card again.")
	errBusy  = vetnet.Errorz(vetnet.ECONFLICT, "正在办理，请稍候", "This check-in is being saved; please wait.")
)

// takeToken claims the card of token for a check-in of svc. When the token
// already checked someone in for svc, it returns that answer instead.
func (a *Agent) takeToken(token string, svc vetnet.Service, now time.Time) (*card, *localapi.CheckInResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.tokens[token]
	switch {
	case !ok || !now.Before(c.expires):
		delete(a.tokens, token)
		return nil, nil, errToken
	case c.done != nil && c.svc == svc:
		r := *c.done
		return nil, &r, nil
	case c.done != nil:
		return nil, nil, errToken
	case c.busy:
		return nil, nil, errBusy
	}
	c.busy = true
	return c, nil, nil
}

// releaseToken ends a claim: with resp the token is spent (and answers
// repeats with resp), without it the visitor may try again.
func (a *Agent) releaseToken(c *card, svc vetnet.Service, resp *localapi.CheckInResponse) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c.busy = false
	if resp != nil {
		c.done, c.svc = resp, svc
		c.visitor = vetnet.Visitor{} // the answer is all a repeat needs
	}
}

// Feedback commits a visitor's rating of a visit checked in here (the
// local API's backend) and wakes the forwarder.
//
// Errors: EINVALID, ENOTFOUND (no such check-in here), ECONFLICT (already
// rated), EFULL, EUNAVAILABLE, EINTERNAL.
func (a *Agent) Feedback(ctx context.Context, in localapi.FeedbackInput) (localapi.FeedbackResponse, error) {
	f, err := a.store.CommitFeedback(bolt.FeedbackDraft{CheckInID: in.CheckInID, Rating: in.Rating, Reasons: in.Reasons, Comment: in.Comment})
	if err != nil {
		return localapi.FeedbackResponse{}, err
	}
	signal(a.wake)
	a.statusChanged()
	a.cfg.Logf("agent: rating %d of check-in %s (%s) id=%s", f.Rating, f.CheckInID, f.Service, f.ID)
	return localapi.FeedbackResponse{ID: f.ID, At: f.At}, nil
}

// CheckIn commits a check-in (the local API's backend). It returns once the
// check-in is durable in the store, and wakes the forwarder.
//
// Errors: EINVALID (service not offered), EEXPIRED (token unknown, used or
// expired), EFULL (outbox full), EUNAVAILABLE, EINTERNAL.
func (a *Agent) CheckIn(ctx context.Context, in localapi.CheckInInput) (localapi.CheckInResponse, error) {
	st := a.currentStation()
	if in.Meeting != "" {
		// A meeting's roll-call: service training, offered or not.
		if _, err := a.openMeeting(in.Meeting); err != nil {
			return localapi.CheckInResponse{}, err
		}
		in.Service = vetnet.ServiceTraining
	} else if !st.Offers(in.Service) {
		return localapi.CheckInResponse{}, vetnet.Errorz(vetnet.EINVALID, "本站不提供该服务", "This station does not offer that service.")
	}
	d := bolt.Draft{Service: in.Service, Detail: in.Detail, Meeting: in.Meeting}
	var taken *card
	switch {
	case in.Token != "":
		c, replay, err := a.takeToken(in.Token, in.Service, a.cfg.Now())
		if err != nil {
			return localapi.CheckInResponse{}, err
		}
		if replay != nil {
			return *replay, nil
		}
		taken = c
		d.Visitor, d.Method = c.visitor, c.method
	case in.Visitor != nil:
		d.Visitor, d.Method = *in.Visitor, vetnet.MethodManual
		staff, err := a.staffForManual(st, in.StaffSession)
		if err != nil {
			return localapi.CheckInResponse{}, err
		}
		d.Staff = staff
	default:
		return localapi.CheckInResponse{}, vetnet.Errorz(vetnet.EINVALID, "请刷身份证或输入身份证号码", "Present a card or type an ID number.")
	}
	c, t, err := a.store.Commit(d)
	if err != nil {
		if taken != nil { // the visitor may try again with the same read
			a.releaseToken(taken, in.Service, nil)
		}
		a.cfg.Logf("agent: check-in of %s refused: %v", vetnet.MaskIDNumber(d.Visitor.IDNumber), err)
		return localapi.CheckInResponse{}, err
	}
	a.lastCommit.Store(time.Now().UnixNano())
	signal(a.wake)
	a.statusChanged()
	a.cfg.Logf("agent: check-in seq=%d id=%s service=%s queue=%s method=%s visitor=%s %s staff=%s",
		c.Seq, c.ID, c.Service, c.QueueNo, c.Method, vetnet.MaskIDNumber(c.Visitor.IDNumber), vetnet.MaskName(c.Visitor.Name), c.Staff)
	a.queueChanged()
	resp := localapi.CheckInResponse{ID: c.ID, Seq: c.Seq, QueueNo: t.QueueNo, Service: string(c.Service), At: c.At,
		MaskedName: vetnet.MaskName(c.Visitor.Name), Waiting: t.Waiting, Ahead: t.Ahead,
		ExpectedWaitS: a.expectedWait(c.Service, t.Ahead), Detail: c.Detail, Meeting: c.Meeting}
	// The check-in is committed: a printer that fails now costs only the
	// paper ticket, and the kiosk shows the number on screen.
	if a.cfg.Printer != nil && c.Meeting == "" {
		qt := bolt.QueueTicket{CheckInID: c.ID, Seq: c.Seq, QueueNo: c.QueueNo, Service: c.Service, Detail: c.Detail, At: c.At}
		resp.Printed = a.print(ctx, qt, t.Ahead) == nil
	}
	if taken != nil {
		a.releaseToken(taken, in.Service, &resp)
	}
	return resp, nil
}

// ConfigsRejected counts configurations refused (not signed by the hub's
// key) or rolled back (ApplyConfig failed) since the agent started.
func (a *Agent) ConfigsRejected() int64 { return a.configsRejected.Load() }
