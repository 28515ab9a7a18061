package hub

import (
	"context"
	"time"
)

// anonymiseBatch is how many check-ins one Anonymise call changes: small
// transactions, so ingest never waits long for the writer.
const anonymiseBatch = 2000

func (h *Hub) anonymiseLoop() {
	defer h.wg.Done()
	h.Anonymise(h.ctx)
	t := time.NewTicker(h.cfg.AnonymiseEvery)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
			h.Anonymise(h.ctx)
		}
	}
}

// Anonymise removes the ID numbers and names of check-ins older than
// Config.AnonymiseAfter, in batches, and returns how many it changed. It
// does nothing when AnonymiseAfter is zero. The hub runs it at Start and
// every AnonymiseEvery; statistics come from the aggregates and stay.
func (h *Hub) Anonymise(ctx context.Context) int {
	if h.cfg.AnonymiseAfter <= 0 {
		return 0
	}
	now := h.cfg.Now()
	before := now.Add(-h.cfg.AnonymiseAfter)
	total := 0
	for ctx.Err() == nil {
		n, err := h.store.Anonymise(ctx, before, now, anonymiseBatch)
		if err != nil {
			h.c.storeErrors.Inc("anonymise")
			h.cfg.Logf("hub: anonymise: %v", err)
			break
		}
		total += n
		h.c.anonymised.Add(uint64(n))
		if n < anonymiseBatch {
			break
		}
	}
	return total
}
