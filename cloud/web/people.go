package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/auth"
)

// unmask shows one check-in's full ID number and name: POST
// /api/v1/checkins/{id}/unmask with {"reason": "..."}. The audit entry is
// written before the answer; if it cannot be written, nothing is shown.
func (s *Server) unmask(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := readJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err, "")
		return
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if req.Reason == "" || len([]rune(req.Reason)) > 200 {
		writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "查看完整信息需要填写事由(最多 200 字)",
			"Showing full personal data needs a reason (at most 200 characters)."), "reason")
		return
	}
	if !a.CanUnmask() {
		s.deny(w, r, a, "unmask not allowed for role")
		return
	}
	c, err := s.o.Store.CheckIn(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	if !a.Sees(c.StationID) {
		s.deny(w, r, a, "unmask at "+c.StationID)
		return
	}
	if err := s.audit(r, a, cloud.AuditUnmask, "checkin "+c.ID+" ("+c.StationID+")", req.Reason, ""); err != nil {
		writeError(w, http.StatusServiceUnavailable, vetnet.Errorz(vetnet.EUNAVAILABLE, "无法记录审计日志，未显示", "The audit log cannot be written; nothing shown."), "")
		return
	}
	writeJSON(w, http.StatusOK, struct {
		ID       string `json:"id"`
		IDNumber string `json:"id_number"`
		Name     string `json:"name"`
		Doc      string `json:"doc"`
	}{c.ID, c.Visitor.IDNumber, c.Visitor.Name, string(c.Visitor.DocType)})
}

type auditView struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	User     string    `json:"user"`
	Role     string    `json:"role"`
	RoleZH   string    `json:"role_zh"`
	Action   string    `json:"action"`
	ActionZH string    `json:"action_zh"`
	ActionEN string    `json:"action_en"`
	Target   string    `json:"target"`
	Reason   string    `json:"reason"`
	Detail   string    `json:"detail"`
	Addr     string    `json:"addr"`
}

var auditNames = map[cloud.AuditAction][2]string{
	cloud.AuditSignIn:       {"登录", "Signed in"},
	cloud.AuditSignInFailed: {"登录失败", "Sign-in failed"},
	cloud.AuditSignOut:      {"退出", "Signed out"},
	cloud.AuditUnmask:       {"查看完整信息", "Unmasked"},
	cloud.AuditExport:       {"导出", "Exported"},
	cloud.AuditAlertAck:     {"确认告警", "Acknowledged alert"},
	cloud.AuditAlertResolve: {"解决告警", "Resolved alert"},
	cloud.AuditUserChange:   {"人员变更", "Changed user"},
	cloud.AuditDenied:       {"拒绝访问", "Access denied"},
	cloud.AuditPersonExport: {"导出个人数据", "Exported a person's data"},
	cloud.AuditPersonErase:  {"删除个人数据", "Erased a person's data"},
	cloud.AuditMeeting:      {"会议安排", "Meeting scheduled or changed"},
	cloud.AuditFollowUp:     {"缺席回访", "Absence followed up"},
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	if !a.CanReadAudit() {
		s.deny(w, r, a, "audit log")
		return
	}
	q := r.URL.Query()
	f := cloud.AuditFilter{User: q.Get("user"), Action: cloud.AuditAction(q.Get("action")), Cursor: q.Get("cursor")}
	if f.Action != "" {
		if _, ok := auditNames[f.Action]; !ok {
			s.badReqs.Inc("action")
			writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "未知的操作类型", "Unknown action."), "action")
			return
		}
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
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
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > cloud.MaxLimit {
			s.badReqs.Inc("limit")
			writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "参数 limit 应为 1 到 500 之间的整数", "Parameter limit must be a whole number from 1 to 500."), "limit")
			return
		}
		f.Limit = n
	}
	p, err := s.o.Store.Audit(r.Context(), f)
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	out := struct {
		Entries []auditView `json:"entries"`
		Next    string      `json:"next"`
	}{Entries: []auditView{}, Next: p.Next}
	for _, e := range p.Entries {
		n := auditNames[e.Action]
		out.Entries = append(out.Entries, auditView{ID: e.ID, At: e.At.UTC(), User: e.User, Role: string(e.Role), RoleZH: e.Role.Label("zh"),
			Action: string(e.Action), ActionZH: n[0], ActionEN: n[1], Target: e.Target, Reason: e.Reason, Detail: e.Detail, Addr: e.Addr})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) users(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	if !a.CanManageUsers() && !a.CanReadAudit() {
		s.deny(w, r, a, "users")
		return
	}
	us, err := s.o.Store.Users(r.Context())
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	out := struct {
		Users []userView `json:"users"`
	}{Users: []userView{}}
	for _, u := range us {
		out.Users = append(out.Users, s.userViewOf(u))
	}
	writeJSON(w, http.StatusOK, out)
}

