// Package hub is the hub service: it takes the stations' messages from the
// broker, stores check-ins and acknowledges them, tracks each station's
// presence, publishes each station's configuration, and serves the
// dashboard and the API.
//
// # Check-ins and acks
//
// A batch is acknowledged only after Store.Save has committed it (the
// broker's PUBACK proves nothing about storage). The ack names every
// check-in of the batch the hub now holds, new or already stored, so a
// resent batch gets the same ack and changes nothing. If any check-in of a
// batch fails vetnet.CheckIn.Validate, none of the batch is stored and the
// ack lists the failures in Rejected. A message that cannot be read at all
// gets an ack with Error set (when its topic names a registered station),
// and the reason is counted. When the store fails, no ack is sent: the
// station keeps the batch and sends it again.
//
// # Transports
//
// By default the hub embeds a broker (package cloud/mochi) and receives
// messages in-process, synchronously, from the broker's publish hook. With
// Config.BrokerURL it subscribes to an external broker instead (package
// cloud/mqttclient), optionally as a shared subscription so that several
// replicas split the load. Either way each message ends in HandleMessage.
//
// # Presence
//
// A registered station is never_seen until the hub hears from it; online
// after its status "online" or a heartbeat; offline after its status
// "offline" (shutdown, or the last will published by the broker); stale
// when it is online but no heartbeat came for cloud.StaleFactor times its
// heartbeat interval. A timer re-evaluates states every
// Config.PresenceEvery; changes go to live events and to the store, so a
// restarted hub still knows when each station was last seen.
package hub

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/auth"
	"github.com/vetnet/vetnet/cloud/metrics"
	"github.com/vetnet/vetnet/cloud/mochi"
	"github.com/vetnet/vetnet/cloud/mqttclient"
	"github.com/vetnet/vetnet/cloud/sqlite"
	"github.com/vetnet/vetnet/cloud/web"
	"github.com/vetnet/vetnet/firmware-config/pki"
	"github.com/vetnet/vetnet/wire"
)

// DefaultHeartbeatS is the heartbeat interval the hub configures stations
// with, in seconds.
const DefaultHeartbeatS = 15

