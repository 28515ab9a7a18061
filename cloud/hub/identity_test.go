package hub

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/wire"
)

// A message whose sender's certificate names another station than its
// topic is refused and counted, and never acked; the hub's own identity
// and unauthenticated transports are not checked here.
func TestHandleMessageFromChecksIdentity(t *testing.T) {
	h := newTestHub(t, "", nil)
	topic := wire.Topic(station, wire.KindCheckIns)
	cs := checkIns(t, 3, station, 1, 2)
	if ack := h.HandleMessageFrom("st-d-t1-v2", topic, batch(t, station, "x", cs)); ack != nil {
		t.Fatalf("acked an impostor: %+v", ack)
	}
	if n := count(t, h.Hub); n != 0 {
		t.Fatalf("%d stored", n)
	}
	if h.c.decodeFailures.Value("checkins", wire.ReasonIdentity) != 1 {
		t.Fatal("not counted")
	}
	if len(h.tr.acks(t, station)) != 0 {
		t.Fatal("an ack went to the impersonated station")
	}
	if ack := h.HandleMessageFrom(station, topic, batch(t, station, "x", cs)); ack == nil || len(ack.IDs) != 2 {
		t.Fatalf("own message: %+v", ack)
	}
	if ack := h.HandleMessageFrom("vetnet-hub", topic, batch(t, station, "y", cs)); ack == nil || len(ack.IDs) != 2 {
		t.Fatalf("hub identity: %+v", ack)
	}
}

// A replacement device (generation 2) starts at 2<<32 + 1 with an empty
// store: the hub keeps the station's history, sees no false gap between
// the generations, and still sees gaps within one.
func TestGapsAcrossGenerations(t *testing.T) {
	h := newTestHub(t, "", nil)
	topic := wire.Topic(station, wire.KindCheckIns)
	h.HandleMessage(topic, batch(t, station, "g1", checkIns(t, 1, station, 1, 5)))
	g2 := uint64(2) << GenerationShift
	h.HandleMessage(topic, batch(t, station, "g2", checkIns(t, 2, station, g2+1, 3)))
	if g := h.Gaps(station); g.Missing != 0 || g.Max != g2+3 {
		t.Fatalf("gaps %+v", g)
	}
	if n := count(t, h.Hub); n != 8 {
		t.Fatalf("%d check-ins, want both devices' 8", n)
	}
	h.HandleMessage(topic, batch(t, station, "g2 later", checkIns(t, 4, station, g2+6, 1)))
	if g := h.Gaps(station); g.Missing != 2 || len(g.Runs) != 1 || g.Runs[0] != (cloud.SeqRun{First: g2 + 4, Last: g2 + 5}) {
		t.Fatalf("gap within generation 2: %+v", g)
	}
}

// With a configuration key every published configuration carries the
// hub's signature over its canonical payload.
func TestConfigsSigned(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	h := newTestHub(t, "", func(c *Config) { c.ConfigKey = priv })
	h.publishConfigs()
	h.tr.mu.Lock()
	defer h.tr.mu.Unlock()
	for i, m := range h.tr.msgs {
		st := testStations()[i]
		cfg, err := wire.DecodeConfig(st.ID, m.payload)
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Verify(pub); err != nil {
			t.Fatalf("config of %s: %v", st.ID, err)
		}
	}
}
