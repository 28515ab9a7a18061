// Package fakeagent is an in-memory edge agent that speaks the local API
// (edge-agent/localapi) over real HTTP, for the kiosk's tests and demos.
//
// It keeps tokens, queue tickets, visits, duty and ratings in memory, as
// the real agent keeps them in bbolt, and lets a test steer it: read a card,
// fail a card, fail or hold the next check-in, change the status, go down
// and come back. The hall's paths (queue, calls, transfers, visitors, duty,
// reprints) and ratings are served by the real localapi.Server over the
// fake's functions (hall.go). It does not talk to a hub; its outbox only
// grows.
package fakeagent

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/vetnettest"
)

// Agent is a fake edge agent. Create it with New; Close it when done.
type Agent struct {
	// TokenTTL is how long a card's token is valid. Set it before the
	// first card; zero means 2 minutes.
	TokenTTL time.Duration
	// Now is the agent's clock. Nil means time.Now.
	Now func() time.Time

	srv *httptest.Server

	mu       sync.Mutex
	status   localapi.Status
	rnd      *rand.Rand
	tokens   map[string]token
	visits   map[string]time.Time // ID number → last visit
	checkIns []localapi.CheckInResponse
	fail     []*vetnet.Error
	hold     chan struct{} // when non-nil, check-ins wait for it to close
	subs     map[chan event]struct{}
	down     bool
	seq      uint64
	staff    []localapi.StaffMember
	pins     map[string]string // staff ID → PIN
	sessions map[string]string // session → staff ID
	typedBy  []string          // staff ID of each check-in ("" for a card)
	tickets  []*ticket         // the queue of the day, in check-in order (transfers appended)
	calls    []*ticket         // calls, oldest first (for NowServing)
	onDuty   map[string]time.Time
	prints   []string
	ratings  []localapi.FeedbackRequest
	pace     time.Duration
}

type token struct {
	visitor vetnet.Visitor
	expires time.Time
	used    bool
}

type event struct {
	typ string
	v   any
}

// New starts a fake agent with status st (its Now is filled in on each
// answer). Readers with Kind "simulated" make /v1/sim/tap work.
func New(st localapi.Status) *Agent {
	a := &Agent{
		status:   st,
		rnd:      rand.New(rand.NewPCG(1, 2)),
		tokens:   map[string]token{},
		visits:   map[string]time.Time{},
		subs:     map[chan event]struct{}{},
		pins:     map[string]string{},
		sessions: map[string]string{},
		onDuty:   map[string]time.Time{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+localapi.PathHealth, a.health)
	mux.HandleFunc("GET "+localapi.PathStatus, a.getStatus)
	mux.HandleFunc("GET "+localapi.PathEvents, a.events)
	mux.HandleFunc("POST "+localapi.PathCheckIns, a.postCheckIn)
	mux.HandleFunc("POST "+localapi.PathSimTap, a.postSimTap)
	mux.HandleFunc("GET "+localapi.PathStaff, a.getStaff)
	mux.HandleFunc("POST "+localapi.PathStaffLogin, a.postStaffLogin)
	mux.HandleFunc("POST "+localapi.PathStaffLogout, a.postStaffLogout)
	a.mountHall(mux)
	a.srv = httptest.NewServer(mux)
	return a
}

// DemoStatus is the status of a village station of the demo district with
// a simulated reader, as a fake agent's starting point.
func DemoStatus() localapi.Status {
	return localapi.Status{
		Station: localapi.StationInfo{
			ID: "cz-xb-sanjing-xinqiao", Name: "新桥社区退役军人服务站", NameEN: "Xinqiao Community Station", Level: "village",
			Services: []string{"employment", "benefits", "legal_aid", "hardship", "records", "consultation", "training"},
		},
		ConfigVersion: "demo-1",
		Online:        true,
		Readers:       []localapi.Reader{{Name: "sim0", Kind: "simulated", State: "ok"}},
		Agent:         "fakeagent",
	}
}

// Addr is the agent's host:port, for localapi.NewClient.
func (a *Agent) Addr() string { return strings.TrimPrefix(a.srv.URL, "http://") }

// Client returns a client of the agent.
func (a *Agent) Client() *localapi.Client { return localapi.NewClient(a.Addr()) }

// Close stops the agent, ending its event streams.
func (a *Agent) Close() {
	a.SetDown(true)
	a.srv.CloseClientConnections()
	a.srv.Close()
}

// Tap makes a reader read v's card and sends the card event; it returns
// the event. A zero v is a synthetic veteran.
func (a *Agent) Tap(v vetnet.Visitor) localapi.CardEvent {
	a.mu.Lock()
	if v.IDNumber == "" {
		v = vetnettest.Veteran(a.rnd)
	}
	now := a.now()
	tok := fmt.Sprintf("tok-%016x", a.rnd.Uint64())
	ttl := a.TokenTTL
	if ttl <= 0 {
		ttl = 2 * time.Minute
	}
	a.tokens[tok] = token{visitor: v, expires: now.Add(ttl)}
	ce := localapi.CardEvent{
		Token: tok, ExpiresAt: now.Add(ttl), MaskedName: vetnet.MaskName(v.Name),
		MaskedID: vetnet.MaskIDNumber(v.IDNumber), Doc: string(v.DocType), Reader: a.readerName(),
	}
	if last, ok := a.visits[v.IDNumber]; ok {
		ce.Returning, ce.LastVisit = true, &last
	}
	a.broadcast(event{localapi.EventCard, ce})
	a.mu.Unlock()
	return ce
}

// SetStaff gives the station a roster; pins maps staff IDs to their PINs
// (members without one sign in by badge only).
func (a *Agent) SetStaff(members []localapi.StaffMember, pins map[string]string) {
	a.mu.Lock()
	a.staff, a.pins = members, pins
	a.status.Staff = len(members) > 0
	a.broadcast(event{localapi.EventStatus, a.statusLocked()})
	a.mu.Unlock()
}

// Badge makes the badge reader read the badge of the staff member id and
// sends the staff event.
func (a *Agent) Badge(id string) localapi.StaffSession {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.openSession(id, "badge")
	a.broadcast(event{localapi.EventStaff, s})
	return s
}

func (a *Agent) openSession(id, via string) localapi.StaffSession {
	var m localapi.StaffMember
	for _, x := range a.staff {
		if x.ID == id {
			m = x
		}
	}
	tok := fmt.Sprintf("staff-%016x", a.rnd.Uint64())
	a.sessions[tok] = id
	return localapi.StaffSession{Session: tok, ExpiresAt: a.now().Add(5 * time.Minute), Staff: m, Via: via}
}

// TypedBy returns, for each committed check-in, the staff ID that typed it
// ("" for a card).
func (a *Agent) TypedBy() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.typedBy...)
}

