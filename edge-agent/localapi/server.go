package localapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/internal/httpstatus"
)

// Defaults of ServerOptions.
const (
	DefaultPingInterval = 15 * time.Second
	DefaultMaxBody      = 16 << 10
	// subscriberBuffer is how many events may wait for one slow stream
	// before the server drops that stream; the kiosk reconnects and
	// starts again from a fresh status.
	subscriberBuffer = 64
)

// CheckInInput is a check-in request after the server checked its form:
// exactly one of Token and Visitor is set, and Service is offered by the
// station.
type CheckInInput struct {
	Token        string          // from a CardEvent
	Visitor      *vetnet.Visitor // typed by staff: a normalised, valid ID number; Method manual
	Service      vetnet.Service
	StaffSession string // with Visitor: the session of the staff member typing it
	Detail       string // the service's sub-choice, checked against the service's options; may be empty
	// Meeting: the check-in answers this meeting's roll-call; Service is
	// then training, whatever the station's menu offers.
	Meeting string
}

// Backend is what the server serves: the agent in production, fakes in
// tests.
type Backend struct {
	// Status returns the agent's state; required.
	Status func() Status
	// CheckIn commits a check-in and returns only once it is durable;
	// required. Errors: EEXPIRED (token unknown, used or expired), EINVALID,
	// EFULL, EINTERNAL.
	CheckIn func(ctx context.Context, in CheckInInput) (CheckInResponse, error)
	// SimTap makes the simulated reader read a card (nil visitor: a
	// synthetic one; empty fields are filled). Nil when the agent has no
	// simulated reader: the path then answers 404 ENOTFOUND.
	SimTap func(v *vetnet.Visitor) error
	// Staff returns the roster. Nil means none (an empty list).
	Staff func() StaffList
	// StaffLogin checks a PIN and opens a session. Nil answers 404
	// ENOTFOUND. Errors: EINVALID (wrong PIN), EFULL (locked out).
	StaffLogin func(ctx context.Context, req StaffLoginRequest) (StaffSession, error)
	// StaffLogout ends a session. Nil answers 404 ENOTFOUND.
	StaffLogout func(session string) error
	// Feedback commits a rating of a visit; nil answers 404 ENOTFOUND.
	// Errors: EINVALID, ENOTFOUND, ECONFLICT, EFULL, EINTERNAL.
	Feedback func(ctx context.Context, in FeedbackInput) (FeedbackResponse, error)

	// The hall (queue.go). Each nil function answers 404 ENOTFOUND. The
	// server checks the form of each request (known and offered service,
	// check-in ID, counter, search text, strict JSON) and passes it
	// trimmed; the backend checks the staff session (EEXPIRED).

	// Queue returns the queue of the day.
	Queue func() (QueueStatus, error)
	// Call calls the next waiting ticket. Errors: ENOTFOUND (nobody
	// waits), EEXPIRED, EFULL.
	Call func(ctx context.Context, req CallRequest) (Ticket, error)
	// Served, NoShow and Recall mark a called ticket. Errors: ENOTFOUND,
	// ECONFLICT (not called), EEXPIRED, EFULL.
	Served func(ctx context.Context, req TicketAction) (Ticket, error)
	NoShow func(ctx context.Context, req TicketAction) (Ticket, error)
	Recall func(ctx context.Context, req TicketAction) (Ticket, error)
	// Transfer moves a ticket to another service. Errors: ENOTFOUND,
	// ECONFLICT (done), EINVALID (same service), EEXPIRED, EFULL.
	Transfer func(ctx context.Context, req TransferRequest) (Ticket, error)
	// Visitors lists today's visitors matching q. Errors: EEXPIRED.
	Visitors func(ctx context.Context, staffSession, q string) (VisitorList, error)
	// Duty returns who is on duty.
	Duty func() (DutyStatus, error)
	// SetDuty signs the session's member on or off duty. Errors:
	// EEXPIRED, ENOTFOUND (no roster), EFULL.
	SetDuty func(ctx context.Context, req DutyRequest) (DutyStatus, error)
	// Print prints a visit's ticket again. Errors: ENOTFOUND (no such
	// ticket today, or no printer), EUNAVAILABLE (printer fault),
	// EEXPIRED (a session given and ended).
	Print func(ctx context.Context, req PrintRequest) error

	// Meetings returns the station's meetings (meetings.go); nil: none.
	Meetings func() Meetings
	// RollCall records a staff member present at a meeting. Nil answers
	// 404. Errors: EEXPIRED (no staff session), ENOTFOUND (no such meeting
	// here), ECONFLICT (cancelled, or not under way), EFULL.
	RollCall func(ctx context.Context, req RollCallRequest) (RollCallResponse, error)
}

