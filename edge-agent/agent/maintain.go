package agent

import (
	"context"
	"time"
)

// maintain keeps the station's file in shape: every MaintainEvery it
// removes check-ins acknowledged longer ago than the retention, and, when no
// check-in came for IdleFor, compacts the file if that gives back enough
// disk. Compaction holds the store for a moment, so it waits for a quiet
// hall rather than interrupt a queue of visitors.
func (a *Agent) maintain(ctx context.Context) {
	t := time.NewTicker(a.cfg.MaintainEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.maintainOnce()
	}
}

func (a *Agent) maintainOnce() {
	if n, err := a.store.Purge(); err != nil {
		a.cfg.Logf("agent: purge: %v", err)
	} else if n > 0 {
		a.cfg.Logf("agent: purged %d check-ins acknowledged more than %v ago", n, a.store.Retention())
	}
	idle := time.Since(time.Unix(0, a.lastCommit.Load())) >= a.cfg.IdleFor
	if !idle || !a.store.CompactWorth(a.cfg.CompactMin) {
		return
	}
	start := time.Now()
	before, after, err := a.store.Compact()
	if err != nil {
		a.cfg.Logf("agent: compact: %v", err)
		return
	}
	a.cfg.Logf("agent: compacted the data file from %d to %d bytes in %v", before, after, time.Since(start).Round(time.Millisecond))
	a.statusChanged()
}
