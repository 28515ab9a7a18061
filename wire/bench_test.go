package wire_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/vetnettest"
	"github.com/vetnet/vetnet/wire"
)

func benchBatch(b *testing.B, n int) []byte {
	r := rand.New(rand.NewPCG(3, 4))
	cs := make([]vetnet.CheckIn, n)
	for i := range cs {
		id, _ := vetnet.NewCheckInID(t0.Add(time.Duration(i)*time.Second), nil)
		cs[i] = vetnet.CheckIn{ID: id, StationID: station, Seq: uint64(i + 1), Visitor: vetnettest.Veteran(r),
			Service: vetnet.ServiceBenefits, Method: vetnet.MethodCard, QueueNo: "B001", At: t0.Add(time.Duration(i) * time.Second)}
	}
	data, err := wire.NewCheckInBatch(station, "1-100", t0, cs).Encode()
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkDecodeCheckInBatch measures the strict decoding of a full batch
// of 100 check-ins, as the hub does for every batch it receives.
func BenchmarkDecodeCheckInBatch(b *testing.B) {
	data := benchBatch(b, 100)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := wire.DecodeCheckInBatch(station, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeHeartbeat measures the message that dominates the load of
// a large network (every station, every 15–30 s).
func BenchmarkDecodeHeartbeat(b *testing.B) {
	var data []byte
	for _, m := range messages {
		if hb, ok := m.value.(wire.Heartbeat); ok {
			data, _ = hb.Encode()
		}
	}
	if data == nil {
		b.Fatal("no heartbeat among the golden messages")
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := wire.DecodeHeartbeat(station, data); err != nil {
			b.Fatal(err)
		}
	}
}
