package bolt_test

import (
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/bolt"
)

func named(sv vetnet.Service, name string) bolt.Draft {
	d := draft(sv)
	d.Visitor.Name = name
	return d
}

// visits returns the visit events waiting in the records outbox.
func visits(t *testing.T, s *bolt.Store) []vetnet.VisitEvent {
	t.Helper()
	rs, err := s.PendingRecordsAfter(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []vetnet.VisitEvent
	for _, r := range rs {
		if r.Kind == bolt.KindVisit {
			if r.ID() != r.Visit.ID {
				t.Fatalf("record ID %s, visit %s", r.ID(), r.Visit.ID)
			}
			out = append(out, r.Visit)
		}
	}
	return out
}

// TestTicketStateMachine: tickets wait in order per service, are called
// to a counter, recalled, served or not answered; wrong steps are refused;
// every step is a visit event in the records outbox.
func TestTicketStateMachine(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, cst)}
	s := MustOpen(t, func(o *bolt.Options) { o.Now = clk.Now })
	tick := func() { clk.Set(clk.Now().Add(time.Minute)) }
	b1, t1 := mustCommit(t, s, named(vetnet.ServiceBenefits, "张建国"))
	tick()
	e1, _ := mustCommit(t, s, named(vetnet.ServiceEmployment, "李明"))
	tick()
	b2, t2 := mustCommit(t, s, named(vetnet.ServiceBenefits, "王芳"))
	if t1.Ahead != 0 || t2.Ahead != 1 || t2.QueueNo != "B002" {
		t.Fatalf("tickets %+v %+v", t1, t2)
	}
	staff := bolt.Step{Staff: "xb-0107", Counter: "2号窗口"}

	tests := []struct {
		name string
		do   func() (bolt.QueueTicket, error)
		code string // "" for success
		want func(bolt.QueueTicket) bool
	}{
		{"serve before call", func() (bolt.QueueTicket, error) { return s.Serve(b1.ID, staff) }, vetnet.ECONFLICT, nil},
		{"no-show before call", func() (bolt.QueueTicket, error) { return s.NoShow(b1.ID, staff) }, vetnet.ECONFLICT, nil},
		{"recall before call", func() (bolt.QueueTicket, error) { return s.Recall(b1.ID, staff) }, vetnet.ECONFLICT, nil},
		{"call next benefits", func() (bolt.QueueTicket, error) { return s.Call(vetnet.ServiceBenefits, staff) }, "",
			func(q bolt.QueueTicket) bool {
				return q.CheckInID == b1.ID && q.State == bolt.TicketCalled && q.Calls == 1 && q.Counter == "2号窗口" &&
					q.Staff == "xb-0107" && q.MaskedName == "张*国" && q.CalledAt.Equal(clk.Now())
			}},
		{"recall", func() (bolt.QueueTicket, error) { tick(); return s.Recall(b1.ID, bolt.Step{Staff: "xb-0112"}) }, "",
			func(q bolt.QueueTicket) bool {
				return q.Calls == 2 && q.Staff == "xb-0112" && q.Counter == "2号窗口" && q.LastCallAt.After(q.CalledAt)
			}},
		{"serve", func() (bolt.QueueTicket, error) { tick(); return s.Serve(b1.ID, staff) }, "",
			func(q bolt.QueueTicket) bool { return q.State == bolt.TicketServed && q.DoneAt.Equal(clk.Now()) }},
		{"serve twice", func() (bolt.QueueTicket, error) { return s.Serve(b1.ID, staff) }, vetnet.ECONFLICT, nil},
		{"transfer a served ticket", func() (bolt.QueueTicket, error) {
			return s.Transfer(b1.ID, vetnet.ServiceLegalAid, staff)
		}, vetnet.ECONFLICT, nil},
		{"call next benefits again", func() (bolt.QueueTicket, error) { return s.Call(vetnet.ServiceBenefits, staff) }, "",
			func(q bolt.QueueTicket) bool { return q.CheckInID == b2.ID && q.QueueNo == "B002" }},
		{"no-show", func() (bolt.QueueTicket, error) { return s.NoShow(b2.ID, staff) }, "",
			func(q bolt.QueueTicket) bool { return q.State == bolt.TicketNoShow }},
		{"nobody waits for benefits", func() (bolt.QueueTicket, error) { return s.Call(vetnet.ServiceBenefits, staff) }, vetnet.ENOTFOUND, nil},
		{"unknown check-in", func() (bolt.QueueTicket, error) { return s.Serve("01ARYZ6S410000000000000000", staff) }, vetnet.ENOTFOUND, nil},
		{"unknown service", func() (bolt.QueueTicket, error) { return s.Call("golf", staff) }, vetnet.EINVALID, nil},
		{"bad counter", func() (bolt.QueueTicket, error) {
			return s.Call(vetnet.ServiceEmployment, bolt.Step{Counter: "a\nb"})
		}, vetnet.EINVALID, nil},
		{"transfer to the same service", func() (bolt.QueueTicket, error) {
			return s.Transfer(e1.ID, vetnet.ServiceEmployment, staff)
		}, vetnet.EINVALID, nil},
		{"transfer a waiting ticket", func() (bolt.QueueTicket, error) { return s.Transfer(e1.ID, vetnet.ServiceBenefits, staff) }, "",
			func(q bolt.QueueTicket) bool {
				return q.CheckInID == e1.ID && q.Service == vetnet.ServiceBenefits && q.QueueNo == "B003" && q.From == "A001" &&
					q.State == bolt.TicketWaiting && q.MaskedName == "李*"
			}},
		{"the transferred visit is called in its new queue", func() (bolt.QueueTicket, error) {
			return s.Call(vetnet.ServiceBenefits, staff)
		}, "", func(q bolt.QueueTicket) bool { return q.CheckInID == e1.ID && q.QueueNo == "B003" }},
		{"nobody waits for employment any more", func() (bolt.QueueTicket, error) {
			return s.Call(vetnet.ServiceEmployment, staff)
		}, vetnet.ENOTFOUND, nil},
		{"transfer a called ticket", func() (bolt.QueueTicket, error) { return s.Transfer(e1.ID, vetnet.ServiceLegalAid, staff) }, "",
			func(q bolt.QueueTicket) bool { return q.QueueNo == "L001" && q.From == "B003" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := tt.do()
			if vetnet.ErrorCode(err) != tt.code && !(tt.code == "" && err == nil) {
				t.Fatalf("err = %v, want code %q", err, tt.code)
			}
			if tt.want != nil && !tt.want(q) {
				t.Fatalf("ticket %+v", q)
			}
		})
	}

	var got []string
	for _, e := range visits(t, s) {
		if err := e.Validate(); err != nil {
			t.Errorf("event %+v: %v", e, err)
		}
		got = append(got, string(e.Action)+":"+e.QueueNo+">"+e.ToQueueNo)
	}
	want := []string{"called:B001>", "recalled:B001>", "served:B001>", "called:B002>", "no_show:B002>",
		"transferred:A001>B003", "called:B003>", "transferred:B003>L001"}
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("events %v, want %v", got, want)
		}
	}

	day, ts, err := s.Queue()
	if err != nil || day != "2026-11-26" || len(ts) != 5 {
		t.Fatalf("queue %s %d %v", day, len(ts), err)
	}
	states := map[string]string{}
	for _, q := range ts {
		states[q.QueueNo] = q.State
	}
	if states["B001"] != bolt.TicketServed || states["A001"] != bolt.TicketTransferred || states["L001"] != bolt.TicketWaiting {
		t.Fatalf("states %v", states)
	}
	if cur, err := s.Ticket(e1.ID); err != nil || cur.QueueNo != "L001" {
		t.Fatalf("current ticket %+v %v", cur, err)
	}
}

