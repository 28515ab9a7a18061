package mochi

import (
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

type received struct {
	mu   sync.Mutex
	msgs []string
}

func (r *received) add(topic string, payload []byte) {
	r.mu.Lock()
	r.msgs = append(r.msgs, topic+" "+string(payload))
	r.mu.Unlock()
}

func (r *received) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func connect(t *testing.T, addr, id string, will bool) paho.Client {
	t.Helper()
	o := paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(id).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	if will {
		o.SetBinaryWill("vs/v1/st/st-a/status", []byte("gone"), 1, true)
	}
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	return c
}

func TestIngestAndPublish(t *testing.T) {
	var got received
	var b *Broker
	b, err := Open(Options{Listen: "127.0.0.1:0", Handle: func(_, topic string, payload []byte) {
		got.add(topic, payload)
		// The hub answers from inside the hook, as it does with an ack.
		if topic == "vs/v1/st/st-a/checkins" {
			if err := b.Publish("vs/v1/st/st-a/acks", []byte("ack"), false, 1); err != nil {
				t.Error(err)
			}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Addr() == "127.0.0.1:0" {
		t.Fatal("Addr does not report the real port")
	}

	station := connect(t, b.Addr(), "st-a", true)
	var acks received
	if tok := station.Subscribe("vs/v1/st/st-a/acks", 1, func(_ paho.Client, m paho.Message) { acks.add(m.Topic(), m.Payload()) }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	for _, m := range []struct {
		topic   string
		payload string
	}{
		{"vs/v1/st/st-a/checkins", "batch"},
		{"vs/v1/st/st-a/heartbeat", "hb"},
		{"vs/v1/st/st-a/acks", "not for the hub"},
		{"vs/v1/st/st-a/config", "not for the hub"},
		{"elsewhere/topic", "not for the hub"},
		{"vs/v1/st/BAD/checkins", "bad topic, counted by the hub"},
	} {
		if tok := station.Publish(m.topic, 1, false, m.payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	want := []string{"vs/v1/st/st-a/checkins batch", "vs/v1/st/st-a/heartbeat hb", "vs/v1/st/BAD/checkins bad topic, counted by the hub"}
	// The PUBACK follows the hook, so everything is there already.
	if g := got.list(); len(g) != len(want) || g[0] != want[0] || g[1] != want[1] || g[2] != want[2] {
		t.Fatalf("handed over %q, want %q", g, want)
	}
	eventually(t, "the ack", func() bool { return len(acks.list()) >= 1 })
	if b.Clients() != 1 {
		t.Fatalf("%d clients", b.Clients())
	}

	// Retained configuration from the hub reaches a later subscriber.
	if err := b.Publish("vs/v1/st/st-a/config", []byte("cfg"), true, 1); err != nil {
		t.Fatal(err)
	}
	late := connect(t, b.Addr(), "late", false)
	defer late.Disconnect(100)
	var cfg received
	late.Subscribe("vs/v1/st/st-a/config", 1, func(_ paho.Client, m paho.Message) { cfg.add(m.Topic(), m.Payload()) })
	eventually(t, "the retained config", func() bool { return len(cfg.list()) == 1 })

	// A lost connection publishes the will, which the hub receives too. A
	// clean Disconnect suppresses the will, so the broker's side of a
	// second client's socket is closed instead.
	station.Disconnect(0)
	before := len(got.list())
	o := paho.NewClientOptions().AddBroker("tcp://"+b.Addr()).SetClientID("st-a-2").SetAutoReconnect(false).
		SetBinaryWill("vs/v1/st/st-a/status", []byte("will"), 1, true).SetKeepAlive(time.Second).SetPingTimeout(time.Second)
	c2 := paho.NewClient(o)
	if tok := c2.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	for _, cl := range b.srv.Clients.GetAll() {
		if cl.ID == "st-a-2" {
			cl.Net.Conn.Close() // the broker sees the connection drop
		}
	}
	eventually(t, "the will", func() bool {
		g := got.list()
		return len(g) > before && g[len(g)-1] == "vs/v1/st/st-a/status will"
	})
	c2.Disconnect(0)
}

func TestAuthSeam(t *testing.T) {
	b, err := Open(Options{Listen: "127.0.0.1:0", Handle: func(string, string, []byte) {},
		Authenticate: func(id, user string, pass []byte) bool { return id == "good" }})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	connect(t, b.Addr(), "good", false).Disconnect(0)
	o := paho.NewClientOptions().AddBroker("tcp://" + b.Addr()).SetClientID("bad").SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	c := paho.NewClient(o)
	if tok := c.Connect(); tok.WaitTimeout(10*time.Second) && tok.Error() == nil {
		t.Fatal("an unauthenticated client connected")
	}
}

func TestOpenErrors(t *testing.T) {
	b, err := Open(Options{Listen: "127.0.0.1:0", Handle: func(string, string, []byte) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := Open(Options{Listen: b.Addr(), Handle: func(string, string, []byte) {}}); err == nil {
		t.Fatal("two brokers on one port")
	}
	if _, err := Open(Options{Listen: "127.0.0.1:0"}); err == nil {
		t.Fatal("opened without a handler")
	}
	b.Close()
	if err := b.Publish("x", nil, false, 0); err == nil {
		t.Fatal("published after close")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}
