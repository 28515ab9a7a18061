package e2e_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud/hub"
	"github.com/vetnet/vetnet/cloud/mochi"
	"github.com/vetnet/vetnet/edge-agent/agent"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/vetnettest"
)

func quietAgent(b *testing.B, st vetnet.Station, broker string) *agent.Agent {
	return quietAgentIn(b, b.TempDir(), st, broker)
}

func quietAgentIn(b *testing.B, dir string, st vetnet.Station, broker string) *agent.Agent {
	a, err := agent.New(agent.Config{StationID: st.ID, DataDir: dir, BrokerURL: broker, APIAddr: "127.0.0.1:0",
		Station: &st, ReconnectInterval: 500 * time.Millisecond, Logf: func(string, ...any) {}})
	if err != nil {
		b.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = a.Close() })
	return a
}

func quietHub(b *testing.B, dir, mqtt string, stations []vetnet.Station) *hub.Hub {
	h, err := hub.New(hub.Config{DataDir: dir, MQTTListen: mqtt, Stations: stations, Logf: func(string, ...any) {}, IngestRate: -1})
	if err != nil {
		b.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = h.Close() })
	return h
}

func waitDrained(b *testing.B, a *agent.Agent) {
	for a.Status().Outbox.Depth > 0 {
		time.Sleep(2 * time.Millisecond)
	}
}

// BenchmarkKioskCheckIn measures a kiosk's check-in as the visitor waits
// for it (HTTP to the agent, durable bbolt commit, answer) and its delivery
// through the embedded broker to the hub's database and back as an ack:
// the timer stops when the hub acknowledged all b.N check-ins.
func BenchmarkKioskCheckIn(b *testing.B) {
	stations := benchStations()
	h := quietHub(b, b.TempDir(), "127.0.0.1:0", stations)
	a := quietAgent(b, stations[2], "tcp://"+h.MQTTAddr())
	c := localapi.NewClient(a.APIAddr())
	r := rand.New(rand.NewPCG(7, 8))
	ctx := context.Background()
	for !a.Status().Online {
		time.Sleep(10 * time.Millisecond)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := vetnettest.Veteran(r)
		if _, err := c.CheckIn(ctx, localapi.CheckInRequest{IDNumber: v.IDNumber, Name: v.Name, Service: "benefits"}); err != nil {
			b.Fatal(err)
		}
	}
	waitDrained(b, a)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checkins/s")
}

// BenchmarkBacklogDrain measures how fast a station that was offline
// catches up: 100,000 check-ins wait in its outbox (VETNET_BACKLOG sets
// another number); the timer runs from the moment the agent is connected
// to the hub's broker until its outbox is empty, that is until the hub has
// committed and acknowledged every check-in. The time to reconnect after
// the hub comes up is reported apart (connect-ms), as it depends on the
// agent's reconnect backoff, not on throughput.
func BenchmarkBacklogDrain(b *testing.B) {
	backlog := 100_000
	if v, err := strconv.Atoi(os.Getenv("VETNET_BACKLOG")); err == nil && v > 0 {
		backlog = v
	}
	stations := benchStations()
	tmpl := backlogTemplate(b, stations[2], backlog)
	var connect time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		for _, f := range []string{agent.DBFile, agent.DBFile + ".key"} {
			copyFile(b, filepath.Join(tmpl, f), filepath.Join(dir, f))
		}
		addr := freeAddr(b)
		a := quietAgentIn(b, dir, stations[2], "tcp://"+addr)
		if d := a.Status().Outbox.Depth; d != backlog {
			b.Fatalf("backlog %d, want %d", d, backlog)
		}
		start := time.Now()
		h := quietHub(b, b.TempDir(), addr, stations)
		for !a.Status().Online {
			time.Sleep(time.Millisecond)
		}
		connect += time.Since(start)
		b.StartTimer()
		waitDrained(b, a)
		b.StopTimer()
		_ = a.Close()
		_ = h.Close()
	}
	b.ReportMetric(float64(backlog*b.N)/b.Elapsed().Seconds(), "checkins/s")
	b.ReportMetric(float64(connect.Milliseconds())/float64(b.N), "connect-ms")
}

