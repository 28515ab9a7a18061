// Package mqttclient connects the hub to an external MQTT broker (Mosquitto,
// EMQX, NATS' MQTT listener) with paho: it subscribes to the station topics
// the hub consumes and publishes the hub's acks and retained
// configurations.
//
// paho acknowledges a QoS 1 message to the broker as soon as the message
// handler returns, so the handler only queues the message for a worker and
// returns; it never blocks the client. A message that is dropped (a full
// queue) or lost before the hub commits it costs nothing but a delay: the
// hub has not acknowledged it, so the station sends it again.
//
// Messages are spread over workers by station, so one station's messages
// are handled in the order they arrived while different stations proceed
// in parallel. Check-in batches and presence (status, heartbeats) have
// workers and queues of their own, so that heartbeats never wait behind
// batches that wait for the store.
//
// With ShareGroup set, the filters are MQTT shared subscriptions
// ($share/{group}/...), so that several hub replicas split the stations'
// messages. The client reconnects by itself and subscribes again on every
// connection (the session is clean: queued messages of a dead session
// would be resent by the stations anyway).
package mqttclient

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"hash/fnv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/wire"
)

// Options configure a Client.
type Options struct {
	// URL of the broker, e.g. "tcp://127.0.0.1:1883" (also ssl://, ws://).
	// Required.
	URL string

	// ClientID is the MQTT client ID. Default "vetnet-hub-" and 8 random
	// hex digits; replicas must not share one.
	ClientID string

	// Username and Password authenticate the hub, if the broker wants it.
	Username, Password string

	// TLS is the TLS configuration of ssl:// and tls:// brokers: the
	// district CA and the hub's client certificate (pki.ClientTLS), whose
	// CN (vetnet-hub) the broker's ACL lets publish and subscribe
	// everywhere. Nil: Paho's default.
	TLS *tls.Config

	// ShareGroup, when set, subscribes through $share/{ShareGroup}/... so
	// that replicas of the hub split the messages.
	ShareGroup string

	// SharedKinds, with ShareGroup, are the kinds subscribed through the
	// shared subscription; the other kinds are subscribed plainly, so
	// that every replica gets every such message. Nil: every kind shared.
	// The hub shares check-ins (each batch is stored and acked by one
	// replica) and not status and heartbeats (every replica keeps the
	// presence of every station, and the retained statuses reach each
	// replica when it subscribes).
	SharedKinds []wire.Kind

	// Kinds are the station topic kinds to subscribe to, at QoS 1.
	// Default: checkins, status and heartbeat.
	Kinds []wire.Kind

	// Stations, when not empty, limits the subscriptions to these
	// stations' topics (one filter per station and kind) instead of the
	// wildcard vs/v1/st/+/{kind}: for a broker that other hubs share,
	// where this hub must not answer other hubs' stations.
	Stations []string

	// Handle receives each message, on a worker goroutine. Required.
	Handle func(topic string, payload []byte)

	// OnConnect runs, in its own goroutine, after each connection is made
	// and subscribed (the hub republishes retained configurations there,
	// in case the broker lost them).
	OnConnect func()

	// Workers is the number of handler goroutines. Default 4.
	Workers int

	// PresenceWorkers is the number of goroutines for status and
	// heartbeat messages, which have queues of their own (PresenceQueue
	// each): a heartbeat must never wait behind a check-in batch that
	// waits for the store, or a storm of reconnecting stations would
	// fill the queues with batches and the hub would miss the heartbeats
	// and statuses and mark live stations stale. Default 2.
	PresenceWorkers int

	// PresenceQueue is the number of status and heartbeat messages each
	// presence worker may have waiting. Default 4096.
	PresenceQueue int

	// Queue is the number of messages each worker may have waiting before
	// new ones are dropped. Default 256.
	Queue int

	// Timeout bounds the first connection, each subscription and each
	// publish. Default 10 s.
	Timeout time.Duration

	// Logf receives connection events and errors. Default: discarded.
	Logf func(format string, args ...any)
}

// Client is a connection to an external broker.
type Client struct {
	opts    Options
	c       paho.Client
	queues  []chan message // check-ins, by station
	pqueues []chan message // status and heartbeats, by station
	wg      sync.WaitGroup
	dropped atomic.Uint64
	subbed  atomic.Bool
	conns   atomic.Uint64 // connections made: a subscription retries only on its own
	lastErr atomic.Pointer[error]
	closed  atomic.Bool // no new messages are queued
	gone    atomic.Bool // disconnected: nothing can be published
	mu      sync.Mutex  // guards closing the queues against handle
}

