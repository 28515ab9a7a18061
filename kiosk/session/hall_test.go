package session

import (
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

// desk is a session with a staff member signed in by badge, at the staff
// menu, the duty fetch answered (off duty).
func desk(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{now: t0}
	f.s = &Session{Now: func() time.Time { return f.now }}
	st := staffStatus()
	st.Readers = append(st.Readers, localapi.Reader{Name: "printer0", Kind: ReaderKindPrinter, State: "ok"})
	f.step(AgentStatus{st})
	sub := f.step(StaffSignedIn{Session: staffSession(head, "badge")})
	if sub == nil || sub.Hall == nil || sub.Hall.Kind != CallDuty || sub.Hall.Session != "sess-xb-0111" {
		t.Fatalf("sign-in asks no duty: %+v", sub)
	}
	f.step(HallDone{Call: *sub.Hall, Duty: &localapi.DutyStatus{}})
	return f
}

func ticket(no, svc, state string) localapi.Ticket {
	return localapi.Ticket{CheckInID: "01JD00000000000000000000" + no[len(no)-2:], QueueNo: no, Service: svc, State: state, MaskedName: "张*国"}
}

func TestStaffDesk(t *testing.T) {
	other := HallCall{Kind: CallNext, Session: "sess-someone-else"}
	tests := []struct {
		name   string
		events []Event
		want   State
		call   *HallCall // the last submission's call
		check  func(t *testing.T, v View)
	}{
		{name: "duty on", events: []Event{StaffDuty{On: true}}, want: StaffMenu, call: &HallCall{Kind: CallSetDuty, On: true}},
		{name: "duty answer", events: []Event{StaffDuty{On: true}, answer(func(c HallCall) HallDone {
			return HallDone{Call: c, Duty: &localapi.DutyStatus{OnDuty: []localapi.OnDuty{{Staff: head, Since: t0}, {Staff: grid, Since: t0}}}}
		})}, want: StaffMenu, check: func(t *testing.T, v View) {
			if !v.Staff.OnDuty || v.Staff.DutyCount != 2 || !v.Staff.DutySince.Equal(t0) || v.Staff.Note.ZH != "已签到上岗" {
				t.Fatalf("duty view %+v", v.Staff)
			}
		}},
		{name: "visitors open", events: []Event{StaffOpenVisitors{}}, want: StaffVisitors, call: &HallCall{Kind: CallVisitors}},
		{name: "visitors listed", events: []Event{StaffOpenVisitors{}, answer(func(c HallCall) HallDone {
			return HallDone{Call: c, Visitors: &localapi.VisitorList{Visitors: []localapi.VisitorEntry{{CheckInID: "x", MaskedName: "张*国", QueueNo: "B001", Service: "benefits"}}}}
		})}, want: StaffVisitors, check: func(t *testing.T, v View) {
			if len(v.Staff.Visitors) != 1 || v.Staff.Visitors[0].QueueNo != "B001" {
				t.Fatalf("visitors %+v", v.Staff.Visitors)
			}
		}},
		{name: "search", events: []Event{StaffOpenVisitors{}, StaffSearch{"张"}}, want: StaffVisitors, call: &HallCall{Kind: CallVisitors, Query: "张"}},
		{name: "search too long", events: []Event{StaffOpenVisitors{}, StaffSearch{strings.Repeat("张", localapi.MaxQueryLen+1)}}, want: StaffVisitors,
			check: func(t *testing.T, v View) {
				if v.Staff.Note != MsgQueryTooLong {
					t.Fatalf("note %+v", v.Staff.Note)
				}
			}},
		{name: "a late answer to an old search is dropped", events: []Event{StaffOpenVisitors{}, StaffSearch{"李"}, HallDone{Call: HallCall{Kind: CallVisitors, Session: "sess-xb-0111", Query: "张"},
			Visitors: &localapi.VisitorList{Visitors: []localapi.VisitorEntry{{QueueNo: "B001"}}}}}, want: StaffVisitors, check: func(t *testing.T, v View) {
			if len(v.Staff.Visitors) != 0 {
				t.Fatalf("stale visitors shown: %+v", v.Staff.Visitors)
			}
		}},
		{name: "print", events: []Event{StaffOpenVisitors{}, StaffPrint{"01JD0000000000000000000001"}}, want: StaffVisitors,
			call: &HallCall{Kind: CallPrint, CheckInID: "01JD0000000000000000000001"}},
		{name: "transfer from visitors", events: []Event{StaffOpenVisitors{}, StaffTransferStart{"01JD0000000000000000000001", "B001"}, StaffTransferTo{vetnet.ServiceLegalAid}},
			want: StaffVisitors, call: &HallCall{Kind: CallTransfer, CheckInID: "01JD0000000000000000000001", Service: "legal_aid"}},
		{name: "transfer answer reloads", events: []Event{StaffOpenVisitors{}, StaffTransferStart{"01JD0000000000000000000001", "B001"}, StaffTransferTo{vetnet.ServiceLegalAid},
			answer(func(c HallCall) HallDone {
				t := ticket("L001", "legal_aid", "waiting")
				return HallDone{Call: c, Ticket: &t}
			})},
			want: StaffVisitors, call: &HallCall{Kind: CallVisitors}, check: func(t *testing.T, v View) {
				if v.Staff.Note.ZH != "已转至法律援助，新号 L001" {
					t.Fatalf("note %+v", v.Staff.Note)
				}
			}},
		{name: "transfer to a service not offered", events: []Event{StaffOpenVisitors{}, StaffTransferStart{"01JD0000000000000000000001", "B001"}, StaffTransferTo{vetnet.ServiceHonours}},
			want: StaffTransfer},
		{name: "transfer back", events: []Event{StaffOpenQueue{}, StaffTransferStart{"01JD0000000000000000000001", "B001"}, Back{}}, want: StaffQueue},
		{name: "queue open", events: []Event{StaffOpenQueue{}}, want: StaffQueue, call: &HallCall{Kind: CallQueue}},
		{name: "call next", events: []Event{StaffOpenQueue{}, StaffCall{vetnet.ServiceBenefits}}, want: StaffQueue, call: &HallCall{Kind: CallNext, Service: "benefits"}},
		{name: "called", events: []Event{StaffOpenQueue{}, StaffCall{vetnet.ServiceBenefits},
			answer(func(c HallCall) HallDone {
				t := ticket("B001", "benefits", "called")
				return HallDone{Call: c, Ticket: &t}
			})},
			want: StaffQueue, check: func(t *testing.T, v View) {
				if v.Staff.Note.ZH != "已呼叫 B001" || v.Staff.Note.EN != "Called B001" {
					t.Fatalf("note %+v", v.Staff.Note)
				}
			}},
		{name: "nobody waits", events: []Event{StaffOpenQueue{}, StaffCall{vetnet.ServiceBenefits},
			answer(func(c HallCall) HallDone {
				return HallDone{Call: c, Err: vetnet.Errorz(vetnet.ENOTFOUND, "没有等候的人", "Nobody is waiting.")}
			})},
			want: StaffQueue, check: func(t *testing.T, v View) {
				if v.Staff.Note.Code != vetnet.ENOTFOUND {
					t.Fatalf("note %+v", v.Staff.Note)
				}
			}},
		{name: "session ended at the agent", events: []Event{StaffOpenQueue{}, StaffCall{vetnet.ServiceBenefits},
			answer(func(c HallCall) HallDone {
				return HallDone{Call: c, Err: vetnet.Errorz(vetnet.EEXPIRED, "登录已过期", "Signed out.")}
			})},
			want: Idle},
		{name: "served", events: []Event{StaffOpenQueue{}, StaffServed{"01JD0000000000000000000001"}}, want: StaffQueue,
			call: &HallCall{Kind: CallServed, CheckInID: "01JD0000000000000000000001"}},
		{name: "no-show", events: []Event{StaffOpenQueue{}, StaffNoShow{"01JD0000000000000000000001"}}, want: StaffQueue,
			call: &HallCall{Kind: CallNoShow, CheckInID: "01JD0000000000000000000001"}},
		{name: "queue event", events: []Event{StaffOpenQueue{}, QueueChanged{localapi.QueueStatus{Day: "2025-06-03",
			Services: []localapi.QueueService{{Service: "benefits", Waiting: []localapi.Ticket{ticket("B002", "benefits", "waiting")}}}}}},
			want: StaffQueue, check: func(t *testing.T, v View) {
				if v.Queue == nil || v.Queue.Services[0].Waiting[0].QueueNo != "B002" {
					t.Fatalf("queue %+v", v.Queue)
				}
			}},
		{name: "another staff member's answer ignored", events: []Event{StaffOpenQueue{}, HallDone{Call: other, Err: vetnet.Errorz(vetnet.EEXPIRED, "x", "x")}}, want: StaffQueue},
		{name: "back", events: []Event{StaffOpenVisitors{}, Back{}}, want: StaffMenu},
		{name: "times out", events: []Event{StaffOpenQueue{}, at(DefaultInactive)}, want: Idle},
		{name: "sign out from the queue", events: []Event{StaffOpenQueue{}, StaffLogout{}}, want: Idle},
		{name: "agent down", events: []Event{StaffOpenVisitors{}, AgentDown{}}, want: OutOfService},
		{name: "queue call outside the queue screen ignored", events: []Event{StaffCall{vetnet.ServiceBenefits}}, want: StaffMenu},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := desk(t)
			f.sub = nil
			for _, ev := range tc.events {
				if p, ok := ev.(pending); ok {
					ev = p(f)
				}
				f.step(ev)
			}
			v := f.s.View()
			if v.State != tc.want {
				t.Fatalf("state %v, want %v", v.State, tc.want)
			}
			if tc.call != nil {
				want := *tc.call
				want.Session = "sess-xb-0111"
				if f.sub == nil || f.sub.Hall == nil || *f.sub.Hall != want {
					t.Fatalf("call %+v, want %+v", f.sub, want)
				}
			}
			if tc.check != nil {
				tc.check(t, v)
			}
			if v.State == Idle || v.State == OutOfService {
				assertWiped(t, f.s)
				if v.Queue != nil || len(v.Staff.Visitors) != 0 {
					t.Fatalf("staff data left on the way out: %+v", v)
				}
			}
		})
	}
}

// answer answers the last hall call.
func answer(fn func(HallCall) HallDone) pending {
	return func(f *fixture) Event { return fn(*f.sub.Hall) }
}

// The queue reaches the view only in staff mode.
func TestQueueOnlyForStaff(t *testing.T) {
	f := reach(t, Idle)
	f.step(QueueChanged{localapi.QueueStatus{Day: "2025-06-03", NowServing: []localapi.Ticket{ticket("B001", "benefits", "called")}}})
	if v := f.s.View(); v.Queue != nil {
		t.Fatalf("queue shown at idle: %+v", v.Queue)
	}
}
