// Package mqtt is the station's uplink to the hub's broker, on the Eclipse
// Paho client: it connects as station-{id} with a clean session, keeps
// reconnecting, announces presence with a retained status and a last will,
// subscribes to the station's acks and configuration, and publishes what
// the agent gives it.
//
// # Presence
//
// The last will is a retained Status "offline" with reason "will": the
// broker publishes it when the connection drops without a DISCONNECT
// (power cut, network loss, keep-alive timeout). After every (re)connect the
// uplink publishes a retained Status "online" (reason "connect"); Close
// publishes a retained "offline" with reason "shutdown" before it
// disconnects cleanly, so the broker keeps the will to itself.
//
// # Delivery
//
// Paho's handlers run on its router goroutine and the client acknowledges a
// message when its handler returns, so a handler here only decodes and
// hands off. Acks go through an in-memory queue drained by a goroutine into
// the Acks channel: the handler never waits for the agent. The queue is
// bounded only by MaxQueuedAcks (far above anything a station sees; the hub
// sends one ack per batch), because dropping an ack is not free: it is
// harmless to correctness (the station resends; the hub's answer is
// idempotent) but costs a resend after the ack timeout. Configurations go
// to a one-slot mailbox in which the newest replaces an unread older one.
//
// A broker's PUBACK proves nothing about storage: only the hub's Ack clears
// the station's outbox, and Publish's success means no more than that the
// broker took the message.
//
// With a clean session the broker forgets the subscriptions when the
// connection drops, so they are made again on every connect, and the uplink
// reports itself connected (Connected, Changes) only once the broker has
// confirmed them: a batch sent earlier could be acked into the void.
package mqtt

import (
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/wire"
)

// Defaults of Options.
const (
	DefaultKeepAlive            = 30 * time.Second
	DefaultConnectTimeout       = 10 * time.Second
	DefaultRetryInterval        = 2 * time.Second
	DefaultMaxReconnectInterval = 30 * time.Second
	DefaultPublishTimeout       = 10 * time.Second
	DefaultHeartbeatS           = 15
	MaxQueuedAcks               = 100000
)

// Options configure an Uplink.
type Options struct {
	Broker    string // broker URL, e.g. tcp://127.0.0.1:1883 or ssl://hub:8883; required
	StationID string // required
	ClientID  string // default "station-" + StationID
	Username  string
	Password  string
	TLSConfig *tls.Config // for ssl:// and tls:// brokers; nil uses Paho's default

	Agent      string // agent version, in Status messages
	HeartbeatS int    // heartbeat interval announced in Status messages; default DefaultHeartbeatS

	// KeepAlive is the MQTT keep-alive; the broker publishes the will about
	// 1.5 keep-alives after the station went silent. Default 30 s.
	KeepAlive time.Duration
	// ConnectTimeout bounds one connection attempt. Default 10 s.
	ConnectTimeout time.Duration
	// RetryInterval is the wait between attempts of the first connection.
	// Default 2 s.
	RetryInterval time.Duration
	// MaxReconnectInterval caps Paho's doubling wait between reconnection
	// attempts. Default 30 s (Paho's own is 10 min, too long for a
	// station).
	MaxReconnectInterval time.Duration
	// PublishTimeout bounds how long Publish waits for the broker to take
	// a message. Default 10 s.
	PublishTimeout time.Duration

	Now  func() time.Time              // default time.Now
	Logf func(format string, a ...any) // default: no logging
}

// Stats count what the uplink saw.
type Stats struct {
	Connects    int64            // connections made (the first and every reconnect)
	Lost        int64            // connections lost
	Acks        int64            // acks decoded and queued
	AcksDropped int64            // acks dropped because MaxQueuedAcks were waiting
	Configs     int64            // configurations decoded
	Bad         map[string]int64 // messages refused, by wire reason
}

