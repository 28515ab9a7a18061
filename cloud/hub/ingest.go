package hub

import (
	"context"
	"errors"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/metrics"
	"github.com/vetnet/vetnet/wire"
)

// ReasonUnknownStation is the Problem reason of an ack to a station that
// is not in the hub's registry. (wire.Reason* covers payload problems;
// this one is the hub's.)
const ReasonUnknownStation = "unknown_station"

// Store timeout for one message: past it the batch is not acked and the
// station sends it again.
const storeTimeout = 30 * time.Second

type counters struct {
	messages        *metrics.Counter // kind
	checkIns        *metrics.Counter // result: stored, duplicate, rejected
	batches         *metrics.Counter // result: ok, rejected, error, store_failed
	decodeFailures  *metrics.Counter // kind, reason
	acks            *metrics.Counter // result: ok, rejected, error
	publishFailures *metrics.Counter // kind
	storeErrors     *metrics.Counter // op
	transitions     *metrics.Counter // to
	ignored         *metrics.Counter // reason
	configs         *metrics.Counter
	meetingsSent    *metrics.Counter
	rollCalls       *metrics.Counter
	eventsDropped   *metrics.Counter
	gapsOpened      *metrics.Counter
	feedback        *metrics.Counter // result: stored, duplicate
	visits          *metrics.Counter // result: stored, duplicate
	duty            *metrics.Counter // result: stored, duplicate
	alerts          *metrics.Counter // rule, event
	webhook         *metrics.Counter // result: ok, failed, dropped
	anonymised      *metrics.Counter
	rateLimited     *metrics.Counter // kind
	revokedCut      *metrics.Counter
}

func newCounters(r *metrics.Registry) counters {
	return counters{
		messages:        r.Counter("vetnet_hub_messages_total", "Station messages received, by topic kind.", "kind"),
		checkIns:        r.Counter("vetnet_hub_checkins_total", "Check-ins received in batches, by result: stored (new), duplicate (already stored), rejected (invalid).", "result"),
		batches:         r.Counter("vetnet_hub_batches_total", "Check-in batches, by result: ok, rejected (some check-in invalid), error (unreadable or unknown station), store_failed (not acked).", "result"),
		decodeFailures:  r.Counter("vetnet_hub_decode_failures_total", "Messages refused before their content was used, by topic kind and reason.", "kind", "reason"),
		acks:            r.Counter("vetnet_hub_acks_total", "Acks published, by result: ok, rejected, error.", "result"),
		publishFailures: r.Counter("vetnet_hub_publish_failures_total", "Hub messages the broker did not take, by kind.", "kind"),
		storeErrors:     r.Counter("vetnet_hub_store_errors_total", "Store operations that failed, by operation.", "op"),
		transitions:     r.Counter("vetnet_hub_presence_transitions_total", "Presence state changes, by new state.", "to"),
		ignored:         r.Counter("vetnet_hub_ignored_messages_total", "Messages ignored, by reason.", "reason"),
		configs:         r.Counter("vetnet_hub_configs_published_total", "Station configurations published (retained)."),
		meetingsSent:    r.Counter("vetnet_hub_meetings_published_total", "Station meeting sets published (retained), each time a station's set changed."),
		rollCalls:       r.Counter("vetnet_hub_rollcalls_total", "Staff roll-calls of meetings received in batches, by result: stored (new), duplicate (already stored).", "result"),
		eventsDropped:   r.Counter("vetnet_hub_events_dropped_total", "Live events a slow subscriber missed."),
		feedback:        r.Counter("vetnet_hub_feedback_total", "Ratings received in batches, by result: stored (new), duplicate (already stored).", "result"),
		visits:          r.Counter("vetnet_hub_visit_events_total", "Visit events (queue tickets called, recalled, served, no-show, transferred) received in batches, by result: stored (new), duplicate (already stored).", "result"),
		duty:            r.Counter("vetnet_hub_duty_events_total", "Duty events (staff on or off duty) received in batches, by result: stored (new), duplicate (already stored).", "result"),
		alerts:          r.Counter("vetnet_hub_alerts_total", "Alert events, by rule and event: opened, acknowledged, resolved.", "rule", "event"),
		webhook:         r.Counter("vetnet_hub_alert_webhook_total", "Alert events posted to the webhook, by result: ok, failed (after retries), dropped (queue full).", "result"),
		rateLimited:     r.Counter("vetnet_hub_rate_limited_total", "Station messages refused (check-in batches, answered rate_limited and sent again later) or dropped (heartbeats) because the station sent more than its rate, by kind.", "kind"),
		anonymised:      r.Counter("vetnet_hub_anonymised_checkins_total", "Check-ins whose ID number and name were removed after the retention period (Config.AnonymiseAfter)."),
		revokedCut:      r.Counter("vetnet_hub_revoked_disconnects_total", "Clients disconnected because the CRL now lists their certificate."),
		gapsOpened:      r.Counter("vetnet_hub_seq_gaps_opened_total", "Batches after which a station had more sequence numbers missing below its highest than before."),
	}
}

