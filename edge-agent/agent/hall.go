package agent

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/bolt"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/edge-agent/printer/escpos"
	"github.com/vetnet/vetnet/edge-agent/reader"
)

// The hall: the queue of the day, staff on duty, today's visitors and the
// ticket printer (the local API's queue.go). Every step works offline: it
// is committed to the store with its visit or duty event, and the event
// reaches the hub through the records outbox like a rating.

// Printer prints queue tickets; *escpos.Printer is one.
type Printer interface {
	// Print prints a ticket. Errors: EUNAVAILABLE (not ready), EINVALID.
	Print(ctx context.Context, t escpos.Ticket) error
	// Check asks the printer's state, updating Health.
	Check(ctx context.Context) error
	// Health is the printer's state as a device of kind "printer".
	Health() reader.Health
}

// Defaults of the hall.
const (
	// DefaultPrintTimeout bounds the wait for a ticket at check-in: the
	// check-in is already committed, and the visitor should not wait
	// longer for paper.
	DefaultPrintTimeout = 8 * time.Second
	// printerCheckEvery is how often an idle printer's status is asked,
	// so that paper running out shows before the next visitor.
	printerCheckEvery = 30 * time.Second
	// nowServingMax is how many of the latest calls the hall screen shows.
	nowServingMax = 6
)

var (
	errStaffSignIn = vetnet.Errorz(vetnet.EEXPIRED, "请工作人员登录后操作", "A staff member must sign in for this.")
	errNoRoster    = vetnet.Errorz(vetnet.ENOTFOUND, "本站未配置工作人员名单", "This station has no staff roster.")
)

// staffAct returns the staff ID a step of the hall records. A station
// with a roster needs a live session (EEXPIRED without one, or when it
// ended: the kiosk then asks staff to sign in again); each use extends
// it. A station without a roster takes steps unattributed, as it takes
// typed check-ins.
func (a *Agent) staffAct(session string) (string, error) {
	st := a.currentStation()
	if session == "" {
		if len(st.Staff) > 0 {
			return "", errStaffSignIn
		}
		return "", nil
	}
	return a.staffForManual(st, session)
}

// queueChanged asks the queue loop to send a queue event.
func (a *Agent) queueChanged() { signal(a.queueDirty) }

// publishQueue recomputes the queue after each change, at most once every
// statusEvery: it keeps today's pace for the expected waits and sends the
// queue event to the kiosk's streams.
func (a *Agent) publishQueue(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.queueDirty:
		}
		if a.api.Stats().Streams == 0 {
			continue // nobody listens; the pace is kept by the steps themselves
		}
		q, err := a.Queue()
		if err != nil {
			a.cfg.Logf("agent: queue: %v", err)
		} else {
			a.api.Broadcast(localapi.EventQueue, q)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(statusEvery):
		}
	}
}

// Queue returns the queue of the day (the local API's backend).
//
// Errors: EUNAVAILABLE, EINTERNAL.
func (a *Agent) Queue() (localapi.QueueStatus, error) {
	day, tickets, err := a.store.Queue()
	if err != nil {
		return localapi.QueueStatus{}, err
	}
	st := a.currentStation()
	q, pace := buildQueue(day, tickets, st.OfferedServices())
	a.mu.Lock()
	a.pace = paceOf{day: day, per: pace}
	a.mu.Unlock()
	return q, nil
}

// paceOf is today's pace of each service: the time between two calls.
type paceOf struct {
	day string
	per map[vetnet.Service]time.Duration
}

// expectedWait is ahead times today's pace of svc; 0 when nobody is ahead
// or the pace is not known yet.
func (a *Agent) expectedWait(svc vetnet.Service, ahead int) int {
	day := a.store.Day()
	a.mu.Lock()
	p := a.pace
	a.mu.Unlock()
	if ahead == 0 || p.day != day {
		return 0
	}
	return int((time.Duration(ahead) * p.per[svc]).Seconds())
}

func ticketOf(t bolt.QueueTicket) localapi.Ticket {
	lt := localapi.Ticket{CheckInID: t.CheckInID, QueueNo: t.QueueNo, Service: string(t.Service), Detail: t.Detail,
		State: t.State, MaskedName: t.MaskedName, At: t.At, Counter: t.Counter, StaffID: t.Staff, Calls: t.Calls}
	if !t.LastCallAt.IsZero() {
		c := t.LastCallAt
		lt.CalledAt = &c
	}
	if !t.DoneAt.IsZero() {
		d := t.DoneAt
		lt.DoneAt = &d
	}
	return lt
}