// FeedbackInput is a checked FeedbackRequest.
type FeedbackInput struct {
	CheckInID string
	Rating    vetnet.Rating
	Reasons   []vetnet.Reason
	Comment   string
}

// ServerOptions configure a Server.
type ServerOptions struct {
	// Addr is where Open listens. Default DefaultAddr; port 0 picks a
	// free port (see Server.Addr).
	Addr string
	// AllowRemote lets Open listen on addresses other than loopback. The
	// API has no authentication: it must stay on the device unless a
	// network in front of it is trusted. Default false.
	AllowRemote bool
	// PingInterval is how often an idle event stream gets a ": ping"
	// comment, so proxies and the kiosk notice a dead connection. Default
	// 15 s.
	PingInterval time.Duration
	// MaxBody bounds request bodies in bytes. Default 16 KiB.
	MaxBody int64
	// Now is the clock used to validate birth dates in ID numbers.
	// Default time.Now.
	Now func() time.Time
	// Logf logs server errors (never request bodies). Default: none.
	Logf func(format string, a ...any)
}

// ServerStats count requests.
type ServerStats struct {
	Requests    int64 // all requests
	BadRequests int64 // answered 4xx
	Failures    int64 // answered 5xx
	Streams     int64 // event streams open now
	Dropped     int64 // event streams dropped for being too slow
}

// Server is the agent's HTTP server for the kiosk.
type Server struct {
	b    Backend
	opts ServerOptions
	mux  *http.ServeMux

	requests, bad, failures, dropped atomic.Int64

	mu   sync.Mutex
	subs map[*subscriber]struct{}
	ln   net.Listener
	http *http.Server

	done      chan struct{}
	closeOnce sync.Once
}

type subscriber struct {
	ch      chan []byte
	dropped chan struct{}
}

// NewServer returns a server for b; Open starts it, or use Handler with
// a server of your own.
func NewServer(b Backend, opts ServerOptions) *Server {
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	s := &Server{b: b, opts: opts, subs: map[*subscriber]struct{}{}, done: make(chan struct{})}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc(PathHealth, s.method(http.MethodGet, s.health))
	s.mux.HandleFunc(PathStatus, s.method(http.MethodGet, s.status))
	s.mux.HandleFunc(PathEvents, s.method(http.MethodGet, s.events))
	s.mux.HandleFunc(PathCheckIns, s.method(http.MethodPost, s.checkIn))
	s.mux.HandleFunc(PathFeedback, s.method(http.MethodPost, s.feedback))
	s.mux.HandleFunc(PathSimTap, s.method(http.MethodPost, s.simTap))
	s.mux.HandleFunc(PathStaff, s.method(http.MethodGet, s.staff))
	s.mux.HandleFunc(PathStaffLogin, s.method(http.MethodPost, s.staffLogin))
	s.mux.HandleFunc(PathStaffLogout, s.method(http.MethodPost, s.staffLogout))
	s.hallRoutes()
	s.meetingRoutes()
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, vetnet.Errorz(vetnet.ENOTFOUND, "没有这个接口", "No such path."))
	})
	return s
}

// method answers other methods than m with 405 and an ErrorBody.
func (s *Server) method(m string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != m && !(m == http.MethodGet && r.Method == http.MethodHead) {
			w.Header().Set("Allow", m)
			writeJSON(w, http.StatusMethodNotAllowed, ErrorBody{Error: ErrorDetail{Code: vetnet.EINVALID,
				Message: "Use " + m + " here.", MessageZH: "请求方法不正确"}})
			return
		}
		h(w, r)
	}
}