func (a *Agent) getStaff(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	l := localapi.StaffList{Staff: append([]localapi.StaffMember{}, a.staff...)}
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, l)
}

func (a *Agent) postStaffLogin(w http.ResponseWriter, r *http.Request) {
	var req localapi.StaffLoginRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		writeError(w, vetnet.Errorz(vetnet.EINVALID, "请求格式错误", "Malformed request."))
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if pin, ok := a.pins[req.StaffID]; !ok || pin != req.PIN {
		writeError(w, vetnet.Errorz(vetnet.EINVALID, "工号或PIN码不正确", "The staff ID or the PIN is wrong."))
		return
	}
	writeJSON(w, http.StatusOK, a.openSession(req.StaffID, "pin"))
}

func (a *Agent) postStaffLogout(w http.ResponseWriter, r *http.Request) {
	var req localapi.StaffLogoutRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		writeError(w, vetnet.Errorz(vetnet.EINVALID, "请求格式错误", "Malformed request."))
		return
	}
	a.mu.Lock()
	delete(a.sessions, req.Session)
	a.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// CardError sends a card error event.
func (a *Agent) CardError(ev localapi.CardErrorEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.broadcast(event{localapi.EventCardError, ev})
}

// SetStatus changes the status and sends it.
func (a *Agent) SetStatus(change func(*localapi.Status)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	change(&a.status)
	a.broadcast(event{localapi.EventStatus, a.statusLocked()})
}

// FailNext makes the next check-in fail with err (an HTTP status chosen
// from its code, as the agent does).
func (a *Agent) FailNext(err *vetnet.Error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fail = append(a.fail, err)
}

// Hold makes check-ins wait, as a slow disk would, until release is called.
func (a *Agent) Hold() (release func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ch := make(chan struct{})
	a.hold = ch
	var once sync.Once
	return func() {
		once.Do(func() {
			a.mu.Lock()
			if a.hold == ch {
				a.hold = nil
			}
			a.mu.Unlock()
			close(ch)
		})
	}
}

// SetDown takes the agent away (true: streams end, every request gets
// 503 unavailable) or brings it back.
func (a *Agent) SetDown(down bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.down = down
	if down {
		for ch := range a.subs {
			close(ch)
			delete(a.subs, ch)
		}
	}
}