// buildQueue sums up the day's tickets (in issue order) per service: the
// offered services in menu order, then any other with tickets today. The
// pace of a service is the mean time between its first and its last call
// today over the calls between; with one call, its mean service time.
func buildQueue(day string, tickets []bolt.QueueTicket, offered []vetnet.Service) (localapi.QueueStatus, map[vetnet.Service]time.Duration) {
	q := localapi.QueueStatus{Day: day, Services: []localapi.QueueService{}, NowServing: []localapi.Ticket{}}
	index := map[vetnet.Service]int{}
	add := func(sv vetnet.Service) int {
		if i, ok := index[sv]; ok {
			return i
		}
		index[sv] = len(q.Services)
		q.Services = append(q.Services, localapi.QueueService{Service: string(sv), Waiting: []localapi.Ticket{}, Called: []localapi.Ticket{}})
		return index[sv]
	}
	for _, sv := range offered {
		add(sv)
	}
	type sums struct {
		wait, service      time.Duration
		waits, served      int
		firstCall, lastCal time.Time
		calls              int
	}
	per := map[vetnet.Service]*sums{}
	var calls []bolt.QueueTicket
	for _, t := range tickets {
		qs := &q.Services[add(t.Service)]
		s := per[t.Service]
		if s == nil {
			s = &sums{}
			per[t.Service] = s
		}
		switch t.State {
		case bolt.TicketWaiting:
			qs.Waiting = append(qs.Waiting, ticketOf(t))
		case bolt.TicketCalled:
			qs.Called = append(qs.Called, ticketOf(t))
		case bolt.TicketServed:
			qs.ServedToday++
			if !t.CalledAt.IsZero() && t.DoneAt.After(t.CalledAt) {
				s.service += t.DoneAt.Sub(t.CalledAt)
				s.served++
			}
		}
		if !t.CalledAt.IsZero() {
			s.wait += max(t.CalledAt.Sub(t.At), 0)
			s.waits++
			if s.calls == 0 || t.CalledAt.Before(s.firstCall) {
				s.firstCall = t.CalledAt
			}
			if t.CalledAt.After(s.lastCal) {
				s.lastCal = t.CalledAt
			}
			s.calls++
			calls = append(calls, t)
		}
	}
	pace := map[vetnet.Service]time.Duration{}
	for i := range q.Services {
		qs := &q.Services[i]
		s := per[vetnet.Service(qs.Service)]
		if s == nil {
			continue
		}
		if s.waits > 0 {
			qs.AvgWaitS = int((s.wait / time.Duration(s.waits)).Seconds())
		}
		if s.served > 0 {
			qs.AvgServiceS = int((s.service / time.Duration(s.served)).Seconds())
		}
		switch {
		case s.calls >= 2 && s.lastCal.After(s.firstCall):
			pace[vetnet.Service(qs.Service)] = s.lastCal.Sub(s.firstCall) / time.Duration(s.calls-1)
		case s.served > 0:
			pace[vetnet.Service(qs.Service)] = s.service / time.Duration(s.served)
		}
	}
	sort.SliceStable(calls, func(i, j int) bool { return calls[i].LastCallAt.After(calls[j].LastCallAt) })
	for _, t := range calls[:min(len(calls), nowServingMax)] {
		q.NowServing = append(q.NowServing, ticketOf(t))
	}
	return q, pace
}

// Call calls the next waiting ticket of a service (the local API's
// backend).
//
// Errors: EEXPIRED (staff session), EINVALID (service not offered),
// ENOTFOUND (nobody waits), EFULL, EUNAVAILABLE, EINTERNAL.
func (a *Agent) Call(ctx context.Context, req localapi.CallRequest) (localapi.Ticket, error) {
	staff, err := a.staffAct(req.StaffSession)
	if err != nil {
		return localapi.Ticket{}, err
	}
	sv, st := vetnet.Service(req.Service), a.currentStation()
	if !st.Offers(sv) {
		return localapi.Ticket{}, vetnet.Errorz(vetnet.EINVALID, "本站不提供该服务", "This station does not offer that service.")
	}
	t, err := a.store.Call(sv, bolt.Step{Staff: staff, Counter: req.Counter})
	return a.stepped("call", t, err)
}

// Served marks a called ticket served. Errors as Call, and ECONFLICT (not
// called).
func (a *Agent) Served(ctx context.Context, req localapi.TicketAction) (localapi.Ticket, error) {
	return a.ticketStep(req, "served", a.store.Serve)
}

