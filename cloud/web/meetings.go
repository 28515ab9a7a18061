package web

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/roster"
)

// MeetingActions give the server the hub's meetings: the store to read
// them and the hub's functions that change them (and tell the stations).
// A nil Store answers 503 on every meeting call.
type MeetingActions struct {
	Store  cloud.MeetingStore
	Create func(ctx context.Context, m vetnet.Meeting, rec *vetnet.Recurrence, by string) ([]vetnet.Meeting, error)
	Update func(ctx context.Context, m vetnet.Meeting, by string) (vetnet.Meeting, error)
	Cancel func(ctx context.Context, id string, series bool, by string) ([]vetnet.Meeting, error)
	Roster func(ctx context.Context, m vetnet.Meeting) (roster.Roster, error)
	Link   func(m vetnet.Meeting) string
}

func (s *Server) meetingRoutes() {
	s.handle("GET /api/v1/meetings", "/api/v1/meetings", s.authed(false, s.meetings))
	s.handle("POST /api/v1/meetings", "/api/v1/meetings", s.authed(true, s.createMeeting))
	s.handle("GET /api/v1/meetings/{id}", "/api/v1/meetings/{id}", s.authed(false, s.meeting))
	s.handle("PUT /api/v1/meetings/{id}", "/api/v1/meetings/{id}", s.authed(true, s.updateMeeting))
	s.handle("POST /api/v1/meetings/{id}/cancel", "/api/v1/meetings/{id}/cancel", s.authed(true, s.cancelMeeting))
	s.handle("GET /api/v1/meetings/{id}/roster", "/api/v1/meetings/{id}/roster", s.authed(false, s.meetingRoster))
	s.handle("POST /api/v1/meetings/{id}/followups", "/api/v1/meetings/{id}/followups", s.authed(true, s.addFollowUp))
}

var errMeetingsOff = vetnet.Errorz(vetnet.EUNAVAILABLE, "视频会议功能不可用", "Meetings are not available.")

type inviteView struct {
	Levels   []string `json:"levels"`
	Under    string   `json:"under"`
	Stations []string `json:"stations"`
}

