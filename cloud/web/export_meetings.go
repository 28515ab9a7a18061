package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/roster"
)

// The attendance exports: one meeting's roster (attendance), the
// stations' attendance over a period (attendance-stations), and each
// person's roll-calls over a period or of a meeting (attendance-people,
// masked unless unmasked with a reason).
func init() {
	exporters["attendance"] = exporter{
		nameZH: "会议出勤", nameEN: "Meeting attendance",
		header: []string{"会议编号 Meeting", "会议 Title", "开始 Start", "站点编号 Station ID", "站点 Station", "层级 Level", "所属镇街 Town",
			"出勤 Status", "入会时间 Joined", "离会时间 Left", "在线秒数 Online s", "依据 Source", "补报 Reported late",
			"工作人员 Staff", "参会人数 People", "缺岗 Missing roles", "联系电话 Contact", "跟进 Follow-up"},
		prepare: func(s *Server, w http.ResponseWriter, r *http.Request, a *reqAuth, _ bool) func(context.Context, func([]any) error) error {
			ms, ok := s.exportMeetings(w, r, a)
			if !ok {
				return nil
			}
			reg := s.stationsByID()
			return func(ctx context.Context, emit func([]any) error) error {
				for _, m := range ms {
					ro, err := s.scopedRoster(ctx, m, a)
					if err != nil {
						return err
					}
					fus, err := s.o.Meetings.Store.FollowUps(ctx, m.ID)
					if err != nil {
						return err
					}
					last := map[string]string{}
					for _, f := range fus {
						last[f.Station] = cloud.FollowUpOutcomes[f.Outcome][0] + " " + f.Note
					}
					for _, st := range ro.Stations {
						var missing []string
						for _, x := range st.MissingRoles {
							missing = append(missing, x.Label("zh"))
						}
						joined, left := "", ""
						if st.JoinedAt != nil {
							joined = s.local(*st.JoinedAt)
						}
						if st.LeftAt != nil {
							left = s.local(*st.LeftAt)
						}
						if err := emit([]any{m.ID, m.Title, s.local(m.Start), st.ID, st.Name, string(st.Level), reg[st.Town].Name,
							st.Status.Label("zh") + " " + st.Status.Label("en"), joined, left, int64(st.OnlineFor / time.Second), st.Source,
							yesNo(st.ReportedLate), st.Staff, st.Persons, strings.Join(missing, "、"), st.Contact, last[st.ID]}); err != nil {
							return err
						}
					}
				}
				return nil
			}
		},
	}
	exporters["attendance-stations"] = exporter{
		nameZH: "站点出勤统计", nameEN: "Attendance by station",
		header: []string{"站点编号 Station ID", "站点 Station", "层级 Level", "所属镇街 Town", "应到 Invited", "按时 On time", "迟到 Late",
			"提前离会 Left early", "缺席 Absent", "出勤率 Attendance %", "工作人员人次 Staff", "参会人次 People"},
		prepare: func(s *Server, w http.ResponseWriter, r *http.Request, a *reqAuth, _ bool) func(context.Context, func([]any) error) error {
			ms, ok := s.exportMeetings(w, r, a)
			if !ok {
				return nil
			}
			reg := s.stationsByID()
			return func(ctx context.Context, emit func([]any) error) error {
				per := map[string]*roster.Tally{}
				for _, m := range ms {
					if m.Cancelled {
						continue
					}
					ro, err := s.scopedRoster(ctx, m, a)
					if err != nil {
						return err
					}
					for _, st := range ro.Stations {
						t := per[st.ID]
						if t == nil {
							t = &roster.Tally{Key: st.ID}
							per[st.ID] = t
						}
						addTally(t, st)
					}
				}
				for _, st := range s.o.Stations() {
					t := per[st.ID]
					if t == nil {
						continue
					}
					pct := 0.0
					if t.Expected > 0 {
						pct = float64(t.Joined) * 100 / float64(t.Expected)
					}
					if err := emit([]any{st.ID, st.Name, string(st.Level), reg[townOf(reg, st.ID)].Name, t.Expected, t.OnTime, t.Late,
						t.LeftEarly, t.Absent, pct, t.Staff, t.Persons}); err != nil {
						return err
					}
				}
				return nil
			}
		},
	}
	exporters["attendance-people"] = exporter{
		nameZH: "参会人员", nameEN: "Attendance by person", personal: true,
		header: []string{"签到时间 At", "会议编号 Meeting", "会议 Title", "站点编号 Station ID", "站点 Station", "身份 Kind",
			"工号 Staff ID", "工作人员 Staff", "岗位 Role", "姓名 Name", "证件号 ID number", "方式 Method", "补报 Reported late"},
		prepare: func(s *Server, w http.ResponseWriter, r *http.Request, a *reqAuth, unmasked bool) func(context.Context, func([]any) error) error {
			ms, ok := s.exportMeetings(w, r, a)
			if !ok {
				return nil
			}
			reg := s.stationsByID()
			return func(ctx context.Context, emit func([]any) error) error {
				for _, m := range ms {
					att, err := s.o.Meetings.Store.Attendance(ctx, cloud.AttendanceFilter{Meeting: m.ID, Stations: a.Stations()})
					if err != nil {
						return err
					}
					for _, x := range att {
						name, idn := x.Name, x.IDNumber
						if !unmasked {
							name, idn = vetnet.MaskName(name), vetnet.MaskIDNumber(idn)
						}
						kind := "工作人员 staff"
						role := ""
						if x.Kind == cloud.AttendPerson {
							kind = "参会人员 attendee"
						} else {
							role = x.Role.Label("zh")
						}
						if err := emit([]any{s.local(x.At), m.ID, m.Title, x.Station, reg[x.Station].Name, kind, x.Staff,
							staffName(reg[x.Station], x.Staff), role, name, idn, x.Method, yesNo(x.ReceivedAt.After(m.End))}); err != nil {
							return err
						}
					}
				}
				return nil
			}
		},
	}
}