// TestQueueDurableAndDayRollover: the queue survives a reopen; the next
// day starts new numbers, and yesterday's tickets can no longer be called
// or marked.
func TestQueueDurableAndDayRollover(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 26, 23, 50, 0, 0, cst)}
	s := MustOpen(t, func(o *bolt.Options) { o.Now = clk.Now })
	a, _ := mustCommit(t, s, draft(vetnet.ServiceBenefits))
	b, _ := mustCommit(t, s, draft(vetnet.ServiceBenefits))
	if _, err := s.Call(vetnet.ServiceBenefits, bolt.Step{Counter: "1号"}); err != nil {
		t.Fatal(err)
	}
	if ch, err := s.SetDuty("xb-0107", true); err != nil || !ch {
		t.Fatalf("duty on: %v %v", ch, err)
	}

	path := s.Path()
	s.Close()
	s = mustOpenAt(t, path, func(o *bolt.Options) { o.Now = clk.Now })
	_, ts, err := s.Queue()
	if err != nil || len(ts) != 2 || ts[0].State != bolt.TicketCalled || ts[0].Counter != "1号" || ts[1].State != bolt.TicketWaiting {
		t.Fatalf("queue after reopen: %+v %v", ts, err)
	}
	if d, _ := s.Duty(); len(d) != 1 || d[0].Staff != "xb-0107" {
		t.Fatalf("duty after reopen %+v", d)
	}
	if len(visits(t, s)) != 1 {
		t.Fatal("the call's event was lost")
	}

	clk.Set(time.Date(2026, 11, 27, 8, 0, 0, 0, cst))
	if day, ts, _ := s.Queue(); day != "2026-11-27" || len(ts) != 0 {
		t.Fatalf("the new day's queue: %s %+v", day, ts)
	}
	if _, err := s.Serve(a.ID, bolt.Step{}); vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		t.Fatalf("serving yesterday's ticket: %v", err)
	}
	if _, err := s.Call(vetnet.ServiceBenefits, bolt.Step{}); vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		t.Fatalf("calling yesterday's waiting ticket: %v", err)
	}
	if vs, _ := s.Visitors("", 0); len(vs) != 0 {
		t.Fatalf("yesterday's visitors today: %d", len(vs))
	}
	c, tk := mustCommit(t, s, draft(vetnet.ServiceBenefits))
	if tk.QueueNo != "B001" || tk.Ahead != 0 {
		t.Fatalf("first ticket of the day %+v", tk)
	}
	if _, err := s.Ticket(b.ID); vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		t.Fatalf("yesterday's ticket after the day's first: %v", err)
	}
	if q, err := s.Call(vetnet.ServiceBenefits, bolt.Step{}); err != nil || q.CheckInID != c.ID {
		t.Fatalf("call %+v %v", q, err)
	}
	// Duty lasts over midnight until signed off.
	if d, _ := s.Duty(); len(d) != 1 {
		t.Fatalf("duty %+v", d)
	}
}