type meetingView struct {
	ID        string     `json:"id"`
	SeriesID  string     `json:"series_id"`
	Title     string     `json:"title"`
	Kind      string     `json:"kind"`
	KindZH    string     `json:"kind_zh"`
	KindEN    string     `json:"kind_en"`
	Start     time.Time  `json:"start"`
	End       time.Time  `json:"end"`
	Room      string     `json:"room"`
	Link      string     `json:"link"`
	Invite    inviteView `json:"invite"`
	Stations  []string   `json:"stations"`
	Roles     []string   `json:"roles"`
	Veterans  bool       `json:"veterans"`
	Cancelled bool       `json:"cancelled"`
	Phase     string     `json:"phase"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	CanManage bool       `json:"can_manage"`
}

func (s *Server) meetingViewOf(m vetnet.Meeting, a *reqAuth) meetingView {
	v := meetingView{ID: m.ID, SeriesID: m.SeriesID, Title: m.Title, Kind: string(m.Kind), KindZH: m.Kind.Label("zh"), KindEN: m.Kind.Label("en"),
		Start: m.Start.UTC(), End: m.End.UTC(), Room: m.Room, Stations: []string{}, Roles: []string{}, Veterans: m.Veterans,
		Cancelled: m.Cancelled, CreatedBy: m.CreatedBy, CreatedAt: m.CreatedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC(),
		Invite: inviteView{Levels: []string{}, Under: m.Invite.Under, Stations: []string{}}, CanManage: s.canManageMeeting(a, m)}
	if s.o.Meetings.Link != nil {
		v.Link = s.o.Meetings.Link(m)
	}
	for _, l := range m.Invite.Levels {
		v.Invite.Levels = append(v.Invite.Levels, string(l))
	}
	for _, id := range m.Invite.Stations {
		if a.Sees(id) {
			v.Invite.Stations = append(v.Invite.Stations, id)
		}
	}
	for _, id := range m.Stations {
		if a.Sees(id) {
			v.Stations = append(v.Stations, id)
		}
	}
	for _, r := range m.Roles {
		v.Roles = append(v.Roles, string(r))
	}
	now := s.o.Now()
	switch {
	case m.Cancelled:
		v.Phase = string(roster.Cancelled)
	case now.Before(m.Start):
		v.Phase = string(roster.Upcoming)
	case now.Before(m.End):
		v.Phase = string(roster.Live)
	default:
		v.Phase = string(roster.Ended)
	}
	return v
}

// seesMeeting reports whether the person sees a station the meeting
// invites.
func seesMeeting(a *reqAuth, m vetnet.Meeting) bool {
	return slices.ContainsFunc(m.Stations, a.Sees)
}

// canManageMeeting: district and town administrators, for meetings whose
// every invited station they see.
func (s *Server) canManageMeeting(a *reqAuth, m vetnet.Meeting) bool {
	if a.User.Role != cloud.RoleDistrictAdmin && a.User.Role != cloud.RoleTownAdmin {
		return false
	}
	for _, id := range m.Stations {
		if !a.Sees(id) {
			return false
		}
	}
	return true
}

func (s *Server) meetings(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	if s.o.Meetings.Store == nil {
		writeError(w, http.StatusServiceUnavailable, errMeetingsOff, "")
		return
	}
	q := r.URL.Query()
	f := cloud.MeetingFilter{Stations: a.Stations(), WithCancelled: q.Get("cancelled") != "0", Limit: cloud.MaxLimit}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.EndsAfter}, {"to", &f.StartsBefore}} {
		if v := q.Get(p.name); v != "" {
			t, err := s.parseTime(v)
			if err != nil {
				s.badReqs.Inc(p.name)
				writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "参数 "+p.name+" 的时间格式无效", "Parameter "+p.name+" is not a valid time."), p.name)
				return
			}
			*p.dst = t
		}
	}
	if v := q.Get("station"); v != "" {
		if !a.Sees(v) {
			s.deny(w, r, a, "meetings of "+v)
			return
		}
		f.Station = v
	}
	ms, err := s.o.Meetings.Store.Meetings(r.Context(), f)
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	out := struct {
		Meetings  []meetingView `json:"meetings"`
		CanCreate bool          `json:"can_create"`
		Video     bool          `json:"video"`
	}{Meetings: []meetingView{}, CanCreate: a.User.Role == cloud.RoleDistrictAdmin || a.User.Role == cloud.RoleTownAdmin,
		Video: s.o.Meetings.Link != nil && s.o.Meetings.Link(vetnet.Meeting{Room: "x"}) != ""}
	for _, m := range ms {
		out.Meetings = append(out.Meetings, s.meetingViewOf(m, a))
	}
	writeJSON(w, http.StatusOK, out)
}

// meetingInput is the body of a new or changed meeting.
type meetingInput struct {
	Title    string     `json:"title"`
	Kind     string     `json:"kind"`
	Start    string     `json:"start"` // RFC 3339, or "2006-01-02T15:04" in the hub's zone
	End      string     `json:"end"`
	Room     string     `json:"room"`
	Invite   inviteView `json:"invite"`
	Roles    []string   `json:"roles"`
	Veterans bool       `json:"veterans"`
	Repeat   *struct {
		Freq  string `json:"freq"`  // weekly or monthly
		Count int    `json:"count"` // or
		Until string `json:"until"` // a date
	} `json:"repeat"`
}

func (s *Server) parseLocal(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04", v, s.o.Location); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-02", v, s.o.Location)
}

// toMeeting reads the body into a meeting; it answers the request when
// it returns false.
func (s *Server) toMeeting(w http.ResponseWriter, r *http.Request, a *reqAuth) (vetnet.Meeting, *vetnet.Recurrence, bool) {
	var in meetingInput
	if err := readJSON(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err, "")
		return vetnet.Meeting{}, nil, false
	}
	bad := func(param, zh, en string) (vetnet.Meeting, *vetnet.Recurrence, bool) {
		s.badReqs.Inc(param)
		writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, zh, en), param)
		return vetnet.Meeting{}, nil, false
	}
	m := vetnet.Meeting{Title: in.Title, Kind: vetnet.MeetingKind(in.Kind), Room: strings.TrimSpace(in.Room), Veterans: in.Veterans,
		Invite: vetnet.Invitation{Under: in.Invite.Under, Stations: in.Invite.Stations}}
	var err error
	if m.Start, err = s.parseLocal(in.Start); err != nil {
		return bad("start", "开始时间格式无效", "The start is not a valid time.")
	}
	if m.End, err = s.parseLocal(in.End); err != nil {
		return bad("end", "结束时间格式无效", "The end is not a valid time.")
	}
	for _, l := range in.Invite.Levels {
		if !slices.Contains(vetnet.Levels, vetnet.Level(l)) {
			return bad("invite", "未知的站点层级", "Unknown station level.")
		}
		m.Invite.Levels = append(m.Invite.Levels, vetnet.Level(l))
	}
	for _, x := range in.Roles {
		if !vetnet.StaffRole(x).Valid() {
			return bad("roles", "未知的工作人员岗位", "Unknown staff role.")
		}
		m.Roles = append(m.Roles, vetnet.StaffRole(x))
	}
	// A town administrator invites within its town: by level under its
	// town, or stations it sees.
	if !a.All() {
		if m.Invite.Under == "" && len(m.Invite.Levels) > 0 {
			m.Invite.Under = a.User.Station
		}
		if m.Invite.Under != "" && !a.Sees(m.Invite.Under) {
			s.deny(w, r, a, "meeting under "+m.Invite.Under)
			return vetnet.Meeting{}, nil, false
		}
		for _, id := range m.Invite.Stations {
			if !a.Sees(id) {
				s.deny(w, r, a, "meeting inviting "+id)
				return vetnet.Meeting{}, nil, false
			}
		}
	}
	var rec *vetnet.Recurrence
	if in.Repeat != nil && in.Repeat.Freq != "" {
		rec = &vetnet.Recurrence{Freq: vetnet.Frequency(in.Repeat.Freq), Count: in.Repeat.Count}
		if in.Repeat.Until != "" {
			u, err := s.parseLocal(in.Repeat.Until)
			if err != nil {
				return bad("repeat", "重复截止日期格式无效", "The series' end date is not a valid date.")
			}
			rec.Until = u.Add(24*time.Hour - time.Nanosecond) // the whole day
		}
	}
	return m, rec, true
}

func (s *Server) createMeeting(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	if s.o.Meetings.Create == nil {
		writeError(w, http.StatusServiceUnavailable, errMeetingsOff, "")
		return
	}
	if a.User.Role != cloud.RoleDistrictAdmin && a.User.Role != cloud.RoleTownAdmin {
		s.deny(w, r, a, "only administrators schedule meetings")
		return
	}
	m, rec, ok := s.toMeeting(w, r, a)
	if !ok {
		return
	}
	ms, err := s.o.Meetings.Create(r.Context(), m, rec, a.User.Name)
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	detail := "1 meeting"
	if len(ms) > 1 {
		detail = itoa(len(ms)) + " meetings (series " + ms[0].SeriesID + ")"
	}
	s.audit(r, a, cloud.AuditMeeting, "meeting "+ms[0].ID, "", "created: "+detail)
	out := []meetingView{}
	for _, x := range ms {
		out = append(out, s.meetingViewOf(x, a))
	}
	writeJSON(w, http.StatusCreated, struct {
		Meetings []meetingView `json:"meetings"`
	}{out})
}

// loadMeeting reads the meeting of the path within the person's scope;
// it answers the request when it returns false.
func (s *Server) loadMeeting(w http.ResponseWriter, r *http.Request, a *reqAuth) (vetnet.Meeting, bool) {
	if s.o.Meetings.Store == nil {
		writeError(w, http.StatusServiceUnavailable, errMeetingsOff, "")
		return vetnet.Meeting{}, false
	}
	m, err := s.o.Meetings.Store.Meeting(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return m, false
	}
	if !seesMeeting(a, m) {
		s.deny(w, r, a, "meeting "+m.ID)
		return m, false
	}
	return m, true
}

func (s *Server) meeting(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	m, ok := s.loadMeeting(w, r, a)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, s.meetingViewOf(m, a))
}

func (s *Server) updateMeeting(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	old, ok := s.loadMeeting(w, r, a)
	if !ok {
		return
	}
	if !s.canManageMeeting(a, old) || s.o.Meetings.Update == nil {
		s.deny(w, r, a, "meeting "+old.ID)
		return
	}
	m, _, ok := s.toMeeting(w, r, a)
	if !ok {
		return
	}
	m.ID = old.ID
	m, err := s.o.Meetings.Update(r.Context(), m, a.User.Name)
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	s.audit(r, a, cloud.AuditMeeting, "meeting "+m.ID, "", "changed")
	writeJSON(w, http.StatusOK, s.meetingViewOf(m, a))
}

func (s *Server) cancelMeeting(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	m, ok := s.loadMeeting(w, r, a)
	if !ok {
		return
	}
	if !s.canManageMeeting(a, m) || s.o.Meetings.Cancel == nil {
		s.deny(w, r, a, "meeting "+m.ID)
		return
	}
	var req struct {
		Series bool   `json:"series"`
		Reason string `json:"reason"`
	}
	if err := readJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err, "")
		return
	}
	if len([]rune(req.Reason)) > 200 {
		writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "取消原因最多 200 字", "A reason has at most 200 characters."), "reason")
		return
	}
	ms, err := s.o.Meetings.Cancel(r.Context(), m.ID, req.Series, a.User.Name)
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	s.audit(r, a, cloud.AuditMeeting, "meeting "+m.ID, strings.TrimSpace(req.Reason), "cancelled: "+itoa(len(ms))+" meetings")
	out := []meetingView{}
	for _, x := range ms {
		out = append(out, s.meetingViewOf(x, a))
	}
	writeJSON(w, http.StatusOK, struct {
		Meetings []meetingView `json:"meetings"`
	}{out})
}

type tallyView = roster.Tally

type personView struct {
	Kind      string    `json:"kind"` // staff or person
	Staff     string    `json:"staff,omitempty"`
	StaffName string    `json:"staff_name,omitempty"`
	Role      string    `json:"role,omitempty"`
	RoleZH    string    `json:"role_zh,omitempty"`
	Name      string    `json:"name,omitempty"`      // masked
	IDNumber  string    `json:"id_number,omitempty"` // masked
	Method    string    `json:"method"`
	At        time.Time `json:"at"`
	Late      bool      `json:"reported_late"`
}

type followUpView struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	By        string    `json:"by"`
	Outcome   string    `json:"outcome"`
	OutcomeZH string    `json:"outcome_zh"`
	OutcomeEN string    `json:"outcome_en"`
	Note      string    `json:"note"`
}

type rosterStationView struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	NameEN       string         `json:"name_en"`
	Level        string         `json:"level"`
	Town         string         `json:"town"`
	TownName     string         `json:"town_name"`
	Contact      string         `json:"contact"`
	Status       string         `json:"status"`
	StatusZH     string         `json:"status_zh"`
	StatusEN     string         `json:"status_en"`
	Online       bool           `json:"online"`
	JoinedAt     *time.Time     `json:"joined_at"`
	LeftAt       *time.Time     `json:"left_at"`
	OnlineS      int64          `json:"online_s"`
	Source       string         `json:"source"`
	ReportedLate bool           `json:"reported_late"`
	Staff        int            `json:"staff"`
	Persons      int            `json:"persons"`
	MissingRoles []string       `json:"missing_roles"`
	People       []personView   `json:"people"`
	FollowUps    []followUpView `json:"followups"`
}

type rosterView struct {
	Meeting  meetingView         `json:"meeting"`
	Phase    string              `json:"phase"`
	At       time.Time           `json:"at"`
	GraceS   int64               `json:"grace_s"`
	Total    tallyView           `json:"total"`
	ByLevel  []tallyView         `json:"by_level"`
	ByTown   []tallyView         `json:"by_town"`
	Stations []rosterStationView `json:"stations"`
	CallBack []string            `json:"callback"` // absent stations, in roster order
}

// scopedRoster computes the roster of the stations the person sees.
func (s *Server) scopedRoster(ctx context.Context, m vetnet.Meeting, a *reqAuth) (roster.Roster, error) {
	x := m
	x.Stations = nil
	for _, id := range m.Stations {
		if a.Sees(id) {
			x.Stations = append(x.Stations, id)
		}
	}
	r, err := s.o.Meetings.Roster(ctx, x)
	r.Meeting = m
	return r, err
}

func (s *Server) rosterViewOf(ctx context.Context, m vetnet.Meeting, r roster.Roster, a *reqAuth) (rosterView, error) {
	reg := s.stationsByID()
	v := rosterView{Meeting: s.meetingViewOf(m, a), Phase: string(r.Phase), At: r.At.UTC(), Total: r.Total,
		ByLevel: r.ByLevel, ByTown: r.ByTown, Stations: []rosterStationView{}, CallBack: []string{}}
	if v.ByLevel == nil {
		v.ByLevel = []tallyView{}
	}
	if v.ByTown == nil {
		v.ByTown = []tallyView{}
	}
	fus, err := s.o.Meetings.Store.FollowUps(ctx, m.ID)
	if err != nil {
		return v, err
	}
	for _, st := range r.Stations {
		sv := rosterStationView{ID: st.ID, Name: st.Name, NameEN: st.NameEN, Level: string(st.Level), Town: st.Town,
			TownName: reg[st.Town].Name, Contact: st.Contact, Status: string(st.Status), StatusZH: st.Status.Label("zh"),
			StatusEN: st.Status.Label("en"), Online: st.Online, JoinedAt: st.JoinedAt, LeftAt: st.LeftAt,
			OnlineS: int64(st.OnlineFor / time.Second), Source: st.Source, ReportedLate: st.ReportedLate, Staff: st.Staff,
			Persons: st.Persons, MissingRoles: []string{}, People: []personView{}, FollowUps: []followUpView{}}
		for _, role := range st.MissingRoles {
			sv.MissingRoles = append(sv.MissingRoles, string(role))
		}
		for _, p := range st.People {
			pv := personView{Kind: string(p.Kind), Staff: p.Staff, StaffName: staffName(reg[st.ID], p.Staff), Role: string(p.Role),
				Method: p.Method, At: p.At.UTC(), Late: p.Late}
			if p.Role != "" {
				pv.RoleZH = p.Role.Label("zh")
			}
			if p.Kind == cloud.AttendPerson {
				pv.Name, pv.IDNumber = vetnet.MaskName(p.Name), vetnet.MaskIDNumber(p.IDNumber)
			}
			sv.People = append(sv.People, pv)
		}
		for _, f := range fus {
			if f.Station == st.ID {
				sv.FollowUps = append(sv.FollowUps, followUpViewOf(f))
			}
		}
		if st.Status == roster.Absent {
			v.CallBack = append(v.CallBack, st.ID)
		}
		v.Stations = append(v.Stations, sv)
	}
	return v, nil
}

func followUpViewOf(f cloud.FollowUp) followUpView {
	n := cloud.FollowUpOutcomes[f.Outcome]
	return followUpView{ID: f.ID, At: f.At.UTC(), By: f.By, Outcome: f.Outcome, OutcomeZH: n[0], OutcomeEN: n[1], Note: f.Note}
}

func (s *Server) meetingRoster(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	m, ok := s.loadMeeting(w, r, a)
	if !ok {
		return
	}
	if s.o.Meetings.Roster == nil {
		writeError(w, http.StatusServiceUnavailable, errMeetingsOff, "")
		return
	}
	ro, err := s.scopedRoster(r.Context(), m, a)
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	v, err := s.rosterViewOf(r.Context(), m, ro, a)
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	v.GraceS = int64(s.o.MeetingGrace / time.Second)
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) addFollowUp(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	m, ok := s.loadMeeting(w, r, a)
	if !ok {
		return
	}
	var req struct {
		Station string `json:"station"`
		Outcome string `json:"outcome"`
		Note    string `json:"note"`
	}
	if err := readJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err, "")
		return
	}
	if !m.Invited(req.Station) {
		writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "该站点未受邀参加此会议", "The station is not invited to this meeting."), "station")
		return
	}
	if !a.Sees(req.Station) {
		s.deny(w, r, a, "follow-up of "+req.Station)
		return
	}
	fu := cloud.FollowUp{MeetingID: m.ID, Station: req.Station, At: s.o.Now(), By: a.User.Name, Outcome: req.Outcome, Note: strings.TrimSpace(req.Note)}
	if err := fu.Validate(); err != nil {
		s.badReqs.Inc("outcome")
		writeError(w, http.StatusBadRequest, err, "outcome")
		return
	}
	// Audited first: a follow-up that cannot be audited is not recorded.
	if err := s.audit(r, a, cloud.AuditFollowUp, "meeting "+m.ID+" station "+req.Station, fu.Note, fu.Outcome); err != nil {
		writeError(w, http.StatusServiceUnavailable, vetnet.Errorz(vetnet.EUNAVAILABLE, "无法记录审计日志，未保存", "The audit log cannot be written; nothing saved."), "")
		return
	}
	id, err := s.o.Meetings.Store.AddFollowUp(r.Context(), fu)
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	fu.ID = id
	if s.o.MeetingChanged != nil {
		s.o.MeetingChanged(m.ID)
	}
	writeJSON(w, http.StatusCreated, followUpViewOf(fu))
}