// putUser adds a person or changes one (role, station, password,
// disabled): POST /api/v1/users. District administrators only.
func (s *Server) putUser(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	if !a.CanManageUsers() {
		s.deny(w, r, a, "manage users")
		return
	}
	var req struct {
		Name        string `json:"name"`
		DisplayName string `json:"display_name"`
		Role        string `json:"role"`
		Station     string `json:"station"`
		Password    string `json:"password"` // empty keeps the current one (for a change)
		Disabled    bool   `json:"disabled"`
	}
	if err := readJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err, "")
		return
	}
	u, err := s.o.Store.User(r.Context(), req.Name)
	isNew := vetnet.ErrorCode(err) == vetnet.ENOTFOUND
	if err != nil && !isNew {
		writeError(w, statusOf(err), err, "")
		return
	}
	name := strings.TrimSpace(req.Name)
	if name == "" || len(name) > 64 || strings.ContainsAny(name, " \t\r\n/") {
		writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "用户名无效", "The user name is not valid."), "name")
		return
	}
	role := cloud.Role(req.Role)
	if !role.Valid() {
		writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "角色应为 district_admin、town_admin、station_staff 或 auditor",
			"Role must be district_admin, town_admin, station_staff or auditor."), "role")
		return
	}
	if role.NeedsStation() {
		st, ok := s.names()[req.Station]
		if !ok || (role == cloud.RoleTownAdmin && st.Level != vetnet.LevelTown) {
			writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "镇级管理员需要镇(街道)站点，工作人员需要所在站点",
				"A town administrator needs a town station; station staff need their station."), "station")
			return
		}
	} else {
		req.Station = ""
	}
	if name == a.User.Name && (role != cloud.RoleDistrictAdmin || req.Disabled) {
		writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "不能降低或停用自己的账号", "You cannot demote or disable yourself."), "role")
		return
	}
	if isNew && req.Password == "" {
		writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "新用户需要密码", "A new user needs a password."), "password")
		return
	}
	if req.Password != "" {
		if err := auth.CheckPasswordPolicy(req.Password); err != nil {
			writeError(w, http.StatusBadRequest, err, "password")
			return
		}
		if u.PasswordHash, err = auth.HashPassword(req.Password); err != nil {
			writeError(w, statusOf(err), err, "")
			return
		}
	}
	u.Name, u.DisplayName, u.Role, u.Station, u.Disabled = name, req.DisplayName, role, req.Station, req.Disabled
	if isNew {
		u.CreatedAt = s.o.Now()
	}
	if err := s.o.Store.PutUser(r.Context(), u); err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	detail := "role " + string(role)
	if u.Station != "" {
		detail += " at " + u.Station
	}
	if req.Password != "" {
		detail += ", password set"
	}
	if u.Disabled {
		detail += ", disabled"
	}
	s.audit(r, a, cloud.AuditUserChange, "user "+name, "", detail)
	code := http.StatusOK
	if isNew {
		code = http.StatusCreated
	}
	writeJSON(w, code, s.userViewOf(u))
}