// Config configures a Hub.
type Config struct {
	// DataDir holds the hub's database (hub.db). Created if missing.
	// Required unless Store is set.
	DataDir string

	// MQTTListen is the embedded broker's TCP address, e.g.
	// "127.0.0.1:1883"; "127.0.0.1:0" picks a free port (see MQTTAddr).
	// Ignored when BrokerURL is set. With both empty the hub runs without
	// MQTT (messages only through HandleMessage; for tests and tools).
	MQTTListen string

	// BrokerURL is an external broker, e.g. "tcp://127.0.0.1:1883". When
	// set, no broker is embedded and the hub subscribes to the station
	// topics there.
	BrokerURL string

	// ShareGroup, with BrokerURL, subscribes to check-ins as the MQTT
	// shared subscription group $share/{ShareGroup}/..., so that several
	// hub replicas (on one PostgreSQL store) split the batches: each is
	// stored and acked by one replica. Status and heartbeats are not
	// shared: every replica keeps every station's presence. Optional.
	ShareGroup string

	// OwnTopicsOnly, with BrokerURL, subscribes to the registered
	// stations' topics one by one instead of the wildcards: for a broker
	// shared with other hubs (other districts, or tests), so that this
	// hub never answers another hub's stations. Costs one subscription per
	// station and kind.
	OwnTopicsOnly bool

	// MQTTTLS makes the embedded broker's listener TLS with client
	// certificates (pki.ServerTLS): each client's certificate CN is its
	// identity, a station may use only its own topics, and the hub refuses
	// messages on a topic other than the sender's (see package mochi).
	// Nil: plain TCP, no identities.
	MQTTTLS *tls.Config

	// CRL, with MQTTTLS, is the revocation list the broker's TLS
	// configuration checks; the hub reads it again every CRLEvery and
	// disconnects clients it now lists. Optional.
	CRL *pki.CRL

	// CRLEvery is how often the CRL file is looked at. Default 5 s.
	CRLEvery time.Duration

	// BrokerTLS is the TLS configuration for an external broker (the
	// hub's client certificate, pki.ClientTLS). Optional.
	BrokerTLS *tls.Config

	// HubIdentity is the certificate CN of the hub itself, allowed every
	// topic. Default pki.HubIdentity.
	HubIdentity string

	// ConfigKey signs every configuration the hub publishes (Ed25519);
	// stations with the matching public key in their bundle apply only
	// signed configurations. Nil: configurations are unsigned.
	ConfigKey ed25519.PrivateKey

	// ClientID is the hub's MQTT client ID on an external broker.
	// Default: "vetnet-hub-" and random hex digits.
	ClientID string

	// HTTPListen is the address of the dashboard and API, e.g.
	// "127.0.0.1:8080"; port 0 picks a free one (see HTTPAddr). Empty:
	// no HTTP listener (Handler still serves, e.g. under httptest).
	HTTPListen string

	// Stations is the registry: the stations this hub serves. Messages of
	// other stations are refused (unknown_station).
	Stations []vetnet.Station

	// HeartbeatS is the heartbeat interval, in seconds, published in each
	// station's configuration and assumed for stations that have not told
	// theirs. Default DefaultHeartbeatS (15).
	HeartbeatS int

	// PresenceEvery is how often presence is re-evaluated and persisted.
	// Default 1 s.
	PresenceEvery time.Duration

	// Location is the time zone of "today" (check-ins today on the
	// dashboard). Default time.Local.
	Location *time.Location

	// Store replaces the embedded SQLite store (e.g. with PostgreSQL). The
	// hub closes it on Close. Optional.
	Store cloud.Store

	// Logf receives operational logs; never personal data. Default
	// log.Printf.
	Logf func(format string, args ...any)

	// Now is the hub's clock. Default time.Now.
	Now func() time.Time

	// Rules are the alert rules. Nil: DefaultRules().
	Rules *Rules

	// AdminUser and AdminPassword: at New, the district administrator
	// AdminUser (default "admin") gets this password, created or reset.
	// Empty AdminPassword: when nobody can sign in yet, a random password
	// is made for AdminUser (GeneratedPassword) and shown once.
	AdminUser     string
	AdminPassword string

	// SessionTTL is how long a sign-in lasts. Default 12 h.
	SessionTTL time.Duration

	// KeyFile is the key ring sealing ID numbers and names in the embedded
	// store (sqlite.Options.KeyFile). Default DataDir/hub.db.key. Keep it
	// out of database backups, or back it up apart. A Store given in Store
	// has its own (postgres.Options.KeyFile; cmd/hub passes this one).
	KeyFile string

	// AnonymiseAfter is how long the ID number and name of a check-in are
	// kept (from its time at the station); older check-ins lose them (the
	// Store's Anonymise), while counts and statistics stay. Zero keeps
	// them for ever. The sweep runs at Start and every AnonymiseEvery.
	AnonymiseAfter time.Duration

	// AnonymiseEvery is how often the anonymisation sweep runs. Default
	// 1 h.
	AnonymiseEvery time.Duration

	// IngestRate is how many messages (check-in batches and heartbeats)
	// a second each station may send on average, IngestBurst how many at
	// once; beyond them a batch gets an error ack (rate_limited) and stays
	// in the station's outbox, a heartbeat is dropped (see ratelimit.go).
	// Defaults DefaultIngestRate (5) and DefaultIngestBurst (40); a
	// negative IngestRate turns the limit off.
	IngestRate  float64
	IngestBurst int

	// TLSCert and TLSKey are PEM files: when both are set the dashboard
	// and API are served over HTTPS only (the session cookie is then
	// Secure and answers carry Strict-Transport-Security).
	TLSCert, TLSKey string
	// VideoBaseURL is the video provider's base URL (a self-hosted
	// Jitsi Meet or similar, e.g. "https://meet.district.lan"): a
	// meeting's room link is this URL and the room's name. Default empty:
	// meetings have no link, and nothing points at the public internet.
	VideoBaseURL string

	// MeetingGrace is how long after a meeting's start a station may join
	// without being late (and how long it may be gone before the end
	// without leaving early). Default DefaultMeetingGrace (5 min).
	MeetingGrace time.Duration

	// MeetingEarly is how long before a meeting's start a roll-call
	// counts. Default DefaultMeetingEarly (30 min).
	MeetingEarly time.Duration

	// MeetingsEvery is how often the stations' meeting sets are checked
	// for meetings that ended. Default DefaultMeetingsEvery (30 s).
	MeetingsEvery time.Duration
}

