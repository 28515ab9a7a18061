package session

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

var t0 = time.Date(2025, 6, 3, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))

func testStatus() localapi.Status {
	return localapi.Status{
		Station: localapi.StationInfo{ID: "cz-xb-sanjing-xinqiao", Name: "新桥社区退役军人服务站", NameEN: "Xinqiao Community Station",
			Level: "village", Services: []string{"employment", "benefits", "legal_aid", "records"}},
		Online:  true,
		Outbox:  localapi.Outbox{Depth: 3},
		Readers: []localapi.Reader{{Name: "sim0", Kind: "simulated", State: "ok"}},
	}
}

func testCard(name string) localapi.CardEvent {
	last := t0.AddDate(0, -1, 0)
	return localapi.CardEvent{Token: "tok-" + name, ExpiresAt: t0.Add(5 * time.Minute), MaskedName: name,
		MaskedID: "320411********123X", Doc: "resident", Reader: "sim0", Returning: true, LastVisit: &last}
}

// fixture is a session on a fake clock, driven to a starting state.
type fixture struct {
	s   *Session
	now time.Time
	sub *Submission // the last submission returned
}

func (f *fixture) step(ev Event) *Submission {
	sub := f.s.Step(ev)
	if sub != nil {
		f.sub = sub
	}
	return sub
}

// reach builds a session in state st by the ordinary road, at t0.
func reach(t *testing.T, st State) *fixture {
	t.Helper()
	f := &fixture{now: t0}
	f.s = &Session{Now: func() time.Time { return f.now }}
	path := map[State][]Event{
		OutOfService:  nil,
		Idle:          {AgentStatus{testStatus()}},
		Notice:        {AgentStatus{testStatus()}, CardFailed{localapi.CardErrorEvent{Code: "invalid", MessageZH: "卡片无法识别", MessageEN: "Unknown card."}}},
		Greeting:      {AgentStatus{testStatus()}, CardRead{testCard("张*国")}},
		ChooseService: {AgentStatus{testStatus()}, CardRead{testCard("张*国")}, Continue{}},
		Submitting:    {AgentStatus{testStatus()}, CardRead{testCard("张*国")}, Continue{}, ServiceChosen{vetnet.ServiceBenefits, "enquiry"}},
		Confirmed: {AgentStatus{testStatus()}, CardRead{testCard("张*国")}, Continue{}, ServiceChosen{vetnet.ServiceBenefits, "enquiry"},
			done(localapi.CheckInResponse{QueueNo: "B007", Service: "benefits", MaskedName: "张*国", Waiting: 2})},
		Failed: {AgentStatus{testStatus()}, CardRead{testCard("张*国")}, Continue{}, ServiceChosen{vetnet.ServiceBenefits, "enquiry"},
			failed(vetnet.Errorz(vetnet.EUNAVAILABLE, "站点暂时无法保存", "The station cannot save now."))},
	}[st]
	for _, ev := range path {
		if p, ok := ev.(pending); ok {
			ev = p(f)
		}
		f.step(ev)
	}
	if got := f.s.State(); got != st {
		t.Fatalf("reach %v: got %v", st, got)
	}
	return f
}

// pending is an event that needs the fixture (the attempt number) to be made.
type pending func(f *fixture) Event

func (pending) event() {}

func done(r localapi.CheckInResponse) pending {
	return func(f *fixture) Event { return CheckInDone{Attempt: f.sub.Attempt, Response: r} }
}

func failed(err error) pending {
	return func(f *fixture) Event { return CheckInFailed{Attempt: f.sub.Attempt, Err: err} }
}

func stale(ev Event) pending {
	return func(f *fixture) Event {
		switch e := ev.(type) {
		case CheckInDone:
			e.Attempt = f.sub.Attempt - 1
			return e
		case CheckInFailed:
			e.Attempt = f.sub.Attempt - 1
			return e
		}
		return ev
	}
}

func at(d time.Duration) Event { return Tick{Now: t0.Add(d)} }

// touchAt touches the screen at t0+d.
func touchAt(d time.Duration) pending {
	return func(f *fixture) Event { f.now = t0.Add(d); return Touch{} }
}

