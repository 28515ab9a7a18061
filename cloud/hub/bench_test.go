package hub

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vetnet/vetnet/cloud/storetest"
	"github.com/vetnet/vetnet/wire"
)

// BenchmarkIngestBatch measures the hub's whole path for one batch of 100
// new check-ins: strict decode, validation of each, one durable SQLite
// transaction, the ack. Figures in docs/performance.md.
func BenchmarkIngestBatch(b *testing.B) {
	benchIngest(b, 100, false)
}

// BenchmarkIngestDuplicate measures a resent batch of 100 that the hub
// already holds: the same work, nothing inserted.
func BenchmarkIngestDuplicate(b *testing.B) {
	benchIngest(b, 100, true)
}

// BenchmarkIngestSingle measures batches of one check-in, as a station sends
// them in normal traffic (each kiosk check-in is forwarded at once).
func BenchmarkIngestSingle(b *testing.B) {
	benchIngest(b, 1, false)
}

func benchIngest(b *testing.B, n int, dup bool) {
	// No rate limit: this measures what the hub can take from one station.
	h, err := New(Config{DataDir: b.TempDir(), Stations: storetest.Stations(), Logf: func(string, ...any) {}, IngestRate: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	tr := &fakeTransport{}
	h.setTransport(tr, "fake")
	r := rand.New(rand.NewPCG(5, 6))
	topic := wire.Topic(station, wire.KindCheckIns)
	now := time.Now()
	next := uint64(1)
	payload := func() []byte {
		cs := storetest.NewCheckIns(b, r, station, next, n, now.Add(-time.Hour), time.Second)
		next += uint64(n)
		data, err := wire.NewCheckInBatch(station, fmt.Sprint(next), now, cs).Encode()
		if err != nil {
			b.Fatal(err)
		}
		return data
	}
	fixed := payload()
	if dup {
		h.HandleMessage(topic, fixed)
	}
	b.ReportAllocs()
	for b.Loop() {
		data := fixed
		if !dup {
			b.StopTimer()
			data = payload()
			b.StartTimer()
		}
		ack := h.HandleMessage(topic, data)
		if ack == nil || len(ack.IDs) != n {
			b.Fatalf("ack %+v", ack)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "checkins/s")
}
