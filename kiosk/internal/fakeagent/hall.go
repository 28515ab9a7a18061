package fakeagent

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

// The hall: queue tickets, calls, transfers, today's visitors, duty,
// reprints and ratings, in memory. The HTTP side of these paths is the
// real localapi.Server (its request checks, strict JSON, status codes and
// error bodies) over the fake's Backend functions, so the fake cannot
// drift from the agent's contract in form; the kiosk's test against the
// real agent (kiosk/ui) keeps the meaning in line.

// ticket is a queue ticket and what staff see of its visit.
type ticket struct {
	localapi.Ticket
	seq      uint64
	name     string // full name, for the search (never answered)
	maskedID string
	method   string
	rated    bool
	first    string // the check-in's first queue number (before transfers)
}

// hallPaths are served by the real localapi.Server.
var hallPaths = []string{localapi.PathQueue, localapi.PathQueueCall, localapi.PathQueueServed, localapi.PathQueueNoShow,
	localapi.PathQueueRecall, localapi.PathQueueTransfer, localapi.PathVisitors, localapi.PathDuty, localapi.PathPrint, localapi.PathFeedback}

func (a *Agent) mountHall(mux *http.ServeMux) {
	srv := localapi.NewServer(localapi.Backend{
		Status:   func() localapi.Status { a.mu.Lock(); defer a.mu.Unlock(); return a.statusLocked() },
		CheckIn:  func(context.Context, localapi.CheckInInput) (localapi.CheckInResponse, error) { panic("not routed") },
		Queue:    a.queue,
		Call:     a.call,
		Served:   func(_ context.Context, r localapi.TicketAction) (localapi.Ticket, error) { return a.step(r, "served") },
		NoShow:   func(_ context.Context, r localapi.TicketAction) (localapi.Ticket, error) { return a.step(r, "no_show") },
		Recall:   func(_ context.Context, r localapi.TicketAction) (localapi.Ticket, error) { return a.step(r, "recall") },
		Transfer: a.transfer,
		Visitors: a.visitorsOf,
		Duty:     a.duty,
		SetDuty:  a.setDuty,
		Print:    a.print,
		Feedback: a.feedback,
	}, localapi.ServerOptions{Now: a.now})
	h := srv.Handler()
	for _, p := range hallPaths {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			if a.isDown(w) {
				return
			}
			h.ServeHTTP(w, r)
		})
	}
}

// SetPace sets the time each service takes per person, which gives the
// expected wait of a check-in (ahead × pace); zero: unknown.
func (a *Agent) SetPace(d time.Duration) {
	a.mu.Lock()
	a.pace = d
	a.mu.Unlock()
}

// Prints returns the queue numbers printed again, in order.
func (a *Agent) Prints() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.prints...)
}

// Ratings returns the ratings committed, oldest first.
func (a *Agent) Ratings() []localapi.FeedbackRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]localapi.FeedbackRequest(nil), a.ratings...)
}

// staffOf checks a staff session as the agent does: required when the
// station has a roster. Call with a.mu held.
func (a *Agent) staffOf(session string) (string, error) {
	if session == "" && len(a.staff) == 0 {
		return "", nil
	}
	id, ok := a.sessions[session]
	if !ok {
		return "", vetnet.Errorz(vetnet.EEXPIRED, "工作人员登录已过期，请重新登录", "The staff sign-in has expired; please sign in again.")
	}
	return id, nil
}

// newTicket queues a check-in. Call with a.mu held.
func (a *Agent) newTicket(svc vetnet.Service, detail string, v vetnet.Visitor, method string, at time.Time) *ticket {
	n := 0
	for _, t := range a.tickets {
		if t.Service == string(svc) {
			n++
		}
	}
	info, _ := svc.Info()
	t := &ticket{Ticket: localapi.Ticket{QueueNo: fmt.Sprintf("%c%03d", info.QueuePrefix, n+1), Service: string(svc), Detail: detail,
		State: localapi.TicketWaiting, MaskedName: vetnet.MaskName(v.Name), At: at}, name: v.Name, maskedID: vetnet.MaskIDNumber(v.IDNumber), method: method}
	t.first = t.QueueNo
	a.tickets = append(a.tickets, t)
	return t
}

// ahead counts the waiting tickets of svc before t. Call with a.mu held.
func (a *Agent) ahead(t *ticket) int {
	n := 0
	for _, x := range a.tickets {
		if x == t {
			break
		}
		if x.Service == t.Service && x.State == localapi.TicketWaiting {
			n++
		}
	}
	return n
}

