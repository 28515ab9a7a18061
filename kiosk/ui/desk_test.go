package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/kiosk/internal/fakeagent"
	"github.com/vetnet/vetnet/kiosk/session"
)

var li = vetnet.Visitor{IDNumber: "320411196505150027", Name: "李秀英", DocType: vetnet.DocResident}

// until polls cond until it holds, else fails with what the screen shows.
func (h *harness) until(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("%s: not reached; kiosk shows %v:\n%s", what, h.k.View().State, h.texts())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// note waits for the staff desk's note to contain s.
func (h *harness) note(s string) {
	h.t.Helper()
	h.until("note "+s, func() bool { n := h.k.View().Staff.Note; return strings.Contains(n.ZH+" "+n.EN, s) })
}

// visit checks a card in through the screens: greeting, service, detail,
// and finishes without a rating.
func (h *harness) visit(v vetnet.Visitor, svc, detail string) {
	h.t.Helper()
	h.agent.Tap(v)
	h.wait(session.Greeting)
	h.tap("continue")
	h.wait(session.ChooseService)
	h.tap("service:" + svc)
	h.wait(session.ChooseDetail)
	h.tap("detail:" + detail)
	h.wait(session.Confirmed)
	h.tap("done")
	h.wait(session.Idle)
}

// The staff desk against the fake agent: duty, today's visitors and the
// search, transfer, reprint, the queue (call next, served, not present).
func TestStaffDesk(t *testing.T) {
	st := fakeagent.DemoStatus()
	st.Readers = append(st.Readers, localapi.Reader{Name: "printer0", Kind: "printer", State: "ok"})
	h := start(t, st, "zh")
	h.visit(zhang, "benefits", "application")
	h.visit(li, "benefits", "enquiry")
	h.agent.SetStaff([]localapi.StaffMember{{ID: "xb-0111", Name: "李卫东", Role: "head", HasPIN: true}}, map[string]string{"xb-0111": "1357"})
	h.until("roster", func() bool { return h.k.View().HasStaff })
	h.agent.Badge("xb-0111")
	h.wait(session.StaffMenu)
	h.has("您未在岗", "本站在岗 0 人", "签到上岗")

	// Duty.
	h.tap("duty")
	h.note("已签到上岗")
	h.has("您在岗", "本站在岗 1 人", "签退下岗")

	// Today's visitors, newest first, masked; search by name.
	h.tap("visitors")
	h.wait(session.StaffVisitors)
	h.until("visitors", func() bool { return len(h.k.View().Staff.Visitors) == 2 })
	h.has("B002  李*英", "B001  张*国", "优抚待遇·待遇申请", "等候中")
	h.lacks("张建国", "李秀英", "531X")
	h.k.mu.Lock()
	h.k.search.SetText("建国")
	h.k.mu.Unlock()
	h.tap("search")
	h.until("search", func() bool { v := h.k.View().Staff; return v.Query == "建国" && len(v.Visitors) == 1 })
	zhangID := h.k.View().Staff.Visitors[0].CheckInID
	h.has("B001  张*国")
	h.lacks("李*英")

	// Reprint and transfer.
	h.tap("print:" + zhangID)
	h.note("已重新打印")
	if p := h.agent.Prints(); len(p) != 1 || p[0] != "B001" {
		t.Fatalf("prints %v", p)
	}
	h.tap("transfer:" + zhangID)
	h.wait(session.StaffTransfer)
	h.has("将 B001 转至：")
	h.tap("to:legal_aid")
	h.wait(session.StaffVisitors)
	h.note("已转至法律援助，新号 L001")
	h.until("reloaded", func() bool {
		v := h.k.View().Staff.Visitors
		return len(v) == 1 && v[0].QueueNo == "L001"
	})
	h.tap("back")
	h.wait(session.StaffMenu)

	// The queue: call next, not present, call next, served.
	h.tap("queue")
	h.wait(session.StaffQueue)
	h.until("queue", func() bool { return h.k.View().Queue != nil })
	h.has("优抚待遇 · 等候 1 人", "法律援助 · 等候 1 人")
	h.tap("call:benefits")
	h.note("已呼叫 B002")
	h.until("called", func() bool { return h.button("served:"+h.calledID("benefits")) != nil })
	h.tap("noshow:" + h.calledID("benefits"))
	h.note("B002 未到")
	h.tap("call:legal_aid")
	h.note("已呼叫 L001")
	h.until("called", func() bool { return h.button("served:"+zhangID) != nil })
	h.tap("served:" + zhangID)
	h.note("L001 已办结")
	h.until("served count", func() bool { return strings.Contains(h.texts(), "今日已办 1") })
	h.tap("call:employment")
	h.note("该服务没有等候的人")
	if h.k.View().Staff.Note.Code != vetnet.ENOTFOUND {
		t.Errorf("nobody waiting: note %+v", h.k.View().Staff.Note)
	}
	h.tap("back")
	h.wait(session.StaffMenu)
	h.tap("signout")
	h.wait(session.Idle)
	h.lacks("李卫东", "B001", "L001")
}

// calledID is the check-in ID of the ticket called for svc, or "".
func (h *harness) calledID(svc string) string {
	q := h.k.View().Queue
	if q == nil {
		return ""
	}
	for _, s := range q.Services {
		if s.Service == svc && len(s.Called) > 0 {
			return s.Called[0].CheckInID
		}
	}
	return ""
}

// taps counts the taps of a person, as a finger gives them.
type taps struct {
	h *harness
	n int
}

func (c *taps) tap(id string) {
	c.h.t.Helper()
	c.n++
	c.h.tap(id)
}

// From the card on the reader to a saved rating takes at most four taps:
// Continue (or wait four seconds), a service, its sub-choice, a rating.
func TestTapsFromCardToRating(t *testing.T) {
	h := start(t, fakeagent.DemoStatus(), "zh")
	h.agent.SetPace(3 * time.Minute)
	h.visit(li, "benefits", "enquiry") // someone ahead
	c := &taps{h: h}

	h.agent.Tap(zhang) // the card: not a tap on the screen
	h.wait(session.Greeting)
	c.tap("continue")
	h.wait(session.ChooseService)
	c.tap("service:benefits")
	h.wait(session.ChooseDetail)
	h.has("优抚待遇：请选择具体事项", "待遇查询", "待遇申请", "开具证明", "Certificate")
	c.tap("detail:application")
	h.wait(session.Confirmed)
	h.has("B002", "优抚待遇 · 待遇申请", "前面还有 1 人等候", "预计等候约 3 分钟", "非常满意", "非常不满意", "★★★★★")
	c.tap("rate:5")
	h.wait(session.Thanks)
	h.has("感谢您的评价")
	if c.n > 4 {
		t.Fatalf("%d taps from card to rating, want at most 4", c.n)
	}
	t.Logf("taps from card to rating: %d", c.n)
	r := h.agent.Ratings()
	if len(r) != 1 || r[0].Rating != 5 || r[0].CheckInID != h.agent.CheckIns()[1].ID {
		t.Fatalf("ratings at the agent: %+v", r)
	}
	h.tick(session.DefaultThanksFor)
	h.wait(session.Idle)
	h.lacks("张", "B002")
}

// A bad rating asks why; the reasons are optional and reach the agent.
func TestBadRatingWithReasons(t *testing.T) {
	h := start(t, fakeagent.DemoStatus(), "en")
	h.agent.Tap(zhang)
	h.wait(session.Greeting)
	h.tap("continue")
	h.wait(session.ChooseService)
	h.tap("service:consultation")
	h.wait(session.Confirmed) // no sub-choices: straight to the number
	h.has("Q001", "No one is ahead of you", "You should be called soon")
	h.tap("rate:1")
	h.wait(session.RateReason)
	h.has("We are sorry we let you down", "Very dissatisfied", "☐ Waited too long")
	h.tap("reason:waiting")
	h.until("ticked", func() bool { return strings.Contains(h.texts(), "☑ Waited too long") })
	h.has("ticked") // in words, not only by colour
	h.tap("reason:attitude")
	h.until("ticked", func() bool { return len(h.k.View().Visit.Reasons) == 2 })
	h.tap("send")
	h.wait(session.Thanks)
	r := h.agent.Ratings()
	if len(r) != 1 || r[0].Rating != 1 || strings.Join(r[0].Reasons, ",") != "waiting,attitude" {
		t.Fatalf("ratings at the agent: %+v", r)
	}
	h.tap("done")
	h.wait(session.Idle)
}

// Every screen goes back to the attract screen by itself and wipes.
func TestEveryScreenTimesOut(t *testing.T) {
	app := test.NewApp()
	defer app.Quit()
	for _, st := range Tour() {
		if st.Want == session.Idle || st.Want == session.OutOfService {
			continue
		}
		t.Run(st.Name, func(t *testing.T) {
			clk := &clock{t: time.Now()}
			k := LoadUI(app, Config{Logf: t.Logf, Now: clk.Now})
			defer k.Close()
			for _, s := range Tour() {
				s.Show(k)
				if s.Name == st.Name {
					break
				}
			}
			if k.View().State != st.Want {
				t.Fatalf("state %v, want %v", k.View().State, st.Want)
			}
			for i := 0; i < 10 && k.View().State != session.Idle; i++ {
				k.Step(session.Tick{Now: clk.Add(session.DefaultInactive)})
			}
			v := k.View()
			if v.State != session.Idle || v.Visit.QueueNo != "" || v.Visit.Name != "" || v.Staff.Member.ID != "" {
				t.Fatalf("after the timeouts: %v %+v", v.State, v.Visit)
			}
			txt := screenTexts(k)
			for _, s := range []string{"张", "李*东", "B007", "320411"} {
				if strings.Contains(txt, s) {
					t.Errorf("%q left on the attract screen", s)
				}
			}
		})
	}
}
