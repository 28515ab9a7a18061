package main

import (
	"context"
	"fmt"
	"net/url"
	"syscall"
	"time"

	"github.com/vetnet/vetnet/cloud/web"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

// outageRun is the set-up of the check mode (-outage).
type outageRun struct {
	hub      *proc
	hubPath  string
	hubArgs  []string
	httpAddr string
	adminPW  string // the district administrator's password, for the API
	kiosks   []*proc
	stations []station
	outage   time.Duration
	warmup   time.Duration
	kill     bool // SIGKILL the hub: a crash rather than a clean stop
}

// checkOutage stops the hub for o.outage in the middle of live traffic and
// then checks, station by station, that the hub holds every check-in the
// station committed exactly once: as many rows as the station's last
// sequence number, each sequence number 1..N once, each ID once.
func checkOutage(ctx context.Context, g *group, o outageRun) bool {
	sleep := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	say := func(format string, args ...any) { fmt.Printf("check: "+format+"\n", args...) }

	say("traffic for %v", o.warmup)
	if !sleep(o.warmup) {
		return false
	}
	before := lastSeqs(ctx, o.stations)
	if o.kill {
		say("killing the hub (SIGKILL) for %v (stations made %v so far)", o.outage, before)
		g.signalOne(o.hub, syscall.SIGKILL)
	} else {
		say("stopping the hub for %v (stations made %v so far)", o.outage, before)
		g.stopOne(o.hub)
	}
	if !sleep(o.outage) {
		return false
	}
	during := lastSeqs(ctx, o.stations)
	depth := map[string]int{}
	for _, s := range o.stations {
		st, _ := localapi.NewClient(s.api).Status(ctx)
		depth[s.id] = st.Outbox.Depth
	}
	say("starting the hub again; made meanwhile %v, waiting in the outboxes %v", diff(during, before), depth)
	g.start("hub", o.hubPath, o.hubArgs...)
	if err := waitHTTP(ctx, "http://"+o.httpAddr+"/healthz", 60*time.Second); err != nil {
		say("the hub did not come back: %v", err)
		return false
	}
	say("traffic for %v more, then the kiosks stop", o.warmup)
	if !sleep(o.warmup) {
		return false
	}
	for _, k := range o.kiosks {
		g.stopOne(k)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		pending := 0
		for _, s := range o.stations {
			st, err := localapi.NewClient(s.api).Status(ctx)
			if err != nil {
				pending++
				continue
			}
			pending += st.Outbox.Depth
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) || !sleep(500*time.Millisecond) {
			say("outboxes did not drain: %d check-ins still waiting", pending)
			return false
		}
	}

	api, err := web.SignIn(ctx, "http://"+o.httpAddr, "admin", o.adminPW)
	if err != nil {
		say("sign in to the hub: %v", err)
		return false
	}
	ok := true
	total, stored := 0, 0
	for _, s := range o.stations {
		st, err := localapi.NewClient(s.api).Status(ctx)
		if err != nil {
			say("%s: %v", s.id, err)
			return false
		}
		made := int(st.Outbox.LastSeq)
		rows, err := hubRows(ctx, api, s.id)
		if err != nil {
			say("%s: %v", s.id, err)
			return false
		}
		ids, seqs := map[string]int{}, map[uint64]int{}
		for _, r := range rows {
			ids[r.ID]++
			seqs[r.Seq]++
		}
		doubled, missing := 0, 0
		for _, n := range ids {
			if n > 1 {
				doubled += n - 1
			}
		}
		for seq := uint64(1); seq <= uint64(made); seq++ {
			if seqs[seq] == 0 {
				missing++
			}
		}
		good := len(rows) == made && doubled == 0 && missing == 0 && len(seqs) == made
		ok = ok && good
		total += made
		stored += len(rows)
		verdict := "OK"
		if !good {
			verdict = "MISMATCH"
		}
		say("%-24s made %4d (seq 1..%d, %d during the outage)  hub holds %4d  missing %d  doubled %d  %s",
			s.id, made, made, during[s.id]-before[s.id], len(rows), missing, doubled, verdict)
	}
	if ok {
		say("PASS: %d check-ins made, %d stored, none lost, none doubled", total, stored)
	} else {
		say("FAIL: %d check-ins made, %d stored", total, stored)
	}
	return ok
}

func lastSeqs(ctx context.Context, stations []station) map[string]int {
	m := map[string]int{}
	for _, s := range stations {
		st, err := localapi.NewClient(s.api).Status(ctx)
		if err == nil {
			m[s.id] = int(st.Outbox.LastSeq)
		}
	}
	return m
}

func diff(a, b map[string]int) map[string]int {
	m := map[string]int{}
	for k, v := range a {
		m[k] = v - b[k]
	}
	return m
}

type row struct {
	ID  string `json:"id"`
	Seq uint64 `json:"seq"`
}

// hubRows reads every check-in of station from the hub's API, page by page.
func hubRows(ctx context.Context, api *web.Client, station string) ([]row, error) {
	var out []row
	cursor := ""
	for {
		q := url.Values{"station": {station}, "limit": {"500"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			CheckIns []row  `json:"checkins"`
			Next     string `json:"next"`
		}
		if err := api.Get(ctx, "/api/v1/checkins?"+q.Encode(), &page); err != nil {
			return nil, fmt.Errorf("GET checkins: %w", err)
		}
		out = append(out, page.CheckIns...)
		if page.Next == "" {
			return out, nil
		}
		cursor = page.Next
	}
}