// transport is how the hub publishes: the embedded broker or the external
// broker client.
type transport interface {
	Publish(topic string, payload []byte, retain bool, qos byte) error
	Up() bool
	Close() error
}

// Hub is the running service. Its methods are safe for concurrent use.
type Hub struct {
	cfg      Config
	store    cloud.Store
	stations map[string]vetnet.Station
	order    []vetnet.Station
	presence *presence
	seqs     *seqs
	events   *fanout
	reg      *metrics.Registry
	c        counters
	web      *web.Server
	alerts   *alerting
	genPass  string
	limit    *limiter
	mtg      meetings

	logMu  sync.Mutex
	logBuf []cloud.LogEntry // station log entries not stored yet

	// leading: this replica stores presence and the station log and runs
	// the presence alerts (always, unless the store is a
	// cloud.Leadership shared with other replicas).
	leading atomic.Bool

	mu      sync.Mutex // guards the fields below
	tr      transport
	mqttURL string
	httpSrv *http.Server
	httpLn  net.Listener
	started bool
	closed  bool

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New opens the store, records the registry in it and loads the last known
// presence. It starts nothing: see Start. Errors: EINVALID (a station of
// the registry is invalid or repeated, no DataDir), and the store's.
func New(cfg Config) (*Hub, error) {
	if cfg.HeartbeatS <= 0 {
		cfg.HeartbeatS = DefaultHeartbeatS
	}
	if cfg.PresenceEvery <= 0 {
		cfg.PresenceEvery = time.Second
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Logf == nil {
		cfg.Logf = log.Printf
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.IngestRate == 0 {
		cfg.IngestRate = DefaultIngestRate
	}
	if cfg.IngestBurst <= 0 {
		cfg.IngestBurst = DefaultIngestBurst
	}
	if cfg.AnonymiseEvery <= 0 {
		cfg.AnonymiseEvery = time.Hour
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, vetnet.Errorz(vetnet.EINVALID, "TLS 证书和私钥需同时提供", "TLS needs both the certificate and the key.")
	}
	if cfg.MeetingGrace <= 0 {
		cfg.MeetingGrace = DefaultMeetingGrace
	}
	if cfg.MeetingEarly <= 0 {
		cfg.MeetingEarly = DefaultMeetingEarly
	}
	if cfg.MeetingsEvery <= 0 {
		cfg.MeetingsEvery = DefaultMeetingsEvery
	}
	h := &Hub{cfg: cfg, stations: map[string]vetnet.Station{}, reg: metrics.NewRegistry(), limit: newLimiter(cfg.IngestRate, cfg.IngestBurst)}
	ids := make([]string, 0, len(cfg.Stations))
	for _, st := range cfg.Stations {
		if err := st.Validate(); err != nil {
			return nil, err
		}
		if _, dup := h.stations[st.ID]; dup {
			return nil, vetnet.Errorz(vetnet.EINVALID, "站点编号重复: "+st.ID, "Station "+st.ID+" is listed twice.")
		}
		h.stations[st.ID] = st
		h.order = append(h.order, st)
		ids = append(ids, st.ID)
	}
	h.store = cfg.Store
	if h.store == nil {
		if cfg.DataDir == "" {
			return nil, vetnet.Errorz(vetnet.EINVALID, "未指定数据目录", "The hub needs a data directory.")
		}
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, vetnet.Wrap(vetnet.EUNAVAILABLE, err, "无法创建数据目录", "Cannot create the data directory.")
		}
		s, err := sqlite.Open(filepath.Join(cfg.DataDir, "hub.db"), &sqlite.Options{Location: cfg.Location, KeyFile: cfg.KeyFile})
		if err != nil {
			return nil, err
		}
		h.store = s
	}
	h.mtg.store, _ = h.store.(cloud.MeetingStore)
	h.mtg.published = map[string]string{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.store.UpsertStations(ctx, h.order); err != nil {
		h.store.Close()
		return nil, err
	}
	stored, err := h.store.Presences(ctx)
	if err != nil {
		h.store.Close()
		return nil, err
	}
	h.presence = newPresence(ids, stored, cfg.HeartbeatS)
	runs, err := h.store.SeqRuns(ctx)
	if err != nil {
		h.store.Close()
		return nil, err
	}
	h.seqs = newSeqs(runs)
	rules := DefaultRules()
	if cfg.Rules != nil {
		rules = *cfg.Rules
	}
	if err := rules.Validate(); err != nil {
		h.store.Close()
		return nil, err
	}
	var active []cloud.Alert
	for f := (cloud.AlertFilter{States: []cloud.AlertState{cloud.AlertOpen, cloud.AlertAcknowledged}, Limit: cloud.MaxLimit}); ; {
		p, err := h.store.Alerts(ctx, f)
		if err != nil {
			h.store.Close()
			return nil, err
		}
		active = append(active, p.Alerts...)
		if p.Next == "" {
			break
		}
		f.Cursor = p.Next
	}
	if h.alerts, err = newAlerting(h, rules, active); err != nil {
		h.store.Close()
		return nil, err
	}
	if err := h.bootstrapAdmin(ctx); err != nil {
		h.store.Close()
		return nil, err
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.c = newCounters(h.reg)
	h.events = newFanout(func() { h.c.eventsDropped.Inc() })
	h.registerGauges()
	if _, shared := h.store.(cloud.Leadership); !shared {
		h.leading.Store(true)
	} else {
		h.lead()
	}
	h.web = web.New(web.Options{
		Store:      h.store,
		Stations:   h.Stations,
		Presences:  h.Presences,
		Gaps:       h.gapsView,
		Subscribe:  h.Subscribe,
		Health:     h.health,
		HeartbeatS: cfg.HeartbeatS,
		Metrics:    h.reg,
		Location:   cfg.Location,
		Now:        cfg.Now,
		Logf:       cfg.Logf,
		SessionTTL: cfg.SessionTTL,
		Alerts: web.AlertActions{
			Ack:     h.AckAlert,
			Resolve: h.ResolveAlert,
		},
		StationLogPending: h.pendingLog,
		Meetings: web.MeetingActions{Store: h.mtg.store, Create: h.CreateMeeting, Update: h.UpdateMeeting,
			Cancel: h.CancelMeeting, Roster: h.Roster, Link: h.MeetingLink},
		MeetingGrace:   cfg.MeetingGrace,
		MeetingChanged: func(id string) { h.events.publish(cloud.Event{Kind: cloud.EventMeeting, Meeting: id}) },
	})
	return h, nil
}

// bootstrapAdmin gives the district administrator its password, or makes
// one when nobody could sign in.
func (h *Hub) bootstrapAdmin(ctx context.Context) error {
	name := h.cfg.AdminUser
	if name == "" {
		name = "admin"
	}
	pw := h.cfg.AdminPassword
	if pw == "" {
		users, err := h.store.Users(ctx)
		if err != nil {
			return err
		}
		for _, u := range users {
			if u.Role == cloud.RoleDistrictAdmin && !u.Disabled {
				return nil
			}
		}
		if pw, err = auth.RandomPassword(); err != nil {
			return err
		}
		h.genPass = pw
	} else if err := auth.CheckPasswordPolicy(pw); err != nil {
		return err
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	u, err := h.store.User(ctx, name)
	if err != nil && vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		return err
	}
	if err != nil {
		u = cloud.User{Name: name, DisplayName: "区级管理员", CreatedAt: h.cfg.Now()}
	}
	u.Role, u.Station, u.PasswordHash, u.Disabled = cloud.RoleDistrictAdmin, "", hash, false
	return h.store.PutUser(ctx, u)
}

// GeneratedPassword returns the password New made for the district
// administrator because none was given and nobody could sign in; "" when
// it made none. Show it once; it is not kept in clear anywhere.
func (h *Hub) GeneratedPassword() string { return h.genPass }

// AdminUser returns the district administrator's sign-in name.
func (h *Hub) AdminUser() string {
	if h.cfg.AdminUser == "" {
		return "admin"
	}
	return h.cfg.AdminUser
}

// pendingLog returns a station's log entries not stored yet.
func (h *Hub) pendingLog(station string) []cloud.LogEntry {
	h.logMu.Lock()
	defer h.logMu.Unlock()
	var out []cloud.LogEntry
	for _, e := range h.logBuf {
		if e.Station == station {
			out = append(out, e)
		}
	}
	return out
}

// Start starts the broker or the broker client, publishes each station's
// retained configuration, starts the HTTP server and the presence timer.
// ctx bounds the start only (the first connection to an external broker
// waits at most until its deadline, else 10 s); the hub runs until Close.
// Errors:
// EUNAVAILABLE (a port is taken, the external broker cannot be reached),
// ECONFLICT (started twice or after Close).
func (h *Hub) Start(ctx context.Context) error {
	h.mu.Lock()
	if h.started || h.closed {
		h.mu.Unlock()
		return vetnet.Errorz(vetnet.ECONFLICT, "服务已启动或已关闭", "The hub was already started or closed.")
	}
	h.started = true
	h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return vetnet.Wrap(vetnet.EUNAVAILABLE, err, "启动被取消", "The start was cancelled.")
	}
	timeout := 10 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d), time.Second)
	}

	switch {
	case h.cfg.BrokerURL != "":
		var only []string
		if h.cfg.OwnTopicsOnly {
			for _, st := range h.order {
				only = append(only, st.ID)
			}
		}
		cl, err := mqttclient.Open(mqttclient.Options{
			URL: h.cfg.BrokerURL, ClientID: h.cfg.ClientID, ShareGroup: h.cfg.ShareGroup, Stations: only, TLS: h.cfg.BrokerTLS,
			// Check-ins are split between replicas; status and heartbeats
			// reach every replica, so each knows every station's presence.
			SharedKinds: []wire.Kind{wire.KindCheckIns},
			Handle:      func(topic string, payload []byte) { h.HandleMessage(topic, payload) },
			// A broker that restarted may have lost the retained configs.
			OnConnect: func() { h.publishConfigs(); go h.syncMeetings(true) },
			Logf:      h.cfg.Logf,
			Timeout:   timeout,
		})
		if err != nil {
			return err
		}
		h.setTransport(cl, h.cfg.BrokerURL)
	case h.cfg.MQTTListen != "":
		b, err := mochi.Open(mochi.Options{
			Listen:      h.cfg.MQTTListen,
			TLS:         h.cfg.MQTTTLS,
			HubIdentity: h.hubIdentity(),
			Handle:      func(from, topic string, payload []byte) { h.HandleMessageFrom(from, topic, payload) },
			Logf:        h.cfg.Logf,
		})
		if err != nil {
			return err
		}
		h.setTransport(b, b.Addr())
		h.publishConfigs()
		if h.cfg.MQTTTLS != nil && h.cfg.CRL != nil {
			h.wg.Add(1)
			go h.crlLoop(b)
		}
	}
	h.syncMeetings(true)

	if h.cfg.HTTPListen != "" {
		ln, err := net.Listen("tcp", h.cfg.HTTPListen)
		if err != nil {
			return vetnet.Wrap(vetnet.EUNAVAILABLE, err, "网页服务端口无法监听", "Cannot listen on "+h.cfg.HTTPListen+".")
		}
		srv := &http.Server{Handler: h.web, ReadHeaderTimeout: 10 * time.Second}
		if h.cfg.TLSCert != "" {
			cert, err := tls.LoadX509KeyPair(h.cfg.TLSCert, h.cfg.TLSKey)
			if err != nil {
				ln.Close()
				return vetnet.Wrap(vetnet.EINVALID, err, "无法读取 TLS 证书或私钥", "Cannot load the TLS certificate or key.")
			}
			srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
			ln = tls.NewListener(ln, srv.TLSConfig)
		}
		h.mu.Lock()
		h.httpSrv, h.httpLn = srv, ln
		h.mu.Unlock()
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				h.cfg.Logf("hub: http server: %v", err)
			}
		}()
	}

	if h.alerts.hooks != nil {
		h.wg.Add(1)
		go h.alerts.webhookLoop()
	}
	h.wg.Add(1)
	go h.presenceLoop()
	if h.cfg.AnonymiseAfter > 0 {
		h.wg.Add(1)
		go h.anonymiseLoop()
	}
	h.wg.Add(1)
	go h.meetingsLoop()
	return nil
}

