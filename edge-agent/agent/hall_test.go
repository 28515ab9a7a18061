package agent_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/agent"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/edge-agent/printer/escpos"
	"github.com/vetnet/vetnet/edge-agent/printer/escpos/escpostest"
)

var cst = time.FixedZone("CST", 8*3600)

// hallStation is an offline station with a roster, on a fake clock.
func hallStation(t *testing.T, edit func(*agent.Config)) (*station, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, cst)}
	id := uniqueStation("hall")
	s := startStation(t, "", func(c *agent.Config) {
		c.StationID, c.Station, c.Now, c.Location = id, roster(t, id), clk.Now, cst
		if edit != nil {
			edit(c)
		}
	})
	return s, clk
}

func (s *station) login(t *testing.T) string {
	t.Helper()
	sess, err := s.api.StaffLogin(context.Background(), localapi.StaffLoginRequest{StaffID: "xb-0107", PIN: "2468"})
	if err != nil {
		t.Fatal(err)
	}
	return sess.Session
}

func (s *station) typed(t *testing.T, session string, v vetnet.Visitor, sv, detail string) localapi.CheckInResponse {
	t.Helper()
	s.logs.secret(v.IDNumber, v.Name)
	resp, err := s.api.CheckIn(context.Background(), localapi.CheckInRequest{IDNumber: v.IDNumber, Name: v.Name,
		Service: sv, Detail: detail, StaffSession: session})
	if err != nil {
		t.Fatalf("check-in: %v", err)
	}
	return resp
}

