package bolt_test

import (
	"math/rand/v2"
	"testing"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/bolt"
	"github.com/vetnet/vetnet/vetnettest"
)

// BenchmarkCommit measures one check-in committed durably (one bbolt
// transaction with fsync), as the kiosk waits for it.
func BenchmarkCommit(b *testing.B) {
	s := MustOpen(b, func(o *bolt.Options) { o.MaxOutbox = 1 << 30 })
	r := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Commit(bolt.Draft{Visitor: vetnettest.Veteran(r), Service: vetnet.ServiceBenefits, Method: vetnet.MethodCard}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDrain measures the forwarder's side per batch of 100: read the
// oldest pending check-ins and clear them when the ack comes.
func BenchmarkDrain(b *testing.B) {
	s := MustOpen(b, func(o *bolt.Options) { o.MaxOutbox = 1 << 30 })
	r := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for i := 0; i < 100; i++ {
			if _, _, err := s.Commit(bolt.Draft{Visitor: vetnettest.Veteran(r), Service: vetnet.ServiceRecords, Method: vetnet.MethodCard}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		cs, err := s.Pending(100)
		if err != nil || len(cs) != 100 {
			b.Fatalf("pending %d, %v", len(cs), err)
		}
		ids := make([]string, len(cs))
		for i, c := range cs {
			ids[i] = c.ID
		}
		if n, err := s.Ack(ids); err != nil || n != 100 {
			b.Fatalf("ack %d, %v", n, err)
		}
	}
}
