package hub

import (
	"sync"
	"time"
)

// Per-station rate limits. Every station gets a token bucket: Config.
// IngestRate messages a second on average, Config.IngestBurst at once.
// Check-in batches and heartbeats take a token; status messages (rare,
// retained, and the source of presence) never wait. A batch that finds the
// bucket empty is not read or stored: the station gets an error ack with
// the reason rate_limited, keeps the batch in its outbox and sends it again
// after its backoff, so nothing is lost, only delayed. A limited heartbeat
// is dropped (the next one follows). Each refusal is counted
// (vetnet_hub_rate_limited_total), per kind.
//
// The bucket is the only thing a flooding station's extra messages cost:
// no JSON is parsed and the store's single writer never sees them, so the
// other stations' batches do not queue behind a flood.

// ReasonRateLimited is the Problem reason of an ack to a station that sent
// more than its rate: send again later.
const ReasonRateLimited = "rate_limited"

// Defaults of Config.IngestRate and IngestBurst: a station sends a batch
// every few seconds at most and a heartbeat every 15 s; after an outage
// it drains its outbox in at most a few dozen batches of up to 500.
const (
	DefaultIngestRate  = 5.0
	DefaultIngestBurst = 40
)

type bucket struct {
	tokens float64
	last   time.Time
}

type limiter struct {
	rate  float64 // tokens a second; <= 0: no limit
	burst float64
	mu    sync.Mutex
	b     map[string]*bucket
}

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), b: map[string]*bucket{}}
}

// allow takes a token of the station's bucket at now, if it has one.
func (l *limiter) allow(station string, now time.Time) bool {
	if l.rate <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.b[station]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.b[station] = b
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(l.burst, b.tokens+d.Seconds()*l.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
