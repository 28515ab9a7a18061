package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/storetest"
	"github.com/vetnet/vetnet/e2e/sim"
)

// BenchmarkSaveParallel stores batches of 50 new check-ins from 1,000
// stations, 200 Saves at a time (as 1,000 stations draining their
// backlogs into one hub do): the group commit's throughput. Figures in
// docs/performance.md.
func BenchmarkSaveParallel(b *testing.B) {
	s := MustOpen(b, &Options{MaxConns: 8})
	ctx := context.Background()
	stations := sim.District("bench", 1000)
	if err := s.UpsertStations(ctx, stations); err != nil {
		b.Fatal(err)
	}
	const batch, workers = 50, 200
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Now().Add(-time.Hour)
	// Made ahead, so that the timer measures the store.
	batches := make([][]vetnet.CheckIn, b.N)
	for i := range batches {
		st := stations[i%len(stations)]
		batches[i] = storetest.NewCheckIns(b, r, st.ID, uint64(i/len(stations))*batch+1, batch, now, time.Millisecond)
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	next := make(chan []vetnet.CheckIn)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for cs := range next {
				if _, err := cloud.SaveCheckIns(ctx, s, cs); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for _, cs := range batches {
		next <- cs
	}
	close(next)
	wg.Wait()
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "checkins/s")
	_ = fmt.Sprint
}
