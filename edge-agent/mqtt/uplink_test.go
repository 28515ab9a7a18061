package mqtt_test

import (
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/mqtt"
	"github.com/vetnet/vetnet/edge-agent/mqtt/mqtttest"
	"github.com/vetnet/vetnet/wire"
)

func uniqueStation() string { return fmt.Sprintf("test-up-%08x", rand.Uint32()) }

func open(t *testing.T, url, station string) *mqtt.Uplink {
	t.Helper()
	u, err := mqtt.Open(mqtt.Options{Broker: url, StationID: station, Agent: "test", HeartbeatS: 5,
		KeepAlive: 2 * time.Second, RetryInterval: 100 * time.Millisecond, MaxReconnectInterval: 500 * time.Millisecond,
		PublishTimeout: 2 * time.Second, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.Close() })
	return u
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func retainedStatus(b *mqtttest.Broker, station string) (wire.Status, bool) {
	p, ok := b.Retained(wire.Topic(station, wire.KindStatus))
	if !ok || len(p) == 0 {
		return wire.Status{}, false
	}
	s, err := wire.DecodeStatus(station, p)
	return s, err == nil
}

func hasStatus(b *mqtttest.Broker, station string, state wire.State, reason string) func() bool {
	return func() bool {
		s, ok := retainedStatus(b, station)
		return ok && s.State == state && s.Reason == reason
	}
}

func ack(station, batch string, ids ...string) []byte {
	if ids == nil {
		ids = []string{}
	}
	b, _ := wire.Ack{V: 1, Station: station, Batch: batch, IDs: ids, At: time.Now()}.Encode()
	return b
}

// statuses records the statuses published on a station's topic.
type statuses struct {
	mu  sync.Mutex
	all []wire.Status
}

func watchStatus(t *testing.T, hub *mqtttest.Hub, station string) *statuses {
	w := &statuses{}
	hub.Subscribe(wire.Topic(station, wire.KindStatus), func(_ string, p []byte) {
		if s, err := wire.DecodeStatus(station, p); err == nil {
			w.mu.Lock()
			w.all = append(w.all, s)
			w.mu.Unlock()
		}
	})
	return w
}

func (w *statuses) seen(state wire.State, reason string) func() bool {
	return func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, s := range w.all {
			if s.State == state && s.Reason == reason {
				return true
			}
		}
		return false
	}
}

func TestPresence(t *testing.T) {
	b := mqtttest.NewBroker(t)
	hub := mqtttest.NewHub(t, b.URL, mqtttest.HubOptions{})
	st := uniqueStation()
	watch := watchStatus(t, hub, st)
	u := open(t, b.URL, st)
	eventually(t, "connected", u.Connected)
	eventually(t, "retained online status", hasStatus(b, st, wire.StateOnline, wire.StatusConnect))
	s, _ := retainedStatus(b, st)
	if s.Agent != "test" || s.HeartbeatS != 5 {
		t.Fatalf("status %+v", s)
	}

	// A dropped connection: the broker publishes the will.
	if !b.Kick("station-" + st) {
		t.Fatal("client station-" + st + " not connected")
	}
	eventually(t, "will", watch.seen(wire.StateOffline, wire.StatusWill))
	// Paho reconnects and the station is online again, also when the
	// broker published the will after the new connection's status.
	eventually(t, "online after reconnect", hasStatus(b, st, wire.StateOnline, wire.StatusConnect))
	eventually(t, "connected again", u.Connected)
	if s := u.Stats(); s.Connects < 2 || s.Lost < 1 {
		t.Fatalf("stats %+v", s)
	}

	// A deliberate shutdown is announced and the will is not published.
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "shutdown status", hasStatus(b, st, wire.StateOffline, wire.StatusShutdown))
	time.Sleep(200 * time.Millisecond)
	if s, _ := retainedStatus(b, st); s.Reason != wire.StatusShutdown {
		t.Fatalf("after a clean close the retained status is %+v", s)
	}
	if err := u.Publish(u.Topic(wire.KindHeartbeat), []byte("{}"), 0, false); vetnet.ErrorCode(err) != vetnet.EUNAVAILABLE {
		t.Fatalf("publish after close: %v", err)
	}
}