func TestTransitions(t *testing.T) {
	expired := vetnet.Errorz(vetnet.EEXPIRED, "刷卡已过期", "The card read has expired.")
	tests := []struct {
		name   string
		from   State
		events []Event
		want   State
		submit bool                           // the last event returns a Submission
		check  func(t *testing.T, f *fixture) // more assertions
	}{
		// OutOfService
		{name: "out of service: status brings idle", from: OutOfService, events: []Event{AgentStatus{testStatus()}}, want: Idle},
		{name: "out of service: card means the stream is up", from: OutOfService, events: []Event{CardRead{testCard("李*")}}, want: Greeting},
		{name: "out of service: card error ignored", from: OutOfService, events: []Event{CardFailed{}}, want: OutOfService},
		{name: "out of service: time passes", from: OutOfService, events: []Event{at(time.Hour)}, want: OutOfService},
		{name: "out of service: cancel ignored", from: OutOfService, events: []Event{Cancel{}}, want: OutOfService},
		{name: "out of service: service ignored", from: OutOfService, events: []Event{ServiceChosen{vetnet.ServiceBenefits, "enquiry"}}, want: OutOfService},

		// Idle
		{name: "idle: card", from: Idle, events: []Event{CardRead{testCard("张*国")}}, want: Greeting,
			check: func(t *testing.T, f *fixture) {
				v := f.s.View()
				if v.Visit.Name != "张*国" || !v.Visit.Returning || v.Visit.LastVisit.IsZero() {
					t.Errorf("visit = %+v", v.Visit)
				}
			}},
		{name: "idle: card error", from: Idle, events: []Event{CardFailed{localapi.CardErrorEvent{Code: "invalid", MessageZH: "请将卡片放平", MessageEN: "Hold the card flat."}}}, want: Notice,
			check: func(t *testing.T, f *fixture) {
				if n := f.s.View().Notice; n.ZH != "请将卡片放平" || n.EN != "Hold the card flat." {
					t.Errorf("notice = %+v", n)
				}
			}},
		{name: "idle: card error without text", from: Idle, events: []Event{CardFailed{localapi.CardErrorEvent{Code: "internal"}}}, want: Notice,
			check: func(t *testing.T, f *fixture) {
				if n := f.s.View().Notice; n.ZH == "" || n.EN == "" {
					t.Errorf("notice = %+v", n)
				}
			}},
		{name: "idle: agent down", from: Idle, events: []Event{AgentDown{}}, want: OutOfService},
		{name: "idle: status update", from: Idle, events: []Event{AgentStatus{localapi.Status{Station: localapi.StationInfo{Name: "新站"}, Outbox: localapi.Outbox{Depth: 9}}}}, want: Idle,
			check: func(t *testing.T, f *fixture) {
				v := f.s.View()
				if v.Station.Name != "新站" || v.Backlog != 9 || v.Online || v.SimReader {
					t.Errorf("view = %+v", v)
				}
			}},
		{name: "idle: time passes", from: Idle, events: []Event{at(24 * time.Hour)}, want: Idle},
		{name: "idle: service without a card", from: Idle, events: []Event{ServiceChosen{vetnet.ServiceBenefits, "enquiry"}}, want: Idle},
		{name: "idle: retry without a failure", from: Idle, events: []Event{Retry{}}, want: Idle},
		{name: "idle: done", from: Idle, events: []Event{Done{}}, want: Idle},

		// Greeting
		{name: "greeting: continue", from: Greeting, events: []Event{Continue{}}, want: ChooseService},
		{name: "greeting: stays before GreetingFor", from: Greeting, events: []Event{at(DefaultGreetingFor - time.Millisecond)}, want: Greeting},
		{name: "greeting: advances after GreetingFor", from: Greeting, events: []Event{at(DefaultGreetingFor)}, want: ChooseService},
		{name: "greeting: choose at once", from: Greeting, events: []Event{ServiceChosen{vetnet.ServiceLegalAid, "advice"}}, want: Submitting, submit: true},
		{name: "greeting: service not offered", from: Greeting, events: []Event{ServiceChosen{vetnet.ServiceHonours, ""}}, want: Greeting},
		{name: "greeting: cancel", from: Greeting, events: []Event{Cancel{}}, want: Idle},
		{name: "greeting: agent down", from: Greeting, events: []Event{AgentDown{}}, want: OutOfService},
		{name: "greeting: another card", from: Greeting, events: []Event{CardRead{testCard("王*")}}, want: Greeting,
			check: func(t *testing.T, f *fixture) {
				if n := f.s.View().Visit.Name; n != "王*" {
					t.Errorf("name = %q", n)
				}
			}},
		{name: "greeting: card error does not disturb", from: Greeting, events: []Event{CardFailed{}}, want: Greeting},
		{name: "greeting: token expires", from: Greeting, events: []Event{Continue{}, at(5 * time.Minute)}, want: Notice,
			check: func(t *testing.T, f *fixture) {
				if n := f.s.View().Notice; n != MsgTokenExpired {
					t.Errorf("notice = %+v", n)
				}
			}},

		// ChooseService
		{name: "choose: service", from: ChooseService, events: []Event{ServiceChosen{vetnet.ServiceBenefits, "enquiry"}}, want: Submitting, submit: true,
			check: func(t *testing.T, f *fixture) {
				if r := f.sub.Request; r.Token != "tok-张*国" || r.Service != "benefits" || f.sub.Deadline != t0.Add(DefaultSubmitTimeout) {
					t.Errorf("submission = %+v", f.sub)
				}
			}},
		{name: "choose: unknown service", from: ChooseService, events: []Event{ServiceChosen{"bogus", ""}}, want: ChooseService},
		{name: "choose: cancel", from: ChooseService, events: []Event{Cancel{}}, want: Idle},
		{name: "choose: stays before Inactive", from: ChooseService, events: []Event{at(DefaultInactive - time.Second)}, want: ChooseService},
		{name: "choose: Inactive without a touch", from: ChooseService, events: []Event{at(DefaultInactive)}, want: Idle},
		{name: "choose: a touch restarts Inactive", from: ChooseService, events: []Event{touchAt(50 * time.Second), at(50*time.Second + DefaultInactive - time.Second)}, want: ChooseService},
		{name: "choose: Inactive after the last touch", from: ChooseService, events: []Event{touchAt(50 * time.Second), at(50*time.Second + DefaultInactive)}, want: Idle},
		{name: "choose: token expires", from: ChooseService, events: []Event{touchAt(4 * time.Minute), at(5 * time.Minute)}, want: Notice},
		{name: "choose: agent down", from: ChooseService, events: []Event{AgentDown{}}, want: OutOfService},
		{name: "choose: another card", from: ChooseService, events: []Event{CardRead{testCard("赵*")}}, want: Greeting},

		// Submitting
		{name: "submitting: done", from: Submitting, events: []Event{done(localapi.CheckInResponse{QueueNo: "B007", Service: "benefits", MaskedName: "张*国", Waiting: 2})}, want: Confirmed,
			check: func(t *testing.T, f *fixture) {
				v := f.s.View().Visit
				if v.QueueNo != "B007" || v.Service != vetnet.ServiceBenefits || v.Waiting != 2 || v.Name != "张*国" {
					t.Errorf("visit = %+v", v)
				}
				if f.s.visit.token != "" {
					t.Error("spent token kept")
				}
			}},
		{name: "submitting: stale answer ignored", from: Submitting, events: []Event{stale(CheckInDone{Response: localapi.CheckInResponse{QueueNo: "B001"}})}, want: Submitting},
		{name: "submitting: stale failure ignored", from: Submitting, events: []Event{stale(CheckInFailed{Err: expired})}, want: Submitting},
		{name: "submitting: agent unavailable can retry", from: Submitting, events: []Event{failed(vetnet.Errorz(vetnet.EUNAVAILABLE, "不可用", "Unavailable."))}, want: Failed,
			check: func(t *testing.T, f *fixture) {
				v := f.s.View().Visit
				if !v.CanRetry || v.Error.ZH != "不可用" || v.Error.EN != "Unavailable." || v.Error.Code != vetnet.EUNAVAILABLE {
					t.Errorf("visit = %+v", v)
				}
			}},
		{name: "submitting: station full can retry", from: Submitting, events: []Event{failed(vetnet.Errorz(vetnet.EFULL, "存储已满", "Storage full."))}, want: Failed,
			check: func(t *testing.T, f *fixture) {
				if !f.s.View().Visit.CanRetry {
					t.Error("cannot retry")
				}
			}},
		{name: "submitting: expired token cannot retry", from: Submitting, events: []Event{failed(expired)}, want: Failed,
			check: func(t *testing.T, f *fixture) {
				if f.s.View().Visit.CanRetry {
					t.Error("can retry")
				}
			}},
		{name: "submitting: a plain error shows no internals", from: Submitting, events: []Event{failed(errPlain("sql: database is locked"))}, want: Failed,
			check: func(t *testing.T, f *fixture) {
				e := f.s.View().Visit.Error
				if strings.Contains(e.ZH+e.EN, "sql") || e.ZH == "" || e.EN == "" {
					t.Errorf("error = %+v", e)
				}
			}},
		{name: "submitting: stays before SubmitTimeout", from: Submitting, events: []Event{at(DefaultSubmitTimeout - time.Millisecond)}, want: Submitting},
		{name: "submitting: SubmitTimeout", from: Submitting, events: []Event{at(DefaultSubmitTimeout)}, want: Failed,
			check: func(t *testing.T, f *fixture) {
				if v := f.s.View().Visit; v.Error != MsgNoAnswer || !v.CanRetry {
					t.Errorf("visit = %+v", v)
				}
			}},
		{name: "submitting: cancel refused", from: Submitting, events: []Event{Cancel{}}, want: Submitting},
		{name: "submitting: card ignored", from: Submitting, events: []Event{CardRead{testCard("王*")}}, want: Submitting},
		{name: "submitting: agent down waits for the answer", from: Submitting, events: []Event{AgentDown{}}, want: Submitting},
		{name: "submitting: second choice ignored", from: Submitting, events: []Event{ServiceChosen{vetnet.ServiceRecords, "contact"}}, want: Submitting},

		// Confirmed
		{name: "confirmed: done", from: Confirmed, events: []Event{Done{}}, want: Idle},
		{name: "confirmed: cancel", from: Confirmed, events: []Event{Cancel{}}, want: Idle},
		{name: "confirmed: stays before ConfirmedFor", from: Confirmed, events: []Event{at(DefaultConfirmedFor - time.Millisecond)}, want: Confirmed},
		{name: "confirmed: ConfirmedFor", from: Confirmed, events: []Event{at(DefaultConfirmedFor)}, want: Idle},
		{name: "confirmed: touches do not extend it", from: Confirmed, events: []Event{touchAt(15 * time.Second), at(DefaultConfirmedFor)}, want: Idle},
		{name: "confirmed: next person's card", from: Confirmed, events: []Event{CardRead{testCard("王*")}}, want: Greeting,
			check: func(t *testing.T, f *fixture) {
				if v := f.s.View().Visit; v.QueueNo != "" || v.Name != "王*" {
					t.Errorf("visit = %+v", v)
				}
			}},
		{name: "confirmed: late failure ignored", from: Confirmed, events: []Event{failed(expired)}, want: Confirmed},
		{name: "confirmed: agent down, then done", from: Confirmed, events: []Event{AgentDown{}, Done{}}, want: OutOfService},
		{name: "confirmed: agent down, then timeout", from: Confirmed, events: []Event{AgentDown{}, at(DefaultConfirmedFor)}, want: OutOfService},

		// Failed
		{name: "failed: retry", from: Failed, events: []Event{Retry{}}, want: Submitting, submit: true,
			check: func(t *testing.T, f *fixture) {
				if f.sub.Attempt != 2 || f.sub.Request.Token != "tok-张*国" || f.sub.Request.Service != "benefits" {
					t.Errorf("submission = %+v", f.sub)
				}
				if v := f.s.View().Visit; v.Error != (Message{}) {
					t.Errorf("error kept: %+v", v.Error)
				}
			}},
		{name: "failed: retry, then done", from: Failed, events: []Event{Retry{}, done(localapi.CheckInResponse{QueueNo: "B008", Service: "benefits"})}, want: Confirmed},
		{name: "failed: old attempt's late answer ignored", from: Failed, events: []Event{Retry{}, stale(CheckInDone{Response: localapi.CheckInResponse{QueueNo: "B001"}})}, want: Submitting},
		{name: "failed: retry refused when it cannot help", from: Submitting, events: []Event{failed(expired), Retry{}}, want: Failed},
		{name: "failed: cancel", from: Failed, events: []Event{Cancel{}}, want: Idle},
		{name: "failed: stays before Inactive", from: Failed, events: []Event{at(DefaultInactive - time.Second)}, want: Failed},
		{name: "failed: Inactive", from: Failed, events: []Event{at(DefaultInactive)}, want: Idle},
		{name: "failed: another card", from: Failed, events: []Event{CardRead{testCard("王*")}}, want: Greeting},
		{name: "failed: agent down, then cancel", from: Failed, events: []Event{AgentDown{}, Cancel{}}, want: OutOfService},

		// Notice
		{name: "notice: NoticeFor", from: Notice, events: []Event{at(DefaultNoticeFor)}, want: Idle},
		{name: "notice: stays before NoticeFor", from: Notice, events: []Event{at(DefaultNoticeFor - time.Millisecond)}, want: Notice},
		{name: "notice: done", from: Notice, events: []Event{Done{}}, want: Idle},
		{name: "notice: cancel", from: Notice, events: []Event{Cancel{}}, want: Idle},
		{name: "notice: card", from: Notice, events: []Event{CardRead{testCard("王*")}}, want: Greeting},
		{name: "notice: another card error", from: Notice, events: []Event{CardFailed{localapi.CardErrorEvent{MessageZH: "二", MessageEN: "two"}}}, want: Notice,
			check: func(t *testing.T, f *fixture) {
				if n := f.s.View().Notice; n.ZH != "二" {
					t.Errorf("notice = %+v", n)
				}
			}},
		{name: "notice: agent down", from: Notice, events: []Event{AgentDown{}}, want: OutOfService},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := reach(t, tc.from)
			var sub *Submission
			for _, ev := range tc.events {
				if p, ok := ev.(pending); ok {
					ev = p(f)
				}
				sub = f.step(ev)
			}
			if got := f.s.State(); got != tc.want {
				t.Fatalf("state = %v, want %v", got, tc.want)
			}
			if (sub != nil) != tc.submit {
				t.Errorf("submission = %+v, want one: %v", sub, tc.submit)
			}
			if tc.want == Idle || tc.want == OutOfService {
				assertWiped(t, f.s)
			}
			if tc.check != nil {
				tc.check(t, f)
			}
		})
	}
}