func yesNo(b bool) string {
	if b {
		return "是 yes"
	}
	return "否 no"
}

func addTally(t *roster.Tally, st roster.Station) {
	t.Expected++
	switch st.Status {
	case roster.Joined:
		t.Joined++
		t.OnTime++
	case roster.Late:
		t.Joined++
		t.Late++
	case roster.LeftEarly:
		t.Joined++
		t.LeftEarly++
	case roster.Absent:
		t.Absent++
	case roster.Pending:
		t.Pending++
	}
	t.Staff += st.Staff
	t.Persons += st.Persons
}

func townOf(reg map[string]vetnet.Station, id string) string {
	seen := map[string]bool{}
	for id != "" && !seen[id] {
		seen[id] = true
		st, ok := reg[id]
		if !ok {
			return ""
		}
		if st.Level == vetnet.LevelTown {
			return id
		}
		id = st.Parent
	}
	return ""
}

// exportMeetings reads the meetings of an attendance export: ?meeting=ID,
// or those starting in [from, to) (dates; default the last 30 days), in
// the person's scope. It answers the request when it returns false.
func (s *Server) exportMeetings(w http.ResponseWriter, r *http.Request, a *reqAuth) ([]vetnet.Meeting, bool) {
	if s.o.Meetings.Store == nil || s.o.Meetings.Roster == nil {
		writeError(w, http.StatusServiceUnavailable, errMeetingsOff, "")
		return nil, false
	}
	q := r.URL.Query()
	if id := q.Get("meeting"); id != "" {
		m, err := s.o.Meetings.Store.Meeting(r.Context(), id)
		if err != nil {
			writeError(w, statusOf(err), err, "meeting")
			return nil, false
		}
		if !seesMeeting(a, m) {
			s.deny(w, r, a, "meeting "+id)
			return nil, false
		}
		return []vetnet.Meeting{m}, true
	}
	to := s.today().AddDate(0, 0, 1)
	from := to.AddDate(0, 0, -30)
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(p.name); v != "" {
			t, err := s.parseTime(v)
			if err != nil {
				s.badReqs.Inc(p.name)
				writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "参数 "+p.name+" 的时间格式无效", "Parameter "+p.name+" is not a valid time."), p.name)
				return nil, false
			}
			*p.dst = t
		}
	}
	f := cloud.MeetingFilter{Stations: a.Stations(), StartsBefore: to, WithCancelled: true, Limit: 10000}
	ms, err := s.o.Meetings.Store.Meetings(r.Context(), f)
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return nil, false
	}
	var out []vetnet.Meeting
	for _, m := range ms {
		if !m.Start.Before(from) {
			out = append(out, m)
		}
	}
	return out, true
}
