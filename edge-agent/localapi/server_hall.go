package localapi

import (
	"context"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/vetnet/vetnet"
)

// MaxQueryLen bounds the visitors' search text in characters.
const MaxQueryLen = 32

// maxSessionLen bounds a staff session token as it comes in (the agent's
// are 32 hex digits).
const maxSessionLen = 128

func (s *Server) hallRoutes() {
	s.mux.HandleFunc(PathQueue, s.method(http.MethodGet, s.queue))
	s.mux.HandleFunc(PathQueueCall, s.method(http.MethodPost, hallPost(s, func() func(context.Context, CallRequest) (Ticket, error) { return s.b.Call }, s.checkCall)))
	s.mux.HandleFunc(PathQueueServed, s.method(http.MethodPost, hallPost(s, func() func(context.Context, TicketAction) (Ticket, error) { return s.b.Served }, checkAction)))
	s.mux.HandleFunc(PathQueueNoShow, s.method(http.MethodPost, hallPost(s, func() func(context.Context, TicketAction) (Ticket, error) { return s.b.NoShow }, checkAction)))
	s.mux.HandleFunc(PathQueueRecall, s.method(http.MethodPost, hallPost(s, func() func(context.Context, TicketAction) (Ticket, error) { return s.b.Recall }, checkAction)))
	s.mux.HandleFunc(PathQueueTransfer, s.method(http.MethodPost, hallPost(s, func() func(context.Context, TransferRequest) (Ticket, error) { return s.b.Transfer }, s.checkTransfer)))
	s.mux.HandleFunc(PathVisitors, s.method(http.MethodGet, s.visitors))
	s.mux.HandleFunc(PathDuty, s.duty)
	s.mux.HandleFunc(PathPrint, s.method(http.MethodPost, s.print))
}

var errNoHall = vetnet.Errorz(vetnet.ENOTFOUND, "本站未开通排队叫号", "This station has no queue.")

// hallPost serves a POST whose JSON body is Req: decoded strictly, checked
// and trimmed by check, answered by the backend function fn returns (nil:
// 404).
func hallPost[Req, Resp any](s *Server, fn func() func(context.Context, Req) (Resp, error), check func(*Req) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		call := fn()
		if call == nil {
			s.writeError(w, errNoHall)
			return
		}
		var req Req
		if err := s.decode(w, r, &req); err != nil {
			s.writeError(w, err)
			return
		}
		if err := check(&req); err != nil {
			s.writeError(w, err)
			return
		}
		resp, err := call(r.Context(), req)
		if err != nil {
			s.writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, resp)
	}
}

func checkSession(session *string) error {
	*session = strings.TrimSpace(*session)
	if len(*session) > maxSessionLen {
		return vetnet.Errorz(vetnet.EINVALID, "工作人员登录凭据无效", "The staff session is malformed.")
	}
	return nil
}

func checkCheckInID(id *string) error {
	*id = strings.TrimSpace(*id)
	if vetnet.ValidateCheckInID(*id) != nil {
		return vetnet.Errorz(vetnet.EINVALID, "签到编号无效", "The check-in ID is not valid.")
	}
	return nil
}

// offered checks a service key against the station's menu.
func (s *Server) offered(key *string) error {
	*key = strings.TrimSpace(*key)
	sv, err := vetnet.ParseService(*key)
	if err != nil {
		return err
	}
	if !offers(s.b.Status().Station, sv) {
		return vetnet.Errorz(vetnet.EINVALID, "本站不提供该服务", "This station does not offer that service.")
	}
	return nil
}

func (s *Server) checkCall(req *CallRequest) error {
	if err := checkSession(&req.StaffSession); err != nil {
		return err
	}
	req.Counter = strings.TrimSpace(req.Counter)
	if err := vetnet.ValidateCounter(req.Counter); err != nil {
		return err
	}
	return s.offered(&req.Service)
}

func checkAction(req *TicketAction) error {
	if err := checkSession(&req.StaffSession); err != nil {
		return err
	}
	return checkCheckInID(&req.CheckInID)
}

func (s *Server) checkTransfer(req *TransferRequest) error {
	if err := checkSession(&req.StaffSession); err != nil {
		return err
	}
	if err := checkCheckInID(&req.CheckInID); err != nil {
		return err
	}
	return s.offered(&req.Service)
}

func (s *Server) queue(w http.ResponseWriter, r *http.Request) {
	if s.b.Queue == nil {
		s.writeError(w, errNoHall)
		return
	}
	q, err := s.b.Queue()
	if err != nil {
		s.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, q)
}

// visitors answers GET /v1/visitors?staff_session=…&q=…: the query takes
// these two parameters only, each at most once.
func (s *Server) visitors(w http.ResponseWriter, r *http.Request) {
	if s.b.Visitors == nil {
		s.writeError(w, errNoHall)
		return
	}
	query := r.URL.Query()
	for name, vs := range query {
		if name != "q" && name != "staff_session" {
			s.writeError(w, vetnet.Errorz(vetnet.EINVALID, "未知的查询参数", "Unknown query parameter "+name+"."))
			return
		}
		if len(vs) > 1 {
			s.writeError(w, vetnet.Errorz(vetnet.EINVALID, "查询参数重复", "Query parameter "+name+" is repeated."))
			return
		}
	}
	session, q := query.Get("staff_session"), strings.TrimSpace(query.Get("q"))
	if err := checkSession(&session); err != nil {
		s.writeError(w, err)
		return
	}
	if !utf8.ValidString(q) || utf8.RuneCountInString(q) > MaxQueryLen || strings.ContainsFunc(q, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
		s.writeError(w, vetnet.Errorz(vetnet.EINVALID, "查询内容过长或含有非法字符", "The search text is too long or has control characters."))
		return
	}
	l, err := s.b.Visitors(r.Context(), session, q)
	if err != nil {
		s.writeError(w, err)
		return
	}
	if l.Visitors == nil {
		l.Visitors = []VisitorEntry{}
	}
	writeJSON(w, http.StatusOK, l)
}

// duty answers GET (who is on duty) and POST (sign on or off).
func (s *Server) duty(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if s.b.Duty == nil {
			s.writeError(w, errNoStaff)
			return
		}
		d, err := s.b.Duty()
		if err != nil {
			s.writeError(w, err)
			return
		}
		if d.OnDuty == nil {
			d.OnDuty = []OnDuty{}
		}
		writeJSON(w, http.StatusOK, d)
	case http.MethodPost:
		hallPost(s, func() func(context.Context, DutyRequest) (DutyStatus, error) { return s.b.SetDuty },
			func(req *DutyRequest) error { return checkSession(&req.StaffSession) })(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, ErrorBody{Error: ErrorDetail{Code: vetnet.EINVALID,
			Message: "Use GET or POST here.", MessageZH: "请求方法不正确"}})
	}
}

func (s *Server) print(w http.ResponseWriter, r *http.Request) {
	if s.b.Print == nil {
		s.writeError(w, vetnet.Errorz(vetnet.ENOTFOUND, "本站没有打印机", "This station has no printer."))
		return
	}
	var req PrintRequest
	if err := s.decode(w, r, &req); err != nil {
		s.writeError(w, err)
		return
	}
	if err := checkSession(&req.StaffSession); err != nil {
		s.writeError(w, err)
		return
	}
	if err := checkCheckInID(&req.CheckInID); err != nil {
		s.writeError(w, err)
		return
	}
	if err := s.b.Print(r.Context(), req); err != nil {
		s.writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
