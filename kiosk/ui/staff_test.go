package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/kiosk/internal/fakeagent"
	"github.com/vetnet/vetnet/kiosk/session"
)

// A staff member signs in by PIN, types a visitor's ID number on the
// keypad, checks the visitor in (the agent records who typed it), and
// signs out; a badge opens the staff menu directly.
func TestStaffTypesAnIDNumber(t *testing.T) {
	h := start(t, fakeagent.DemoStatus(), "zh")
	if h.button("staff") != nil {
		t.Fatal("a staff button without a roster")
	}
	h.agent.SetStaff([]localapi.StaffMember{
		{ID: "xb-0111", Name: "李卫东", Role: "head", HasPIN: true},
		{ID: "xb-0120", Name: "赵强", Role: "officer"},
	}, map[string]string{"xb-0111": "1357"})
	deadline := time.Now().Add(10 * time.Second)
	for h.button("staff") == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no staff button:\n%s", h.texts())
		}
		time.Sleep(2 * time.Millisecond)
	}
	h.tap("staff")
	h.wait(session.StaffLogin)
	for deadline := time.Now().Add(10 * time.Second); h.button("pick:xb-0111") == nil; {
		if time.Now().After(deadline) {
			t.Fatalf("roster not shown:\n%s", h.texts())
		}
		time.Sleep(2 * time.Millisecond)
	}
	if h.button("pick:xb-0120") != nil {
		t.Error("a badge-only member offered for PIN sign-in")
	}
	h.has("工作人员登录", "李卫东 · 站长")
	h.tap("pick:xb-0111")
	for _, k := range "1358" {
		h.tap("key:" + string(k))
	}
	h.has("● ● ● ●")
	h.tap("signin")
	for deadline := time.Now().Add(10 * time.Second); h.k.View().Staff.Error.ZH == ""; {
		if time.Now().After(deadline) {
			t.Fatal("no refusal shown")
		}
		time.Sleep(2 * time.Millisecond)
	}
	h.has("工号或PIN码不正确")
	for _, k := range "1357" {
		h.tap("key:" + string(k))
	}
	h.tap("signin")
	h.wait(session.StaffMenu)
	h.has("工作人员：李卫东（站长）", "代为登记（输入身份证号码）", "本站同步状态", "已联网：登记实时上传", "没有待上传的记录", "sim0 正常")

	// The sync state follows the station: offline with a backlog.
	oldest := time.Now().Add(-25*time.Minute - 30*time.Second)
	h.agent.SetStatus(func(st *localapi.Status) {
		st.Online, st.Outbox.Depth, st.Outbox.OldestAt = false, 4, &oldest
		st.Readers[0].State = "fault"
	})
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(h.texts(), "待上传 4 条"); {
		if time.Now().After(deadline) {
			t.Fatalf("backlog not shown:\n%s", h.texts())
		}
		time.Sleep(2 * time.Millisecond)
	}
	h.has("暂时离线：登记照常，联网后自动上传", "最早一条：25分钟前", "Oldest: 25 min ago", "sim0 故障")
	h.agent.SetStatus(func(st *localapi.Status) {
		st.Online, st.Outbox.Depth, st.Outbox.OldestAt, st.Readers[0].State = true, 0, nil, "ok"
	})

	h.tap("manual")
	h.wait(session.ManualEntry)
	for _, k := range "11010519491231002X" {
		h.tap("key:" + string(k))
	}
	h.has("110105 19491231 002X")
	h.tap("next")
	h.wait(session.ChooseService)
	h.has("110105********002X")
	h.tap("service:benefits")
	h.wait(session.ChooseDetail)
	h.tap("detail:enquiry")
	h.wait(session.Confirmed)
	if by := h.agent.TypedBy(); len(by) != 1 || by[0] != "xb-0111" {
		t.Fatalf("typed by %v", by)
	}
	h.tap("done")
	h.wait(session.StaffMenu)
	h.lacks("002X")
	h.tap("signout")
	h.wait(session.Idle)

	h.agent.Badge("xb-0120")
	h.wait(session.StaffMenu)
	h.has("工作人员：赵强（服务专干）")
	h.tick(session.DefaultInactive)
	h.wait(session.Idle)
}

// A wrong check character is refused on the keypad screen, with the
// reason, before anything is sent.
func TestManualEntryRefusesBadNumbers(t *testing.T) {
	h := start(t, fakeagent.DemoStatus(), "zh")
	h.agent.SetStaff([]localapi.StaffMember{{ID: "xb-0120", Name: "赵强", Role: "officer"}}, nil)
	h.agent.Badge("xb-0120")
	h.wait(session.StaffMenu)
	h.tap("manual")
	h.wait(session.ManualEntry)
	for _, k := range "320411195803125310" {
		h.tap("key:" + string(k))
	}
	h.tap("next")
	h.has("身份证号码校验位不正确，请核对")
	if h.k.View().State != session.ManualEntry || len(h.agent.CheckIns()) != 0 {
		t.Fatal("a bad number went through")
	}
	h.tap("key:del")
	h.tap("key:6")
	h.tap("next")
	h.wait(session.ChooseService)
	h.tap("cancel")
	h.wait(session.StaffMenu)
}