type errPlain string

func (e errPlain) Error() string { return string(e) }

// assertWiped checks that nothing of a person is left.
func assertWiped(t *testing.T, s *Session) {
	t.Helper()
	if !reflect.ValueOf(s.visit).IsZero() {
		t.Errorf("visit left after return to %v: %+v", s.State(), s.visit)
	}
	v := s.View()
	if !reflect.ValueOf(v.Visit).IsZero() || v.Notice != (Message{}) {
		t.Errorf("view shows a person after return to %v: %+v", s.State(), v)
	}
	b, _ := json.Marshal(v)
	for _, leak := range []string{"张", "王", "赵", "李", "tok-", "B00"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("view after return to %v contains %q: %s", s.State(), leak, b)
		}
	}
}

func TestTimeoutsConfigurable(t *testing.T) {
	f := &fixture{now: t0}
	f.s = &Session{Now: func() time.Time { return f.now },
		GreetingFor: time.Second, Inactive: 10 * time.Second, ConfirmedFor: 3 * time.Second, NoticeFor: 2 * time.Second, SubmitTimeout: 5 * time.Second}
	steps := []struct {
		ev   Event
		want State
	}{
		{AgentStatus{testStatus()}, Idle},
		{CardFailed{}, Notice},
		{at(2 * time.Second), Idle},
		{CardRead{testCard("张*国")}, Greeting}, // at t0 (the session's clock)
		{at(time.Second), ChooseService},
		{at(10 * time.Second), Idle},
		{CardRead{testCard("张*国")}, Greeting},
		{ServiceChosen{vetnet.ServiceRecords, "contact"}, Submitting},
		{at(5 * time.Second), Failed},
		{Retry{}, Submitting},
		{done(localapi.CheckInResponse{QueueNo: "R001"}), Confirmed},
		{at(3 * time.Second), Idle},
	}
	for i, st := range steps {
		ev := st.ev
		if p, ok := ev.(pending); ok {
			ev = p(f)
		}
		f.step(ev)
		if got := f.s.State(); got != st.want {
			t.Fatalf("step %d (%T): state %v, want %v", i, st.ev, got, st.want)
		}
	}
}