// Uplink is a station's connection to the broker.
type Uplink struct {
	opts   Options
	client paho.Client
	topics struct{ acks, config, status, meetings string }

	// gen counts connections; ready is set by the connection of generation
	// gen once its subscriptions are confirmed. Connected also asks Paho
	// whether the connection is open, so a lost connection is not ready
	// even before onLost runs.
	mu    sync.Mutex
	gen   uint64
	ready bool
	since time.Time // when the current connection began
	bad   map[string]int64

	connects, lost, acks, acksDropped, configs atomic.Int64

	ackMu    sync.Mutex
	ackQueue []wire.Ack
	ackWake  chan struct{}
	acksOut  chan wire.Ack
	configCh chan wire.Config
	meetCh   chan wire.Meetings
	changes  chan struct{}

	closing atomic.Bool
	done    chan struct{}
	pumpWG  sync.WaitGroup
}

// Open starts connecting to the broker in the background and returns at
// once: a station works offline, and Paho keeps trying.
//
// Errors: EINVALID (missing broker or station, bad status payload).
func Open(opts Options) (*Uplink, error) {
	if opts.Broker == "" {
		return nil, vetnet.Errorz(vetnet.EINVALID, "未配置消息服务器地址", "No broker URL is configured.")
	}
	if err := vetnet.ValidateStationID(opts.StationID); err != nil {
		return nil, err
	}
	if opts.ClientID == "" {
		opts.ClientID = "station-" + opts.StationID
	}
	if opts.HeartbeatS <= 0 {
		opts.HeartbeatS = DefaultHeartbeatS
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.KeepAlive, DefaultKeepAlive)
	def(&opts.ConnectTimeout, DefaultConnectTimeout)
	def(&opts.RetryInterval, DefaultRetryInterval)
	def(&opts.MaxReconnectInterval, DefaultMaxReconnectInterval)
	def(&opts.PublishTimeout, DefaultPublishTimeout)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	u := &Uplink{
		opts:     opts,
		bad:      map[string]int64{},
		ackWake:  make(chan struct{}, 1),
		acksOut:  make(chan wire.Ack),
		configCh: make(chan wire.Config, 1),
		meetCh:   make(chan wire.Meetings, 1),
		changes:  make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	u.topics.acks = wire.Topic(opts.StationID, wire.KindAcks)
	u.topics.config = wire.Topic(opts.StationID, wire.KindConfig)
	u.topics.status = wire.Topic(opts.StationID, wire.KindStatus)
	u.topics.meetings = wire.Topic(opts.StationID, wire.KindMeetings)

	// The will's Since is when the uplink opened: Paho fixes the will for
	// the client's life.
	will, err := u.status(wire.StateOffline, wire.StatusWill, opts.Now())
	if err != nil {
		return nil, err
	}
	co := paho.NewClientOptions().
		AddBroker(opts.Broker).
		SetClientID(opts.ClientID).
		SetUsername(opts.Username).
		SetPassword(opts.Password).
		SetCleanSession(true).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(opts.RetryInterval).
		SetMaxReconnectInterval(opts.MaxReconnectInterval).
		SetConnectTimeout(opts.ConnectTimeout).
		SetKeepAlive(opts.KeepAlive).
		SetOrderMatters(true). // acks in the order the hub sent them
		SetBinaryWill(u.topics.status, will, 1, true).
		SetStore(noStore{}).
		SetOnConnectHandler(u.onConnect).
		SetConnectionLostHandler(u.onLost)
	if opts.TLSConfig != nil {
		co.SetTLSConfig(opts.TLSConfig)
	}
	u.client = paho.NewClient(co)
	u.pumpWG.Add(1)
	go u.pumpAcks()
	u.client.Connect() // with ConnectRetry the token completes only once connected; nobody waits
	return u, nil
}

func (u *Uplink) status(state wire.State, reason string, since time.Time) ([]byte, error) {
	b, err := wire.Status{V: wire.Version, Station: u.opts.StationID, State: state, Reason: reason,
		Since: since.UTC(), Agent: u.opts.Agent, HeartbeatS: u.opts.HeartbeatS}.Encode()
	if err != nil {
		return nil, vetnet.Wrap(vetnet.EINVALID, err, "状态消息编码失败", "Cannot encode the status message.")
	}
	return b, nil
}

// onConnect runs on a goroutine of Paho's after every (re)connect. It
// must not hold Paho up, so the work is done on a goroutine of its own.
func (u *Uplink) onConnect(c paho.Client) {
	u.mu.Lock()
	u.gen++
	gen := u.gen
	u.ready = false
	u.mu.Unlock()
	u.connects.Add(1)
	go u.setUp(gen)
}

// setUp announces the station and subscribes; it marks the connection
// ready once all subscriptions are confirmed.
//
// A failed subscription is tried again on the same connection while it is
// the current one. The connection is never dropped from here: a
// Disconnect returns before Paho is done with it, and Paho may finish it
// later by aborting its own reconnection, or the next connection, leaving
// the station offline for good. A lost connection is Paho's to restore
// (auto-reconnect), and each new connection runs its own setUp.
func (u *Uplink) setUp(gen uint64) {
	since := u.opts.Now()
	u.mu.Lock()
	u.since = since
	u.mu.Unlock()
	if b, err := u.status(wire.StateOnline, wire.StatusConnect, since); err == nil {
		u.client.Publish(u.topics.status, 1, true, b) // no wait: Paho delivers or the will speaks
	}
	for {
		err := u.subscribe()
		if err == nil {
			break
		}
		u.opts.Logf("mqtt: subscribe failed (%v); trying again", err)
		select {
		case <-u.done:
			return
		case <-time.After(u.opts.RetryInterval):
		}
		u.mu.Lock()
		stale := u.gen != gen
		u.mu.Unlock()
		if stale || u.closing.Load() {
			return // a newer connection sets itself up
		}
		if !u.client.IsConnected() {
			// Neither connected nor reconnecting: Paho gave this
			// connection up without reconnecting (it does when the
			// connection drops before the first Connect completed).
			u.client.Connect()
		}
	}
	u.mu.Lock()
	if u.gen == gen && u.client.IsConnectionOpen() {
		u.ready = true
	}
	ready := u.ready
	u.mu.Unlock()
	if ready {
		u.opts.Logf("mqtt: connected to %s as %s", u.opts.Broker, u.opts.ClientID)
		u.signal()
	}
}

// subscribe makes the station's subscriptions and waits for the broker to
// confirm them.
func (u *Uplink) subscribe() error {
	subs := []paho.Token{
		u.client.Subscribe(u.topics.acks, 1, u.onAck),
		u.client.Subscribe(u.topics.config, 1, u.onConfig),
		u.client.Subscribe(u.topics.status, 1, u.onStatus),
		u.client.Subscribe(u.topics.meetings, 1, u.onMeetings),
	}
	for _, t := range subs {
		if !t.WaitTimeout(u.opts.PublishTimeout) || t.Error() != nil {
			return tokenErr(t)
		}
	}
	return nil
}

func tokenErr(t paho.Token) error {
	if err := t.Error(); err != nil {
		return err
	}
	return errors.New("timeout")
}

// onLost runs on a goroutine of Paho's, as onConnect does, so the two
// may run in either order around a quick reconnect: it clears ready only
// while the connection is still down, and leaves a newer connection's
// state to that connection's onConnect.
func (u *Uplink) onLost(_ paho.Client, err error) {
	u.mu.Lock()
	if !u.client.IsConnectionOpen() {
		u.ready = false
	}
	u.mu.Unlock()
	u.lost.Add(1)
	u.opts.Logf("mqtt: connection lost: %v", err)
	u.signal()
}

func (u *Uplink) signal() {
	select {
	case u.changes <- struct{}{}:
	default:
	}
}

func (u *Uplink) countBad(err error) {
	reason := wire.Reason(err)
	if reason == "" {
		reason = "other"
	}
	u.mu.Lock()
	u.bad[reason]++
	u.mu.Unlock()
	u.opts.Logf("mqtt: refused a message: %v", err)
}

// onAck decodes and queues; it never blocks.
func (u *Uplink) onAck(_ paho.Client, m paho.Message) {
	a, err := wire.DecodeAck(u.opts.StationID, m.Payload())
	if err != nil {
		u.countBad(err)
		return
	}
	u.ackMu.Lock()
	if len(u.ackQueue) >= MaxQueuedAcks {
		u.ackMu.Unlock()
		u.acksDropped.Add(1)
		return
	}
	u.ackQueue = append(u.ackQueue, a)
	u.ackMu.Unlock()
	u.acks.Add(1)
	select {
	case u.ackWake <- struct{}{}:
	default:
	}
}

// pumpAcks moves queued acks to the Acks channel in order.
func (u *Uplink) pumpAcks() {
	defer u.pumpWG.Done()
	for {
		u.ackMu.Lock()
		var next *wire.Ack
		if len(u.ackQueue) > 0 {
			a := u.ackQueue[0]
			next = &a
			u.ackQueue[0] = wire.Ack{}
			u.ackQueue = u.ackQueue[1:]
		}
		u.ackMu.Unlock()
		if next == nil {
			select {
			case <-u.ackWake:
				continue
			case <-u.done:
				return
			}
		}
		select {
		case u.acksOut <- *next:
		case <-u.done:
			return
		}
	}
}

// onStatus watches the station's own retained status. A broker may
// publish the will of a dropped connection after the station has already
// reconnected and announced itself online (Mochi does, when the reconnect
// is quick), leaving "offline" as the retained truth. Seeing its own
// offline status while connected, the station announces itself again.
func (u *Uplink) onStatus(_ paho.Client, m paho.Message) {
	s, err := wire.DecodeStatus(u.opts.StationID, m.Payload())
	if err != nil || s.State != wire.StateOffline || u.closing.Load() || !u.Connected() {
		return
	}
	u.mu.Lock()
	since := u.since
	u.mu.Unlock()
	if b, err := u.status(wire.StateOnline, wire.StatusConnect, since); err == nil {
		u.opts.Logf("mqtt: the broker says this station is offline (%s); announcing online again", s.Reason)
		u.client.Publish(u.topics.status, 1, true, b) // no wait: handlers must not block
	}
}

// onConfig decodes and replaces any unread configuration; it never blocks.
func (u *Uplink) onConfig(_ paho.Client, m paho.Message) {
	if len(m.Payload()) == 0 {
		return // a cleared retained message
	}
	c, err := wire.DecodeConfig(u.opts.StationID, m.Payload())
	if err != nil {
		u.countBad(err)
		return
	}
	u.configs.Add(1)
	for {
		select {
		case u.configCh <- c:
			return
		default:
		}
		select {
		case <-u.configCh: // drop the older unread one
		default:
		}
	}
}

// onMeetings decodes and replaces any unread meeting set; it never
// blocks.
func (u *Uplink) onMeetings(_ paho.Client, m paho.Message) {
	if len(m.Payload()) == 0 {
		return // a cleared retained message
	}
	p, err := wire.DecodeMeetings(u.opts.StationID, m.Payload())
	if err != nil {
		u.countBad(err)
		return
	}
	for {
		select {
		case u.meetCh <- p:
			return
		default:
		}
		select {
		case <-u.meetCh: // drop the older unread one
		default:
		}
	}
}

// MeetingSets delivers the station's meeting sets; an unread one is
// replaced by a newer.
func (u *Uplink) MeetingSets() <-chan wire.Meetings { return u.meetCh }

// Acks delivers the hub's acks in the order they arrived.
func (u *Uplink) Acks() <-chan wire.Ack { return u.acksOut }

// Configs delivers configurations; an unread one is replaced by a newer.
func (u *Uplink) Configs() <-chan wire.Config { return u.configCh }

// Changes receives a value after the connection became ready or was lost
// (several changes may coalesce into one); read Connected for the state.
func (u *Uplink) Changes() <-chan struct{} { return u.changes }

// Connected reports whether the connection is up and subscribed.
func (u *Uplink) Connected() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.ready && u.client.IsConnectionOpen()
}

