package hub_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/hub"
	"github.com/vetnet/vetnet/cloud/storetest"
	"github.com/vetnet/vetnet/cloud/web"
	"github.com/vetnet/vetnet/wire"
)

const mosquitto = "127.0.0.1:1883"

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

// registry returns a district, a town and a village with IDs of their own,
// so that tests sharing a broker never meet.
func registry() []vetnet.Station {
	p := fmt.Sprintf("it%08x", rand.Uint32())
	return []vetnet.Station{
		{ID: p, Name: "测试区服务中心", Level: vetnet.LevelDistrict},
		{ID: p + "-t", Name: "测试镇服务站", Level: vetnet.LevelTown, Parent: p},
		{ID: p + "-t-v", Name: "测试村服务站", NameEN: "Test Village", Level: vetnet.LevelVillage, Parent: p + "-t"},
	}
}

// fakeStation is an MQTT client that speaks as a station agent would.
type fakeStation struct {
	id        string
	c         paho.Client
	mu        sync.Mutex
	conn      net.Conn
	acks      []wire.Ack
	rowsAtAck []int // rows in the hub's store when each ack arrived
	configs   []wire.Config
}

func newFakeStation(t *testing.T, brokerURL, id string, connected time.Time, h *hub.Hub) *fakeStation {
	t.Helper()
	fs := &fakeStation{id: id}
	will, _ := wire.Status{V: 1, Station: id, State: wire.StateOffline, Reason: wire.StatusWill, Since: connected, Agent: "test", HeartbeatS: 15}.Encode()
	o := paho.NewClientOptions().AddBroker(brokerURL).SetClientID("fake-"+id).SetAutoReconnect(false).
		SetBinaryWill(wire.Topic(id, wire.KindStatus), will, 1, true).
		SetCustomOpenConnectionFn(func(u *url.URL, _ paho.ClientOptions) (net.Conn, error) {
			c, err := net.Dial("tcp", u.Host)
			fs.mu.Lock()
			fs.conn = c
			fs.mu.Unlock()
			return c, err
		})
	fs.c = paho.NewClient(o)
	if tok := fs.c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("station connect: %v", tok.Error())
	}
	t.Cleanup(func() { fs.c.Disconnect(100) })
	sub := func(kind wire.Kind, fn func([]byte)) {
		tok := fs.c.Subscribe(wire.Topic(id, kind), 1, func(_ paho.Client, m paho.Message) { fn(m.Payload()) })
		if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe: %v", tok.Error())
		}
	}
	sub(wire.KindAcks, func(b []byte) {
		a, err := wire.DecodeAck(id, b)
		if err != nil {
			t.Errorf("ack does not decode: %v", err)
			return
		}
		// The ack must follow the commit: the rows are there already.
		n, err := h.Store().CountCheckIns(context.Background(), cloud.CheckInFilter{Station: id})
		if err != nil {
			t.Error(err)
		}
		fs.mu.Lock()
		fs.acks = append(fs.acks, a)
		fs.rowsAtAck = append(fs.rowsAtAck, n)
		fs.mu.Unlock()
	})
	sub(wire.KindConfig, func(b []byte) {
		if len(b) == 0 {
			return // cleared at the end of a test
		}
		c, err := wire.DecodeConfig(id, b)
		if err != nil {
			t.Errorf("config does not decode: %v", err)
			return
		}
		fs.mu.Lock()
		fs.configs = append(fs.configs, c)
		fs.mu.Unlock()
	})
	return fs
}

func (fs *fakeStation) publish(t *testing.T, kind wire.Kind, payload []byte, retain bool) {
	t.Helper()
	qos := byte(1)
	if kind == wire.KindHeartbeat {
		qos = 0
	}
	if tok := fs.c.Publish(wire.Topic(fs.id, kind), qos, retain, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", kind, tok.Error())
	}
}

func (fs *fakeStation) snapshot() ([]wire.Ack, []int, []wire.Config) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]wire.Ack(nil), fs.acks...), append([]int(nil), fs.rowsAtAck...), append([]wire.Config(nil), fs.configs...)
}

// drop closes the station's socket without DISCONNECT: the broker
// publishes the will.
func (fs *fakeStation) drop() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.conn.Close()
}

func TestEmbeddedBroker(t *testing.T) {
	runIntegration(t, func(c *hub.Config) { c.MQTTListen = "127.0.0.1:0" }, func(h *hub.Hub) string { return "tcp://" + h.MQTTAddr() })
}

func TestMosquitto(t *testing.T) {
	c, err := net.DialTimeout("tcp", mosquitto, 2*time.Second)
	if err != nil {
		t.Skipf("no MQTT broker on %s: %v", mosquitto, err)
	}
	c.Close()
	runIntegration(t, func(c *hub.Config) {
		c.BrokerURL = "tcp://" + mosquitto
		c.OwnTopicsOnly = true // the broker is shared: answer only our stations
	}, func(*hub.Hub) string { return "tcp://" + mosquitto })
}