func (h *Hub) registerGauges() {
	h.reg.GaugeFunc("vetnet_hub_seq_missing", "Sequence numbers missing below each station's highest stored one, summed over stations: check-ins the hub has not got although later ones arrived.", nil, func() []metrics.Sample {
		return []metrics.Sample{{Value: float64(h.seqs.totalMissing())}}
	})
	h.reg.GaugeFunc("vetnet_hub_stations", "Registered stations, by presence state.", []string{"state"}, func() []metrics.Sample {
		n := map[cloud.PresenceState]int{}
		for _, p := range h.presence.all() {
			n[p.State]++
		}
		var out []metrics.Sample
		for _, s := range []cloud.PresenceState{cloud.StateOnline, cloud.StateStale, cloud.StateOffline, cloud.StateNeverSeen} {
			out = append(out, metrics.Sample{Labels: []string{string(s)}, Value: float64(n[s])})
		}
		return out
	})
	h.reg.GaugeFunc("vetnet_hub_backlog_checkins", "Check-ins waiting in station outboxes, summed over the last heartbeats of stations not offline.", nil, func() []metrics.Sample {
		sum := 0
		for _, p := range h.presence.all() {
			if p.State != cloud.StateOffline && p.State != cloud.StateNeverSeen {
				sum += p.Outbox.Depth
			}
		}
		return []metrics.Sample{{Value: float64(sum)}}
	})
	h.reg.GaugeFunc("vetnet_hub_backlog_oldest_seconds", "Age of the oldest check-in waiting in any station outbox (hub clock minus station clock), from the last heartbeats.", nil, func() []metrics.Sample {
		now := h.cfg.Now()
		var oldest float64
		for _, p := range h.presence.all() {
			if p.Outbox.Depth > 0 && !p.Outbox.OldestAt.IsZero() {
				oldest = max(oldest, now.Sub(p.Outbox.OldestAt).Seconds())
			}
		}
		return []metrics.Sample{{Value: oldest}}
	})
	h.reg.GaugeFunc("vetnet_hub_broker_up", "Whether the broker (embedded or external) is up.", nil, func() []metrics.Sample {
		up := 0.0
		if t := h.transport(); t != nil && t.Up() {
			up = 1
		}
		return []metrics.Sample{{Value: up}}
	})
	h.reg.GaugeFunc("vetnet_hub_event_subscribers", "Live event subscribers (dashboards).", nil, func() []metrics.Sample {
		return []metrics.Sample{{Value: float64(h.events.count())}}
	})
}