// Handler returns the API's handler.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		rec := &httpstatus.Recorder{ResponseWriter: w}
		s.mux.ServeHTTP(rec, r)
		switch {
		case rec.Code >= 500:
			s.failures.Add(1)
		case rec.Code >= 400:
			s.bad.Add(1)
		}
	})
}

// IsLoopback reports whether addr (host:port) names a loopback host.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Open listens on Addr and serves in the background.
//
// Errors: EINVALID (a non-loopback address without AllowRemote),
// EUNAVAILABLE (the address is in use or cannot be bound).
func (s *Server) Open() error {
	if !s.opts.AllowRemote && !IsLoopback(s.opts.Addr) {
		return vetnet.Errorz(vetnet.EINVALID, "本地接口只能监听本机回环地址", "The local API listens on loopback addresses only ("+s.opts.Addr+").")
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return vetnet.Wrap(vetnet.EUNAVAILABLE, err, "本地接口端口不可用", "The local API's address is not available.")
	}
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.ln, s.http = ln, hs
	s.mu.Unlock()
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.opts.Logf("localapi: serve: %v", err)
		}
	}()
	return nil
}

// Addr returns the address Open listens on, with the port it picked.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return s.opts.Addr
	}
	return s.ln.Addr().String()
}

// Close ends the event streams and stops the server. Safe to call more
// than once.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.done)
		s.mu.Lock()
		hs := s.http
		s.mu.Unlock()
		if hs == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err = hs.Shutdown(ctx); err != nil {
			err = hs.Close()
		}
	})
	return err
}

// Stats returns the counters.
func (s *Server) Stats() ServerStats {
	s.mu.Lock()
	streams := int64(len(s.subs))
	s.mu.Unlock()
	return ServerStats{Requests: s.requests.Load(), BadRequests: s.bad.Load(), Failures: s.failures.Load(),
		Streams: streams, Dropped: s.dropped.Load()}
}

// Broadcast sends an event to every open stream. It never blocks: a
// stream that cannot keep up is dropped.
func (s *Server) Broadcast(typ string, v any) {
	var buf bytes.Buffer
	if err := WriteSSE(&buf, typ, v); err != nil {
		s.opts.Logf("localapi: encode %s event: %v", typ, err)
		return
	}
	msg := buf.Bytes()
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.subs {
		select {
		case sub.ch <- msg:
		default:
			delete(s.subs, sub)
			close(sub.dropped)
			s.dropped.Add(1)
		}
	}
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.b.Status())
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		s.writeError(w, vetnet.Errorz(vetnet.EINTERNAL, "不支持事件流", "Streaming is not supported."))
		return
	}
	sub := &subscriber{ch: make(chan []byte, subscriberBuffer), dropped: make(chan struct{})}
	s.mu.Lock()
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, sub)
		s.mu.Unlock()
	}()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := WriteSSE(w, EventStatus, s.b.Status()); err != nil {
		return
	}
	if s.b.Meetings != nil {
		if err := WriteSSE(w, EventMeetings, s.b.Meetings()); err != nil {
			return
		}
	}
	fl.Flush()
	ping := time.NewTicker(s.opts.PingInterval)
	defer ping.Stop()
	for {
		select {
		case msg := <-sub.ch:
			if _, err := w.Write(msg); err != nil {
				return
			}
		case <-ping.C:
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
				return
			}
		case <-sub.dropped:
			return
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
		fl.Flush()
	}
}