// backlogTemplate makes, once per run, a station data directory holding n
// check-ins in its outbox; each iteration drains a copy.
func backlogTemplate(b *testing.B, st vetnet.Station, n int) string {
	dir := b.TempDir()
	a := quietAgentIn(b, dir, st, "")
	r := rand.New(rand.NewPCG(9, 10))
	var wg sync.WaitGroup
	work := make(chan vetnet.Visitor)
	for w := 0; w < 8; w++ { // bbolt batches nothing: commits queue on its lock; a few writers keep it busy
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range work {
				if _, err := a.CheckIn(context.Background(), localapi.CheckInInput{Visitor: &v, Service: vetnet.ServiceBenefits}); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for j := 0; j < n; j++ {
		work <- vettestVisitor(r)
	}
	close(work)
	wg.Wait()
	if err := a.Close(); err != nil {
		b.Fatal(err)
	}
	return dir
}

func vettestVisitor(r *rand.Rand) vetnet.Visitor { return vetnettest.Veteran(r) }

func copyFile(b *testing.B, from, to string) {
	data, err := os.ReadFile(from)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		b.Fatal(err)
	}
}

func benchStations() []vetnet.Station {
	return []vetnet.Station{
		{ID: "bench", Name: "基准区", Level: vetnet.LevelDistrict},
		{ID: "bench-town", Name: "基准镇", Level: vetnet.LevelTown, Parent: "bench"},
		{ID: "bench-village", Name: "基准村", Level: vetnet.LevelVillage, Parent: "bench-town"},
	}
}

// BenchmarkRawMQTTQoS1 is the yardstick of BenchmarkBacklogDrain: the
// same embedded broker the hub runs (cloud/mochi), one paho client
// publishing 100,000 messages of 300 bytes at QoS 1 and one subscribed at
// QoS 1, no storage on either side. At most 1,000 messages are between
// them at any time (the publisher waits for the subscriber, as the agent
// waits for acks): without that bound mochi drops messages for a
// subscriber whose outbound queue fills (8,192), which would measure loss,
// not throughput. The timer runs until the subscriber has them all.
func BenchmarkRawMQTTQoS1(b *testing.B) {
	const n, size, window = 100_000, 300, 1000
	// The hub's broker keeps at most 64 writes pending per client (a station
	// gets an ack per batch); this yardstick keeps 1,000 messages in flight
	// to one subscriber, so it gives the broker mochi's own default.
	br, err := mochi.Open(mochi.Options{Listen: "127.0.0.1:0", Handle: func(string, string, []byte) {}, MaxPendingWrites: 8192})
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	url := "tcp://" + br.Addr()
	connect := func(id string) paho.Client {
		o := paho.NewClientOptions().AddBroker(url).SetClientID(id).SetCleanSession(true).
			SetStore(paho.NewMemoryStore()).SetOrderMatters(false)
		c := paho.NewClient(o)
		if t := c.Connect(); !t.WaitTimeout(10*time.Second) || t.Error() != nil {
			b.Fatalf("connect %s: %v", id, t.Error())
		}
		return c
	}
	sub, pub := connect("bench-sub"), connect("bench-pub")
	defer sub.Disconnect(100)
	defer pub.Disconnect(100)
	var got atomic.Int64
	done := make(chan struct{}, 1)
	var target atomic.Int64
	slots := make(chan struct{}, window)
	if t := sub.Subscribe("bench/raw", 1, func(_ paho.Client, _ paho.Message) {
		<-slots
		if got.Add(1) == target.Load() {
			done <- struct{}{}
		}
	}); !t.WaitTimeout(10*time.Second) || t.Error() != nil {
		b.Fatal(t.Error())
	}
	payload := make([]byte, size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		target.Add(n)
		for j := 0; j < n; j++ {
			slots <- struct{}{}
			pub.Publish("bench/raw", 1, false, payload)
		}
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			b.Fatalf("subscriber got %d of %d", got.Load(), target.Load())
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
}
