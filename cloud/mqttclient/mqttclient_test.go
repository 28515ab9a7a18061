package mqttclient

import (
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud/mochi"
	"github.com/vetnet/vetnet/wire"
)

// mosquitto is the broker the machine runs; shared with other tests, so
// every test uses station IDs of its own.
const mosquitto = "127.0.0.1:1883"

func needMosquitto(t *testing.T) {
	t.Helper()
	c, err := net.DialTimeout("tcp", mosquitto, 2*time.Second)
	if err != nil {
		t.Skipf("no MQTT broker on %s: %v", mosquitto, err)
	}
	c.Close()
}

func uniqueStation(prefix string) string {
	return fmt.Sprintf("%s-%08x", prefix, rand.Uint32())
}

type sink struct {
	mu   sync.Mutex
	msgs []string
}

func (s *sink) handle(topic string, payload []byte) {
	s.mu.Lock()
	s.msgs = append(s.msgs, topic+" "+string(payload))
	s.mu.Unlock()
}

func (s *sink) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

func (s *sink) matching(prefix string) []string {
	var out []string
	for _, m := range s.list() {
		if len(m) >= len(prefix) && m[:len(prefix)] == prefix {
			out = append(out, m)
		}
	}
	return out
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func station(t *testing.T, addr string) paho.Client {
	t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(uniqueStation("fake")).SetAutoReconnect(false))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func publish(t *testing.T, c paho.Client, topic string, payload string, retain bool) {
	t.Helper()
	if tok := c.Publish(topic, 1, retain, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
}

func TestIngestOrderAndPublish(t *testing.T) {
	needMosquitto(t)
	var got sink
	cl, err := Open(Options{URL: "tcp://" + mosquitto, Handle: got.handle})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if !cl.Up() {
		t.Fatal("not up after Open")
	}
	st := uniqueStation("mqc")
	fake := station(t, mosquitto)
	for i := 0; i < 50; i++ {
		publish(t, fake, wire.Topic(st, wire.KindCheckIns), fmt.Sprint(i), false)
	}
	publish(t, fake, wire.Topic(st, wire.KindAcks), "not subscribed", false)
	publish(t, fake, wire.Topic(st, wire.KindHeartbeat), "hb", false)
	prefix := "vs/v1/st/" + st + "/"
	eventually(t, "51 messages", func() bool { return len(got.matching(prefix)) >= 51 })
	// One station's check-ins keep their order; its heartbeat goes through
	// the presence workers and may come before or after them.
	msgs := got.matching(prefix)
	var checkIns, others []string
	for _, m := range msgs {
		if strings.HasPrefix(m, prefix+"checkins ") {
			checkIns = append(checkIns, m)
		} else {
			others = append(others, m)
		}
	}
	if len(checkIns) != 50 {
		t.Fatalf("%d check-in messages, want 50: %q", len(checkIns), msgs)
	}
	for i := 0; i < 50; i++ {
		if want := fmt.Sprintf("%scheckins %d", prefix, i); checkIns[i] != want {
			t.Fatalf("check-in message %d is %q, want %q (one station's order must hold)", i, checkIns[i], want)
		}
	}
	if len(others) != 1 || others[0] != prefix+"heartbeat hb" {
		t.Fatalf("besides the check-ins: %q, want only the heartbeat (acks are not subscribed)", others)
	}

	// Publish: an ack reaches the station, a retained config a later
	// subscriber; the retained message is cleared afterwards.
	var acks sink
	fake.Subscribe(wire.Topic(st, wire.KindAcks), 1, func(_ paho.Client, m paho.Message) { acks.handle(m.Topic(), m.Payload()) }).WaitTimeout(5 * time.Second)
	if err := cl.Publish(wire.Topic(st, wire.KindAcks), []byte("ack"), false, 1); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the ack", func() bool { return len(acks.list()) == 1 })
	cfgTopic := wire.Topic(st, wire.KindConfig)
	if err := cl.Publish(cfgTopic, []byte("cfg"), true, 1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { publish(t, fake, cfgTopic, "", true) })
	var cfg sink
	late := station(t, mosquitto)
	late.Subscribe(cfgTopic, 1, func(_ paho.Client, m paho.Message) { cfg.handle(m.Topic(), m.Payload()) })
	eventually(t, "the retained config", func() bool { return len(cfg.list()) == 1 })
}

func TestSharedSubscription(t *testing.T) {
	needMosquitto(t)
	group := uniqueStation("grp")
	var a, b sink
	ca, err := Open(Options{URL: "tcp://" + mosquitto, ShareGroup: group, Handle: a.handle, Kinds: []wire.Kind{wire.KindHeartbeat}})
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	cb, err := Open(Options{URL: "tcp://" + mosquitto, ShareGroup: group, Handle: b.handle, Kinds: []wire.Kind{wire.KindHeartbeat}})
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	fake := station(t, mosquitto)
	st := uniqueStation("shr")
	const n = 40
	for i := 0; i < n; i++ {
		publish(t, fake, wire.Topic(st, wire.KindHeartbeat), fmt.Sprint(i), false)
	}
	prefix := "vs/v1/st/" + st + "/"
	eventually(t, "every message once", func() bool { return len(a.matching(prefix))+len(b.matching(prefix)) >= n })
	time.Sleep(200 * time.Millisecond)
	seen := map[string]int{}
	for _, m := range append(a.matching(prefix), b.matching(prefix)...) {
		seen[m]++
	}
	if len(seen) != n {
		t.Fatalf("%d distinct messages, want %d", len(seen), n)
	}
	for m, k := range seen {
		if k != 1 {
			t.Fatalf("%q delivered %d times across the group", m, k)
		}
	}
	if len(a.matching(prefix)) == 0 || len(b.matching(prefix)) == 0 {
		t.Logf("one replica got everything (a %d, b %d): allowed, but unusual", len(a.matching(prefix)), len(b.matching(prefix)))
	}
}

// TestReconnect restarts an embedded broker on the same port: the client
// must reconnect and subscribe again by itself.
func TestReconnect(t *testing.T) {
	var got sink
	start := func(addr string) *mochi.Broker {
		var b *mochi.Broker
		var err error
		for i := 0; i < 50; i++ { // the port may take a moment to free
			if b, err = mochi.Open(mochi.Options{Listen: addr, Handle: func(string, string, []byte) {}}); err == nil {
				return b
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatal(err)
		return nil
	}
	broker := start("127.0.0.1:0")
	addr := broker.Addr()
	connects := make(chan struct{}, 10)
	cl, err := Open(Options{URL: "tcp://" + addr, Handle: got.handle, OnConnect: func() { connects <- struct{}{} }})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	<-connects
	broker.Close()
	eventually(t, "the client to notice", func() bool { return !cl.Up() })
	broker = start(addr)
	defer broker.Close()
	select {
	case <-connects:
	case <-time.After(30 * time.Second):
		t.Fatal("no reconnect")
	}
	eventually(t, "up again", cl.Up)
	fake := station(t, addr)
	publish(t, fake, wire.Topic("st-r", wire.KindStatus), "after restart", false)
	eventually(t, "a message after the restart", func() bool { return len(got.list()) == 1 })
}

func TestOwnStationsOnly(t *testing.T) {
	broker, err := mochi.Open(mochi.Options{Listen: "127.0.0.1:0", Handle: func(string, string, []byte) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	var got sink
	cl, err := Open(Options{URL: "tcp://" + broker.Addr(), Handle: got.handle, Stations: []string{"st-own"}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	fake := station(t, broker.Addr())
	publish(t, fake, wire.Topic("st-other", wire.KindCheckIns), "theirs", false)
	publish(t, fake, wire.Topic("st-own", wire.KindCheckIns), "ours", false)
	publish(t, fake, wire.Topic("st-own", wire.KindHeartbeat), "ours too", false)
	eventually(t, "our messages", func() bool { return len(got.list()) == 2 })
	time.Sleep(100 * time.Millisecond)
	// Check-ins and presence go through separate workers, so the two may
	// arrive in either order; only other stations' messages must be absent.
	g := got.list()
	slices.Sort(g)
	if want := []string{"vs/v1/st/st-own/checkins ours", "vs/v1/st/st-own/heartbeat ours too"}; !slices.Equal(g, want) {
		t.Fatalf("received %q, want %q", g, want)
	}
}

func TestQueueFullDrops(t *testing.T) {
	broker, err := mochi.Open(mochi.Options{Listen: "127.0.0.1:0", Handle: func(string, string, []byte) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	release := make(chan struct{})
	var handled sync.WaitGroup
	cl, err := Open(Options{URL: "tcp://" + broker.Addr(), Workers: 1, Queue: 1, Handle: func(string, []byte) {
		handled.Done()
		<-release
	}})
	if err != nil {
		t.Fatal(err)
	}
	handled.Add(1)
	fake := station(t, broker.Addr())
	for i := 0; i < 5; i++ {
		publish(t, fake, wire.Topic("st-q", wire.KindCheckIns), fmt.Sprint(i), false)
	}
	handled.Wait() // the worker holds the first; one waits; the rest are dropped
	eventually(t, "drops", func() bool { return cl.Dropped() == 3 })
	handled.Add(1)
	close(release)
	cl.Close()
}

// TestPresenceNotBehindCheckIns: while the check-in worker is stuck (a
// slow store), heartbeats and statuses are still handled, none dropped.
func TestPresenceNotBehindCheckIns(t *testing.T) {
	broker, err := mochi.Open(mochi.Options{Listen: "127.0.0.1:0", Handle: func(string, string, []byte) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	release := make(chan struct{})
	var mu sync.Mutex
	presence := 0
	cl, err := Open(Options{URL: "tcp://" + broker.Addr(), Workers: 1, Queue: 1, Handle: func(topic string, _ []byte) {
		if strings.HasSuffix(topic, "/checkins") {
			<-release
			return
		}
		mu.Lock()
		presence++
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { close(release); cl.Close() }()
	fake := station(t, broker.Addr())
	for i := 0; i < 5; i++ {
		publish(t, fake, wire.Topic("st-p", wire.KindCheckIns), fmt.Sprint(i), false)
	}
	for i := 0; i < 50; i++ {
		publish(t, fake, wire.Topic("st-p", wire.KindHeartbeat), fmt.Sprint(i), false)
	}
	eventually(t, "50 heartbeats handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return presence == 50
	})
	if d := cl.Dropped(); d != 3 {
		t.Fatalf("%d dropped, want the 3 check-in batches beyond the full queue", d)
	}
}

func TestOpenErrors(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	tests := []struct {
		name string
		opts Options
		code string
	}{
		{"no url", Options{Handle: func(string, []byte) {}}, vetnet.EINVALID},
		{"no handler", Options{URL: "tcp://" + addr}, vetnet.EINVALID},
		{"unreachable", Options{URL: "tcp://" + addr, Handle: func(string, []byte) {}, Timeout: 500 * time.Millisecond}, vetnet.EUNAVAILABLE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl, err := Open(tt.opts)
			if err == nil {
				cl.Close()
				t.Fatal("opened")
			}
			if vetnet.ErrorCode(err) != tt.code {
				t.Fatalf("code %q (%v), want %q", vetnet.ErrorCode(err), err, tt.code)
			}
		})
	}
}

// TestSubscribeRetried: a broker that refuses the hub's subscription for a
// while (an ACL being fixed, a broker starting up) does not leave the hub
// connected but deaf: it subscribes again on the same connection.
func TestSubscribeRetried(t *testing.T) {
	var refusals atomic.Int32
	refusals.Store(2)
	broker, err := mochi.Open(mochi.Options{Listen: "127.0.0.1:0", Handle: func(string, string, []byte) {},
		Authorize: func(clientID, _, topic string, write bool) bool {
			if !write && clientID == "hub-retry" && refusals.Load() > 0 {
				refusals.Add(-1)
				return false
			}
			return true
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	var got sink
	var logs sync.Mutex
	var lines []string
	cl, err := Open(Options{URL: "tcp://" + broker.Addr(), ClientID: "hub-retry", Handle: got.handle, Timeout: 20 * time.Second,
		Logf: func(f string, a ...any) { logs.Lock(); lines = append(lines, fmt.Sprintf(f, a...)); logs.Unlock() }})
	if err != nil {
		t.Fatalf("open with a broker refusing twice: %v", err)
	}
	defer cl.Close()
	if refusals.Load() != 0 {
		t.Fatal("the broker was not asked again")
	}
	fake := station(t, broker.Addr())
	publish(t, fake, wire.Topic("st-r", wire.KindStatus), "heard", false)
	eventually(t, "a message after the retries", func() bool { return len(got.list()) == 1 })
	logs.Lock()
	defer logs.Unlock()
	if !strings.Contains(strings.Join(lines, "\n"), "subscribing again") {
		t.Fatalf("no retry logged: %v", lines)
	}
}