// HandleMessage handles one message a station published on topic. It is
// what the broker hook or the broker client calls for every message; it
// may be called concurrently. For a check-in batch it returns the ack it
// published (nil when it sent none: a bad topic, or a store failure after
// which the station resends); for other kinds it returns nil.
func (h *Hub) HandleMessage(topic string, payload []byte) *wire.Ack {
	return h.HandleMessageFrom("", topic, payload)
}

// HandleMessageFrom is HandleMessage for a message whose sender the broker
// authenticated: from is the CN of its certificate ("" when unknown). A
// station may speak only for itself, so a message on another station's
// topic is refused (counted as identity_mismatch, logged, never acked:
// an ack would go to the station it impersonated). The hub's identity and
// "" are not checked; the payload's station is checked against the topic
// by the wire decoders.
func (h *Hub) HandleMessageFrom(from, topic string, payload []byte) *wire.Ack {
	station, kind, err := wire.ParseTopic(topic)
	if err != nil {
		h.c.messages.Inc("bad_topic")
		h.c.decodeFailures.Inc("unknown", wire.Reason(err))
		return nil
	}
	h.c.messages.Inc(string(kind))
	if from != "" && from != h.hubIdentity() && from != station {
		h.c.decodeFailures.Inc(string(kind), wire.ReasonIdentity)
		h.cfg.Logf("hub: %s message of %q on the topic of station %s refused", kind, from, station)
		return nil
	}
	// Buckets only for registered stations, so made-up station IDs cannot
	// grow the limiter; their messages are refused as cheaply anyway.
	_, known := h.stations[station]
	switch kind {
	case wire.KindCheckIns:
		if known && !h.limit.allow(station, h.cfg.Now()) {
			return h.rateLimited(station, payload)
		}
		return h.checkIns(station, payload)
	case wire.KindStatus:
		h.status(station, payload)
	case wire.KindHeartbeat:
		if known && !h.limit.allow(station, h.cfg.Now()) {
			h.c.rateLimited.Inc(string(kind))
			return nil
		}
		h.heartbeat(station, payload)
	default:
		// acks, config and meetings are the hub's own messages.
		h.c.ignored.Inc("hub_topic")
	}
	return nil
}

// rateLimited answers a batch the station sent beyond its rate: an error
// ack naming the batch, so the station keeps it and sends it again after
// its backoff. Only the batch label is read (the payload is not decoded
// whole), and only when the payload is small enough to be a batch.
func (h *Hub) rateLimited(station string, payload []byte) *wire.Ack {
	h.c.rateLimited.Inc(string(wire.KindCheckIns))
	h.c.batches.Inc("rate_limited")
	ack := &wire.Ack{V: wire.Version, Station: station, IDs: []string{}, At: h.cfg.Now().UTC(),
		Error: &wire.Problem{Reason: ReasonRateLimited, Detail: "too many messages from this station; send again later"}}
	ack.Batch = wire.BatchLabel(payload)
	h.sendAck(ack, "error")
	return ack
}