func (a *Agent) queue() (localapi.QueueStatus, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.queueLocked(), nil
}

func (a *Agent) queueLocked() localapi.QueueStatus {
	q := localapi.QueueStatus{Day: a.now().Format("2006-01-02"), Services: []localapi.QueueService{}, NowServing: []localapi.Ticket{}}
	for _, k := range a.status.Station.Services {
		qs := localapi.QueueService{Service: k, Waiting: []localapi.Ticket{}, Called: []localapi.Ticket{}}
		for _, t := range a.tickets {
			if t.Service != k {
				continue
			}
			switch t.State {
			case localapi.TicketWaiting:
				qs.Waiting = append(qs.Waiting, t.Ticket)
			case localapi.TicketCalled:
				qs.Called = append(qs.Called, t.Ticket)
			case localapi.TicketServed:
				qs.ServedToday++
			}
		}
		q.Services = append(q.Services, qs)
	}
	for i := len(a.calls) - 1; i >= 0 && len(q.NowServing) < 6; i-- {
		if t := a.calls[i]; t.State == localapi.TicketCalled {
			q.NowServing = append(q.NowServing, t.Ticket)
		}
	}
	return q
}

// changed sends the queue to the streams. Call with a.mu held.
func (a *Agent) changed() {
	a.broadcast(event{localapi.EventQueue, a.queueLocked()})
}

func (a *Agent) call(_ context.Context, req localapi.CallRequest) (localapi.Ticket, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	staff, err := a.staffOf(req.StaffSession)
	if err != nil {
		return localapi.Ticket{}, err
	}
	for _, t := range a.tickets {
		if t.Service == req.Service && t.State == localapi.TicketWaiting {
			now := a.now()
			t.State, t.CalledAt, t.Counter, t.StaffID = localapi.TicketCalled, &now, req.Counter, staff
			t.Calls++
			a.calls = append(a.calls, t)
			a.changed()
			return t.Ticket, nil
		}
	}
	return localapi.Ticket{}, vetnet.Errorz(vetnet.ENOTFOUND, "该服务没有等候的人", "Nobody is waiting for that service.")
}

func (a *Agent) find(id string) *ticket {
	for i := len(a.tickets) - 1; i >= 0; i-- {
		if a.tickets[i].CheckInID == id {
			return a.tickets[i]
		}
	}
	return nil
}

func (a *Agent) step(req localapi.TicketAction, what string) (localapi.Ticket, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	staff, err := a.staffOf(req.StaffSession)
	if err != nil {
		return localapi.Ticket{}, err
	}
	t := a.find(req.CheckInID)
	if t == nil {
		return localapi.Ticket{}, vetnet.Errorz(vetnet.ENOTFOUND, "今天没有这个排队号", "No such ticket today.")
	}
	if t.State != localapi.TicketCalled {
		return localapi.Ticket{}, vetnet.Errorz(vetnet.ECONFLICT, "该号尚未叫号", "That ticket has not been called.")
	}
	now := a.now()
	switch what {
	case "recall":
		t.Calls++
		t.CalledAt = &now
		a.calls = append(a.calls, t)
	default:
		t.State, t.DoneAt = what, &now
	}
	t.StaffID = staff
	a.changed()
	return t.Ticket, nil
}

func (a *Agent) transfer(_ context.Context, req localapi.TransferRequest) (localapi.Ticket, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	staff, err := a.staffOf(req.StaffSession)
	if err != nil {
		return localapi.Ticket{}, err
	}
	t := a.find(req.CheckInID)
	if t == nil {
		return localapi.Ticket{}, vetnet.Errorz(vetnet.ENOTFOUND, "今天没有这个排队号", "No such ticket today.")
	}
	if t.State != localapi.TicketWaiting && t.State != localapi.TicketCalled {
		return localapi.Ticket{}, vetnet.Errorz(vetnet.ECONFLICT, "该号已办结", "That ticket is done.")
	}
	if t.Service == req.Service {
		return localapi.Ticket{}, vetnet.Errorz(vetnet.EINVALID, "已在该服务排队", "The ticket is already in that service's queue.")
	}
	now := a.now()
	t.State, t.DoneAt, t.StaffID = localapi.TicketTransferred, &now, staff
	nt := a.newTicket(vetnet.Service(req.Service), "", vetnet.Visitor{Name: t.name}, t.method, now)
	nt.CheckInID, nt.maskedID, nt.seq, nt.rated, nt.first = t.CheckInID, t.maskedID, t.seq, t.rated, t.first
	a.changed()
	return nt.Ticket, nil
}

