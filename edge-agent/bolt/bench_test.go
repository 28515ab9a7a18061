package bolt_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"

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

// BenchmarkCommitLatency measures what a visitor waits for: one durable
// commit, reported as percentiles (commit-p50-ms, commit-p99-ms). Beside
// it, in the same run and directory, the floor the disk sets: a 4 KiB write
// followed by fdatasync (fsync-p50-ms, fsync-p99-ms). A bbolt commit syncs
// twice (its pages, then its meta page), so it cannot be faster than two
// of those.
func BenchmarkCommitLatency(b *testing.B) {
	dir := b.TempDir()
	f, err := os.Create(filepath.Join(dir, "fsync.probe"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	page := make([]byte, 4096)
	var fsyncs []time.Duration
	for i := 0; i < 1000; i++ {
		start := time.Now()
		if _, err := f.WriteAt(page, int64(i%64)*4096); err != nil {
			b.Fatal(err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
		fsyncs = append(fsyncs, time.Since(start))
	}

	s := mustOpenAt(b, filepath.Join(dir, "station.db"), func(o *bolt.Options) { o.MaxOutbox = 1 << 30 })
	r := rand.New(rand.NewPCG(1, 2))
	var commits []time.Duration
	b.ResetTimer()
	for b.Loop() {
		d := bolt.Draft{Visitor: vetnettest.Veteran(r), Service: vetnet.ServiceBenefits, Method: vetnet.MethodCard}
		start := time.Now()
		if _, _, err := s.Commit(d); err != nil {
			b.Fatal(err)
		}
		commits = append(commits, time.Since(start))
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(commits, 50)), "commit-p50-ms")
	b.ReportMetric(ms(percentile(commits, 99)), "commit-p99-ms")
	b.ReportMetric(ms(percentile(fsyncs, 50)), "fsync-p50-ms")
	b.ReportMetric(ms(percentile(fsyncs, 99)), "fsync-p99-ms")
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, len(s)*p/100)]
}