func (h *Hub) checkIns(station string, payload []byte) *wire.Ack {
	now := h.cfg.Now()
	ack := &wire.Ack{V: wire.Version, Station: station, IDs: []string{}, At: now.UTC()}
	if _, ok := h.stations[station]; !ok {
		h.c.decodeFailures.Inc(string(wire.KindCheckIns), ReasonUnknownStation)
		h.c.batches.Inc("error")
		ack.Error = &wire.Problem{Reason: ReasonUnknownStation, Detail: "station " + station + " is not registered at this hub"}
		h.sendAck(ack, "error")
		return ack
	}
	b, err := wire.DecodeCheckInBatch(station, payload)
	if err != nil {
		reason := wire.Reason(err)
		h.c.decodeFailures.Inc(string(wire.KindCheckIns), reason)
		h.c.batches.Inc("error")
		detail := ""
		var de *wire.DecodeError
		if errors.As(err, &de) {
			detail = de.Detail
		}
		ack.Error = &wire.Problem{Reason: reason, Detail: detail}
		h.sendAck(ack, "error")
		return ack
	}
	ack.Batch = b.Batch
	cs := make([]vetnet.CheckIn, len(b.CheckIns))
	for i, w := range b.CheckIns {
		c := w.ToDomain(station)
		if err := c.Validate(now); err != nil {
			// The reason is for the station's technicians; vetnet's
			// messages never quote the ID number or the name.
			ack.Rejected = append(ack.Rejected, wire.Rejection{ID: c.ID, Seq: c.Seq, Code: vetnet.ErrorCode(err), Reason: vetnet.ErrorMessage(err, "en")})
		}
		c.At = c.At.UTC()
		c.ReceivedAt = now.UTC()
		cs[i] = c
	}
	fs := make([]vetnet.Feedback, 0, len(b.Records))
	var vs []vetnet.VisitEvent
	var ds []vetnet.DutyEvent
	var rcs []vetnet.RollCall
	reject := func(id string, err error) {
		ack.Rejected = append(ack.Rejected, wire.Rejection{ID: id, Code: vetnet.ErrorCode(err), Reason: vetnet.ErrorMessage(err, "en")})
	}
	// The decoder accepts only kinds this hub knows, each with its field.
	for _, r := range b.Records {
		if f, ok := r.FeedbackOf(station); ok {
			if err := f.Validate(); err != nil {
				reject(f.ID, err)
			}
			f.At, f.ReceivedAt = f.At.UTC(), now.UTC()
			fs = append(fs, f)
		}
		if v, ok := r.VisitOf(station); ok {
			if err := v.Validate(); err != nil {
				reject(v.ID, err)
			}
			v.At, v.ReceivedAt = v.At.UTC(), now.UTC()
			vs = append(vs, v)
		}
		if d, ok := r.DutyOf(station); ok {
			if err := d.Validate(); err != nil {
				reject(d.ID, err)
			}
			d.At, d.ReceivedAt = d.At.UTC(), now.UTC()
			ds = append(ds, d)
		}
		if rc, ok := r.RollCallOf(station); ok {
			if err := rc.Validate(); err != nil {
				reject(rc.ID, err)
			} else if h.mtg.store == nil {
				// Acknowledged only when stored: a store without meetings
				// cannot keep it, so the station keeps it.
				reject(rc.ID, errNoMeetings)
			}
			rc.At, rc.ReceivedAt = rc.At.UTC(), now.UTC()
			rcs = append(rcs, rc)
		}
	}
	if len(ack.Rejected) > 0 {
		// A batch is never half-applied: none of it is stored, and the
		// station resends the others in a new batch.
		h.c.checkIns.Add(uint64(len(ack.Rejected)), "rejected")
		h.c.batches.Inc("rejected")
		h.sendAck(ack, "rejected")
		return ack
	}
	ctx, cancel := context.WithTimeout(h.ctx, storeTimeout)
	defer cancel()
	saved, err := h.store.Save(ctx, cloud.Batch{CheckIns: cs, Feedback: fs, Visits: vs, Duty: ds, RollCalls: rcs})
	inserted := saved.CheckIns
	if err != nil {
		// No ack: the station keeps the batch and sends it again.
		h.c.storeErrors.Inc("save_checkins")
		h.c.batches.Inc("store_failed")
		h.cfg.Logf("hub: store batch %q of %s (%d check-ins): %v", b.Batch, station, len(cs), err)
		return nil
	}
	nums := make([]uint64, len(cs))
	for i, c := range cs {
		nums[i] = c.Seq
	}
	before := h.seqs.gaps(station)
	after := h.seqs.add(station, nums)
	if after.Missing != before.Missing {
		if after.Missing > before.Missing {
			h.c.gapsOpened.Inc()
		}
		h.cfg.Logf("hub: station %s: %d sequence numbers missing below %d %v", station, after.Missing, after.Max, after.Runs)
	}
	h.c.checkIns.Add(uint64(len(inserted)), "stored")
	h.c.checkIns.Add(uint64(len(cs)-len(inserted)), "duplicate")
	h.c.batches.Inc("ok")
	for _, c := range cs {
		ack.IDs = append(ack.IDs, c.ID)
	}
	for _, f := range fs {
		ack.IDs = append(ack.IDs, f.ID)
	}
	for _, v := range vs {
		ack.IDs = append(ack.IDs, v.ID)
	}
	for _, d := range ds {
		ack.IDs = append(ack.IDs, d.ID)
	}
	for _, rc := range rcs {
		ack.IDs = append(ack.IDs, rc.ID)
	}
	h.c.feedback.Add(uint64(len(saved.Feedback)), "stored")
	h.c.feedback.Add(uint64(len(fs)-len(saved.Feedback)), "duplicate")
	h.c.visits.Add(uint64(len(saved.Visits)), "stored")
	h.c.visits.Add(uint64(len(vs)-len(saved.Visits)), "duplicate")
	h.c.duty.Add(uint64(len(saved.Duty)), "stored")
	h.c.duty.Add(uint64(len(ds)-len(saved.Duty)), "duplicate")
	h.c.rollCalls.Add(uint64(len(saved.RollCalls)), "stored")
	h.c.rollCalls.Add(uint64(len(rcs)-len(saved.RollCalls)), "duplicate")
	// Committed: now, and only now, the ack.
	h.sendAck(ack, "ok")
	h.rollCallEvents(cs, inserted, rcs, saved.RollCalls)
	if len(inserted) > 0 {
		isNew := make(map[string]bool, len(inserted))
		for _, id := range inserted {
			isNew[id] = true
		}
		for _, c := range cs {
			if isNew[c.ID] {
				c.Visitor = c.Visitor.Masked()
				h.events.publish(cloud.Event{Kind: cloud.EventCheckIn, CheckIn: c})
			}
		}
	}
	if len(saved.Feedback) > 0 {
		isNew := make(map[string]bool, len(saved.Feedback))
		for _, id := range saved.Feedback {
			isNew[id] = true
		}
		for _, f := range fs {
			if isNew[f.ID] {
				h.events.publish(cloud.Event{Kind: cloud.EventFeedback, Feedback: f})
				h.alerts.badRating(f, now)
			}
		}
	}
	return ack
}

