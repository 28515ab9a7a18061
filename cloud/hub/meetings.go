package hub

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/roster"
	"github.com/vetnet/vetnet/wire"
)

// Defaults of the meeting settings of Config.
const (
	DefaultMeetingGrace  = 5 * time.Minute
	DefaultMeetingEarly  = 30 * time.Minute
	DefaultMeetingsEvery = 30 * time.Second
)

// meetings is the hub's side of the video conference: the meetings
// store, what each station was last sent, and the meetings not yet over
// (to tell the dashboards when a presence change moves a roster).
type meetings struct {
	store cloud.MeetingStore // nil: the store keeps no meetings

	syncMu    sync.Mutex        // one sync at a time
	published map[string]string // station → version of its retained meetings

	mu      sync.Mutex
	current []vetnet.Meeting // not ended (cancelled included), from the last sync
}

// MeetingStore returns the store's meeting side, or nil.
func (h *Hub) MeetingStore() cloud.MeetingStore { return h.mtg.store }

// MeetingLink returns the video room link of m: the provider's base URL
// (Config.VideoBaseURL) and the room's name; "" without a provider.
func (h *Hub) MeetingLink(m vetnet.Meeting) string {
	base := strings.TrimRight(h.cfg.VideoBaseURL, "/")
	if base == "" || m.Room == "" {
		return ""
	}
	return base + "/" + url.PathEscape(m.Room)
}

var errNoMeetings = vetnet.Errorz(vetnet.EUNAVAILABLE, "此数据库不支持视频会议", "This store keeps no meetings.")

// prepareMeeting resolves the invitation and fills in the room.
func (h *Hub) prepareMeeting(m *vetnet.Meeting) error {
	m.Title = strings.TrimSpace(m.Title)
	ids, err := m.Invite.Resolve(h.order)
	if err != nil {
		return err
	}
	m.Stations = ids
	if m.Room == "" {
		m.Room = "vetnet-" + strings.ToLower(m.ID)
	}
	if m.Kind != vetnet.MeetingTraining {
		m.Veterans = false
	}
	m.Start, m.End = m.Start.UTC(), m.End.UTC()
	return m.Validate()
}