func (h *Hub) hubIdentity() string {
	if h.cfg.HubIdentity != "" {
		return h.cfg.HubIdentity
	}
	return pki.HubIdentity
}

// crlLoop reads the CRL again when its file changes and cuts off the
// clients it now lists: a revoked (stolen) device is disconnected at once
// rather than at its next connection.
func (h *Hub) crlLoop(b *mochi.Broker) {
	defer h.wg.Done()
	every := h.cfg.CRLEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		changed, err := h.cfg.CRL.Reload()
		if err != nil {
			h.cfg.Logf("hub: CRL: %v (the last good list stays in force)", err)
			continue
		}
		if !changed {
			continue
		}
		if n := b.Disconnect(func(c *x509.Certificate) bool { return h.cfg.CRL.Revoked(c.SerialNumber) }); n > 0 {
			h.c.revokedCut.Add(uint64(n))
			h.cfg.Logf("hub: CRL changed; %d revoked client(s) disconnected", n)
		}
	}
}

func (h *Hub) setTransport(t transport, addr string) {
	h.mu.Lock()
	h.tr, h.mqttURL = t, addr
	h.mu.Unlock()
}

func (h *Hub) transport() transport {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.tr
}

// publishConfigs publishes every registered station's configuration,
// retained, so a station gets it whenever it (re)connects.
func (h *Hub) publishConfigs() {
	now := h.cfg.Now()
	for _, st := range h.order {
		cfg := wire.NewConfig(st, h.cfg.HeartbeatS, now)
		if h.cfg.ConfigKey != nil {
			cfg = cfg.Sign(h.cfg.ConfigKey)
		}
		b, err := cfg.Encode()
		if err != nil {
			h.cfg.Logf("hub: encode config of %s: %v", st.ID, err)
			continue
		}
		if err := h.publish(wire.Topic(st.ID, wire.KindConfig), b, true, 1); err != nil {
			h.c.publishFailures.Inc(string(wire.KindConfig))
			h.cfg.Logf("hub: publish config of %s: %v", st.ID, err)
			continue
		}
		h.c.configs.Inc()
	}
}

