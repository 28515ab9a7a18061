package hub

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/wire"
)

// savesByStation wraps a store and counts Save calls per station.
type savesByStation struct {
	cloud.Store
	mu sync.Mutex
	n  map[string]int
}

func (s *savesByStation) Save(ctx context.Context, b cloud.Batch) (cloud.Saved, error) {
	if len(b.CheckIns) > 0 {
		s.mu.Lock()
		s.n[b.CheckIns[0].StationID]++
		s.mu.Unlock()
	}
	return s.Store.Save(ctx, b)
}

func (s *savesByStation) count(st string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[st]
}

type floodResult struct {
	ok, limited map[string]int             // acks per station
	limitedCS   []vetnet.CheckIn           // the flooder's check-ins answered rate_limited
	latency     map[string][]time.Duration // ack latency of the other stations' batches
}

// flood sends floodN one-check-in batches from the flooder (8 senders at
// once) while each other station sends otherN batches, all through
// HandleMessage as the broker calls it, with the hub's clock standing
// still (no tokens come back during the flood).
func flood(t testing.TB, h *testHub, flooder string, others []string, floodN, otherN int) floodResult {
	t.Helper()
	res := floodResult{ok: map[string]int{}, limited: map[string]int{}, latency: map[string][]time.Duration{}}
	var mu sync.Mutex
	send := func(st string, label string, cs []vetnet.CheckIn) {
		start := time.Now()
		ack := h.HandleMessage(wire.Topic(st, wire.KindCheckIns), batch(t, st, label, cs))
		took := time.Since(start)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case ack == nil:
			t.Errorf("%s %s: no ack", st, label)
		case ack.Error != nil && ack.Error.Reason == ReasonRateLimited:
			if ack.Batch != label || len(ack.IDs) != 0 {
				t.Errorf("rate_limited ack %+v for batch %s", ack, label)
			}
			res.limited[st]++
			if st == flooder {
				res.limitedCS = append(res.limitedCS, cs...)
			}
		case ack.Error == nil && len(ack.IDs) == len(cs):
			res.ok[st]++
			if st != flooder {
				res.latency[st] = append(res.latency[st], took)
			}
		default:
			t.Errorf("%s %s: ack %+v", st, label, ack)
		}
	}
	fcs := checkIns(t, 11, flooder, 1, floodN)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				send(flooder, fmt.Sprint("f", i), fcs[i:i+1])
			}
		})
	}
	for k, st := range others {
		cs := checkIns(t, uint64(20+k), st, 1, otherN)
		wg.Go(func() {
			for i := range cs {
				send(st, fmt.Sprint("o", i), cs[i:i+1])
			}
		})
	}
	for i := range fcs {
		work <- i
	}
	close(work)
	wg.Wait()
	return res
}

// TestFloodOneStation: a station sending far more than its rate gets its
// burst stored and the rest answered rate_limited (counted, nothing stored,
// the store's writer never asked); the other stations are all stored at
// once; after the bucket refills the flooder's limited check-ins arrive in
// full. Without the limit the same flood writes every batch (the control:
// it is the limit that bounds the flood's cost to the others).
func TestFloodOneStation(t *testing.T) {
	const floodN, otherN = 400, 10
	flooder, others := "st-d-t1-v1", []string{"st-d-t1-v2", "st-d-post"}
	for _, limited := range []bool{true, false} {
		t.Run(fmt.Sprint("limited=", limited), func(t *testing.T) {
			inner := newTestHub(t, "", nil)
			saves := &savesByStation{Store: inner.Store(), n: map[string]int{}}
			h := newTestHub(t, "", func(c *Config) {
				c.Store, c.DataDir = saves, ""
				if !limited {
					c.IngestRate = -1
				}
			})
			res := flood(t, h, flooder, others, floodN, otherN)
			for _, st := range others {
				if res.ok[st] != otherN || res.limited[st] != 0 {
					t.Fatalf("%s: %d stored, %d limited; want %d, 0", st, res.ok[st], res.limited[st], otherN)
				}
			}
			if !limited {
				if res.ok[flooder] != floodN || saves.count(flooder) != floodN {
					t.Fatalf("no limit: %d acked, %d saves; want %d", res.ok[flooder], saves.count(flooder), floodN)
				}
				return
			}
			burst := DefaultIngestBurst
			if res.ok[flooder] != burst || res.limited[flooder] != floodN-burst {
				t.Fatalf("flooder: %d stored, %d limited; want %d, %d", res.ok[flooder], res.limited[flooder], burst, floodN-burst)
			}
			if saves.count(flooder) != burst {
				t.Fatalf("flooder reached the store %d times, want %d", saves.count(flooder), burst)
			}
			if got := h.c.rateLimited.Value(string(wire.KindCheckIns)); got != uint64(floodN-burst) {
				t.Fatalf("rate_limited counter %d", got)
			}
			// A heartbeat beyond the rate is dropped and counted.
			if h.HandleMessage(wire.Topic(flooder, wire.KindHeartbeat), []byte(`{}`)); h.c.rateLimited.Value(string(wire.KindHeartbeat)) != 1 {
				t.Fatal("heartbeat over the rate not counted")
			}

			// The station keeps what was refused and sends it again after
			// its backoff, coalesced, as the agent does: all of it arrives.
			h.clock.Add(10 * time.Second)
			sort.Slice(res.limitedCS, func(i, j int) bool { return res.limitedCS[i].Seq < res.limitedCS[j].Seq })
			ack := h.HandleMessage(wire.Topic(flooder, wire.KindCheckIns), batch(t, flooder, "again", res.limitedCS))
			if ack == nil || ack.Error != nil || len(ack.IDs) != len(res.limitedCS) {
				t.Fatalf("resend: %+v", ack)
			}
			n, err := h.Store().CountCheckIns(context.Background(), cloud.CheckInFilter{Station: flooder})
			if err != nil || n != floodN {
				t.Fatalf("flooder's check-ins stored: %d %v; want %d", n, err, floodN)
			}
			if missing := h.seqs.totalMissing(); missing != 0 {
				t.Fatalf("%d sequence numbers missing after the resend", missing)
			}
		})
	}
}