func (a *Agent) visitorsOf(_ context.Context, session, q string) (localapi.VisitorList, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.staffOf(session); err != nil {
		return localapi.VisitorList{}, err
	}
	l := localapi.VisitorList{Visitors: []localapi.VisitorEntry{}}
	seen := map[string]bool{}
	for i := len(a.tickets) - 1; i >= 0; i-- {
		t := a.tickets[i]
		if seen[t.CheckInID] {
			continue // an older ticket of a transferred visit
		}
		seen[t.CheckInID] = true
		if q != "" && !strings.Contains(t.name, q) && t.QueueNo != q {
			continue
		}
		l.Visitors = append(l.Visitors, localapi.VisitorEntry{CheckInID: t.CheckInID, Seq: t.seq, At: t.At, MaskedName: t.MaskedName,
			MaskedID: t.maskedID, Service: t.Service, Detail: t.Detail, QueueNo: t.QueueNo, State: t.State, Method: t.method, Rated: t.rated})
	}
	return l, nil
}

func (a *Agent) duty() (localapi.DutyStatus, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.dutyLocked(), nil
}

func (a *Agent) dutyLocked() localapi.DutyStatus {
	d := localapi.DutyStatus{OnDuty: []localapi.OnDuty{}}
	for _, m := range a.staff {
		if since, ok := a.onDuty[m.ID]; ok {
			d.OnDuty = append(d.OnDuty, localapi.OnDuty{Staff: m, Since: since})
		}
	}
	return d
}

func (a *Agent) setDuty(_ context.Context, req localapi.DutyRequest) (localapi.DutyStatus, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.staff) == 0 {
		return localapi.DutyStatus{}, vetnet.Errorz(vetnet.ENOTFOUND, "本站未配置工作人员名单", "This station has no staff roster.")
	}
	staff, err := a.staffOf(req.StaffSession)
	if err != nil {
		return localapi.DutyStatus{}, err
	}
	_, on := a.onDuty[staff]
	switch {
	case req.On && !on:
		a.onDuty[staff] = a.now()
	case !req.On:
		delete(a.onDuty, staff)
	}
	return a.dutyLocked(), nil
}

func (a *Agent) print(_ context.Context, req localapi.PrintRequest) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	printer := false
	for _, r := range a.status.Readers {
		printer = printer || r.Kind == "printer"
	}
	if !printer {
		return vetnet.Errorz(vetnet.ENOTFOUND, "本站没有打印机", "This station has no printer.")
	}
	if req.StaffSession != "" {
		if _, err := a.staffOf(req.StaffSession); err != nil {
			return err
		}
	}
	t := a.find(req.CheckInID)
	if t == nil {
		return vetnet.Errorz(vetnet.ENOTFOUND, "今天没有这个排队号", "No such ticket today.")
	}
	a.prints = append(a.prints, t.QueueNo)
	return nil
}

func (a *Agent) feedback(_ context.Context, in localapi.FeedbackInput) (localapi.FeedbackResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var t *ticket
	for _, x := range a.tickets {
		if x.CheckInID == in.CheckInID {
			t = x
		}
	}
	if t == nil {
		return localapi.FeedbackResponse{}, vetnet.Errorz(vetnet.ENOTFOUND, "没有这次来访的记录", "No such visit.")
	}
	id, err := vetnet.NewCheckInID(a.now(), nil)
	if err != nil {
		return localapi.FeedbackResponse{}, vetnet.Wrap(vetnet.EINTERNAL, err, "内部错误", "Internal error.")
	}
	f := vetnet.Feedback{ID: id, StationID: a.status.Station.ID, CheckInID: in.CheckInID, Service: vetnet.Service(t.Service),
		Rating: in.Rating, Reasons: in.Reasons, Comment: in.Comment, At: a.now()}
	if err := f.Validate(); err != nil {
		return localapi.FeedbackResponse{}, err
	}
	if t.rated {
		return localapi.FeedbackResponse{}, vetnet.Errorz(vetnet.ECONFLICT, "这次来访已评价", "This visit is already rated.")
	}
	for _, x := range a.tickets {
		if x.CheckInID == in.CheckInID {
			x.rated = true
		}
	}
	req := localapi.FeedbackRequest{CheckInID: in.CheckInID, Rating: int(in.Rating), Comment: in.Comment}
	for _, r := range in.Reasons {
		req.Reasons = append(req.Reasons, string(r))
	}
	a.ratings = append(a.ratings, req)
	return localapi.FeedbackResponse{ID: id, At: a.now()}, nil
}