// publish sends through the transport; without one (no MQTT configured)
// messages go nowhere.
func (h *Hub) publish(topic string, payload []byte, retain bool, qos byte) error {
	t := h.transport()
	if t == nil {
		return nil
	}
	return t.Publish(topic, payload, retain, qos)
}

func (h *Hub) presenceLoop() {
	defer h.wg.Done()
	t := time.NewTicker(h.cfg.PresenceEvery)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
			h.lead()
			h.CheckPresence()
			h.flushPresence()
			h.flushLog()
		}
	}
}

// CheckPresence re-evaluates every station's presence at Now, emits an
// event for each change and returns the changed presences. The hub's
// timer calls it every PresenceEvery; tests call it with a fake clock.
func (h *Hub) CheckPresence() []cloud.Presence {
	now := h.cfg.Now()
	changed := h.presence.evaluate(now)
	for _, p := range changed {
		h.c.transitions.Inc(string(p.State))
		h.logTransitions(cloud.Presence{State: cloud.StateOnline}, cloud.Presence{Station: p.Station, State: p.State, Reason: p.Reason})
		h.events.publish(cloud.Event{Kind: cloud.EventPresence, Presence: p, Changed: true})
	}
	if !h.leading.Load() {
		return changed
	}
	// The alert rules: a station offline for long opens its alert here,
	// with no message to trigger it.
	for _, p := range h.presence.all() {
		h.alerts.evaluate(p, now)
	}
	return changed
}

