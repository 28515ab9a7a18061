package session

import (
	"reflect"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

func staffStatus() localapi.Status {
	st := testStatus()
	st.Staff = true
	return st
}

var (
	head    = localapi.StaffMember{ID: "xb-0111", Name: "李卫东", Role: "head", HasPIN: true}
	grid    = localapi.StaffMember{ID: "xb-0118", Name: "孙秀英", Role: "grid", HasPIN: true}
	badgeOn = localapi.StaffMember{ID: "xb-0120", Name: "赵强", Role: "officer"}
)

func staffSession(m localapi.StaffMember, via string) localapi.StaffSession {
	return localapi.StaffSession{Session: "sess-" + m.ID, ExpiresAt: t0.Add(5 * time.Minute), Staff: m, Via: via}
}

func keys(f *fixture, s string) {
	for _, c := range s {
		f.step(Key{string(c)})
	}
}

// PIN sign-in, a typed ID number, a check-in that records the staff
// session, back to the staff menu, sign-out.
func TestStaffPINAndTypedCheckIn(t *testing.T) {
	f := &fixture{now: t0}
	f.s = &Session{Now: func() time.Time { return f.now }}
	f.step(AgentStatus{staffStatus()})
	if !f.s.View().HasStaff {
		t.Fatal("idle does not offer staff sign-in")
	}
	sub := f.step(StaffOpen{})
	if f.s.State() != StaffLogin || sub == nil || !sub.Roster {
		t.Fatalf("state %v sub %+v", f.s.State(), sub)
	}
	f.step(StaffRoster{localapi.StaffList{Staff: []localapi.StaffMember{head, grid, badgeOn}}})
	if v := f.s.View(); len(v.Staff.Roster) != 2 {
		t.Fatalf("roster on screen %+v (badge-only members cannot use a PIN)", v.Staff.Roster)
	}
	if f.step(StaffSubmit{}); f.s.View().Staff.Error != MsgPickStaff {
		t.Fatalf("submit without a name: %+v", f.s.View().Staff.Error)
	}
	f.step(StaffPick{head.ID})
	keys(f, "13")
	if sub := f.step(StaffSubmit{}); sub != nil || f.s.View().Staff.Error.Code != vetnet.EINVALID {
		t.Fatalf("a short PIN was sent: %+v", sub)
	}
	keys(f, "5x7")
	if f.s.View().Staff.PINLen != 4 {
		t.Fatalf("PIN length %d", f.s.View().Staff.PINLen)
	}
	sub = f.step(StaffSubmit{})
	if sub == nil || sub.Login == nil || sub.Login.StaffID != head.ID || sub.Login.PIN != "1357" || !f.s.View().Staff.Busy {
		t.Fatalf("login submission %+v", sub)
	}
	if f.s.View().Staff.PINLen != 0 {
		t.Error("the PIN stays in the session after it was sent")
	}
	f.step(StaffLoginFailed{Attempt: sub.Attempt, Err: vetnet.Errorz(vetnet.EINVALID, "工号或PIN码不正确", "Wrong.")})
	if v := f.s.View(); v.State != StaffLogin || v.Staff.Busy || v.Staff.Error.ZH != "工号或PIN码不正确" {
		t.Fatalf("after a refusal %+v", v.Staff)
	}
	keys(f, "1357")
	sub = f.step(StaffSubmit{})
	f.step(StaffSignedIn{Attempt: sub.Attempt, Session: staffSession(head, "pin")})
	if v := f.s.View(); v.State != StaffMenu || v.Staff.Member.Name != "李卫东" {
		t.Fatalf("signed in: %v %+v", v.State, v.Staff)
	}

	f.step(ManualStart{})
	if f.s.State() != ManualEntry {
		t.Fatal(f.s.State())
	}
	keys(f, "11010519491231002")
	f.step(Key{"x"})
	keys(f, "9") // past 18 characters: ignored
	if e := f.s.View().Staff.Entry; e != "11010519491231002X" {
		t.Fatalf("entry %q", e)
	}
	f.step(Key{KeyDelete})
	f.step(Key{"1"})
	f.step(ManualConfirm{})
	if v := f.s.View(); v.State != ManualEntry || v.Staff.Error.Code != vetnet.EINVALID {
		t.Fatalf("a wrong check character was taken: %v %+v", v.State, v.Staff.Error)
	}
	f.step(Key{KeyDelete})
	f.step(Key{"X"})
	f.step(ManualConfirm{})
	v := f.s.View()
	if v.State != ChooseService || !v.Visit.Typed || v.Visit.Name != "110105********002X" || v.Staff.Entry != "" {
		t.Fatalf("after confirm: %v %+v", v.State, v.Visit)
	}
	sub = f.step(ServiceChosen{vetnet.ServiceBenefits, "enquiry"})
	if sub == nil || sub.Request.IDNumber != "11010519491231002X" || sub.Request.StaffSession != "sess-xb-0111" || sub.Request.Token != "" {
		t.Fatalf("check-in %+v", sub)
	}
	f.step(CheckInDone{Attempt: sub.Attempt, Response: localapi.CheckInResponse{QueueNo: "B003", Service: "benefits"}})
	if f.s.State() != Confirmed {
		t.Fatal(f.s.State())
	}
	f.step(Done{})
	if v := f.s.View(); v.State != StaffMenu || !reflect.ValueOf(v.Visit).IsZero() {
		t.Fatalf("after the visit: %v %+v", v.State, v.Visit)
	}
	sub = f.step(StaffLogout{})
	if f.s.State() != Idle || sub == nil || sub.Logout != "sess-xb-0111" || f.s.View().Staff.Member.ID != "" {
		t.Fatalf("logout: %v %+v", f.s.State(), sub)
	}
}

func TestStaffBadgeAndTimeouts(t *testing.T) {
	f := reach(t, Idle)
	f.step(AgentStatus{staffStatus()})
	f.step(StaffSignedIn{Session: staffSession(badgeOn, "badge")})
	if v := f.s.View(); v.State != StaffMenu || v.Staff.Via != "badge" {
		t.Fatalf("%v %+v", v.State, v.Staff)
	}
	// Without a touch for a minute the staff member is signed out.
	f.now = t0.Add(DefaultInactive)
	f.step(Tick{f.now})
	if v := f.s.View(); v.State != Idle || v.Staff.Member.ID != "" {
		t.Fatalf("after a minute: %v", v.State)
	}

	// A badge does not interrupt a visitor's check-in.
	f = reach(t, ChooseService)
	f.step(StaffSignedIn{Session: staffSession(badgeOn, "badge")})
	if f.s.State() != ChooseService {
		t.Fatal(f.s.State())
	}

	// The agent's session expiry ends staff mode; typing keeps it alive.
	f = reach(t, Idle)
	f.step(StaffSignedIn{Session: staffSession(head, "badge")})
	f.step(ManualStart{})
	for i := 0; i < 10; i++ {
		f.now = f.now.Add(30 * time.Second)
		f.step(Key{"1"})
		f.step(Tick{f.now})
	}
	if f.s.State() != Idle {
		t.Fatalf("the session outlived its expiry: %v", f.s.State())
	}

	// Cancel on the keypad goes back to the menu, on the sign-in to idle.
	f = reach(t, Idle)
	f.step(StaffSignedIn{Session: staffSession(head, "badge")})
	f.step(ManualStart{})
	keys(f, "3204")
	f.step(Cancel{})
	if v := f.s.View(); v.State != StaffMenu || v.Staff.Entry != "" {
		t.Fatalf("%v %q", v.State, v.Staff.Entry)
	}
	// The agent going away ends staff mode.
	f.step(AgentDown{})
	if f.s.State() != OutOfService {
		t.Fatal(f.s.State())
	}
}

func TestStaffWithoutRoster(t *testing.T) {
	f := reach(t, Idle)
	if sub := f.step(StaffOpen{}); sub != nil || f.s.View().Staff.Error != MsgNoRoster {
		t.Fatalf("%+v %+v", sub, f.s.View().Staff)
	}
	f.step(Cancel{})
	if f.s.State() != Idle {
		t.Fatal(f.s.State())
	}
}

func TestFromAPIStaff(t *testing.T) {
	ev, err := FromAPI(localapi.Event{Type: localapi.EventStaff, Data: []byte(`{"session":"s1","staff":{"id":"a1","name":"甲","role":"head"},"via":"badge"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if si, ok := ev.(StaffSignedIn); !ok || si.Session.Session != "s1" || si.Attempt != 0 {
		t.Fatalf("%#v", ev)
	}
}
