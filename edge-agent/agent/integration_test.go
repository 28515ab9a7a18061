package agent_test

import (
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/agent"
	"github.com/vetnet/vetnet/edge-agent/mqtt/mqtttest"
	"github.com/vetnet/vetnet/wire"
)

// The tests here run the agent against a real broker (embedded Mochi, and
// Mosquitto where the machine runs it) and a fake hub that acks like the
// real one.

func outboxDepth(t *testing.T, s *station) func() int {
	return func() int { return s.status(t).Outbox.Depth }
}

// deliver checks n check-ins in and waits until the hub holds all of them,
// exactly once each, and the outbox is empty.
func deliver(t *testing.T, s *station, hub *mqtttest.Hub, n int) []string {
	t.Helper()
	var ids []string
	for i := 0; i < n; i++ {
		_, resp := s.manual(t, vetnet.Services[i%3])
		ids = append(ids, resp.ID)
	}
	eventually(t, "hub holds every check-in", func() bool { return len(hub.Stored(s.id)) >= n })
	eventually(t, "outbox empty", func() bool { return outboxDepth(t, s)() == 0 })
	stored := hub.Stored(s.id)
	if len(stored) != n {
		t.Fatalf("hub holds %d check-ins, want %d", len(stored), n)
	}
	for i, c := range stored {
		if c.Seq != uint64(i+1) || c.ID != ids[i] {
			t.Fatalf("stored[%d] = seq %d id %s, want seq %d id %s", i, c.Seq, c.ID, i+1, ids[i])
		}
	}
	return ids
}

func TestDeliveryExactlyOnce(t *testing.T) {
	b := mqtttest.NewBroker(t)
	hub := mqtttest.NewHub(t, b.URL, mqtttest.HubOptions{})
	s := startStation(t, b.URL, func(c *agent.Config) { c.BatchMax = 4; c.AckTimeout = 10 * time.Second })
	eventually(t, "online", func() bool { return s.status(t).Online })
	ids := deliver(t, s, hub, 15)
	for _, id := range ids {
		if n := hub.Seen(id); n != 1 {
			t.Errorf("check-in %s arrived %d times", id, n)
		}
	}
}

func TestNoAckKeepsAndResends(t *testing.T) {
	b := mqtttest.NewBroker(t)
	hub := mqtttest.NewHub(t, b.URL, mqtttest.HubOptions{NoAck: true})
	s := startStation(t, b.URL, func(c *agent.Config) { c.AckTimeout = 200 * time.Millisecond; c.MaxBackoff = 400 * time.Millisecond })
	eventually(t, "online", func() bool { return s.status(t).Online })
	var ids []string
	for i := 0; i < 3; i++ {
		_, resp := s.manual(t, vetnet.ServiceBenefits)
		ids = append(ids, resp.ID)
	}
	// The hub receives them (and stores them) but says nothing: the
	// station keeps them and sends them again.
	eventually(t, "resends", func() bool {
		for _, id := range ids {
			if hub.Seen(id) < 3 {
				return false
			}
		}
		return true
	})
	if d := outboxDepth(t, s)(); d != 3 {
		t.Fatalf("outbox depth %d without acks, want 3", d)
	}
	hub.SetAcking(true)
	eventually(t, "outbox empty after acks", func() bool { return outboxDepth(t, s)() == 0 })
	if len(hub.Stored(s.id)) != 3 {
		t.Fatalf("hub holds %d", len(hub.Stored(s.id)))
	}
}