// Leading reports whether this replica stores presence and the station
// log and runs the presence alerts (see cloud.Leadership).
func (h *Hub) Leading() bool { return h.leading.Load() }

// lead asks a shared store whether this replica leads. A replica that
// becomes the leader takes the alerts the previous one left open and
// stores every station's presence as it sees it; one that is not the
// leader keeps presence in memory only.
func (h *Hub) lead() {
	l, ok := h.store.(cloud.Leadership)
	if !ok {
		h.leading.Store(true)
		return
	}
	ctx, cancel := context.WithTimeout(h.ctx, 5*time.Second)
	defer cancel()
	now, err := l.Lead(ctx)
	if err != nil {
		h.c.storeErrors.Inc("lead")
		return
	}
	was := h.leading.Swap(now)
	if now && !was {
		h.cfg.Logf("hub: this replica now leads (presence, station log, alerts)")
		var active []cloud.Alert
		for f := (cloud.AlertFilter{States: []cloud.AlertState{cloud.AlertOpen, cloud.AlertAcknowledged}, Limit: cloud.MaxLimit}); ; {
			p, err := h.store.Alerts(ctx, f)
			if err != nil {
				h.leading.Store(false) // again at the next tick
				return
			}
			active = append(active, p.Alerts...)
			if p.Next == "" {
				break
			}
			f.Cursor = p.Next
		}
		h.alerts.reload(active)
		h.presence.putDirty(h.presence.all())
	}
	if !now {
		h.presence.takeDirty()
		h.logMu.Lock()
		h.logBuf = nil
		h.logMu.Unlock()
	}
}

