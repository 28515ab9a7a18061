package agent

import (
	"context"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/bolt"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/wire"
)

// RollCallEarly is how long before a meeting's start its roll-call opens
// at the station (the hub counts roll-calls from its own MeetingEarly,
// 30 minutes by default).
const RollCallEarly = 30 * time.Minute

// meetings keeps the hub's meeting sets: saved first, so that they
// survive a restart and the station takes roll-calls offline, then shown
// to the kiosk.
func (a *Agent) meetings(ctx context.Context) {
	for {
		var m wire.Meetings
		select {
		case <-ctx.Done():
			return
		case m = <-a.up.MeetingSets():
		}
		if m.Station != a.cfg.StationID {
			continue
		}
		if cur, ok := a.store.Meetings(); ok && cur.Version == m.Version {
			continue
		}
		if err := a.store.SaveMeetings(m); err != nil {
			a.cfg.Logf("agent: meetings %s not saved: %v", m.Version, err)
			continue
		}
		a.cfg.Logf("agent: meetings %s: %d upcoming", m.Version, len(m.Meetings))
		a.api.Broadcast(localapi.EventMeetings, a.Meetings())
	}
}

// Meetings returns the station's meetings as the hub last sent them,
// without those that ended.
func (a *Agent) Meetings() localapi.Meetings {
	now := a.cfg.Now()
	out := localapi.Meetings{Meetings: []localapi.Meeting{}, Now: now}
	m, ok := a.store.Meetings()
	if !ok {
		return out
	}
	out.Version = m.Version
	for _, x := range m.Meetings {
		if !now.Before(x.End) {
			continue
		}
		k := vetnet.MeetingKind(x.Kind)
		out.Meetings = append(out.Meetings, localapi.Meeting{ID: x.ID, Title: x.Title, Kind: x.Kind, KindZH: k.Label("zh"), KindEN: k.Label("en"),
			Start: x.Start, End: x.End, Link: x.Link, Roles: x.Roles, Veterans: x.Veterans, Cancelled: x.Cancelled})
	}
	return out
}

// openMeeting returns the meeting id if its roll-call is open now: known
// here, not cancelled, from RollCallEarly before its start to its end.
//
// Errors: ENOTFOUND (not a meeting of this station), ECONFLICT (cancelled
// or not under way).
func (a *Agent) openMeeting(id string) (wire.MeetingV1, error) {
	set, _ := a.store.Meetings()
	m, ok := set.Find(id)
	if !ok {
		return m, vetnet.Errorz(vetnet.ENOTFOUND, "本站没有这个会议", "This station has no such meeting.")
	}
	now := a.cfg.Now()
	switch {
	case m.Cancelled:
		return m, vetnet.Errorz(vetnet.ECONFLICT, "会议已取消", "The meeting was cancelled.")
	case now.Before(m.Start.Add(-RollCallEarly)):
		return m, vetnet.Errorz(vetnet.ECONFLICT, "会议签到尚未开始（开会前30分钟开放）", "The roll-call opens 30 minutes before the meeting.")
	case !now.Before(m.End):
		return m, vetnet.Errorz(vetnet.ECONFLICT, "会议已结束", "The meeting has ended.")
	}
	return m, nil
}

// RollCall records the signed-in staff member as present at a meeting:
// a rollcall record in the records outbox, once per member and meeting.
//
// Errors: EEXPIRED (no staff session), ENOTFOUND, ECONFLICT (see
// openMeeting), EFULL, EINTERNAL.
func (a *Agent) RollCall(ctx context.Context, req localapi.RollCallRequest) (localapi.RollCallResponse, error) {
	if _, err := a.openMeeting(req.Meeting); err != nil {
		return localapi.RollCallResponse{}, err
	}
	st := a.currentStation()
	now := a.cfg.Now()
	a.mu.Lock()
	s, ok := a.staff.sessions[req.StaffSession]
	if ok && !now.Before(s.expires) {
		delete(a.staff.sessions, req.StaffSession)
		ok = false
	}
	var staffID, via string
	if ok {
		staffID, via = s.id, s.via
		s.expires = now.Add(StaffSessionTTL)
	}
	a.mu.Unlock()
	m, member := st.StaffByID(staffID)
	if !ok || !member {
		return localapi.RollCallResponse{}, errStaffGone
	}
	method := vetnet.RollCallPIN
	if via == "badge" {
		method = vetnet.RollCallBadge
	}
	rc, already, err := a.store.CommitRollCall(bolt.RollCallDraft{Meeting: req.Meeting, Staff: m.ID, Role: m.Role, Method: method})
	if err != nil {
		return localapi.RollCallResponse{}, err
	}
	if !already {
		a.cfg.Logf("agent: roll-call of meeting %s: staff %s by %s", rc.MeetingID, rc.Staff, rc.Method)
		signal(a.wake)
		a.statusChanged()
	}
	return localapi.RollCallResponse{ID: rc.ID, Meeting: rc.MeetingID, Staff: rc.Staff, At: rc.At, Already: already}, nil
}