// Topic returns the station's topic of kind k.
func (u *Uplink) Topic(k wire.Kind) string { return wire.Topic(u.opts.StationID, k) }

// Publish sends a message and waits up to PublishTimeout for the broker to
// take it (for QoS 1, its PUBACK). Success says nothing about the hub.
//
// Errors: EUNAVAILABLE (not connected, closed, timed out or refused).
func (u *Uplink) Publish(topic string, payload []byte, qos byte, retain bool) error {
	if u.closing.Load() {
		return vetnet.Errorz(vetnet.EUNAVAILABLE, "上行连接已关闭", "The uplink is closed.")
	}
	if !u.client.IsConnectionOpen() {
		return vetnet.Wrap(vetnet.EUNAVAILABLE, paho.ErrNotConnected, "未连接到中心", "Not connected to the hub.")
	}
	t := u.client.Publish(topic, qos, retain, payload)
	if !t.WaitTimeout(u.opts.PublishTimeout) {
		return vetnet.Wrap(vetnet.EUNAVAILABLE, fmt.Errorf("publish to %s: timeout", topic), "发送超时", "Sending timed out.")
	}
	if err := t.Error(); err != nil {
		return vetnet.Wrap(vetnet.EUNAVAILABLE, err, "发送失败", "Sending failed.")
	}
	return nil
}