func TestAcksAndConfig(t *testing.T) {
	b := mqtttest.NewBroker(t)
	hub := mqtttest.NewHub(t, b.URL, mqtttest.HubOptions{})
	st := uniqueStation()
	u := open(t, b.URL, st)
	eventually(t, "connected", u.Connected)
	acks := wire.Topic(st, wire.KindAcks)

	// Nobody reads Acks while many arrive: the handler must not block, or
	// the configuration behind them would wait too.
	const n = 300
	for i := 0; i < n; i++ {
		if err := hub.Publish(acks, ack(st, fmt.Sprint(i)), false); err != nil {
			t.Fatal(err)
		}
	}
	cfg := wire.NewConfig(vetnet.Station{ID: st, Name: "测试站", Level: vetnet.LevelVillage, Parent: "cz-xb-sanjing",
		Services: []vetnet.Service{vetnet.ServiceBenefits}}, 5, time.Now())
	payload, _ := cfg.Encode()
	if err := hub.Publish(wire.Topic(st, wire.KindConfig), payload, true); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-u.Configs():
		if got.Version != cfg.Version {
			t.Fatalf("config %+v", got)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("config held up behind unread acks")
	}
	for i := 0; i < n; i++ {
		select {
		case a := <-u.Acks():
			if a.Batch != fmt.Sprint(i) {
				t.Fatalf("ack %d has batch %q: out of order", i, a.Batch)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("ack %d lost", i)
		}
	}

	// Bad messages are refused and counted by reason.
	bad := []struct {
		name, reason string
		payload      []byte
	}{
		{"garbage", wire.ReasonJSON, []byte("{nope")},
		{"other station", wire.ReasonStation, ack("cz-xb-other", "1")},
		{"unknown field", wire.ReasonUnknown, []byte(`{"v":1,"station":"` + st + `","batch":"","ids":[],"at":"2026-11-26T09:00:00Z","x":1}`)},
	}
	for _, tt := range bad {
		if err := hub.Publish(acks, tt.payload, false); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "bad messages counted", func() bool {
		s := u.Stats().Bad
		return s[wire.ReasonJSON] == 1 && s[wire.ReasonStation] == 1 && s[wire.ReasonUnknown] == 1
	})
	select {
	case a := <-u.Acks():
		t.Fatalf("a bad ack came through: %+v", a)
	default:
	}
	if s := u.Stats(); s.Acks != n || s.Configs != 1 || s.AcksDropped != 0 {
		t.Fatalf("stats %+v", s)
	}
	if err := hub.Publish(wire.Topic(st, wire.KindConfig), nil, true); err != nil { // clear the retained config
		t.Fatal(err)
	}
}

func TestOffline(t *testing.T) {
	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	start := time.Now()
	u := open(t, "tcp://"+addr, uniqueStation())
	if time.Since(start) > 5*time.Second {
		t.Fatal("Open waited for the broker")
	}
	if u.Connected() {
		t.Fatal("connected to nothing")
	}
	err = u.Publish(u.Topic(wire.KindCheckIns), []byte("{}"), 1, false)
	if vetnet.ErrorCode(err) != vetnet.EUNAVAILABLE {
		t.Fatalf("publish offline: %v", err)
	}
	var closed atomic.Bool
	go func() { _ = u.Close(); closed.Store(true) }()
	eventually(t, "close while connecting", closed.Load)
}

func TestOpenRefuses(t *testing.T) {
	for _, o := range []mqtt.Options{{StationID: "cz-xb"}, {Broker: "tcp://127.0.0.1:1", StationID: "Bad ID"}} {
		if _, err := mqtt.Open(o); vetnet.ErrorCode(err) != vetnet.EINVALID {
			t.Errorf("Open(%+v) = %v", o, err)
		}
	}
}
