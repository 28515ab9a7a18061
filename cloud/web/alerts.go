package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
)

type alertView struct {
	ID              int64      `json:"id"`
	Rule            string     `json:"rule"`
	RuleZH          string     `json:"rule_zh"`
	RuleEN          string     `json:"rule_en"`
	Station         string     `json:"station"`
	StationName     string     `json:"station_name"`
	StationNameEN   string     `json:"station_name_en"`
	Subject         string     `json:"subject"`
	State           string     `json:"state"`
	StateZH         string     `json:"state_zh"`
	StateEN         string     `json:"state_en"`
	MessageZH       string     `json:"message_zh"`
	MessageEN       string     `json:"message_en"`
	OpenedAt        time.Time  `json:"opened_at"`
	Due             *time.Time `json:"due"`
	Overdue         bool       `json:"overdue"`
	ClearedAt       *time.Time `json:"cleared_at"`
	AckAt           *time.Time `json:"ack_at"`
	AckBy           string     `json:"ack_by"`
	AckComment      string     `json:"ack_comment"`
	ResolvedAt      *time.Time `json:"resolved_at"`
	ResolvedBy      string     `json:"resolved_by"`
	ResolvedComment string     `json:"resolved_comment"`
}

func (s *Server) alertViewOf(a cloud.Alert, st vetnet.Station) alertView {
	return alertView{ID: a.ID, Rule: string(a.Rule), RuleZH: a.Rule.Label("zh"), RuleEN: a.Rule.Label("en"),
		Station: a.Station, StationName: st.Name, StationNameEN: st.NameEN, Subject: a.Subject,
		State: string(a.State), StateZH: a.State.Label("zh"), StateEN: a.State.Label("en"),
		MessageZH: a.MessageZH, MessageEN: a.MessageEN, OpenedAt: a.OpenedAt.UTC(), Due: timePtr(a.Due),
		Overdue:   !a.Due.IsZero() && a.State != cloud.AlertResolved && s.o.Now().After(a.Due),
		ClearedAt: timePtr(a.ClearedAt), AckAt: timePtr(a.AckAt), AckBy: a.AckBy, AckComment: a.AckComment,
		ResolvedAt: timePtr(a.ResolvedAt), ResolvedBy: a.ResolvedBy, ResolvedComment: a.ResolvedComment}
}

type alertsResponse struct {
	Alerts []alertView `json:"alerts"`
	Next   string      `json:"next"`
}

// alertFilter reads the filter of alert lists and exports, within the
// person's scope. It answers the request itself when it returns false.
func (s *Server) alertFilter(w http.ResponseWriter, r *http.Request, a *reqAuth) (cloud.AlertFilter, bool) {
	q := r.URL.Query()
	f := cloud.AlertFilter{Stations: a.Stations(), Cursor: q.Get("cursor")}
	bad := func(param string, err error) (cloud.AlertFilter, bool) {
		s.badReqs.Inc(param)
		writeError(w, http.StatusBadRequest, err, param)
		return f, false
	}
	switch v := q.Get("state"); v {
	case "":
	case "active":
		f.States = []cloud.AlertState{cloud.AlertOpen, cloud.AlertAcknowledged}
	case "open", "acknowledged", "resolved":
		f.States = []cloud.AlertState{cloud.AlertState(v)}
	default:
		return bad("state", vetnet.Errorz(vetnet.EINVALID, "参数 state 应为 active、open、acknowledged 或 resolved",
			"Parameter state must be active, open, acknowledged or resolved."))
	}
	if v := q.Get("rule"); v != "" {
		switch cloud.AlertRule(v) {
		case cloud.RuleOffline, cloud.RuleBacklog, cloud.RuleReaderFault, cloud.RuleDiskLow, cloud.RuleBadRating:
			f.Rule = cloud.AlertRule(v)
		default:
			return bad("rule", vetnet.Errorz(vetnet.EINVALID, "未知的告警规则", "Unknown alert rule."))
		}
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := s.parseTime(v)
			if err != nil {
				return bad(p.name, vetnet.Errorz(vetnet.EINVALID, "参数 "+p.name+" 的时间格式无效", "Parameter "+p.name+" is not a valid time."))
			}
			*p.dst = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > cloud.MaxLimit {
			return bad("limit", vetnet.Errorz(vetnet.EINVALID, "参数 limit 应为 1 到 500 之间的整数", "Parameter limit must be a whole number from 1 to 500."))
		}
		f.Limit = n
	}
	for _, name := range []string{"station", "under"} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		if !a.Sees(v) {
			s.deny(w, r, a, "alerts of "+v)
			return f, false
		}
		ids := []string{v}
		if name == "under" {
			ids = ids[:0]
			for _, id := range cloud.Subtree(s.o.Stations(), v) {
				if a.Sees(id) {
					ids = append(ids, id)
				}
			}
		}
		f.Stations = ids
	}
	return f, true
}

func (s *Server) alerts(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	f, ok := s.alertFilter(w, r, a)
	if !ok {
		return
	}
	p, err := s.o.Store.Alerts(r.Context(), f)
	if err != nil {
		code := statusOf(err)
		if vetnet.ErrorCode(err) == vetnet.EINVALID {
			s.badReqs.Inc("cursor")
		}
		writeError(w, code, err, "")
		return
	}
	names := s.names()
	out := alertsResponse{Alerts: []alertView{}, Next: p.Next}
	for _, x := range p.Alerts {
		out.Alerts = append(out.Alerts, s.alertViewOf(x, names[x.Station]))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) names() map[string]vetnet.Station {
	m := map[string]vetnet.Station{}
	for _, st := range s.o.Stations() {
		m[st.ID] = st
	}
	return m
}

// alertAction acknowledges or resolves an alert: POST
// /api/v1/alerts/{id}/ack or /resolve with {"comment": "..."}.
func (s *Server) alertAction(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, vetnet.Errorz(vetnet.ENOTFOUND, "没有这条告警", "No such alert."), "")
		return
	}
	var req struct {
		Comment string `json:"comment"`
	}
	if err := readJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err, "")
		return
	}
	req.Comment = strings.TrimSpace(req.Comment)
	if len([]rune(req.Comment)) > 500 {
		writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "说明最多 500 字", "A comment has at most 500 characters."), "comment")
		return
	}
	x, err := s.o.Store.Alert(r.Context(), id)
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	if !a.Sees(x.Station) {
		s.deny(w, r, a, "alert "+strconv.FormatInt(id, 10))
		return
	}
	resolve := strings.HasSuffix(r.URL.Path, "/resolve")
	fn, action := s.o.Alerts.Ack, cloud.AuditAlertAck
	if resolve {
		fn, action = s.o.Alerts.Resolve, cloud.AuditAlertResolve
	}
	if fn == nil {
		writeError(w, http.StatusServiceUnavailable, vetnet.Errorz(vetnet.EUNAVAILABLE, "告警处理不可用", "Alert handling is not available."), "")
		return
	}
	x, err = fn(r.Context(), id, a.User.Name, req.Comment)
	if err != nil {
		param := ""
		if vetnet.ErrorCode(err) == vetnet.EINVALID {
			param = "comment"
		}
		writeError(w, statusOf(err), err, param)
		return
	}
	s.audit(r, a, action, "alert "+strconv.FormatInt(id, 10)+" ("+string(x.Rule)+" "+x.Station+")", req.Comment, "")
	writeJSON(w, http.StatusOK, s.alertViewOf(x, s.names()[x.Station]))
}