// Subscribers is the number of open event streams.
func (a *Agent) Subscribers() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.subs)
}

// CheckIns returns the committed check-ins, oldest first.
func (a *Agent) CheckIns() []localapi.CheckInResponse {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]localapi.CheckInResponse(nil), a.checkIns...)
}

func (a *Agent) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Agent) readerName() string {
	for _, r := range a.status.Readers {
		return r.Name
	}
	return "reader0"
}

func (a *Agent) statusLocked() localapi.Status {
	s := a.status
	s.Readers = append([]localapi.Reader(nil), s.Readers...)
	s.Station.Services = append([]string(nil), s.Station.Services...)
	s.Now = a.now()
	return s
}

// broadcast sends ev to every stream; a stream that cannot keep up is
// dropped, as the real agent must not block readers on a slow kiosk.
func (a *Agent) broadcast(ev event) {
	for ch := range a.subs {
		select {
		case ch <- ev:
		default:
			close(ch)
			delete(a.subs, ch)
		}
	}
}

func (a *Agent) isDown(w http.ResponseWriter) bool {
	a.mu.Lock()
	down := a.down
	a.mu.Unlock()
	if down {
		writeError(w, vetnet.Errorz(vetnet.EUNAVAILABLE, "站点服务暂停", "The station agent is paused."))
	}
	return down
}

func (a *Agent) health(w http.ResponseWriter, r *http.Request) {
	if a.isDown(w) {
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (a *Agent) getStatus(w http.ResponseWriter, r *http.Request) {
	if a.isDown(w) {
		return
	}
	a.mu.Lock()
	s := a.statusLocked()
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, s)
}

func (a *Agent) events(w http.ResponseWriter, r *http.Request) {
	if a.isDown(w) {
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, vetnet.Errorz(vetnet.EINTERNAL, "不支持事件流", "No streaming."))
		return
	}
	ch := make(chan event, 16)
	a.mu.Lock()
	a.subs[ch] = struct{}{}
	first := a.statusLocked()
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		if _, ok := a.subs[ch]; ok {
			delete(a.subs, ch)
			close(ch)
		}
		a.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_ = localapi.WriteSSE(w, localapi.EventStatus, first)
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case ev, ok := <-ch:
			if !ok {
				return
			}
			if err := localapi.WriteSSE(w, ev.typ, ev.v); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

func (a *Agent) postCheckIn(w http.ResponseWriter, r *http.Request) {
	if a.isDown(w) {
		return
	}
	var req localapi.CheckInRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		writeError(w, vetnet.Errorz(vetnet.EINVALID, "请求格式错误", "Malformed request."))
		return
	}
	a.mu.Lock()
	hold := a.hold
	a.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	resp, err := a.checkIn(r.Context(), req)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, resp)
}