func (h *Hub) sendAck(ack *wire.Ack, result string) {
	b, err := ack.Encode()
	if err != nil {
		h.cfg.Logf("hub: encode ack for %s: %v", ack.Station, err)
		return
	}
	if err := h.publish(wire.Topic(ack.Station, wire.KindAcks), b, false, 1); err != nil {
		// The station did not hear it and resends; the next ack will do.
		h.c.publishFailures.Inc(string(wire.KindAcks))
		h.cfg.Logf("hub: publish ack for %s: %v", ack.Station, err)
		return
	}
	h.c.acks.Inc(result)
}

func (h *Hub) status(station string, payload []byte) {
	if len(payload) == 0 {
		// A cleared retained status: nothing to learn.
		h.c.ignored.Inc("empty_status")
		return
	}
	if _, ok := h.stations[station]; !ok {
		h.c.decodeFailures.Inc(string(wire.KindStatus), ReasonUnknownStation)
		return
	}
	s, err := wire.DecodeStatus(station, payload)
	if err != nil {
		h.c.decodeFailures.Inc(string(wire.KindStatus), wire.Reason(err))
		return
	}
	before, _ := h.presence.get(station)
	p, changed, ok := h.presence.status(station, s, h.cfg.Now())
	if !ok {
		h.c.ignored.Inc("old_will")
		return
	}
	h.presenceEvent(before, p, changed)
}