func TestBrokerDownThenBack(t *testing.T) {
	b := mqtttest.NewBroker(t)
	hub := mqtttest.NewHub(t, b.URL, mqtttest.HubOptions{})
	s := startStation(t, b.URL, nil)
	eventually(t, "online", func() bool { return s.status(t).Online })
	deliver(t, s, hub, 2)

	b.Stop()
	eventually(t, "offline", func() bool { return !s.status(t).Online })
	// The station keeps working.
	for i := 0; i < 5; i++ {
		s.manual(t, vetnet.ServiceConsultation)
	}
	if st := s.status(t); st.Outbox.Depth != 5 || st.Outbox.LastSeq != 7 {
		t.Fatalf("outbox while the broker is down: %+v", st.Outbox)
	}
	b.Start()
	eventually(t, "back online", func() bool { return s.status(t).Online })
	eventually(t, "delivered after the broker came back", func() bool {
		return len(hub.Stored(s.id)) == 7 && outboxDepth(t, s)() == 0
	})
}

func TestStartsWithoutBroker(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := startStation(t, "tcp://"+addr, nil)
	s.manual(t, vetnet.ServiceBenefits)
	if st := s.status(t); st.Online || st.Outbox.Depth != 1 {
		t.Fatalf("status %+v", st)
	}
}

func TestPresence(t *testing.T) {
	b := mqtttest.NewBroker(t)
	hub := mqtttest.NewHub(t, b.URL, mqtttest.HubOptions{})
	id := uniqueStation("test")
	var mu sync.Mutex
	wills := 0
	hub.Subscribe(wire.Topic(id, wire.KindStatus), func(_ string, p []byte) {
		if st, err := wire.DecodeStatus(id, p); err == nil && st.Reason == wire.StatusWill {
			mu.Lock()
			wills++
			mu.Unlock()
		}
	})
	s := startStation(t, b.URL, func(c *agent.Config) { c.StationID = id })
	topic := wire.Topic(s.id, wire.KindStatus)
	status := func(state wire.State, reason string) func() bool {
		return func() bool {
			p, ok := b.Retained(topic)
			if !ok {
				return false
			}
			st, err := wire.DecodeStatus(s.id, p)
			return err == nil && st.State == state && st.Reason == reason && st.Agent == "test"
		}
	}
	eventually(t, "online", status(wire.StateOnline, wire.StatusConnect))
	if !b.Kick("station-" + s.id) {
		t.Fatal("station not connected")
	}
	eventually(t, "last will", func() bool { mu.Lock(); defer mu.Unlock(); return wills == 1 })
	eventually(t, "online again", status(wire.StateOnline, wire.StatusConnect))
	if err := s.agent.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "shutdown", status(wire.StateOffline, wire.StatusShutdown))
}

func TestRejectedParked(t *testing.T) {
	b := mqtttest.NewBroker(t)
	var mu sync.Mutex
	var refuse string // ID number the hub will not take
	hub := mqtttest.NewHub(t, b.URL, mqtttest.HubOptions{Reject: func(c wire.CheckInV1) *wire.Rejection {
		mu.Lock()
		defer mu.Unlock()
		if c.Visitor.IDNumber != refuse {
			return nil
		}
		return &wire.Rejection{ID: c.ID, Seq: c.Seq, Code: vetnet.EINVALID, Reason: "Not a veteran of this district."}
	}})
	s := startStation(t, b.URL, nil)
	bad := veteran()
	mu.Lock()
	refuse = bad.IDNumber
	mu.Unlock()
	// Committed offline-style before connecting matters not: all go in
	// whatever batches the forwarder makes.
	_, r1 := s.manual(t, vetnet.ServiceBenefits)
	r2 := s.manualFor(t, bad, vetnet.ServiceBenefits)
	_, r3 := s.manual(t, vetnet.ServiceBenefits)
	eventually(t, "the rest delivered, the rejected parked", func() bool {
		st := s.status(t)
		return st.Outbox.Depth == 0 && st.Outbox.Rejected == 1
	})
	stored := hub.Stored(s.id)
	if len(stored) != 2 || stored[0].ID != r1.ID || stored[1].ID != r3.ID {
		t.Fatalf("hub holds %+v", stored)
	}
	if hub.Seen(r2.ID) == 0 {
		t.Fatal("the rejected check-in was never sent")
	}
}