type message struct {
	topic   string
	payload []byte
}

// Open connects to the broker and subscribes. It fails if the first
// connection is not made within Timeout; after that the client reconnects
// by itself. Errors: EINVALID (missing options), EUNAVAILABLE (the broker
// cannot be reached or refused the subscription).
func Open(opts Options) (*Client, error) {
	if opts.URL == "" || opts.Handle == nil {
		return nil, vetnet.Errorz(vetnet.EINVALID, "外部消息服务器缺少地址或处理函数", "The broker client needs a URL and a handler.")
	}
	if opts.ClientID == "" {
		var b [4]byte
		rand.Read(b[:])
		opts.ClientID = "vetnet-hub-" + hex.EncodeToString(b[:])
	}
	if len(opts.Kinds) == 0 {
		opts.Kinds = []wire.Kind{wire.KindCheckIns, wire.KindStatus, wire.KindHeartbeat}
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Queue <= 0 {
		opts.Queue = 256
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.PresenceWorkers <= 0 {
		opts.PresenceWorkers = 2
	}
	if opts.PresenceQueue <= 0 {
		opts.PresenceQueue = 4096
	}
	cl := &Client{opts: opts}
	for i := 0; i < opts.Workers; i++ {
		q := make(chan message, opts.Queue)
		cl.queues = append(cl.queues, q)
		cl.wg.Add(1)
		go cl.work(q)
	}
	for i := 0; i < opts.PresenceWorkers; i++ {
		q := make(chan message, opts.PresenceQueue)
		cl.pqueues = append(cl.pqueues, q)
		cl.wg.Add(1)
		go cl.work(q)
	}
	connected := make(chan error, 1)
	po := paho.NewClientOptions().
		AddBroker(opts.URL).
		SetClientID(opts.ClientID).
		SetUsername(opts.Username).
		SetPassword(opts.Password).
		SetCleanSession(true).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetMaxReconnectInterval(30 * time.Second).
		SetConnectTimeout(opts.Timeout).
		SetKeepAlive(30 * time.Second).
		SetTLSConfig(opts.TLS).
		SetOrderMatters(true). // handle only queues, so in-order delivery costs nothing
		SetOnConnectHandler(func(c paho.Client) {
			// An OnConnect handler must not block the client: subscribe
			// and wait in a goroutine.
			go cl.subscribe(cl.conns.Add(1), connected)
		}).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			cl.subbed.Store(false)
			opts.Logf("mqtt: connection to %s lost: %v", opts.URL, err)
		})
	cl.c = paho.NewClient(po)
	cl.c.Connect() // with ConnectRetry the token completes only once connected
	select {
	case err := <-connected:
		if err != nil {
			cl.Close()
			return nil, err
		}
	case <-time.After(opts.Timeout):
		cl.Close()
		if e := cl.lastErr.Load(); e != nil {
			return nil, *e
		}
		return nil, vetnet.Errorz(vetnet.EUNAVAILABLE, "无法连接消息服务器", "Cannot connect to the broker at "+opts.URL+".")
	}
	return cl, nil
}

// shared reports whether kind k is subscribed through the share group.
func (cl *Client) shared(k wire.Kind) bool {
	if cl.opts.SharedKinds == nil {
		return true
	}
	for _, x := range cl.opts.SharedKinds {
		if x == k {
			return true
		}
	}
	return false
}

func (cl *Client) filters() map[string]byte {
	f := map[string]byte{}
	for _, k := range cl.opts.Kinds {
		topics := []string{wire.Filter(k)}
		if len(cl.opts.Stations) > 0 {
			topics = topics[:0]
			for _, st := range cl.opts.Stations {
				topics = append(topics, wire.Topic(st, k))
			}
		}
		for _, t := range topics {
			if cl.opts.ShareGroup != "" && cl.shared(k) {
				t = "$share/" + cl.opts.ShareGroup + "/" + t
			}
			f[t] = 1
		}
	}
	return f
}

// subscribe subscribes on connection conn, retrying with a growing wait
// while that connection stays up: a hub connected but not subscribed would
// hear nothing, and stations would resend to it for ever. Success is
// reported to first (Open waits on it); failures are kept in lastErr for
// Open to report if no attempt succeeds in time.
func (cl *Client) subscribe(conn uint64, first chan error) {
	wait := time.Second
	for {
		err := cl.trySubscribe()
		if err == nil {
			select {
			case first <- nil:
			default:
			}
			return
		}
		cl.lastErr.Store(&err)
		if cl.closed.Load() || cl.conns.Load() != conn || !cl.c.IsConnectionOpen() {
			return
		}
		time.Sleep(wait)
		wait = min(2*wait, 30*time.Second)
		if cl.conns.Load() != conn || !cl.c.IsConnectionOpen() || cl.closed.Load() {
			return // a new connection subscribes by itself
		}
		cl.opts.Logf("mqtt: subscribing again on %s", cl.opts.URL)
	}
}