// TestQueueThroughAPI: check-ins join their queue with the number of
// people ahead; staff call, recall, serve, mark no-shows and transfer
// through the local API with a live session; every change sends a queue
// event; the pace of the day gives the expected wait; all of it offline.
func TestQueueThroughAPI(t *testing.T) {
	s, clk := hallStation(t, nil)
	ctx := context.Background()
	next := s.events(t)
	sess := s.login(t)

	var made []localapi.CheckInResponse
	for i := 0; i < 4; i++ {
		v := veteran()
		r := s.typed(t, sess, v, "benefits", "application")
		if r.Ahead != i || r.QueueNo != []string{"B001", "B002", "B003", "B004"}[i] || r.Detail != "application" || r.ExpectedWaitS != 0 || r.Printed {
			t.Fatalf("check-in %d: %+v", i, r)
		}
		made = append(made, r)
		clk.Add(time.Minute)
	}
	q, err := next(localapi.EventQueue).QueueStatus()
	if err != nil || q.Day != "2026-11-26" {
		t.Fatalf("queue event %+v %v", q, err)
	}

	// Without a session, or with an ended one: EEXPIRED.
	if _, err := s.api.Call(ctx, localapi.CallRequest{Service: "benefits"}); vetnet.ErrorCode(err) != vetnet.EEXPIRED {
		t.Fatalf("call without session: %v", err)
	}
	if _, err := s.api.Call(ctx, localapi.CallRequest{StaffSession: "0123456789abcdef0123456789abcdef", Service: "benefits"}); vetnet.ErrorCode(err) != vetnet.EEXPIRED {
		t.Fatalf("call with an unknown session: %v", err)
	}

	call := func() localapi.Ticket {
		t.Helper()
		tk, err := s.api.Call(ctx, localapi.CallRequest{StaffSession: sess, Service: "benefits", Counter: "2号窗口"})
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	t1 := call()
	if t1.CheckInID != made[0].ID || t1.State != localapi.TicketCalled || t1.Counter != "2号窗口" || t1.StaffID != "xb-0107" ||
		t1.Calls != 1 || t1.MaskedName != made[0].MaskedName || t1.CalledAt == nil || t1.Detail != "application" {
		t.Fatalf("called %+v", t1)
	}
	clk.Add(2 * time.Minute)
	if tk, err := s.api.Recall(ctx, localapi.TicketAction{StaffSession: sess, CheckInID: t1.CheckInID}); err != nil || tk.Calls != 2 {
		t.Fatalf("recall %+v %v", tk, err)
	}
	clk.Add(2 * time.Minute)
	if tk, err := s.api.Served(ctx, localapi.TicketAction{StaffSession: sess, CheckInID: t1.CheckInID}); err != nil || tk.State != localapi.TicketServed || tk.DoneAt == nil {
		t.Fatalf("served %+v %v", tk, err)
	}
	if _, err := s.api.Served(ctx, localapi.TicketAction{StaffSession: sess, CheckInID: t1.CheckInID}); vetnet.ErrorCode(err) != vetnet.ECONFLICT {
		t.Fatalf("served twice: %v", err)
	}
	t2 := call() // 4 minutes after the first call: the pace
	if t2.CheckInID != made[1].ID {
		t.Fatalf("second call %+v", t2)
	}
	if tk, err := s.api.NoShow(ctx, localapi.TicketAction{StaffSession: sess, CheckInID: t2.CheckInID}); err != nil || tk.State != localapi.TicketNoShow {
		t.Fatalf("no-show %+v %v", tk, err)
	}
	tr, err := s.api.Transfer(ctx, localapi.TransferRequest{StaffSession: sess, CheckInID: made[2].ID, Service: "legal_aid"})
	if err != nil || tr.QueueNo != "L001" || tr.Service != "legal_aid" || tr.State != localapi.TicketWaiting || tr.CheckInID != made[2].ID {
		t.Fatalf("transfer %+v %v", tr, err)
	}
	if _, err := s.api.Transfer(ctx, localapi.TransferRequest{StaffSession: sess, CheckInID: made[3].ID, Service: "benefits"}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("transfer to the same service: %v", err)
	}

	// The queue now: B004 waits (B003 left for legal aid), L001 waits,
	// B001 served, B002 gone; now serving shows the latest calls.
	eventually(t, "a queue event with the steps", func() bool {
		q, err := next(localapi.EventQueue).QueueStatus()
		return err == nil && len(q.NowServing) == 2
	})
	q, err = s.api.Queue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byService := map[string]localapi.QueueService{}
	for _, qs := range q.Services {
		byService[qs.Service] = qs
	}
	b := byService["benefits"]
	if len(b.Waiting) != 1 || b.Waiting[0].QueueNo != "B004" || len(b.Called) != 0 || b.ServedToday != 1 || b.AvgServiceS != 240 || b.AvgWaitS != 330 {
		t.Fatalf("benefits %+v", b)
	}
	if l := byService["legal_aid"]; len(l.Waiting) != 1 || l.Waiting[0].QueueNo != "L001" {
		t.Fatalf("legal aid %+v", l)
	}
	if q.NowServing[0].QueueNo != "B002" || q.NowServing[1].QueueNo != "B001" {
		t.Fatalf("now serving %+v", q.NowServing)
	}
	// The next check-in has one ahead, expected to wait one pace: the
	// two calls were 4 minutes apart.
	r := s.typed(t, sess, veteran(), "benefits", "")
	if r.Ahead != 1 || r.ExpectedWaitS != 240 {
		t.Fatalf("expected wait: %+v", r)
	}

	// The session ends after five idle minutes.
	clk.Add(agent.StaffSessionTTL + time.Second)
	if _, err := s.api.Call(ctx, localapi.CallRequest{StaffSession: sess, Service: "benefits"}); vetnet.ErrorCode(err) != vetnet.EEXPIRED {
		t.Fatalf("call with an expired session: %v", err)
	}
	if _, err := s.api.Visitors(ctx, sess, ""); vetnet.ErrorCode(err) != vetnet.EEXPIRED {
		t.Fatalf("visitors with an expired session: %v", err)
	}
}

// TestVisitorsAndDuty: staff find today's visitors by name (masked in the
// answer), and sign on and off duty, which survives a restart.
func TestVisitorsAndDuty(t *testing.T) {
	s, _ := hallStation(t, nil)
	ctx := context.Background()
	sess := s.login(t)
	a := vetnet.Visitor{IDNumber: veteran().IDNumber, Name: "张建国"}
	b := vetnet.Visitor{IDNumber: veteran().IDNumber, Name: "李建华"}
	ra := s.typed(t, sess, a, "benefits", "enquiry")
	s.typed(t, sess, b, "employment", "")
	if _, err := s.api.Feedback(ctx, localapi.FeedbackRequest{CheckInID: ra.ID, Rating: 5}); err != nil {
		t.Fatal(err)
	}
	l, err := s.api.Visitors(ctx, sess, "建国")
	if err != nil || len(l.Visitors) != 1 {
		t.Fatalf("search: %+v %v", l, err)
	}
	e := l.Visitors[0]
	if e.CheckInID != ra.ID || e.MaskedName != "张*国" || e.MaskedID != vetnet.MaskIDNumber(a.IDNumber) || e.Service != "benefits" ||
		e.Detail != "enquiry" || e.QueueNo != "B001" || e.State != localapi.TicketWaiting || e.Method != "manual" || !e.Rated {
		t.Fatalf("entry %+v", e)
	}
	all, _ := s.api.Visitors(ctx, sess, "")
	if len(all.Visitors) != 2 || all.Visitors[0].MaskedName != "李*华" {
		t.Fatalf("all, newest first: %+v", all)
	}
	raw, _ := json.Marshal(all)
	if strings.Contains(string(raw), "建国") || strings.Contains(string(raw), a.IDNumber) {
		t.Fatalf("visitors unmasked: %s", raw)
	}

	if d, err := s.api.Duty(ctx); err != nil || len(d.OnDuty) != 0 {
		t.Fatalf("duty %+v %v", d, err)
	}
	d, err := s.api.SetDuty(ctx, localapi.DutyRequest{StaffSession: sess, On: true})
	if err != nil || len(d.OnDuty) != 1 || d.OnDuty[0].Staff.Name != "王立新" || d.OnDuty[0].Since.IsZero() {
		t.Fatalf("on duty %+v %v", d, err)
	}
	if _, err := s.api.SetDuty(ctx, localapi.DutyRequest{On: true}); vetnet.ErrorCode(err) != vetnet.EEXPIRED {
		t.Fatalf("duty without session: %v", err)
	}
	s.restart(t, nil)
	if d, _ := s.api.Duty(ctx); len(d.OnDuty) != 1 {
		t.Fatalf("duty after restart %+v", d)
	}
	sess = s.login(t)
	if d, err := s.api.SetDuty(ctx, localapi.DutyRequest{StaffSession: sess, On: false}); err != nil || len(d.OnDuty) != 0 {
		t.Fatalf("off duty %+v %v", d, err)
	}
	// Two duty changes, one rating, two check-ins wait for the hub.
	if st := s.status(t); st.Outbox.Depth != 5 {
		t.Fatalf("outbox %+v", st.Outbox)
	}
}

// TestNoRoster: a station without a roster works its queue without
// sessions, and has no duty.
func TestNoRoster(t *testing.T) {
	s := startStation(t, "", nil)
	ctx := context.Background()
	_, r := s.manual(t, vetnet.ServiceBenefits)
	tk, err := s.api.Call(ctx, localapi.CallRequest{Service: "benefits"})
	if err != nil || tk.CheckInID != r.ID || tk.StaffID != "" {
		t.Fatalf("call %+v %v", tk, err)
	}
	if _, err := s.api.SetDuty(ctx, localapi.DutyRequest{On: true}); vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		t.Fatalf("duty without roster: %v", err)
	}
	if err := s.api.Print(ctx, localapi.PrintRequest{CheckInID: r.ID}); vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		t.Fatalf("print without printer: %v", err)
	}
}