// flushPresence saves the presences changed since the last flush.
func (h *Hub) flushPresence() {
	ps := h.presence.takeDirty()
	if len(ps) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.store.SavePresence(ctx, ps); err != nil {
		h.presence.putDirty(ps)
		h.c.storeErrors.Inc("save_presence")
		h.cfg.Logf("hub: save presence: %v", err)
	}
}

// Presence returns a registered station's presence.
func (h *Hub) Presence(station string) (cloud.Presence, bool) { return h.presence.get(station) }

// Presences returns every registered station's presence, in registry order.
func (h *Hub) Presences() []cloud.Presence { return h.presence.all() }

// Stations returns the registry, in its order.
func (h *Hub) Stations() []vetnet.Station { return append([]vetnet.Station(nil), h.order...) }

// Subscribe returns live events (check-ins masked, presence) and a function
// that ends the subscription. A slow subscriber misses events rather than
// slowing the hub.
func (h *Hub) Subscribe() (<-chan cloud.Event, func()) { return h.events.subscribe(256) }

// Store returns the hub's store.
func (h *Hub) Store() cloud.Store { return h.store }

// Metrics returns the hub's metrics registry (served on /metrics).
func (h *Hub) Metrics() *metrics.Registry { return h.reg }

// Handler returns the dashboard and API handler (also served on
// HTTPListen after Start).
func (h *Hub) Handler() http.Handler { return h.web }

// MQTTAddr returns the embedded broker's address (host:port), the external
// broker's URL, or "" before Start or without MQTT.
func (h *Hub) MQTTAddr() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.mqttURL
}

// HTTPAddr returns the HTTP listener's address (host:port), or "" before
// Start or without HTTPListen.
func (h *Hub) HTTPAddr() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.httpLn == nil {
		return ""
	}
	return h.httpLn.Addr().String()
}

func (h *Hub) health(ctx context.Context) web.Health {
	var hl web.Health
	switch {
	case h.cfg.BrokerURL != "":
		hl.Broker.Mode = "external"
	case h.cfg.MQTTListen != "":
		hl.Broker.Mode = "embedded"
	default:
		hl.Broker.Mode = "none"
	}
	hl.Broker.Addr = h.MQTTAddr()
	if t := h.transport(); t != nil {
		hl.Broker.Up = t.Up()
	}
	if !hl.Broker.Up && hl.Broker.Mode != "none" {
		hl.Broker.Detail = "not connected"
	}
	if err := h.store.Ping(ctx); err != nil {
		hl.DB.Detail = vetnet.ErrorMessage(err, "en")
	} else {
		hl.DB.Up = true
	}
	return hl
}

// Close stops the HTTP server, the broker or broker client, and the
// timer, saves presence and closes the store. Safe to call twice.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	srv, tr := h.httpSrv, h.tr
	h.mu.Unlock()

	h.events.closeAll() // ends SSE streams, so Shutdown need not wait for them
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		srv.Shutdown(ctx)
		cancel()
	}
	var errs []error
	if tr != nil {
		// The broker goes first: no message arrives after this, and a
		// batch in flight finishes (and is acked) before Close returns.
		if err := tr.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	h.cancel()
	h.wg.Wait()
	h.flushPresence()
	h.flushLog()
	if err := h.store.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