func TestLimiterRefill(t *testing.T) {
	l := newLimiter(2, 3)
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	got := ""
	for range 5 {
		if l.allow("a", t0) {
			got += "y"
		} else {
			got += "n"
		}
	}
	if got != "yyynn" {
		t.Fatalf("burst: %s", got)
	}
	if !l.allow("b", t0) {
		t.Fatal("another station shares the bucket")
	}
	if !l.allow("a", t0.Add(500*time.Millisecond)) || l.allow("a", t0.Add(500*time.Millisecond)) {
		t.Fatal("half a second at 2/s should give one token")
	}
	if n := func() (n int) {
		for l.allow("a", t0.Add(time.Hour)) {
			n++
		}
		return
	}(); n != 3 {
		t.Fatalf("after an hour: %d tokens, want the burst 3", n)
	}
	if off := newLimiter(-1, 3); !off.allow("a", t0) || !off.allow("a", t0) || !off.allow("a", t0) || !off.allow("a", t0) {
		t.Fatal("a negative rate limits")
	}
}

// BenchmarkFlood measures the other stations' ack latency while one
// station floods for three seconds on the hub's real clock, with and
// without the limit; four others send a batch every 250 ms each (within
// their rate). The
// flood is one sender (a broker hands one connection's messages to the
// hub one after another) offering 500 one-check-in batches a second, a
// hundred times the default rate; when the hub answers slower, it sends
// as fast as the hub answers. Figures in docs/reliability.md.
func BenchmarkFlood(b *testing.B) {
	for _, limited := range []bool{true, false} {
		b.Run(fmt.Sprint("limited=", limited), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				h := newTestHub(b, "", func(c *Config) {
					c.Now = time.Now
					if !limited {
						c.IngestRate = -1
					}
					c.Logf = func(string, ...any) {}
				})
				b.StartTimer()
				flooder, others := "st-d-t1-v1", []string{"st-d", "st-d-t1", "st-d-t1-v2", "st-d-post"}
				stop := time.Now().Add(3 * time.Second)
				var wg sync.WaitGroup
				var mu sync.Mutex
				var lat []time.Duration
				var floodSent, floodStored int
				// Payloads made before the clock starts: encoding them is
				// the flooding station's work, not the hub's.
				fcs := checkIns(b, 11, flooder, 1, 8000)
				payloads := make([][]byte, len(fcs))
				for i := range fcs {
					payloads[i] = batch(b, flooder, fmt.Sprint("f", i), fcs[i:i+1])
				}
				next := 0
				for range 1 {
					wg.Go(func() {
						start := time.Now()
						for sent := 0; time.Now().Before(stop); sent++ {
							if wait := time.Until(start.Add(time.Duration(sent) * 2 * time.Millisecond)); wait > 0 {
								time.Sleep(wait)
							}
							mu.Lock()
							i := next % len(payloads)
							next++
							mu.Unlock()
							ack := h.HandleMessage(wire.Topic(flooder, wire.KindCheckIns), payloads[i])
							mu.Lock()
							floodSent++
							if ack != nil && ack.Error == nil {
								floodStored++
							}
							mu.Unlock()
						}
					})
				}
				for k, st := range others {
					cs := checkIns(b, uint64(20+k), st, 1, 1000)
					wg.Go(func() {
						for i := 0; time.Now().Before(stop); i++ {
							start := time.Now()
							ack := h.HandleMessage(wire.Topic(st, wire.KindCheckIns), batch(b, st, fmt.Sprint("o", i), cs[i:i+1]))
							took := time.Since(start)
							if ack == nil || ack.Error != nil {
								b.Errorf("%s: %+v", st, ack)
							}
							mu.Lock()
							lat = append(lat, took)
							mu.Unlock()
							time.Sleep(250 * time.Millisecond)
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
				if len(lat) > 0 {
					b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "others-p50-µs")
					b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds()), "others-p95-µs")
					b.ReportMetric(float64(len(lat)), "others-batches")
				}
				b.ReportMetric(float64(floodSent), "flood-sent")
				b.ReportMetric(float64(floodStored), "flood-stored")
				h.Close()
				b.StartTimer()
			}
		})
	}
}
