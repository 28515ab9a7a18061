// Package mqtttest runs the other end of a station's uplink in tests: an
// embedded Mochi broker on a free loopback port that can be stopped,
// restarted on the same address and made to drop a client, and a fake hub
// that stores check-ins by ID and answers with acks as the real hub does
// (or withholds them, or rejects chosen check-ins).
package mqtttest

import (
	"io"
	"log/slog"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/vetnet/vetnet/wire"
)

// Broker is an embedded Mochi broker that allows every client.
type Broker struct {
	Addr string // host:port on 127.0.0.1
	URL  string // tcp://Addr

	tb     testing.TB
	mu     sync.Mutex
	server *mochi.Server
	ln     net.Listener
}

// NewBroker starts a broker on a free loopback port; it is closed when the
// test ends.
func NewBroker(tb testing.TB) *Broker {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	b := &Broker{Addr: ln.Addr().String(), tb: tb}
	b.URL = "tcp://" + b.Addr
	b.serve(ln)
	tb.Cleanup(b.Stop)
	return b
}

func (b *Broker) serve(ln net.Listener) {
	s := mochi.New(&mochi.Options{InlineClient: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := s.AddHook(new(auth.AllowHook), nil); err != nil {
		b.tb.Fatal(err)
	}
	if err := s.AddListener(listeners.NewNet("t1", ln)); err != nil {
		b.tb.Fatal(err)
	}
	if err := s.Serve(); err != nil {
		b.tb.Fatal(err)
	}
	b.mu.Lock()
	b.server, b.ln = s, ln
	b.mu.Unlock()
}

// Server returns the running Mochi server, nil while stopped.
func (b *Broker) Server() *mochi.Server {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.server
}

// Stop closes the broker and every connection; its retained messages are
// lost, as with a broker without storage. Safe to call when stopped.
func (b *Broker) Stop() {
	b.mu.Lock()
	s, ln := b.server, b.ln
	b.server, b.ln = nil, nil
	b.mu.Unlock()
	if s != nil {
		// The listener first: Mochi closes its clients before its
		// listener, and a client reconnecting in between would be
		// accepted by a server that never answers.
		_ = ln.Close()
		_ = s.Close()
	}
}

// Start starts a new broker on the same address after Stop, retrying
// while the port is still being released.
func (b *Broker) Start() {
	b.tb.Helper()
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; {
		if ln, err = net.Listen("tcp", b.Addr); err == nil {
			break
		}
		if time.Now().After(deadline) {
			b.tb.Fatalf("restart broker on %s: %v", b.Addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.serve(ln)
}

// Kick drops a client's connection without a DISCONNECT, as a power cut
// would: the broker publishes the client's will. It reports whether the
// client was connected.
func (b *Broker) Kick(clientID string) bool {
	s := b.Server()
	if s == nil {
		return false
	}
	cl, ok := s.Clients.Get(clientID)
	if !ok || cl.Closed() {
		return false
	}
	cl.Stop(io.ErrUnexpectedEOF)
	return true
}

// Retained returns the retained message on topic.
func (b *Broker) Retained(topic string) ([]byte, bool) {
	s := b.Server()
	if s == nil {
		return nil, false
	}
	for _, pk := range s.Topics.Messages(topic) {
		if pk.TopicName == topic {
			return pk.Payload, true
		}
	}
	return nil, false
}

// Hub is a fake hub: it subscribes to every station's check-ins, keeps
// them by ID and acks each batch after "storing" it, like the real hub's
// ingest. Methods are safe for concurrent use.
type Hub struct {
	client paho.Client
	tb     testing.TB

	mu       sync.Mutex
	acking   bool
	reject   func(wire.CheckInV1) *wire.Rejection
	stored   map[string]map[string]wire.CheckInV1 // station → ID → check-in
	seen     map[string]int                       // ID → times received
	batches  int
	refusals int

	work chan paho.Message
	done chan struct{}
	wg   sync.WaitGroup
}

// HubOptions configure a Hub.
type HubOptions struct {
	ClientID string // default "fake-hub-" + a timestamp
	// Filter is what the hub subscribes to. Default every station's
	// check-ins (wire.Filter); on a shared broker, one station's topic.
	Filter string
	// NoAck starts the hub withholding acks (it still stores); see SetAcking.
	NoAck bool
	// Reject, when it returns non-nil for a check-in, makes the hub refuse
	// the batch holding it: the ack names the rejected check-ins and no
	// IDs, and nothing of the batch is stored.
	Reject func(wire.CheckInV1) *wire.Rejection
}

// NewHub connects a fake hub to the broker at url; it is closed when the
// test ends.
func NewHub(tb testing.TB, url string, opts HubOptions) *Hub {
	tb.Helper()
	if opts.ClientID == "" {
		opts.ClientID = "fake-hub-" + time.Now().Format("150405.000000000")
	}
	h := &Hub{tb: tb, acking: !opts.NoAck, reject: opts.Reject, stored: map[string]map[string]wire.CheckInV1{},
		seen: map[string]int{}, work: make(chan paho.Message, 1024), done: make(chan struct{})}
	filter := opts.Filter
	if filter == "" {
		filter = wire.Filter(wire.KindCheckIns)
	}
	subscribed := make(chan struct{}, 1)
	co := paho.NewClientOptions().AddBroker(url).SetClientID(opts.ClientID).SetCleanSession(true).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).
		SetMaxReconnectInterval(500 * time.Millisecond).SetConnectTimeout(2 * time.Second).
		SetOnConnectHandler(func(c paho.Client) {
			go func() {
				t := c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) { h.work <- m })
				if t.WaitTimeout(10*time.Second) && t.Error() == nil {
					select {
					case subscribed <- struct{}{}:
					default:
					}
				}
			}()
		})
	h.client = paho.NewClient(co)
	h.client.Connect()
	select {
	case <-subscribed:
	case <-time.After(15 * time.Second):
		tb.Fatal("fake hub: cannot subscribe")
	}
	h.wg.Add(1)
	go h.loop()
	tb.Cleanup(h.Close)
	return h
}

func (h *Hub) loop() {
	defer h.wg.Done()
	for {
		select {
		case m := <-h.work:
			h.handle(m)
		case <-h.done:
			return
		}
	}
}

func (h *Hub) handle(m paho.Message) {
	station, _, err := wire.ParseTopic(m.Topic())
	if err != nil {
		return
	}
	ack := wire.Ack{V: wire.Version, Station: station, IDs: []string{}, At: time.Now().UTC()}
	b, err := wire.DecodeCheckInBatch(station, m.Payload())
	h.mu.Lock()
	if err != nil {
		h.refusals++
		ack.Error = &wire.Problem{Reason: wire.Reason(err), Detail: "refused"}
	} else {
		h.batches++
		ack.Batch = b.Batch
		for _, c := range b.CheckIns {
			h.seen[c.ID]++
			if h.reject != nil {
				if r := h.reject(c); r != nil {
					ack.Rejected = append(ack.Rejected, *r)
				}
			}
		}
		if len(ack.Rejected) == 0 {
			if h.stored[station] == nil {
				h.stored[station] = map[string]wire.CheckInV1{}
			}
			for _, c := range b.CheckIns {
				h.stored[station][c.ID] = c
				ack.IDs = append(ack.IDs, c.ID)
			}
		}
	}
	acking := h.acking
	h.mu.Unlock()
	if !acking {
		return
	}
	payload, err := ack.Encode()
	if err != nil {
		h.tb.Errorf("fake hub: encode ack: %v", err)
		return
	}
	h.client.Publish(wire.Topic(station, wire.KindAcks), 1, false, payload)
}

// SetAcking turns acks on or off. Check-ins are stored either way.
func (h *Hub) SetAcking(on bool) {
	h.mu.Lock()
	h.acking = on
	h.mu.Unlock()
}

// Stored returns the check-ins held for station, in sequence order.
func (h *Hub) Stored(station string) []wire.CheckInV1 {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]wire.CheckInV1, 0, len(h.stored[station]))
	for _, c := range h.stored[station] {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// Seen returns how many times the check-in with id arrived.
func (h *Hub) Seen(id string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen[id]
}

// Batches returns how many batches arrived (with resends).
func (h *Hub) Batches() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.batches
}

// Publish sends a message as the hub would (configurations, odd acks).
func (h *Hub) Publish(topic string, payload []byte, retain bool) error {
	t := h.client.Publish(topic, 1, retain, payload)
	t.WaitTimeout(10 * time.Second)
	return t.Error()
}

// Subscribe calls fn for every message on filter until the test ends.
func (h *Hub) Subscribe(filter string, fn func(topic string, payload []byte)) {
	h.tb.Helper()
	t := h.client.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) { fn(m.Topic(), m.Payload()) })
	if !t.WaitTimeout(10*time.Second) || t.Error() != nil {
		h.tb.Fatalf("fake hub: subscribe %s: %v", filter, t.Error())
	}
}

// Close disconnects the hub.
func (h *Hub) Close() {
	select {
	case <-h.done:
		return
	default:
	}
	close(h.done)
	h.client.Disconnect(100)
	h.wg.Wait()
}