// Stats returns the counters.
func (u *Uplink) Stats() Stats {
	u.mu.Lock()
	bad := make(map[string]int64, len(u.bad))
	for k, v := range u.bad {
		bad[k] = v
	}
	u.mu.Unlock()
	return Stats{Connects: u.connects.Load(), Lost: u.lost.Load(), Acks: u.acks.Load(),
		AcksDropped: u.acksDropped.Load(), Configs: u.configs.Load(), Bad: bad}
}

// Close announces a deliberate shutdown (retained status offline, reason
// shutdown) if connected, disconnects cleanly, so that the broker does not
// publish the will, and stops reconnecting. Safe to call more than once.
func (u *Uplink) Close() error {
	if !u.closing.CompareAndSwap(false, true) {
		return nil
	}
	if u.client.IsConnectionOpen() {
		if b, err := u.status(wire.StateOffline, wire.StatusShutdown, u.opts.Now()); err == nil {
			t := u.client.Publish(u.topics.status, 1, true, b)
			if !t.WaitTimeout(min(u.opts.PublishTimeout, 3*time.Second)) || t.Error() != nil {
				u.opts.Logf("mqtt: shutdown status not confirmed: %v", tokenErr(t))
			}
		}
	}
	u.client.Disconnect(250)
	close(u.done)
	u.pumpWG.Wait()
	return nil
}

// noStore is a Paho store that keeps nothing, so Paho never resends
// messages of a lost connection by itself. The agent's outbox does that
// (and a status or heartbeat of an old connection is stale anyway). It also
// avoids a data race in Paho's resume after a reconnect
// (eclipse-paho/paho.mqtt.golang#703, open in v1.5.1), which marks a stored
// packet as a duplicate while the old connection's writer may still be
// reading it.
type noStore struct{}

func (noStore) Open()                             {}
func (noStore) Put(string, packets.ControlPacket) {}
func (noStore) Get(string) packets.ControlPacket  { return nil }
func (noStore) All() []string                     { return nil }
func (noStore) Del(string)                        {}
func (noStore) Close()                            {}
func (noStore) Reset()                            {}