// TestPrinting: a station with a printer prints the ticket at check-in
// and on request; a printer out of paper fails no check-in and shows as a
// fault in the status.
func TestPrinting(t *testing.T) {
	emu, err := escpostest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	p, err := escpos.New(escpos.Options{Driver: escpos.DriverSerial, Path: emu.Path(), StatusTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	s, _ := hallStation(t, func(c *agent.Config) { c.Printer = p })
	ctx := context.Background()
	sess := s.login(t)

	r := s.typed(t, sess, veteran(), "benefits", "certificate")
	if !r.Printed {
		t.Fatalf("not printed: %+v", r)
	}
	eventually(t, "the ticket", func() bool { return emu.Cuts() == 1 })
	text, err := escpostest.Describe(emu.Printed())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`TEXT "B001"`, `TEXT "优抚待遇 · 开具证明"`, `TEXT "新桥社区退役军人服务站"`, r.ID, `TEXT "2026-11-26 09:00"`} {
		if !strings.Contains(text, want) {
			t.Fatalf("ticket lacks %s:\n%s", want, text)
		}
	}

	emu.SetPaperOut(true)
	r2 := s.typed(t, sess, veteran(), "benefits", "")
	if r2.Printed || r2.QueueNo != "B002" {
		t.Fatalf("printed without paper: %+v", r2)
	}
	eventually(t, "the printer's fault in the status", func() bool {
		for _, h := range s.status(t).Readers {
			if h.Kind == escpos.KindPrinter {
				return h.State == "fault" && h.Detail == "paper out"
			}
		}
		return false
	})
	if err := s.api.Print(ctx, localapi.PrintRequest{CheckInID: r2.ID}); vetnet.ErrorCode(err) != vetnet.EUNAVAILABLE {
		t.Fatalf("reprint without paper: %v", err)
	}
	emu.SetPaperOut(false)
	if err := s.api.Print(ctx, localapi.PrintRequest{CheckInID: r2.ID, StaffSession: sess}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the reprint", func() bool { return emu.Cuts() == 2 })
	if err := s.api.Print(ctx, localapi.PrintRequest{CheckInID: "01ARYZ6S410000000000000000"}); vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		t.Fatalf("reprint of nothing: %v", err)
	}
	if err := s.api.Print(ctx, localapi.PrintRequest{CheckInID: r2.ID, StaffSession: "ended"}); vetnet.ErrorCode(err) != vetnet.EEXPIRED {
		t.Fatalf("reprint with an ended session: %v", err)
	}
}