func TestConfigAndHeartbeat(t *testing.T) {
	b := mqtttest.NewBroker(t)
	hub := mqtttest.NewHub(t, b.URL, mqtttest.HubOptions{})
	s := startStation(t, b.URL, nil)
	var mu sync.Mutex
	var beats []wire.Heartbeat
	hub.Subscribe(wire.Topic(s.id, wire.KindHeartbeat), func(_ string, p []byte) {
		hb, err := wire.DecodeHeartbeat(s.id, p)
		if err != nil {
			t.Errorf("bad heartbeat: %v", err)
			return
		}
		mu.Lock()
		beats = append(beats, hb)
		mu.Unlock()
	})
	lastBeat := func() (wire.Heartbeat, bool) {
		mu.Lock()
		defer mu.Unlock()
		if len(beats) == 0 {
			return wire.Heartbeat{}, false
		}
		return beats[len(beats)-1], true
	}
	eventually(t, "a heartbeat", func() bool { _, ok := lastBeat(); return ok })

	cfg := wire.NewConfig(vetnet.Station{ID: s.id, Name: "新桥社区退役军人服务站", NameEN: "Xinqiao", Level: vetnet.LevelVillage,
		Parent: "cz-xb-sanjing", Services: []vetnet.Service{vetnet.ServiceTraining, vetnet.ServiceBenefits}}, 1, time.Now())
	payload, _ := cfg.Encode()
	if err := hub.Publish(wire.Topic(s.id, wire.KindConfig), payload, true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hub.Publish(wire.Topic(s.id, wire.KindConfig), nil, true) })
	eventually(t, "configuration applied", func() bool { return s.status(t).ConfigVersion == cfg.Version })
	st := s.status(t)
	if st.Station.Name != cfg.Name || len(st.Station.Services) != 2 || st.Station.Services[0] != "benefits" {
		t.Fatalf("station after config %+v", st.Station)
	}
	s.manual(t, vetnet.ServiceTraining)
	eventually(t, "heartbeat reports the config and the outbox", func() bool {
		hb, _ := lastBeat()
		return hb.ConfigVersion == cfg.Version && hb.Outbox.LastSeq == 1 && hb.IntervalS == 1 &&
			len(hb.Readers) == 1 && hb.Readers[0].State == wire.ReaderOK && hb.Agent == "test"
	})

	// The configuration survives a restart without the broker.
	s.restart(t, func(c *agent.Config) { c.BrokerURL = "" })
	if st := s.status(t); st.ConfigVersion != cfg.Version || st.Station.Name != cfg.Name {
		t.Fatalf("after restart %+v", st)
	}
}

// TestMosquitto runs the delivery test against the Mosquitto broker of the
// machine (127.0.0.1:1883), which other tests share: the station ID is
// unique and the retained messages left are cleared.
func TestMosquitto(t *testing.T) {
	const addr = "127.0.0.1:1883"
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		if os.Getenv("VETNET_REQUIRE_MOSQUITTO") != "" {
			t.Fatalf("Mosquitto not reachable on %s: %v", addr, err)
		}
		t.Skipf("Mosquitto not reachable on %s: %v", addr, err)
	}
	conn.Close()
	url := "tcp://" + addr
	id := uniqueStation("test-mosq")
	// The hub listens to this station only: other hubs may be attached to
	// the shared broker.
	hub := mqtttest.NewHub(t, url, mqtttest.HubOptions{Filter: wire.Topic(id, wire.KindCheckIns)})
	// Registered before the station, so it runs after the station's Close.
	t.Cleanup(func() { _ = hub.Publish(wire.Topic(id, wire.KindStatus), nil, true) })
	s := startStation(t, url, func(c *agent.Config) { c.StationID = id; c.BatchMax = 5 })
	eventually(t, "online", func() bool { return s.status(t).Online })
	deliver(t, s, hub, 12)
}
