package e2e_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud/hub"
	"github.com/vetnet/vetnet/edge-agent/agent"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/vetnettest"
)

func quietAgent(b *testing.B, st vetnet.Station, broker string) *agent.Agent {
	a, err := agent.New(agent.Config{StationID: st.ID, DataDir: b.TempDir(), BrokerURL: broker, APIAddr: "127.0.0.1:0",
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
	h, err := hub.New(hub.Config{DataDir: dir, MQTTListen: mqtt, Stations: stations, Logf: func(string, ...any) {}})
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
// catches up: 5,000 check-ins wait in its outbox when the hub comes up; the
// timer runs from the hub's start to the last ack.
func BenchmarkBacklogDrain(b *testing.B) {
	const backlog = 5000
	stations := benchStations()
	r := rand.New(rand.NewPCG(9, 10))
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		addr := freeAddr(b)
		a := quietAgent(b, stations[2], "tcp://"+addr)
		for j := 0; j < backlog; j++ {
			v := vetnettest.Veteran(r)
			if _, err := a.CheckIn(context.Background(), localapi.CheckInInput{Visitor: &v, Service: vetnet.ServiceBenefits}); err != nil {
				b.Fatal(err)
			}
		}
		dir := b.TempDir()
		b.StartTimer()
		h := quietHub(b, dir, addr, stations)
		waitDrained(b, a)
		b.StopTimer()
		_ = h.Close()
		_ = a.Close()
	}
	b.ReportMetric(float64(backlog*b.N)/b.Elapsed().Seconds(), "checkins/s")
}

func benchStations() []vetnet.Station {
	return []vetnet.Station{
		{ID: "bench", Name: "基准区", Level: vetnet.LevelDistrict},
		{ID: "bench-town", Name: "基准镇", Level: vetnet.LevelTown, Parent: "bench"},
		{ID: "bench-village", Name: "基准村", Level: vetnet.LevelVillage, Parent: "bench-town"},
	}
}