func (h *Hub) heartbeat(station string, payload []byte) {
	if _, ok := h.stations[station]; !ok {
		h.c.decodeFailures.Inc(string(wire.KindHeartbeat), ReasonUnknownStation)
		return
	}
	hb, err := wire.DecodeHeartbeat(station, payload)
	if err != nil {
		h.c.decodeFailures.Inc(string(wire.KindHeartbeat), wire.Reason(err))
		return
	}
	before, _ := h.presence.get(station)
	p, changed, _ := h.presence.heartbeat(station, hb, h.cfg.Now())
	h.presenceEvent(before, p, changed)
}

func (h *Hub) presenceEvent(before, p cloud.Presence, changed bool) {
	if changed {
		h.c.transitions.Inc(string(p.State))
	}
	h.events.publish(cloud.Event{Kind: cloud.EventPresence, Presence: p, Changed: changed})
	if h.leading.Load() {
		h.logTransitions(before, p)
		h.alerts.evaluate(p, h.cfg.Now())
	}
}

// logTransitions queues the station log entries of a presence change:
// its state, each reader's health, its disk. They are stored with the
// presence, by the timer.
func (h *Hub) logTransitions(before, p cloud.Presence) {
	now := h.cfg.Now()
	var out []cloud.LogEntry
	if before.State != p.State {
		out = append(out, cloud.LogEntry{Station: p.Station, At: now, Kind: cloud.LogPresence, State: string(p.State), Detail: p.Reason})
		defer h.meetingPresence(p.Station) // after the entry is queued, so a roster read sees it
	}
	old := map[string]cloud.Reader{}
	for _, r := range before.Readers {
		old[r.Name] = r
	}
	for _, r := range p.Readers {
		if o, ok := old[r.Name]; (!ok && r.State != "ok") || (ok && o.State != r.State) {
			detail := r.Kind
			if r.Detail != "" {
				detail += ": " + r.Detail
			}
			out = append(out, cloud.LogEntry{Station: p.Station, At: now, Kind: cloud.LogReader, Subject: r.Name, State: r.State, Detail: detail})
		}
	}
	if before.Disk.Low != p.Disk.Low && !p.LastHeartbeat.IsZero() {
		st := "ok"
		if p.Disk.Low {
			st = "low"
		}
		out = append(out, cloud.LogEntry{Station: p.Station, At: now, Kind: cloud.LogDisk, State: st})
	}
	if len(out) == 0 {
		return
	}
	h.logMu.Lock()
	h.logBuf = append(h.logBuf, out...)
	h.logMu.Unlock()
}

// flushLog stores the queued station log entries.
func (h *Hub) flushLog() {
	h.logMu.Lock()
	entries := h.logBuf
	h.logBuf = nil
	h.logMu.Unlock()
	if len(entries) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.store.AppendLog(ctx, entries); err != nil {
		h.c.storeErrors.Inc("append_log")
		h.cfg.Logf("hub: station log: %v", err)
		h.logMu.Lock()
		if len(h.logBuf) < 100000 {
			h.logBuf = append(entries, h.logBuf...)
		}
		h.logMu.Unlock()
	}
}

// rollCallEvents tells the dashboards which meetings' rosters the newly
// stored check-ins and roll-calls moved.
func (h *Hub) rollCallEvents(cs []vetnet.CheckIn, inserted []string, rcs []vetnet.RollCall, savedRC []string) {
	ids := map[string]bool{}
	isNew := map[string]bool{}
	for _, id := range inserted {
		isNew[id] = true
	}
	for _, id := range savedRC {
		isNew[id] = true
	}
	var order []string
	add := func(m string) {
		if !ids[m] {
			ids[m] = true
			order = append(order, m)
		}
	}
	for _, c := range cs {
		if c.Meeting != "" && isNew[c.ID] {
			add(c.Meeting)
		}
	}
	for _, rc := range rcs {
		if isNew[rc.ID] {
			add(rc.MeetingID)
		}
	}
	for _, m := range order {
		h.events.publish(cloud.Event{Kind: cloud.EventMeeting, Meeting: m})
	}
}