// NoShow marks a called ticket not answered. Errors as Served.
func (a *Agent) NoShow(ctx context.Context, req localapi.TicketAction) (localapi.Ticket, error) {
	return a.ticketStep(req, "no-show", a.store.NoShow)
}

// Recall calls a called ticket again. Errors as Served.
func (a *Agent) Recall(ctx context.Context, req localapi.TicketAction) (localapi.Ticket, error) {
	return a.ticketStep(req, "recall", a.store.Recall)
}

func (a *Agent) ticketStep(req localapi.TicketAction, what string, step func(string, bolt.Step) (bolt.QueueTicket, error)) (localapi.Ticket, error) {
	staff, err := a.staffAct(req.StaffSession)
	if err != nil {
		return localapi.Ticket{}, err
	}
	t, err := step(req.CheckInID, bolt.Step{Staff: staff})
	return a.stepped(what, t, err)
}

// Transfer moves a ticket to another offered service; the answer is the
// new ticket. Errors: EEXPIRED, EINVALID (not offered, the same service),
// ENOTFOUND, ECONFLICT (done), EFULL, EUNAVAILABLE, EINTERNAL.
func (a *Agent) Transfer(ctx context.Context, req localapi.TransferRequest) (localapi.Ticket, error) {
	staff, err := a.staffAct(req.StaffSession)
	if err != nil {
		return localapi.Ticket{}, err
	}
	sv, st := vetnet.Service(req.Service), a.currentStation()
	if !st.Offers(sv) {
		return localapi.Ticket{}, vetnet.Errorz(vetnet.EINVALID, "本站不提供该服务", "This station does not offer that service.")
	}
	t, err := a.store.Transfer(req.CheckInID, sv, bolt.Step{Staff: staff})
	return a.stepped("transfer", t, err)
}

func (a *Agent) stepped(what string, t bolt.QueueTicket, err error) (localapi.Ticket, error) {
	if err != nil {
		return localapi.Ticket{}, err
	}
	signal(a.wake)
	if _, err := a.Queue(); err != nil { // today's pace, for the next check-in's expected wait
		a.cfg.Logf("agent: queue: %v", err)
	}
	a.queueChanged()
	a.statusChanged()
	a.cfg.Logf("agent: queue %s: %s %s (%s) staff=%s counter=%q calls=%d", what, t.QueueNo, t.State, t.Service, t.Staff, t.Counter, t.Calls)
	return ticketOf(t), nil
}

// Visitors lists today's visitors whose name contains q (or whose queue
// number is q), newest first, masked (the local API's backend).
//
// Errors: EEXPIRED, EUNAVAILABLE, EINTERNAL.
func (a *Agent) Visitors(ctx context.Context, session, q string) (localapi.VisitorList, error) {
	if _, err := a.staffAct(session); err != nil {
		return localapi.VisitorList{}, err
	}
	vs, err := a.store.Visitors(q, 0)
	if err != nil {
		return localapi.VisitorList{}, err
	}
	l := localapi.VisitorList{Visitors: make([]localapi.VisitorEntry, 0, len(vs))}
	for _, v := range vs {
		c := v.CheckIn
		e := localapi.VisitorEntry{CheckInID: c.ID, Seq: c.Seq, At: c.At, MaskedName: vetnet.MaskName(c.Visitor.Name),
			MaskedID: vetnet.MaskIDNumber(c.Visitor.IDNumber), Service: string(c.Service), Detail: c.Detail,
			QueueNo: c.QueueNo, Method: string(c.Method), Rated: v.Rated, State: v.Ticket.State}
		if v.Ticket.QueueNo != "" && v.Ticket.QueueNo != c.QueueNo { // transferred: where the visitor waits now
			e.Service, e.Detail, e.QueueNo = string(v.Ticket.Service), v.Ticket.Detail, v.Ticket.QueueNo
		}
		l.Visitors = append(l.Visitors, e)
	}
	return l, nil
}

// Duty returns who is on duty (the local API's backend).
//
// Errors: EUNAVAILABLE, EINTERNAL.
func (a *Agent) Duty() (localapi.DutyStatus, error) {
	ds, err := a.store.Duty()
	if err != nil {
		return localapi.DutyStatus{}, err
	}
	st := a.currentStation()
	out := localapi.DutyStatus{OnDuty: make([]localapi.OnDuty, 0, len(ds))}
	for _, d := range ds {
		m, ok := st.StaffByID(d.Staff)
		sm := localapi.StaffMember{ID: d.Staff, Name: d.Staff}
		if ok {
			sm = member(m)
		}
		out.OnDuty = append(out.OnDuty, localapi.OnDuty{Staff: sm, Since: d.Since})
	}
	return out, nil
}

