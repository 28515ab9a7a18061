package ui

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/kiosk/internal/fakeagent"
	"github.com/vetnet/vetnet/vetnettest"
)

func hallTexts(h *Hall) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, o := range test.LaidOutObjects(h.Window.Content()) {
		if t, ok := o.(*canvas.Text); ok && t.Visible() && t.Text != "" {
			out = append(out, t.Text)
		}
	}
	return strings.Join(out, "\n")
}

// The hall's "now serving" screen follows the agent's stream: a call at
// the desk shows at once, the newest call is marked in words, and the
// screen shows numbers, never names.
func TestHallNowServing(t *testing.T) {
	a := fakeagent.New(fakeagent.DemoStatus())
	t.Cleanup(a.Close)
	a.SetStaff([]localapi.StaffMember{{ID: "xb-0111", Name: "李卫东", Role: "head", HasPIN: true}}, map[string]string{"xb-0111": "1357"})
	ctx := context.Background()
	c := a.Client()
	sess, err := c.StaffLogin(ctx, localapi.StaffLoginRequest{StaffID: "xb-0111", PIN: "1357"})
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	var names []string
	for _, svc := range []string{"benefits", "benefits", "employment"} {
		v := vetnettest.Veteran(rnd)
		names = append(names, v.Name)
		if _, err := c.CheckIn(ctx, localapi.CheckInRequest{IDNumber: v.IDNumber, Name: v.Name, Service: svc, StaffSession: sess.Session}); err != nil {
			t.Fatal(err)
		}
	}

	app := test.NewApp()
	h := LoadHall(app, Config{Client: c, Retry: 10 * time.Millisecond, Logf: t.Logf})
	h.Start()
	t.Cleanup(func() { h.Close(); app.Quit() })
	until := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not reached; the hall shows:\n%s", what, hallTexts(h))
			}
		}
	}
	until("connected", func() bool {
		return strings.Contains(hallTexts(h), "正在办理") && strings.Contains(hallTexts(h), "等候 2 人")
	})
	if txt := hallTexts(h); !strings.Contains(txt, "暂无叫号") || !strings.Contains(txt, "新桥社区退役军人服务站") {
		t.Fatalf("before any call:\n%s", txt)
	}

	if _, err := c.Call(ctx, localapi.CallRequest{StaffSession: sess.Session, Service: "benefits", Counter: "2号窗口"}); err != nil {
		t.Fatal(err)
	}
	until("B001 serving", func() bool { return h.Serving()["benefits"] == "B001" })
	until("B001 on screen", func() bool {
		return strings.Contains(hallTexts(h), "▶ B001 → 2号窗口\n优抚待遇 （最新）")
	})
	if _, err := c.Call(ctx, localapi.CallRequest{StaffSession: sess.Session, Service: "employment"}); err != nil {
		t.Fatal(err)
	}
	until("A001 newest", func() bool { return strings.Contains(hallTexts(h), "▶ A001\n就业服务 （最新）") })
	txt := hallTexts(h)
	if !strings.Contains(txt, "B001 → 2号窗口\n优抚待遇") || !strings.Contains(txt, "等候 1 人") {
		t.Errorf("after two calls:\n%s", txt)
	}
	for _, n := range names {
		if strings.Contains(txt, n) || strings.Contains(txt, string([]rune(n)[:1])+"*") {
			t.Errorf("the hall shows a name (%s):\n%s", n, txt)
		}
	}

	a.SetDown(true)
	until("not serving", func() bool { return strings.Contains(hallTexts(h), "暂停服务") })
	a.SetDown(false)
	until("back", func() bool {
		return h.Serving()["employment"] == "A001" && strings.Contains(hallTexts(h), "正在办理")
	})
}