// CreateMeeting schedules a meeting, or with rec a series of them (each
// its own meeting with the series' ID, the first meeting's), and sends
// each invited station its meetings. m.ID, Stations, CreatedAt and
// UpdatedAt are made here; an empty Room gets one per meeting. Errors:
// EINVALID (the meeting, its invitation or series), EUNAVAILABLE, and the
// store's.
func (h *Hub) CreateMeeting(ctx context.Context, m vetnet.Meeting, rec *vetnet.Recurrence, by string) ([]vetnet.Meeting, error) {
	if h.mtg.store == nil {
		return nil, errNoMeetings
	}
	now := h.cfg.Now()
	starts := []time.Time{m.Start}
	if rec != nil {
		var err error
		if starts, err = rec.Occurrences(m.Start.In(h.cfg.Location)); err != nil {
			return nil, err
		}
	}
	length := m.End.Sub(m.Start)
	room := m.Room
	var out []vetnet.Meeting
	for i, st := range starts {
		x := m
		id, err := vetnet.NewCheckInID(now, nil)
		if err != nil {
			return nil, err
		}
		x.ID, x.Start, x.End, x.Room = id, st, st.Add(length), room
		if rec != nil {
			if i == 0 {
				x.SeriesID = id
			} else {
				x.SeriesID = out[0].ID
			}
		}
		x.CreatedBy, x.CreatedAt, x.UpdatedAt, x.Cancelled = by, now, now, false
		if err := h.prepareMeeting(&x); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	if err := h.mtg.store.PutMeetings(ctx, out); err != nil {
		return nil, err
	}
	h.meetingsChanged(out...)
	return out, nil
}

// UpdateMeeting changes a meeting (one occurrence of a series): title,
// kind, times, room, invitation, roles, veterans. Errors: ENOTFOUND,
// ECONFLICT (cancelled), EINVALID, EUNAVAILABLE.
func (h *Hub) UpdateMeeting(ctx context.Context, m vetnet.Meeting, by string) (vetnet.Meeting, error) {
	if h.mtg.store == nil {
		return vetnet.Meeting{}, errNoMeetings
	}
	old, err := h.mtg.store.Meeting(ctx, m.ID)
	if err != nil {
		return vetnet.Meeting{}, err
	}
	if old.Cancelled {
		return vetnet.Meeting{}, vetnet.Errorz(vetnet.ECONFLICT, "会议已取消，不能修改", "The meeting was cancelled; it cannot be changed.")
	}
	m.SeriesID, m.CreatedBy, m.CreatedAt, m.UpdatedAt = old.SeriesID, old.CreatedBy, old.CreatedAt, h.cfg.Now()
	if m.Room == "" {
		m.Room = old.Room
	}
	if err := h.prepareMeeting(&m); err != nil {
		return vetnet.Meeting{}, err
	}
	if err := h.mtg.store.PutMeetings(ctx, []vetnet.Meeting{m}); err != nil {
		return vetnet.Meeting{}, err
	}
	h.meetingsChanged(old, m)
	return m, nil
}

// CancelMeeting cancels a meeting, or with series every meeting of its
// series that has not ended. Errors: ENOTFOUND, EUNAVAILABLE.
func (h *Hub) CancelMeeting(ctx context.Context, id string, series bool, by string) ([]vetnet.Meeting, error) {
	if h.mtg.store == nil {
		return nil, errNoMeetings
	}
	m, err := h.mtg.store.Meeting(ctx, id)
	if err != nil {
		return nil, err
	}
	now := h.cfg.Now()
	ms := []vetnet.Meeting{m}
	if series && m.SeriesID != "" {
		if ms, err = h.mtg.store.Meetings(ctx, cloud.MeetingFilter{Series: m.SeriesID, EndsAfter: now, WithCancelled: true}); err != nil {
			return nil, err
		}
	}
	var changed []vetnet.Meeting
	for _, x := range ms {
		if x.Cancelled {
			continue
		}
		x.Cancelled, x.UpdatedAt = true, now
		changed = append(changed, x)
	}
	if len(changed) == 0 {
		return nil, nil
	}
	if err := h.mtg.store.PutMeetings(ctx, changed); err != nil {
		return nil, err
	}
	h.meetingsChanged(changed...)
	return changed, nil
}

// Roster computes a meeting's roll-call now, from the stations' presence
// log (with the entries not stored yet) and the attendance stored.
// Errors: the store's.
func (h *Hub) Roster(ctx context.Context, m vetnet.Meeting) (roster.Roster, error) {
	if h.mtg.store == nil {
		return roster.Roster{}, errNoMeetings
	}
	att, err := h.mtg.store.Attendance(ctx, cloud.AttendanceFilter{Meeting: m.ID})
	if err != nil {
		return roster.Roster{}, err
	}
	now := h.cfg.Now()
	logs := map[string][]cloud.LogEntry{}
	to := m.End
	if now.Before(to) {
		to = now.Add(time.Second)
	}
	if now.After(m.Start) {
		if logs, err = h.mtg.store.PresenceLog(ctx, m.Stations, m.Start, to); err != nil {
			return roster.Roster{}, err
		}
		// And what the hub has not stored yet.
		invited := make(map[string]bool, len(m.Stations))
		for _, st := range m.Stations {
			invited[st] = true
		}
		h.logMu.Lock()
		for _, e := range h.logBuf {
			if e.Kind == cloud.LogPresence && invited[e.Station] && e.At.Before(to) {
				logs[e.Station] = append(logs[e.Station], e)
			}
		}
		h.logMu.Unlock()
	}
	return roster.Compute(roster.Input{Meeting: m, Registry: h.order, Log: logs, Attendance: att,
		Grace: h.cfg.MeetingGrace, Early: h.cfg.MeetingEarly, Now: now}), nil
}

// meetingsChanged sends the stations of the meetings their new sets and
// tells the dashboards.
func (h *Hub) meetingsChanged(ms ...vetnet.Meeting) {
	h.syncMeetings(false)
	seen := map[string]bool{}
	for _, m := range ms {
		if !seen[m.ID] {
			seen[m.ID] = true
			h.events.publish(cloud.Event{Kind: cloud.EventMeeting, Meeting: m.ID})
		}
	}
}

// syncMeetings publishes, retained, each registered station's meetings
// that have not ended, when they differ from what it was last sent (or
// always, with force: a broker that restarted may have lost them).
func (h *Hub) syncMeetings(force bool) {
	if h.mtg.store == nil {
		return
	}
	h.mtg.syncMu.Lock()
	defer h.mtg.syncMu.Unlock()
	now := h.cfg.Now()
	ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
	defer cancel()
	ms, err := h.mtg.store.Meetings(ctx, cloud.MeetingFilter{EndsAfter: now, WithCancelled: true, Limit: maxMeetingsAhead})
	if err != nil {
		h.c.storeErrors.Inc("meetings")
		h.cfg.Logf("hub: meetings: %v", err)
		return
	}
	h.mtg.mu.Lock()
	h.mtg.current = ms
	h.mtg.mu.Unlock()
	per := map[string][]vetnet.Meeting{}
	for _, m := range ms {
		for _, st := range m.Stations {
			per[st] = append(per[st], m)
		}
	}
	if h.transport() == nil {
		return
	}
	for _, st := range h.order {
		p := wire.NewMeetings(st.ID, per[st.ID], h.MeetingLink, now)
		if !force && h.mtg.published[st.ID] == p.Version {
			continue
		}
		b, err := p.Encode()
		if err != nil {
			continue
		}
		if err := h.publish(wire.Topic(st.ID, wire.KindMeetings), b, true, 1); err != nil {
			h.c.publishFailures.Inc(string(wire.KindMeetings))
			h.cfg.Logf("hub: publish meetings of %s: %v", st.ID, err)
			continue
		}
		h.mtg.published[st.ID] = p.Version
		h.c.meetingsSent.Inc()
	}
}

// maxMeetingsAhead bounds the meetings not yet ended that the hub
// sends the stations (each station gets its nearest wire.MaxMeetings).
const maxMeetingsAhead = 20000

// meetingsLoop drops ended meetings from the stations' sets.
func (h *Hub) meetingsLoop() {
	defer h.wg.Done()
	t := time.NewTicker(h.cfg.MeetingsEvery)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
			h.syncMeetings(false)
		}
	}
}

// meetingPresence tells the dashboards that the roster of each meeting
// under way at station moved with its presence.
func (h *Hub) meetingPresence(station string) {
	now := h.cfg.Now()
	h.mtg.mu.Lock()
	var ids []string
	for _, m := range h.mtg.current {
		if !m.Cancelled && !now.Before(m.Start.Add(-h.cfg.MeetingEarly)) && now.Before(m.End) && m.Invited(station) {
			ids = append(ids, m.ID)
		}
	}
	h.mtg.mu.Unlock()
	for _, id := range ids {
		h.events.publish(cloud.Event{Kind: cloud.EventMeeting, Meeting: id})
	}
}
