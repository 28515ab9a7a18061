package mochi

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/vetnet/vetnet/firmware-config/pki/pkitest"
)

func connectTLS(tlsc *tls.Config, addr, clientID string) (paho.Client, error) {
	o := paho.NewClientOptions().AddBroker("ssl://" + addr).SetClientID(clientID).SetAutoReconnect(false).
		SetConnectTimeout(5 * time.Second).SetTLSConfig(tlsc)
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return nil, errTimeout
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	return c, nil
}

type timeoutErr struct{}

func (timeoutErr) Error() string { return "timeout" }

var errTimeout = timeoutErr{}

type fromMsg struct{ from, topic, payload string }

// A station speaks only for itself on the embedded broker: it cannot
// publish to or subscribe to another station's topics, cannot take its
// client ID, and a revoked certificate is refused and cut off.
func TestIdentityACL(t *testing.T) {
	p := pkitest.New(t)
	srvTLS, crl := p.ServerTLS(t)
	var mu sync.Mutex
	var got []fromMsg
	b, err := Open(Options{Listen: "127.0.0.1:0", TLS: srvTLS, Handle: func(from, topic string, payload []byte) {
		mu.Lock()
		got = append(got, fromMsg{from, topic, string(payload)})
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	msgs := func() []fromMsg {
		mu.Lock()
		defer mu.Unlock()
		return append([]fromMsg(nil), got...)
	}
	a := p.Station(t, "st-a", 1)
	other := p.Station(t, "st-b", 1)
	aTLS := p.ClientTLS(t, a.Cert, a.Key)

	// Without a certificate, or with one of another CA, no connection.
	if _, err := connectTLS(&tls.Config{RootCAs: aTLS.RootCAs}, b.Addr(), "station-st-a"); err == nil {
		t.Fatal("connected without a client certificate")
	}
	stranger := pkitest.New(t)
	sx := stranger.Station(t, "st-a", 1)
	if _, err := connectTLS(stranger.ClientTLS(t, sx.Cert, sx.Key), b.Addr(), "station-st-a"); err == nil {
		t.Fatal("connected with a certificate of another CA")
	}
	// A's certificate with B's client ID: refused.
	if _, err := connectTLS(aTLS, b.Addr(), "station-st-b"); err == nil {
		t.Fatal("st-a connected as station-st-b")
	}

	ca, err := connectTLS(aTLS, b.Addr(), "station-st-a")
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Disconnect(0)
	// Its own topics: allowed, handed over with its identity.
	if tok := ca.Publish("vs/v1/st/st-a/heartbeat", 1, false, "hb"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	eventually(t, "own heartbeat", func() bool { return len(msgs()) == 1 })
	if m := msgs()[0]; m.from != "st-a" || m.topic != "vs/v1/st/st-a/heartbeat" {
		t.Fatalf("%+v", m)
	}
	// Subscriptions: its own acks yes, another station's config no.
	tok := ca.Subscribe("vs/v1/st/st-a/acks", 1, nil)
	tok.WaitTimeout(5 * time.Second)
	if r := tok.(*paho.SubscribeToken).Result()["vs/v1/st/st-a/acks"]; r != 1 {
		t.Fatalf("own acks: %d", r)
	}
	for _, filter := range []string{"vs/v1/st/st-b/config", "vs/v1/st/+/checkins", "#", "vs/v1/st/st-a/checkins"} {
		tok := ca.Subscribe(filter, 1, nil)
		tok.WaitTimeout(5 * time.Second)
		if r := tok.(*paho.SubscribeToken).Result()[filter]; r != 0x80 {
			t.Errorf("subscribe %s: code %#x, want 0x80", filter, r)
		}
	}
	// Publishing for another station: refused and disconnected, nothing
	// handed to the hub.
	ca.Publish("vs/v1/st/st-b/checkins", 1, false, `{"v":1,"station":"st-b"}`).WaitTimeout(2 * time.Second)
	eventually(t, "the impostor disconnected", func() bool { return !ca.IsConnectionOpen() })
	for _, m := range msgs() {
		if strings.Contains(m.topic, "st-b") && m.topic != "vs/v1/st/st-a/status" {
			t.Fatalf("handed over: %+v", m)
		}
	}

	// The hub's identity may do everything.
	hc, err := connectTLS(p.ClientTLS(t, p.HubCert, p.HubKey), b.Addr(), "any-hub-client")
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Disconnect(0)
	tok = hc.Subscribe("vs/v1/st/+/checkins", 1, nil)
	tok.WaitTimeout(5 * time.Second)
	if r := tok.(*paho.SubscribeToken).Result()["vs/v1/st/+/checkins"]; r != 1 {
		t.Fatalf("hub subscribe: %#x", r)
	}

	// Revocation: B is connected, then revoked; Disconnect cuts it off
	// and it cannot come back.
	bTLS := p.ClientTLS(t, other.Cert, other.Key)
	cb, err := connectTLS(bTLS, b.Addr(), "station-st-b")
	if err != nil {
		t.Fatal(err)
	}
	p.Revoke(t, other.Serial)
	if changed, err := crl.Reload(); err != nil || !changed {
		t.Fatalf("reload: %v %v", changed, err)
	}
	if n := b.Disconnect(func(c *x509.Certificate) bool { return crl.Revoked(c.SerialNumber) }); n != 1 {
		t.Fatalf("disconnected %d", n)
	}
	eventually(t, "the revoked client cut off", func() bool { return !cb.IsConnectionOpen() })
	if _, err := connectTLS(bTLS, b.Addr(), "station-st-b"); err == nil {
		t.Fatal("a revoked certificate connected")
	}
	// A (not revoked) still connects.
	ca2, err := connectTLS(aTLS, b.Addr(), "station-st-a")
	if err != nil {
		t.Fatal(err)
	}
	ca2.Disconnect(0)
}

func TestAllowed(t *testing.T) {
	tests := []struct {
		station, topic string
		write, ok      bool
	}{
		{"st-a", "vs/v1/st/st-a/checkins", true, true},
		{"st-a", "vs/v1/st/st-a/checkins", false, false},
		{"st-a", "vs/v1/st/st-a/heartbeat", true, true},
		{"st-a", "vs/v1/st/st-a/status", true, true},
		{"st-a", "vs/v1/st/st-a/status", false, true},
		{"st-a", "vs/v1/st/st-a/config", false, true},
		{"st-a", "vs/v1/st/st-a/config", true, false},
		{"st-a", "vs/v1/st/st-a/acks", true, false},
		{"st-a", "vs/v1/st/st-a/meetings", false, true},
		{"st-a", "vs/v1/st/st-a/meetings", true, false},
		{"st-a", "vs/v1/st/st-b/meetings", false, false},
		{"st-a", "vs/v1/st/st-b/checkins", true, false},
		{"st-a", "vs/v1/st/st-a/checkins/x", true, false},
		{"st-a", "vs/v1/st/+/config", false, false},
		{"st-a", "vs/v1/alerts", false, false},
		{"", "vs/v1/st//checkins", true, false},
		{"st-a/#", "vs/v1/st/st-a/#/checkins", true, false},
	}
	for _, tt := range tests {
		if got := Allowed(tt.station, tt.topic, tt.write); got != tt.ok {
			t.Errorf("Allowed(%q, %q, %v) = %v", tt.station, tt.topic, tt.write, got)
		}
	}
}