func (cl *Client) trySubscribe() error {
	tok := cl.c.SubscribeMultiple(cl.filters(), func(_ paho.Client, m paho.Message) {
		cl.handle(m.Topic(), m.Payload())
	})
	var err error
	switch {
	case !tok.WaitTimeout(cl.opts.Timeout):
		err = vetnet.Errorz(vetnet.EUNAVAILABLE, "订阅超时", "The subscription timed out.")
	case tok.Error() != nil:
		err = vetnet.Wrap(vetnet.EUNAVAILABLE, tok.Error(), "订阅失败", "The subscription failed.")
	default:
		if st, ok := tok.(*paho.SubscribeToken); ok {
			for f, code := range st.Result() {
				if code >= 0x80 {
					err = vetnet.Errorz(vetnet.EUNAVAILABLE, "消息服务器拒绝订阅", "The broker refused the subscription to "+f+".")
				}
			}
		}
	}
	if err != nil {
		cl.opts.Logf("mqtt: subscribe on %s: %v", cl.opts.URL, err)
		return err
	}
	cl.subbed.Store(true)
	cl.opts.Logf("mqtt: connected to %s and subscribed", cl.opts.URL)
	if cl.opts.OnConnect != nil {
		go cl.opts.OnConnect()
	}
	return nil
}

// handle queues a message for the worker of its station. It never blocks.
func (cl *Client) handle(topic string, payload []byte) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.closed.Load() {
		return
	}
	qs := cl.queues
	if !strings.HasSuffix(topic, "/"+string(wire.KindCheckIns)) {
		qs = cl.pqueues
	}
	q := qs[workerOf(topic, len(qs))]
	select {
	case q <- message{topic, payload}:
	default:
		// The station did not get an ack for it and will send it again.
		if cl.dropped.Add(1)%100 == 1 {
			cl.opts.Logf("mqtt: handler queue full; dropped %d messages so far", cl.dropped.Load())
		}
	}
}

func workerOf(topic string, n int) int {
	station := topic
	if parts := strings.Split(topic, "/"); len(parts) >= 4 {
		station = parts[3]
	}
	h := fnv.New32a()
	h.Write([]byte(station))
	return int(h.Sum32() % uint32(n))
}

func (cl *Client) work(q chan message) {
	defer cl.wg.Done()
	for m := range q {
		cl.opts.Handle(m.topic, m.payload)
	}
}

// Publish sends a message and waits up to Timeout for the broker to take
// it. Errors: EUNAVAILABLE (not connected, timed out, refused).
func (cl *Client) Publish(topic string, payload []byte, retain bool, qos byte) error {
	if cl.gone.Load() {
		return vetnet.Errorz(vetnet.EUNAVAILABLE, "消息服务器连接已关闭", "The broker connection is closed.")
	}
	tok := cl.c.Publish(topic, qos, retain, payload)
	if !tok.WaitTimeout(cl.opts.Timeout) {
		return vetnet.Errorz(vetnet.EUNAVAILABLE, "消息发布超时", "Publishing timed out.")
	}
	if err := tok.Error(); err != nil {
		return vetnet.Wrap(vetnet.EUNAVAILABLE, err, "消息发布失败", "Publishing failed.")
	}
	return nil
}

// Up reports whether the client is connected and subscribed.
func (cl *Client) Up() bool { return !cl.gone.Load() && cl.c.IsConnectionOpen() && cl.subbed.Load() }

// Dropped returns how many messages were dropped because a queue was full.
func (cl *Client) Dropped() uint64 { return cl.dropped.Load() }

// Close stops taking messages, lets the workers finish what they hold
// (so that their acks still go out), then disconnects. Safe to call twice.
func (cl *Client) Close() error {
	cl.mu.Lock()
	if cl.closed.Swap(true) {
		cl.mu.Unlock()
		return nil
	}
	for _, q := range append(append([]chan message{}, cl.queues...), cl.pqueues...) {
		close(q)
	}
	cl.mu.Unlock()
	cl.wg.Wait()
	cl.gone.Store(true)
	cl.c.Disconnect(250)
	return nil
}