// SetDuty signs the session's staff member on or off duty (the local API's
// backend); the change goes to the hub as a duty event.
//
// Errors: ENOTFOUND (no roster), EEXPIRED, EFULL, EUNAVAILABLE, EINTERNAL.
func (a *Agent) SetDuty(ctx context.Context, req localapi.DutyRequest) (localapi.DutyStatus, error) {
	if len(a.currentStation().Staff) == 0 {
		return localapi.DutyStatus{}, errNoRoster
	}
	staff, err := a.staffAct(req.StaffSession)
	if err != nil {
		return localapi.DutyStatus{}, err
	}
	changed, err := a.store.SetDuty(staff, req.On)
	if err != nil {
		return localapi.DutyStatus{}, err
	}
	if changed {
		signal(a.wake)
		a.statusChanged()
		a.cfg.Logf("agent: staff %s on duty: %v", staff, req.On)
	}
	return a.Duty()
}

// Print prints a visit's current ticket again (the local API's backend).
// A session, when given, must be live; the kiosk may also reprint for the
// visitor it just checked in.
//
// Errors: ENOTFOUND (no printer, no ticket of today), EEXPIRED,
// EUNAVAILABLE (printer not ready), EINTERNAL.
func (a *Agent) Print(ctx context.Context, req localapi.PrintRequest) error {
	if a.cfg.Printer == nil {
		return vetnet.Errorz(vetnet.ENOTFOUND, "本站没有打印机", "This station has no printer.")
	}
	if req.StaffSession != "" {
		if _, err := a.staffAct(req.StaffSession); err != nil {
			return err
		}
	}
	t, err := a.store.Ticket(req.CheckInID)
	if err != nil {
		return err
	}
	if a.store.Day() != a.dayOf(t.At) {
		return vetnet.Errorz(vetnet.ENOTFOUND, "今天的排队中没有这个号", "No such ticket in today's queue.")
	}
	ahead := 0
	if t.State == bolt.TicketWaiting {
		if q, err := a.Queue(); err == nil {
			for _, qs := range q.Services {
				for _, w := range qs.Waiting {
					if w.CheckInID == t.CheckInID {
						break
					}
					if qs.Service == string(t.Service) {
						ahead++
					}
				}
			}
		}
	}
	return a.print(ctx, t, ahead)
}

func (a *Agent) dayOf(t time.Time) string {
	loc := a.cfg.Location
	if loc == nil {
		loc = time.Local
	}
	return t.In(loc).Format("2006-01-02")
}

// print prints a ticket, waiting at most PrintTimeout.
func (a *Agent) print(ctx context.Context, t bolt.QueueTicket, ahead int) error {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.PrintTimeout)
	defer cancel()
	st := a.currentStation()
	info, _ := t.Service.Info()
	pt := escpos.Ticket{Station: st.Name, QueueNo: t.QueueNo, Service: info.ZH, ServiceEN: info.EN, At: t.At.In(a.location()),
		Ahead: ahead, ExpectedWaitS: a.expectedWait(t.Service, ahead),
		QR:     fmt.Sprintf("VN1:%s:%s:%s:%s", st.ID, a.dayOf(t.At), t.QueueNo, t.CheckInID),
		Footer: "请留意叫号 Please listen for your number"}
	for _, o := range info.Options {
		if o.Key == t.Detail {
			pt.Detail = o.ZH
		}
	}
	err := a.cfg.Printer.Print(ctx, pt)
	a.statusChanged() // the printer's health may have changed
	if err != nil {
		a.cfg.Logf("agent: ticket %s not printed: %v", t.QueueNo, err)
	}
	return err
}

func (a *Agent) location() *time.Location {
	if a.cfg.Location != nil {
		return a.cfg.Location
	}
	return time.Local
}

// checkPrinter asks the printer's status now and then, so that its health
// in heartbeats and on the staff screen is current while it is idle.
func (a *Agent) checkPrinter(ctx context.Context) {
	t := time.NewTicker(printerCheckEvery)
	defer t.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, a.cfg.PrintTimeout)
		_ = a.cfg.Printer.Check(cctx)
		cancel()
		a.statusChanged()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// healths is the health of the readers and the printer.
func (a *Agent) healths() []reader.Health {
	out := make([]reader.Health, 0, len(a.readers)+1)
	for _, r := range a.readers {
		out = append(out, r.Health())
	}
	if a.cfg.Printer != nil {
		out = append(out, a.cfg.Printer.Health())
	}
	return out
}