func (s *Server) feedback(w http.ResponseWriter, r *http.Request) {
	if s.b.Feedback == nil {
		s.writeError(w, vetnet.Errorz(vetnet.ENOTFOUND, "本站不收集评价", "This station does not take ratings."))
		return
	}
	var req FeedbackRequest
	if err := s.decode(w, r, &req); err != nil {
		s.writeError(w, err)
		return
	}
	in := FeedbackInput{CheckInID: req.CheckInID, Rating: vetnet.Rating(req.Rating), Comment: strings.TrimSpace(req.Comment)}
	if vetnet.ValidateCheckInID(in.CheckInID) != nil {
		s.writeError(w, vetnet.Errorz(vetnet.EINVALID, "签到编号无效", "The check-in ID is not valid."))
		return
	}
	if !in.Rating.Valid() {
		s.writeError(w, vetnet.Errorz(vetnet.EINVALID, "请选择1到5之间的评价", "Choose a rating from 1 to 5."))
		return
	}
	if len(req.Reasons) > len(vetnet.Reasons) {
		s.writeError(w, vetnet.Errorz(vetnet.EINVALID, "评价原因过多", "Too many reasons."))
		return
	}
	for _, x := range req.Reasons {
		in.Reasons = append(in.Reasons, vetnet.Reason(x))
	}
	resp, err := s.b.Feedback(r.Context(), in)
	if err != nil {
		s.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) checkIn(w http.ResponseWriter, r *http.Request) {
	var req CheckInRequest
	if err := s.decode(w, r, &req); err != nil {
		s.writeError(w, err)
		return
	}
	in, err := s.checkInInput(req)
	if err != nil {
		s.writeError(w, err)
		return
	}
	resp, err := s.b.CheckIn(r.Context(), in)
	if err != nil {
		s.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) checkInInput(req CheckInRequest) (CheckInInput, error) {
	req.Token = strings.TrimSpace(req.Token)
	if (req.Token == "") == (strings.TrimSpace(req.IDNumber) == "") {
		return CheckInInput{}, vetnet.Errorz(vetnet.EINVALID, "请刷身份证或输入身份证号码", "Present a card or type an ID number (one of them).")
	}
	req.Meeting = strings.TrimSpace(req.Meeting)
	if req.Meeting != "" {
		if vetnet.ValidateCheckInID(req.Meeting) != nil {
			return CheckInInput{}, vetnet.Errorz(vetnet.EINVALID, "会议编号无效", "The meeting ID is not valid.")
		}
		if req.Service == "" {
			req.Service = string(vetnet.ServiceTraining)
		}
		if req.Service != string(vetnet.ServiceTraining) {
			return CheckInInput{}, vetnet.Errorz(vetnet.EINVALID, "会议签到的服务项目应为培训签到", "A meeting's roll-call check-in has the service training.")
		}
	}
	sv, err := vetnet.ParseService(req.Service)
	if err != nil {
		return CheckInInput{}, err
	}
	if req.Meeting == "" && !offers(s.b.Status().Station, sv) {
		return CheckInInput{}, vetnet.Errorz(vetnet.EINVALID, "本站不提供该服务", "This station does not offer that service.")
	}
	req.Detail = strings.TrimSpace(req.Detail)
	if !sv.ValidDetail(req.Detail) {
		return CheckInInput{}, vetnet.Errorz(vetnet.EINVALID, "该服务没有这个细项", "That choice is not offered within the service.")
	}
	in := CheckInInput{Token: req.Token, Service: sv, StaffSession: strings.TrimSpace(req.StaffSession), Detail: req.Detail, Meeting: req.Meeting}
	if req.Token != "" && in.StaffSession != "" {
		return CheckInInput{}, vetnet.Errorz(vetnet.EINVALID, "刷卡签到不需要工作人员登录", "A staff session goes with a typed ID number, not with a card.")
	}
	if req.Token == "" {
		v, err := s.visitor(req.IDNumber, req.Name)
		if err != nil {
			return CheckInInput{}, err
		}
		in.Visitor = v
	} else if req.Name != "" {
		return CheckInInput{}, vetnet.Errorz(vetnet.EINVALID, "刷卡签到不需要填写姓名", "A name goes with a typed ID number, not with a card.")
	}
	return in, nil
}

// visitor checks a typed ID number and name.
func (s *Server) visitor(idNumber, name string) (*vetnet.Visitor, error) {
	id := vetnet.NormalizeIDNumber(idNumber)
	if err := vetnet.ValidateIDNumber(id, s.opts.Now()); err != nil {
		return nil, err
	}
	name, err := checkName(name)
	if err != nil {
		return nil, err
	}
	return &vetnet.Visitor{IDNumber: id, Name: name, DocType: vetnet.DocResident}, nil
}

func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if len([]rune(name)) > vetnet.MaxNameLen || strings.ContainsAny(name, "\x00\n\r\t") {
		return "", vetnet.Errorz(vetnet.EINVALID, "姓名过长或含有非法字符", "The name is too long or has control characters.")
	}
	return name, nil
}

func offers(st StationInfo, sv vetnet.Service) bool {
	for _, x := range st.Services {
		if x == string(sv) {
			return true
		}
	}
	return false
}

func (s *Server) simTap(w http.ResponseWriter, r *http.Request) {
	if s.b.SimTap == nil {
		s.writeError(w, vetnet.Errorz(vetnet.ENOTFOUND, "本站没有模拟读卡器", "This station has no simulated reader."))
		return
	}
	var req SimTapRequest
	if err := s.decode(w, r, &req); err != nil {
		s.writeError(w, err)
		return
	}
	var v *vetnet.Visitor
	if strings.TrimSpace(req.IDNumber) != "" || strings.TrimSpace(req.Name) != "" {
		name, err := checkName(req.Name)
		if err != nil {
			s.writeError(w, err)
			return
		}
		v = &vetnet.Visitor{Name: name}
		if strings.TrimSpace(req.IDNumber) != "" {
			if v, err = s.visitor(req.IDNumber, req.Name); err != nil {
				s.writeError(w, err)
				return
			}
		}
	}
	if err := s.b.SimTap(v); err != nil {
		s.writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) staff(w http.ResponseWriter, r *http.Request) {
	l := StaffList{Staff: []StaffMember{}}
	if s.b.Staff != nil {
		l = s.b.Staff()
		if l.Staff == nil {
			l.Staff = []StaffMember{}
		}
	}
	writeJSON(w, http.StatusOK, l)
}

var errNoStaff = vetnet.Errorz(vetnet.ENOTFOUND, "本站未配置工作人员名单", "This station has no staff roster.")

func (s *Server) staffLogin(w http.ResponseWriter, r *http.Request) {
	if s.b.StaffLogin == nil {
		s.writeError(w, errNoStaff)
		return
	}
	var req StaffLoginRequest
	if err := s.decode(w, r, &req); err != nil {
		s.writeError(w, err)
		return
	}
	if err := vetnet.ValidateStaffID(strings.TrimSpace(req.StaffID)); err != nil {
		s.writeError(w, err)
		return
	}
	req.StaffID = strings.TrimSpace(req.StaffID)
	sess, err := s.b.StaffLogin(r.Context(), req)
	if err != nil {
		s.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, sess)
}

func (s *Server) staffLogout(w http.ResponseWriter, r *http.Request) {
	if s.b.StaffLogout == nil {
		s.writeError(w, errNoStaff)
		return
	}
	var req StaffLogoutRequest
	if err := s.decode(w, r, &req); err != nil {
		s.writeError(w, err)
		return
	}
	if err := s.b.StaffLogout(strings.TrimSpace(req.Session)); err != nil {
		s.writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// decode reads a JSON body strictly: bounded size, no unknown fields, one
// value.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	body := http.MaxBytesReader(w, r.Body, s.opts.MaxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return vetnet.Wrap(vetnet.EINVALID, err, "请求过大", "The request is too large.")
		}
		return vetnet.Wrap(vetnet.EINVALID, err, "请求格式无效", "The request is not valid JSON for this call.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return vetnet.Errorz(vetnet.EINVALID, "请求格式无效", "The request has data after its JSON object.")
	}
	return nil
}

// HTTPStatus maps a vetnet error code to an HTTP status.
func HTTPStatus(code string) int { return httpstatus.FromCode(code) }

func (s *Server) writeError(w http.ResponseWriter, err error) {
	code := vetnet.ErrorCode(err)
	if code == vetnet.EINTERNAL {
		s.opts.Logf("localapi: %v", err)
	}
	writeJSON(w, HTTPStatus(code), ErrorBody{Error: ErrorDetail{Code: code,
		Message: vetnet.ErrorMessage(err, "en"), MessageZH: vetnet.ErrorMessage(err, "zh")}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"Internal error.","message_zh":"系统内部错误"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}
