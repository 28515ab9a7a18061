package ui

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/agent"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/edge-agent/printer/escpos"
	"github.com/vetnet/vetnet/edge-agent/printer/escpos/escpostest"
	"github.com/vetnet/vetnet/kiosk/session"
	"github.com/vetnet/vetnet/vetnettest"
)

// TestRealAgent runs the kiosk against the real edge agent (bbolt in a
// temporary directory, its local API on a free port, a simulated reader,
// an emulated ESC/POS printer, no hub): so that the fake agent the other
// tests use cannot drift from the agent's contract unnoticed. A visitor
// checks in with a sub-choice and rates the visit; a staff member signs in
// by PIN, goes on duty, finds the visitor, reprints the ticket, calls the
// number and marks it served.
func TestRealAgent(t *testing.T) {
	emu, err := escpostest.Start()
	if err != nil {
		t.Skipf("no pty for the printer emulator: %v", err)
	}
	t.Cleanup(func() { emu.Close() })
	p, err := escpos.New(escpos.Options{Driver: escpos.DriverSerial, Path: emu.Path(), StatusTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	hash, err := vetnet.HashPIN("2468")
	if err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("kiosk-%08x", rand.Uint32())
	st := &vetnet.Station{ID: id, Name: "新桥社区退役军人服务站", NameEN: "Xinqiao Community Station", Level: vetnet.LevelVillage, Parent: "cz-xb-sanjing",
		Staff: []vetnet.Staff{{ID: "xb-0107", Name: "王立新", Role: vetnet.RoleHead, PINHash: hash}}}
	a, err := agent.New(agent.Config{StationID: id, DataDir: t.TempDir(), APIAddr: "127.0.0.1:0", Station: st, SimReader: true,
		Printer: p, Version: "test", Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	client := localapi.NewClient(a.APIAddr())

	app := test.NewApp()
	k := LoadUI(app, Config{Client: client, Lang: "zh", Retry: 10 * time.Millisecond, Logf: t.Logf})
	k.Start()
	t.Cleanup(func() { k.Close(); app.Quit() })
	h := &harness{t: t, k: k, clock: &clock{t: time.Now()}}
	h.wait(session.Idle)
	h.until("printer in the status", func() bool { return h.k.View().Printer })

	// A visitor: card, service, sub-choice, number, rating.
	ctx := context.Background()
	zhang := vetnettest.Veteran(rand.New(rand.NewPCG(5, 5)))
	zhang.Name = "张建国"
	if err := client.SimTap(ctx, localapi.SimTapRequest{IDNumber: zhang.IDNumber, Name: zhang.Name}); err != nil {
		t.Fatal(err)
	}
	h.wait(session.Greeting)
	h.has("您好，张*国")
	h.tap("continue")
	h.wait(session.ChooseService)
	h.tap("service:benefits")
	h.wait(session.ChooseDetail)
	h.tap("detail:certificate")
	h.wait(session.Confirmed)
	v := h.k.View().Visit
	if v.QueueNo != "B001" || v.Detail != "certificate" || v.Ahead != 0 || !v.Printed {
		t.Fatalf("confirmed %+v", v)
	}
	h.has("B001", "优抚待遇 · 开具证明", "排队小票已打印，请取走")
	h.tap("rate:4")
	h.wait(session.Thanks)
	h.tap("done")
	h.wait(session.Idle)

	// The same card again: a returning visitor, with the last visit.
	if err := client.SimTap(ctx, localapi.SimTapRequest{IDNumber: zhang.IDNumber, Name: zhang.Name}); err != nil {
		t.Fatal(err)
	}
	h.wait(session.Greeting)
	h.has("欢迎再次光临", "上次来访："+dateZH(time.Now()))
	h.tap("cancel")
	h.wait(session.Idle)

	// Staff: PIN, duty, visitors, reprint, the queue.
	h.until("staff button", func() bool { return h.button("staff") != nil })
	h.tap("staff")
	h.wait(session.StaffLogin)
	h.until("roster", func() bool { return h.button("pick:xb-0107") != nil })
	h.tap("pick:xb-0107")
	for _, c := range "2468" {
		h.tap("key:" + string(c))
	}
	h.tap("signin")
	h.wait(session.StaffMenu)
	h.tap("duty")
	h.note("已签到上岗")
	h.has("本站在岗 1 人")

	h.tap("visitors")
	h.wait(session.StaffVisitors)
	h.until("visitors", func() bool { return len(h.k.View().Staff.Visitors) == 1 })
	e := h.k.View().Staff.Visitors[0]
	if e.QueueNo != "B001" || e.MaskedName != "张*国" || e.Detail != "certificate" || !e.Rated || e.State != localapi.TicketWaiting {
		t.Fatalf("visitor %+v", e)
	}
	h.lacks("张建国", zhang.IDNumber[10:])
	cuts := emu.Cuts()
	h.tap("print:" + e.CheckInID)
	h.note("已重新打印")
	h.until("reprint", func() bool { return emu.Cuts() == cuts+1 })
	h.tap("back")
	h.wait(session.StaffMenu)

	h.tap("queue")
	h.wait(session.StaffQueue)
	h.until("queue", func() bool { return h.k.View().Queue != nil })
	h.tap("call:benefits")
	h.note("已呼叫 B001")
	h.until("called", func() bool { return h.button("served:"+e.CheckInID) != nil })
	h.tap("served:" + e.CheckInID)
	h.note("B001 已办结")
	h.until("served", func() bool { return strings.Contains(h.texts(), "今日已办 1") })
	h.tap("back")
	h.wait(session.StaffMenu)
	h.tap("signout")
	h.wait(session.Idle)
}