// TestVisitorsSearch: today's visitors, newest first, by any part of the
// full name or by queue number, with their ticket's state and rating.
func TestVisitorsSearch(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, cst)}
	s := MustOpen(t, func(o *bolt.Options) { o.Now = clk.Now })
	var made []vetnet.CheckIn
	for _, n := range []string{"张建国", "李建华", "王芳", "Ivan Petrov"} {
		c, _ := mustCommit(t, s, named(vetnet.ServiceBenefits, n))
		made = append(made, c)
		clk.Set(clk.Now().Add(time.Minute))
	}
	if _, err := s.Call(vetnet.ServiceBenefits, bolt.Step{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CommitFeedback(bolt.FeedbackDraft{CheckInID: made[0].ID, Rating: 5}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q    string
		want []string // check-in names, newest first
	}{
		{"", []string{"Ivan Petrov", "王芳", "李建华", "张建国"}},
		{"建", []string{"李建华", "张建国"}},
		{" 建国 ", []string{"张建国"}},
		{"petrov", []string{"Ivan Petrov"}},
		{"b003", []string{"王芳"}},
		{"赵", nil},
	}
	for _, tt := range tests {
		t.Run("q="+tt.q, func(t *testing.T) {
			vs, err := s.Visitors(tt.q, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range vs {
				got = append(got, v.CheckIn.Visitor.Name)
				if v.Ticket.MaskedName != vetnet.MaskName(v.CheckIn.Visitor.Name) {
					t.Errorf("masked name %q", v.Ticket.MaskedName)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
	vs, _ := s.Visitors("张建国", 0)
	if len(vs) != 1 || !vs[0].Rated || vs[0].Ticket.State != bolt.TicketCalled {
		t.Fatalf("visit %+v", vs)
	}
	if vs, _ := s.Visitors("", 2); len(vs) != 2 {
		t.Fatalf("max 2: %d", len(vs))
	}
}

// TestDuty: on and off duty, idempotent, each change one duty event.
func TestDuty(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 26, 8, 30, 0, 0, cst)}
	s := MustOpen(t, func(o *bolt.Options) { o.Now = clk.Now })
	steps := []struct {
		staff   string
		on      bool
		changed bool
	}{
		{"xb-0107", true, true},
		{"xb-0107", true, false},
		{"xb-0112", true, true},
		{"xb-0107", false, true},
		{"xb-0107", false, false},
	}
	for _, st := range steps {
		clk.Set(clk.Now().Add(time.Minute))
		ch, err := s.SetDuty(st.staff, st.on)
		if err != nil || ch != st.changed {
			t.Fatalf("SetDuty(%s, %v) = %v, %v", st.staff, st.on, ch, err)
		}
	}
	if _, err := s.SetDuty("not a staff id", true); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("bad staff ID: %v", err)
	}
	d, err := s.Duty()
	if err != nil || len(d) != 1 || d[0].Staff != "xb-0112" || !d[0].Since.Equal(time.Date(2026, 11, 26, 8, 33, 0, 0, cst)) {
		t.Fatalf("duty %+v %v", d, err)
	}
	rs, _ := s.PendingRecordsAfter(0, 0)
	var got []string
	for _, r := range rs {
		if r.Kind != bolt.KindDuty || r.Duty.Validate() != nil {
			t.Fatalf("record %+v", r)
		}
		got = append(got, r.Duty.Staff+map[bool]string{true: "+", false: "-"}[r.Duty.On])
	}
	if len(got) != 3 || got[0] != "xb-0107+" || got[1] != "xb-0112+" || got[2] != "xb-0107-" {
		t.Fatalf("duty events %v", got)
	}
	// The ack clears them like any record.
	var rids []string
	for _, r := range rs {
		rids = append(rids, r.ID())
	}
	if n, err := s.Ack(rids); err != nil || n != 3 {
		t.Fatalf("ack %d %v", n, err)
	}
}

// TestQueueStepsRefusedWhenFull: a full outbox refuses queue steps and duty
// changes (their events could not be kept), and nothing changes.
func TestQueueStepsRefusedWhenFull(t *testing.T) {
	s := MustOpen(t, func(o *bolt.Options) { o.MaxOutbox = 2 })
	mustCommit(t, s, draft(vetnet.ServiceBenefits))
	mustCommit(t, s, draft(vetnet.ServiceBenefits))
	if _, err := s.Call(vetnet.ServiceBenefits, bolt.Step{}); vetnet.ErrorCode(err) != vetnet.EFULL {
		t.Fatalf("call with a full outbox: %v", err)
	}
	if _, err := s.SetDuty("xb-0107", true); vetnet.ErrorCode(err) != vetnet.EFULL {
		t.Fatalf("duty with a full outbox: %v", err)
	}
	if _, ts, _ := s.Queue(); ts[0].State != bolt.TicketWaiting {
		t.Fatalf("ticket changed: %+v", ts[0])
	}
}