// TestWipeOnEveryRoadToIdle walks every way back to Idle from a state that
// shows a person and checks nothing of them survives, in the view or inside.
func TestWipeOnEveryRoadToIdle(t *testing.T) {
	roads := map[State][]Event{
		Greeting:      {Cancel{}, at(5 * time.Minute), AgentDown{}},
		ChooseService: {Cancel{}, at(DefaultInactive), at(5 * time.Minute), AgentDown{}},
		Confirmed:     {Done{}, Cancel{}, at(DefaultConfirmedFor)},
		Failed:        {Cancel{}, at(DefaultInactive)},
		Notice:        {Done{}, Cancel{}, at(DefaultNoticeFor), AgentDown{}},
	}
	for from, evs := range roads {
		for _, ev := range evs {
			t.Run(from.String()+"/"+eventName(ev), func(t *testing.T) {
				f := reach(t, from)
				f.step(ev)
				if st := f.s.State(); st == Notice {
					// The token-expiry notice is the way to idle: it must
					// already hold nothing personal, and then time out.
					if !reflect.ValueOf(f.s.visit).IsZero() {
						t.Fatalf("notice keeps the visit: %+v", f.s.visit)
					}
					f.step(Tick{Now: t0.Add(time.Hour)})
				}
				if st := f.s.State(); st != Idle && st != OutOfService {
					t.Fatalf("state %v", st)
				}
				assertWiped(t, f.s)
			})
		}
	}
}

