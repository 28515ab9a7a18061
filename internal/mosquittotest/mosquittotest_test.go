package mosquittotest_test

import (
	"crypto/tls"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/vetnet/vetnet/firmware-config/pki/pkitest"
	"github.com/vetnet/vetnet/internal/mosquittotest"
)

func connect(tlsc *tls.Config, addr, clientID string) (paho.Client, error) {
	o := paho.NewClientOptions().AddBroker("ssl://" + addr).SetClientID(clientID).SetAutoReconnect(false).
		SetConnectTimeout(5 * time.Second).SetTLSConfig(tlsc)
	c := paho.NewClient(o)
	tok := c.Connect()
	tok.WaitTimeout(10 * time.Second)
	if err := tok.Error(); err != nil {
		return nil, err
	}
	if !c.IsConnectionOpen() {
		return nil, errNotConnected
	}
	return c, nil
}

type connErr string

func (e connErr) Error() string { return string(e) }

const errNotConnected = connErr("not connected")

func subCode(t *testing.T, c paho.Client, filter string, cb paho.MessageHandler) byte {
	t.Helper()
	tok := c.Subscribe(filter, 1, cb)
	if !tok.WaitTimeout(5 * time.Second) {
		t.Fatalf("subscribe %s: timeout", filter)
	}
	return tok.(*paho.SubscribeToken).Result()[filter]
}

// The shipped Mosquitto configuration (deploy/mosquitto) keeps a station
// to its own topics, lets the hub's identity use every topic, and refuses
// certificates the CRL lists.
func TestShippedConfigEnforcesIdentity(t *testing.T) {
	p := pkitest.New(t)
	br := mosquittotest.Start(t, mosquittotest.Files{CA: p.CAFile, Cert: p.ServerCert, Key: p.ServerKey, CRL: p.CRLFile})
	a, b := p.Station(t, "st-a", 1), p.Station(t, "st-b", 1)

	hub, err := connect(p.ClientTLS(t, p.HubCert, p.HubKey), br.Addr, "vetnet-hub-test")
	if err != nil {
		t.Fatalf("hub: %v\n%s", err, br.Log())
	}
	defer hub.Disconnect(0)
	var mu sync.Mutex
	var got []string
	if code := subCode(t, hub, "vs/v1/st/+/checkins", func(_ paho.Client, m paho.Message) {
		mu.Lock()
		got = append(got, m.Topic()+" "+string(m.Payload()))
		mu.Unlock()
	}); code != 1 {
		t.Fatalf("hub subscribe: %#x", code)
	}
	received := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}

	if _, err := connect(&tls.Config{RootCAs: p.ClientTLS(t, a.Cert, a.Key).RootCAs}, br.Addr, "station-st-a"); err == nil {
		t.Fatal("connected without a certificate")
	}
	ca, err := connect(p.ClientTLS(t, a.Cert, a.Key), br.Addr, "station-st-a")
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Disconnect(0)
	// Mosquitto grants any subscription but delivers only what the read
	// ACL allows: A gets its own retained configuration, never B's.
	for _, st := range []string{"st-a", "st-b"} {
		hub.Publish("vs/v1/st/"+st+"/config", 1, true, "config of "+st).WaitTimeout(5 * time.Second)
	}
	configs := make(chan string, 4)
	for _, filter := range []string{"vs/v1/st/st-b/config", "vs/v1/st/+/config", "vs/v1/st/st-a/config"} {
		subCode(t, ca, filter, func(_ paho.Client, m paho.Message) { configs <- m.Topic() + " " + string(m.Payload()) })
	}
	var seen []string
	timeout := time.After(2 * time.Second)
collect:
	for {
		select {
		case c := <-configs:
			seen = append(seen, c)
		case <-timeout:
			break collect
		}
	}
	if len(seen) == 0 {
		t.Fatal("st-a did not get its own configuration")
	}
	for _, c := range seen {
		if c != "vs/v1/st/st-a/config config of st-a" {
			t.Fatalf("st-a received %q", c)
		}
	}
	// Mosquitto acknowledges a refused QoS 1 publish and drops it: the
	// hub must see only the station's own message.
	ca.Publish("vs/v1/st/st-b/checkins", 1, false, "impostor").WaitTimeout(5 * time.Second)
	ca.Publish("vs/v1/st/st-a/checkins", 1, false, "own").WaitTimeout(5 * time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for len(received()) < 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the refused one would have come first
	if r := received(); len(r) != 1 || r[0] != "vs/v1/st/st-a/checkins own" {
		t.Fatalf("hub received %q", r)
	}

	// Revoked: after the CRL is written and mosquitto restarted, B cannot
	// connect, A still can.
	bTLS := p.ClientTLS(t, b.Cert, b.Key)
	if c, err := connect(bTLS, br.Addr, "station-st-b"); err != nil {
		t.Fatalf("st-b before revocation: %v", err)
	} else {
		c.Disconnect(0)
	}
	p.Revoke(t, b.Serial)
	br.Restart(t)
	if _, err := connect(bTLS, br.Addr, "station-st-b"); err == nil {
		t.Fatal("a revoked certificate connected to mosquitto")
	}
	c2, err := connect(p.ClientTLS(t, a.Cert, a.Key), br.Addr, "station-st-a")
	if err != nil {
		t.Fatalf("st-a after the restart: %v\n%s", err, br.Log())
	}
	c2.Disconnect(0)
}
