package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
)

// A person's requests under PIPL: export (a copy of what the hub holds
// about them) and erasure. Only the district administrator may do either;
// both need a reason and are audited before anything happens; if the
// audit log cannot be written, nothing is exported or erased. The ID number
// travels in the POST body, never in the URL, so it stays out of access
// logs; the audit entry names the person by the masked ID number only.

type personRequest struct {
	IDNumber string `json:"id_number"`
	Reason   string `json:"reason"`
	Confirm  bool   `json:"confirm"` // erase only: the dashboard's second confirmation
}

func (s *Server) readPersonRequest(w http.ResponseWriter, r *http.Request, a *reqAuth, erase bool) (personRequest, bool) {
	var req personRequest
	if err := readJSON(r, &req); err != nil {
		s.badReqs.Inc("body")
		writeError(w, http.StatusBadRequest, err, "")
		return req, false
	}
	if !a.CanManageUsers() {
		s.deny(w, r, a, "person data request")
		return req, false
	}
	req.IDNumber = strings.ToUpper(strings.TrimSpace(req.IDNumber))
	req.Reason = strings.TrimSpace(req.Reason)
	if req.IDNumber == "" || len(req.IDNumber) > 64 {
		s.badReqs.Inc("id_number")
		writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "请填写证件号码", "Enter the ID number."), "id_number")
		return req, false
	}
	if req.Reason == "" || len([]rune(req.Reason)) > 200 {
		s.badReqs.Inc("reason")
		writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "需要填写事由(最多 200 字)",
			"A reason is required (at most 200 characters)."), "reason")
		return req, false
	}
	if erase && !req.Confirm {
		s.badReqs.Inc("confirm")
		writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "删除需要再次确认", "Erasure needs confirmation."), "confirm")
		return req, false
	}
	return req, true
}

type personCheckIn struct {
	ID         string    `json:"id"`
	Station    string    `json:"station"`
	At         time.Time `json:"at"`
	ReceivedAt time.Time `json:"received_at"`
	Service    string    `json:"service"`
	Method     string    `json:"method"`
	QueueNo    string    `json:"queue_no"`
	IDNumber   string    `json:"id_number"`
	Name       string    `json:"name"`
	Doc        string    `json:"doc"`
	Detail     string    `json:"detail,omitempty"`
}

type personRating struct {
	ID      string    `json:"id"`
	CheckIn string    `json:"checkin"`
	Station string    `json:"station"`
	At      time.Time `json:"at"`
	Service string    `json:"service"`
	Rating  int       `json:"rating"`
	Reasons []string  `json:"reasons"`
	Comment string    `json:"comment"`
}

// personExport: POST /api/v1/people/export {"id_number", "reason"} returns
// everything the hub holds about the person, in full.
func (s *Server) personExport(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	req, ok := s.readPersonRequest(w, r, a, false)
	if !ok {
		return
	}
	pd, err := s.o.Store.PersonData(r.Context(), req.IDNumber)
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	detail := fmt.Sprintf("%d check-ins, %d ratings", len(pd.CheckIns), len(pd.Feedback))
	if err := s.audit(r, a, cloud.AuditPersonExport, "person "+vetnet.MaskIDNumber(req.IDNumber), req.Reason, detail); err != nil {
		writeError(w, http.StatusServiceUnavailable, vetnet.Errorz(vetnet.EUNAVAILABLE, "无法记录审计日志，未导出", "The audit log cannot be written; nothing exported."), "")
		return
	}
	out := struct {
		IDNumber   string          `json:"id_number"`
		ExportedAt time.Time       `json:"exported_at"`
		CheckIns   []personCheckIn `json:"checkins"`
		Ratings    []personRating  `json:"ratings"`
	}{IDNumber: req.IDNumber, ExportedAt: s.o.Now().UTC(), CheckIns: []personCheckIn{}, Ratings: []personRating{}}
	for _, c := range pd.CheckIns {
		out.CheckIns = append(out.CheckIns, personCheckIn{ID: c.ID, Station: c.StationID, At: c.At, ReceivedAt: c.ReceivedAt,
			Service: string(c.Service), Method: string(c.Method), QueueNo: c.QueueNo, IDNumber: c.Visitor.IDNumber,
			Name: c.Visitor.Name, Doc: string(c.Visitor.DocType), Detail: c.Detail})
	}
	for _, f := range pd.Feedback {
		pr := personRating{ID: f.ID, CheckIn: f.CheckInID, Station: f.StationID, At: f.At, Service: string(f.Service),
			Rating: int(f.Rating), Reasons: []string{}, Comment: f.Comment}
		for _, rs := range f.Reasons {
			pr.Reasons = append(pr.Reasons, string(rs))
		}
		out.Ratings = append(out.Ratings, pr)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

// personErase: POST /api/v1/people/erase {"id_number", "reason",
// "confirm": true} removes the person's ID number and name from their
// check-ins and the comments from their ratings; counts stay.
func (s *Server) personErase(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	req, ok := s.readPersonRequest(w, r, a, true)
	if !ok {
		return
	}
	target := "person " + vetnet.MaskIDNumber(req.IDNumber)
	if err := s.audit(r, a, cloud.AuditPersonErase, target, req.Reason, "requested"); err != nil {
		writeError(w, http.StatusServiceUnavailable, vetnet.Errorz(vetnet.EUNAVAILABLE, "无法记录审计日志，未删除", "The audit log cannot be written; nothing erased."), "")
		return
	}
	e, err := s.o.Store.ErasePerson(r.Context(), req.IDNumber, s.o.Now())
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	// The outcome too, so the log shows what the request did.
	_ = s.audit(r, a, cloud.AuditPersonErase, target, req.Reason, fmt.Sprintf("erased: %d check-ins, %d rating comments", e.CheckIns, e.Feedback))
	writeJSON(w, http.StatusOK, struct {
		CheckIns int `json:"checkins"`
		Ratings  int `json:"ratings"`
	}{e.CheckIns, e.Feedback})
}