func runIntegration(t *testing.T, broker func(*hub.Config), url func(*hub.Hub) string) {
	stations := registry()
	village := stations[2]
	cfg := hub.Config{DataDir: t.TempDir(), HTTPListen: "127.0.0.1:0", Stations: stations, Logf: t.Logf, PresenceEvery: 50 * time.Millisecond,
		AdminPassword: "integration-password"}
	broker(&cfg)
	h, err := hub.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	brokerURL := url(h)
	t.Cleanup(func() { clearRetained(t, brokerURL, stations) })

	connected := time.Now().UTC().Truncate(time.Second)
	st := newFakeStation(t, brokerURL, village.ID, connected, h)

	// The retained configuration is there for the station on subscribe.
	eventually(t, "the retained config", func() bool { _, _, c := st.snapshot(); return len(c) > 0 })
	_, _, cfgs := st.snapshot()
	if want := wire.NewConfig(village, hub.DefaultHeartbeatS, time.Now()); cfgs[0].Version != want.Version || cfgs[0].HeartbeatS != 15 {
		t.Fatalf("config %+v, want version %s", cfgs[0], want.Version)
	}

	online, _ := wire.Status{V: 1, Station: village.ID, State: wire.StateOnline, Reason: wire.StatusConnect, Since: connected, Agent: "test", HeartbeatS: 15}.Encode()
	st.publish(t, wire.KindStatus, online, true)
	eventually(t, "online", func() bool { p, _ := h.Presence(village.ID); return p.State == cloud.StateOnline })

	cs := storetest.NewCheckIns(t, rand.New(rand.NewPCG(1, 2)), village.ID, 1, 5, time.Now().Add(-time.Hour), time.Minute)
	payload, _ := wire.NewCheckInBatch(village.ID, "1-5", time.Now(), cs).Encode()
	st.publish(t, wire.KindCheckIns, payload, false)
	eventually(t, "the ack", func() bool { a, _, _ := st.snapshot(); return len(a) == 1 })
	// Sent again, as after a lost ack: the same ack, nothing doubled.
	st.publish(t, wire.KindCheckIns, payload, false)
	eventually(t, "the second ack", func() bool { a, _, _ := st.snapshot(); return len(a) == 2 })
	acks, rows, _ := st.snapshot()
	for i, a := range acks {
		if len(a.IDs) != 5 || a.Batch != "1-5" || a.Error != nil || len(a.Rejected) != 0 {
			t.Fatalf("ack %d: %+v", i, a)
		}
		for j, id := range a.IDs {
			if id != cs[j].ID {
				t.Fatalf("ack %d names %s, want %s", i, id, cs[j].ID)
			}
		}
		if rows[i] != 5 {
			t.Fatalf("ack %d arrived with %d rows stored, want 5: acked before commit", i, rows[i])
		}
	}
	if n, _ := h.Store().CountCheckIns(context.Background(), cloud.CheckInFilter{}); n != 5 {
		t.Fatalf("%d rows after a resend, want 5", n)
	}

	hb, _ := wire.Heartbeat{V: 1, Station: village.ID, At: time.Now(), Seq: 1, IntervalS: 15, Outbox: wire.OutboxV1{Depth: 0, LastSeq: 5},
		Agent: "test", ConfigVersion: cfgs[0].Version}.Encode()
	st.publish(t, wire.KindHeartbeat, hb, false)
	eventually(t, "the heartbeat", func() bool { p, _ := h.Presence(village.ID); return p.Outbox.LastSeq == 5 })

	// The dashboard API sees it.
	api, err := web.SignIn(context.Background(), "http://"+h.HTTPAddr(), "admin", "integration-password")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Stations []struct {
			ID            string `json:"id"`
			State         string `json:"state"`
			LastSeq       uint64 `json:"last_seq"`
			ConfigCurrent bool   `json:"config_current"`
		} `json:"stations"`
	}
	if err := api.Get(context.Background(), "/api/v1/stations", &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Stations) != 3 || body.Stations[2].State != "online" || body.Stations[2].LastSeq != 5 || !body.Stations[2].ConfigCurrent {
		t.Fatalf("stations API: %+v", body.Stations)
	}
	health, err := http.Get("http://" + h.HTTPAddr() + "/healthz")
	if err != nil || health.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", health.StatusCode, err)
	}
	health.Body.Close()

	// The connection drops: the broker publishes the will.
	st.drop()
	eventually(t, "offline by will", func() bool {
		p, _ := h.Presence(village.ID)
		return p.State == cloud.StateOffline && p.Reason == wire.StatusWill
	})
}

// clearRetained removes the retained messages a test left on the broker.
func clearRetained(t *testing.T, brokerURL string, stations []vetnet.Station) {
	c := paho.NewClient(paho.NewClientOptions().AddBroker(brokerURL).SetClientID(fmt.Sprintf("cleanup-%08x", rand.Uint32())).SetAutoReconnect(false))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		return // an embedded broker is gone already, and its retained messages with it
	}
	defer c.Disconnect(100)
	for _, st := range stations {
		for _, k := range []wire.Kind{wire.KindStatus, wire.KindConfig} {
			if tok := c.Publish(wire.Topic(st.ID, k), 1, true, []byte{}); !tok.WaitTimeout(5 * time.Second) {
				t.Logf("clearing %s: timeout", wire.Topic(st.ID, k))
			}
		}
	}
}