func eventName(ev Event) string {
	if t, ok := ev.(Tick); ok {
		return "tick+" + t.Now.Sub(t0).String()
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", ev), "session.")
}

func TestNamesAreMaskedAgain(t *testing.T) {
	f := reach(t, Idle)
	f.step(CardRead{localapi.CardEvent{Token: "t", MaskedName: "张建国"}})
	if n := f.s.View().Visit.Name; n != "张*国" {
		t.Errorf("name = %q, want it masked", n)
	}
	f.step(ServiceChosen{vetnet.ServiceBenefits, "enquiry"})
	f.step(CheckInDone{Attempt: f.sub.Attempt, Response: localapi.CheckInResponse{MaskedName: "王小明"}})
	if n := f.s.View().Visit.Name; n != "王*明" {
		t.Errorf("name = %q, want it masked", n)
	}
}

func TestViewDeadline(t *testing.T) {
	tests := []struct {
		name string
		from State
		want time.Time
	}{
		{"idle has none", Idle, time.Time{}},
		{"greeting moves on", Greeting, t0.Add(DefaultGreetingFor)},
		{"choose times out", ChooseService, t0.Add(DefaultInactive)},
		{"submitting gives up", Submitting, t0.Add(DefaultSubmitTimeout)},
		{"confirmed returns", Confirmed, t0.Add(DefaultConfirmedFor)},
		{"failed times out", Failed, t0.Add(DefaultInactive)},
		{"notice returns", Notice, t0.Add(DefaultNoticeFor)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := reach(t, tc.from).s.View().Deadline; !got.Equal(tc.want) {
				t.Errorf("deadline %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("token expiry comes first", func(t *testing.T) {
		f := reach(t, Idle)
		c := testCard("张*国")
		c.ExpiresAt = t0.Add(30 * time.Second)
		f.step(CardRead{c})
		f.step(Continue{})
		if got := f.s.View().Deadline; !got.Equal(c.ExpiresAt) {
			t.Errorf("deadline %v, want %v", got, c.ExpiresAt)
		}
	})
}

func TestOfferedServices(t *testing.T) {
	tests := []struct {
		name string
		st   localapi.StationInfo
		want []vetnet.Service
	}{
		{"station's order", localapi.StationInfo{Services: []string{"records", "benefits"}}, []vetnet.Service{vetnet.ServiceRecords, vetnet.ServiceBenefits}},
		{"unknown keys skipped", localapi.StationInfo{Services: []string{"records", "karaoke"}}, []vetnet.Service{vetnet.ServiceRecords}},
		{"empty means the level's defaults", localapi.StationInfo{Level: "post"}, vetnet.DefaultServices(vetnet.LevelPost)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := OfferedServices(tc.st)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestFromAPI(t *testing.T) {
	card, _ := json.Marshal(testCard("张*国"))
	status, _ := json.Marshal(testStatus())
	tests := []struct {
		name    string
		ev      localapi.Event
		want    string // type of the event
		wantErr bool
	}{
		{"card", localapi.Event{Type: localapi.EventCard, Data: card}, "CardRead", false},
		{"card error", localapi.Event{Type: localapi.EventCardError, Data: []byte(`{"code":"invalid","message_zh":"读卡失败","message_en":"Read failed."}`)}, "CardFailed", false},
		{"status", localapi.Event{Type: localapi.EventStatus, Data: status}, "AgentStatus", false},
		{"unknown type skipped", localapi.Event{Type: "meeting", Data: []byte(`{}`)}, "", false},
		{"bad card", localapi.Event{Type: localapi.EventCard, Data: []byte(`{"token":3}`)}, "", true},
		{"bad status", localapi.Event{Type: localapi.EventStatus, Data: []byte(`[`)}, "", true},
		{"bad card error", localapi.Event{Type: localapi.EventCardError, Data: []byte(`"x"`)}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := FromAPI(tc.ev)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil && vetnet.ErrorCode(err) != vetnet.EINTERNAL {
				t.Errorf("code = %q", vetnet.ErrorCode(err))
			}
			got := ""
			if ev != nil {
				got = eventName(ev)
			}
			if got != tc.want {
				t.Errorf("event %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStateString(t *testing.T) {
	for st := OutOfService; st <= Notice; st++ {
		if strings.Contains(st.String(), "?") {
			t.Errorf("state %d has no name", st)
		}
	}
	if State(99).String() != "State(?)" {
		t.Error("unknown state named")
	}
}

// TestStorageLow: a station whose disk is nearly full takes no visit: a
// card read says so plainly, and the staff view shows the sync state.
func TestStorageLow(t *testing.T) {
	f := reach(t, Idle)
	st := testStatus()
	oldest := t0.Add(-12 * time.Minute)
	st.Storage.Low, st.Outbox.OldestAt = true, &oldest
	f.step(AgentStatus{st})
	if v := f.s.View(); !v.StorageLow || v.Backlog != 3 || v.Oldest == nil || !v.Oldest.Equal(oldest) || len(v.Readers) != 1 {
		t.Fatalf("view %+v", v)
	}
	f.step(CardRead{testCard("张*国")})
	v := f.s.View()
	if f.s.State() != Notice || v.Notice != MsgStorageFull || v.Visit.Name != "" {
		t.Fatalf("card read on a full disk: state %v, view %+v", f.s.State(), v)
	}
	st.Storage.Low = false
	f.step(AgentStatus{st})
	f.now = f.now.Add(time.Minute)
	f.step(Tick{f.now})
	f.step(CardRead{testCard("李*")})
	if f.s.State() != Greeting {
		t.Fatalf("after space came back: %v", f.s.State())
	}
}