func (a *Agent) checkIn(_ context.Context, req localapi.CheckInRequest) (localapi.CheckInResponse, *vetnet.Error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.fail) > 0 {
		err := a.fail[0]
		a.fail = a.fail[1:]
		return localapi.CheckInResponse{}, err
	}
	svc, err := vetnet.ParseService(req.Service)
	if err != nil || !a.offers(svc) {
		return localapi.CheckInResponse{}, vetnet.Errorz(vetnet.EINVALID, "本站不办理该项服务", "This station does not offer that service.")
	}
	if !svc.ValidDetail(strings.TrimSpace(req.Detail)) {
		return localapi.CheckInResponse{}, vetnet.Errorz(vetnet.EINVALID, "该服务没有这个细项", "That choice is not offered within the service.")
	}
	now := a.now()
	var v vetnet.Visitor
	staff := ""
	switch {
	case req.Token != "":
		t, ok := a.tokens[req.Token]
		if !ok || t.used || !now.Before(t.expires) {
			return localapi.CheckInResponse{}, vetnet.Errorz(vetnet.EEXPIRED, "刷卡信息已失效，请重新刷卡", "The card read has expired. Please tap your card again.")
		}
		t.used = true
		a.tokens[req.Token] = t
		v = t.visitor
	case req.IDNumber != "":
		id := vetnet.NormalizeIDNumber(req.IDNumber)
		if err := vetnet.ValidateIDNumber(id, now); err != nil {
			return localapi.CheckInResponse{}, vetnet.Errorz(vetnet.EINVALID, "身份证号码无效", "The ID number is not valid.")
		}
		v = vetnet.Visitor{IDNumber: id, Name: req.Name, DocType: vetnet.DocResident}
		if len(a.staff) > 0 {
			var ok bool
			if staff, ok = a.sessions[req.StaffSession]; !ok {
				return localapi.CheckInResponse{}, vetnet.Errorz(vetnet.EEXPIRED, "工作人员登录已过期，请重新登录", "The staff sign-in has expired; please sign in again.")
			}
		}
	default:
		return localapi.CheckInResponse{}, vetnet.Errorz(vetnet.EINVALID, "缺少刷卡信息或身份证号码", "A token or an ID number is needed.")
	}
	waiting := 0
	for _, c := range a.checkIns {
		if c.Service == string(svc) {
			waiting++
		}
	}
	id, idErr := vetnet.NewCheckInID(now, nil)
	if idErr != nil {
		return localapi.CheckInResponse{}, vetnet.Wrap(vetnet.EINTERNAL, idErr, "内部错误", "Internal error.")
	}
	a.seq++
	method := "card"
	if req.Token == "" {
		method = "manual"
	}
	t := a.newTicket(svc, strings.TrimSpace(req.Detail), v, method, now)
	t.CheckInID, t.seq = id, a.seq
	ahead := a.ahead(t)
	resp := localapi.CheckInResponse{
		ID:            id,
		Seq:           a.seq,
		QueueNo:       t.QueueNo,
		Service:       string(svc),
		At:            now,
		MaskedName:    vetnet.MaskName(v.Name),
		Waiting:       waiting,
		Ahead:         ahead,
		ExpectedWaitS: int((time.Duration(ahead) * a.pace).Seconds()),
		Detail:        t.Detail,
	}
	a.changed()
	a.checkIns = append(a.checkIns, resp)
	a.typedBy = append(a.typedBy, staff)
	a.visits[v.IDNumber] = now
	a.status.Outbox.Depth++
	a.status.Outbox.LastSeq = a.seq
	if a.status.Outbox.OldestAt == nil {
		a.status.Outbox.OldestAt = &now
	}
	a.broadcast(event{localapi.EventStatus, a.statusLocked()})
	return resp, nil
}

func (a *Agent) offers(svc vetnet.Service) bool {
	for _, k := range a.status.Station.Services {
		if k == string(svc) {
			return true
		}
	}
	return false
}

func (a *Agent) postSimTap(w http.ResponseWriter, r *http.Request) {
	if a.isDown(w) {
		return
	}
	var req localapi.SimTapRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		writeError(w, vetnet.Errorz(vetnet.EINVALID, "请求格式错误", "Malformed request."))
		return
	}
	a.mu.Lock()
	sim := false
	for _, rd := range a.status.Readers {
		sim = sim || rd.Kind == "simulated"
	}
	a.mu.Unlock()
	if !sim {
		writeError(w, vetnet.Errorz(vetnet.ENOTFOUND, "没有模拟读卡器", "There is no simulated reader."))
		return
	}
	v := vetnet.Visitor{IDNumber: req.IDNumber, Name: req.Name, DocType: vetnet.DocResident}
	if v.IDNumber != "" {
		v.IDNumber = vetnet.NormalizeIDNumber(v.IDNumber)
		if err := vetnet.ValidateIDNumber(v.IDNumber, a.now()); err != nil {
			writeError(w, vetnet.Errorz(vetnet.EINVALID, "身份证号码无效", "The ID number is not valid."))
			return
		}
		if v.Name == "" {
			v.Name = "测试"
		}
	}
	a.Tap(v)
	w.WriteHeader(http.StatusNoContent)
}

// Status codes for error codes, as the agent answers them.
var httpStatus = map[string]int{
	vetnet.EINVALID:     http.StatusBadRequest,
	vetnet.ENOTFOUND:    http.StatusNotFound,
	vetnet.ECONFLICT:    http.StatusConflict,
	vetnet.EEXPIRED:     http.StatusGone,
	vetnet.EFULL:        http.StatusInsufficientStorage,
	vetnet.EUNAVAILABLE: http.StatusServiceUnavailable,
	vetnet.EINTERNAL:    http.StatusInternalServerError,
}

func writeError(w http.ResponseWriter, err *vetnet.Error) {
	code, ok := httpStatus[err.Code]
	if !ok {
		code = http.StatusInternalServerError
	}
	writeJSON(w, code, localapi.ErrorBody{Error: localapi.ErrorDetail{Code: err.Code, Message: err.Message, MessageZH: err.MessageZH}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
