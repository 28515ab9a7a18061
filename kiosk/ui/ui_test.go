package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/kiosk/internal/fakeagent"
	"github.com/vetnet/vetnet/kiosk/session"
)

// clock is a fake clock the kiosk and the test share.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

type harness struct {
	t     *testing.T
	k     *Kiosk
	agent *fakeagent.Agent
	clock *clock
}

// start runs a kiosk against a fake agent with status st, on a fake clock
// that starts at the agent's now.
func start(t *testing.T, st localapi.Status, lang string) *harness {
	t.Helper()
	a := fakeagent.New(st)
	t.Cleanup(a.Close)
	clk := &clock{t: time.Now()}
	a.Now = clk.Now // tokens expire on the same clock as the kiosk's
	app := test.NewApp()
	k := LoadUI(app, Config{Client: a.Client(), Lang: lang, Retry: 10 * time.Millisecond, Logf: t.Logf, Now: clk.Now})
	k.Start()
	t.Cleanup(func() {
		k.Close()
		app.Quit()
	})
	h := &harness{t: t, k: k, agent: a, clock: clk}
	h.wait(session.Idle)
	return h
}

// wait polls until the kiosk shows st.
func (h *harness) wait(st session.State) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.k.View().State != st {
		if time.Now().After(deadline) {
			h.t.Fatalf("kiosk shows %v, want %v; screen:\n%s", h.k.View().State, st, h.texts())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// texts is every text on the screen, one per line.
func (h *harness) texts() string { return screenTexts(h.k) }

func screenTexts(k *Kiosk) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, o := range test.LaidOutObjects(k.Window.Content()) {
		if t, ok := o.(*canvas.Text); ok && t.Visible() && t.Text != "" {
			out = append(out, t.Text)
		}
	}
	return strings.Join(out, "\n")
}

// has fails unless every s is on screen.
func (h *harness) has(ss ...string) {
	h.t.Helper()
	txt := h.texts()
	for _, s := range ss {
		if !strings.Contains(txt, s) {
			h.t.Errorf("screen (%v) lacks %q:\n%s", h.k.View().State, s, txt)
		}
	}
}

// lacks fails if any s is on screen.
func (h *harness) lacks(ss ...string) {
	h.t.Helper()
	txt := h.texts()
	for _, s := range ss {
		if s != "" && strings.Contains(txt, s) {
			h.t.Errorf("screen (%v) shows %q:\n%s", h.k.View().State, s, txt)
		}
	}
}

// button returns the button for an action, or nil.
func (h *harness) button(id string) *widget.Button {
	h.k.mu.Lock()
	defer h.k.mu.Unlock()
	return h.k.buttons[id]
}

// tap taps the button for an action, as a finger would.
func (h *harness) tap(id string) {
	h.t.Helper()
	b := h.button(id)
	if b == nil {
		h.t.Fatalf("no %q button on the %v screen", id, h.k.View().State)
	}
	test.Tap(b)
}

func (h *harness) tick(d time.Duration) {
	h.k.Step(session.Tick{Now: h.clock.Add(d)})
}

var zhang = vetnet.Visitor{IDNumber: "32041119580312531X", Name: "张建国", DocType: vetnet.DocResident}

func TestVisit(t *testing.T) {
	h := start(t, fakeagent.DemoStatus(), "zh")
	h.has("新桥社区退役军人服务站", "Xinqiao Community Station", "请刷身份证", "Tap your ID card", "已联网", "待上传 0 条")

	h.agent.Tap(zhang)
	h.wait(session.Greeting)
	h.has("您好，张*国", "Hello, 张*国", "欢迎光临", "Welcome")
	h.lacks("张建国", "531X", "欢迎再次光临")

	h.tap("continue")
	h.wait(session.ChooseService)
	h.has("张*国，请选择办理事项", "就业服务", "Jobs", "优抚待遇", "Pensions & allowances", "培训签到")
	for _, k := range fakeagent.DemoStatus().Station.Services {
		if h.button("service:"+k) == nil {
			t.Errorf("no button for offered service %s", k)
		}
	}
	if h.button("service:honours") != nil || h.button("service:post_services") != nil {
		t.Error("buttons for services the station does not offer")
	}

	// Success shows only after the agent has answered, that is committed.
	release := h.agent.Hold()
	h.tap("service:benefits")
	h.wait(session.ChooseDetail)
	h.tap("detail:enquiry")
	h.wait(session.Submitting)
	h.has("正在登记，请稍候…")
	if n := len(h.agent.CheckIns()); n != 0 {
		t.Fatalf("%d check-ins before release", n)
	}
	if h.button("cancel") != nil {
		t.Error("a commit under way offers cancel")
	}
	release()
	h.wait(session.Confirmed)
	if n := len(h.agent.CheckIns()); n != 1 {
		t.Fatalf("confirmed with %d check-ins at the agent", n)
	}
	h.has("登记成功", "B001", "优抚待遇", "Pensions & allowances", "前面没有人等候", "20 秒后自动返回首页")

	h.tap("done")
	h.wait(session.Idle)
	h.has("请刷身份证")
	h.lacks("张", "B001", "优抚待遇")
}

func TestReturningVisitorAndQueue(t *testing.T) {
	h := start(t, fakeagent.DemoStatus(), "zh")
	for i := range 2 {
		h.agent.Tap(zhang)
		h.wait(session.Greeting)
		if i == 1 {
			d := h.clock.Now()
			h.has("欢迎再次光临", "上次来访："+dateZH(d), "Welcome back", "Last visit: "+dateEN(d))
		}
		h.tap("continue")
		h.wait(session.ChooseService)
		h.tap("service:records")
		h.wait(session.ChooseDetail)
		h.tap("detail:contact")
		h.wait(session.Confirmed)
		h.tap("done")
		h.wait(session.Idle)
	}
	h.agent.Tap(vetnet.Visitor{})
	h.wait(session.Greeting)
	h.tap("continue")
	h.wait(session.ChooseService)
	h.tap("service:records")
	h.wait(session.ChooseDetail)
	h.tap("detail:contact")
	h.wait(session.Confirmed)
	h.has("R003", "前面还有 2 人等候", "2 people ahead of you")
	h.tap("done")
	h.wait(session.Idle)
	h.has("待上传 3 条") // the backlog came with the agent's status
}

func TestCheckInFailsThenRetry(t *testing.T) {
	h := start(t, fakeagent.DemoStatus(), "zh")
	h.agent.Tap(zhang)
	h.wait(session.Greeting)
	h.agent.FailNext(vetnet.Errorz(vetnet.EFULL, "本机存储空间已满", "The station's storage is full."))
	h.tap("continue")
	h.wait(session.ChooseService)
	h.tap("service:legal_aid")
	h.wait(session.ChooseDetail)
	h.tap("detail:advice")
	h.wait(session.Failed)
	h.has("登记未成功", "本机存储空间已满", "The station's storage is full.", "重试", "取消")
	h.tap("retry")
	h.wait(session.Confirmed)
	h.has("L001", "法律援助")
}

func TestCheckInFailsWithoutRetry(t *testing.T) {
	h := start(t, fakeagent.DemoStatus(), "zh")
	h.agent.Tap(zhang)
	h.wait(session.Greeting)
	h.agent.FailNext(vetnet.Errorz(vetnet.EEXPIRED, "刷卡信息已失效，请重新刷卡", "The card read has expired."))
	h.tap("continue")
	h.wait(session.ChooseService)
	h.tap("service:legal_aid")
	h.wait(session.ChooseDetail)
	h.tap("detail:advice")
	h.wait(session.Failed)
	h.has("刷卡信息已失效，请重新刷卡", "The card read has expired.", "重新刷卡")
	if h.button("retry") != nil {
		t.Error("retry offered for an expired card read")
	}
	h.tap("cancel")
	h.wait(session.Idle)
	h.lacks("张", "失效")
}

func TestCancelFromEveryScreen(t *testing.T) {
	h := start(t, fakeagent.DemoStatus(), "zh")
	for _, path := range [][]string{{}, {"continue"}} {
		h.agent.Tap(zhang)
		h.wait(session.Greeting)
		for _, id := range path {
			h.tap(id)
		}
		h.tap("cancel")
		h.wait(session.Idle)
		h.lacks("张")
	}
	if len(h.agent.CheckIns()) != 0 {
		t.Error("cancelled visits checked in")
	}
}

func TestCardError(t *testing.T) {
	h := start(t, fakeagent.DemoStatus(), "zh")
	h.agent.CardError(localapi.CardErrorEvent{Reader: "sim0", Code: vetnet.EINVALID, MessageZH: "未能读取身份证", MessageEN: "The card could not be read."})
	h.wait(session.Notice)
	h.has("请注意", "未能读取身份证", "The card could not be read.", "确定")
	h.tap("done")
	h.wait(session.Idle)
	h.lacks("未能读取身份证")
}

func TestTimeouts(t *testing.T) {
	h := start(t, fakeagent.DemoStatus(), "zh")

	// The greeting turns into the menu by itself.
	h.agent.Tap(zhang)
	h.wait(session.Greeting)
	h.tick(session.DefaultGreetingFor)
	h.wait(session.ChooseService)

	// A touch anywhere keeps the menu; a minute without one ends it.
	h.tick(40 * time.Second)
	h.k.mu.Lock()
	touch := h.k.Window.Content().(*fyne.Container).Objects[1].(*touchArea)
	h.k.mu.Unlock()
	test.Tap(touch)
	h.tick(40 * time.Second)
	if st := h.k.View().State; st != session.ChooseService {
		t.Fatalf("touched menu went to %v", st)
	}
	h.tick(21 * time.Second)
	h.wait(session.Idle)
	h.lacks("张")

	// The confirmation goes by itself, counting down.
	h.agent.Tap(zhang)
	h.wait(session.Greeting)
	h.tap("continue")
	h.wait(session.ChooseService)
	h.tap("service:hardship")
	h.wait(session.ChooseDetail)
	h.tap("detail:enquiry")
	h.wait(session.Confirmed)
	h.tick(15 * time.Second)
	h.has("5 秒后自动返回首页", "Back to the start in 5 s")
	h.tick(5 * time.Second)
	h.wait(session.Idle)
	h.lacks("张", "H001")

	// A notice goes by itself.
	h.agent.CardError(localapi.CardErrorEvent{MessageZH: "读卡失败", MessageEN: "Read failed."})
	h.wait(session.Notice)
	h.tick(session.DefaultNoticeFor)
	h.wait(session.Idle)

	// A failure goes by itself.
	h.agent.Tap(zhang)
	h.wait(session.Greeting)
	h.agent.FailNext(vetnet.Errorz(vetnet.EUNAVAILABLE, "暂不可用", "Unavailable."))
	h.tap("continue")
	h.wait(session.ChooseService)
	h.tap("service:hardship")
	h.wait(session.ChooseDetail)
	h.tap("detail:enquiry")
	h.wait(session.Failed)
	h.tick(session.DefaultInactive)
	h.wait(session.Idle)
	h.lacks("张", "暂不可用")

	// A card read expires at the agent's word.
	h.agent.Tap(zhang)
	h.wait(session.Greeting)
	h.tick(2 * time.Minute) // the fake agent's token lifetime
	h.wait(session.Notice)
	h.has("操作超时，请重新刷卡")
	h.lacks("张")
}

func TestAgentGoesAwayAndComesBack(t *testing.T) {
	h := start(t, fakeagent.DemoStatus(), "zh")
	h.agent.Tap(zhang)
	h.wait(session.Greeting)
	h.agent.SetDown(true)
	h.wait(session.OutOfService)
	h.has("暂停服务，请联系工作人员", "Out of service, please ask staff", "正在重新连接站点服务…", "本机服务未连接")
	h.lacks("张")
	h.agent.SetDown(false)
	h.wait(session.Idle)
	h.has("请刷身份证")
}

func TestUnreachableAgent(t *testing.T) {
	app := test.NewApp()
	defer app.Quit()
	k := LoadUI(app, Config{Client: localapi.NewClient("127.0.0.1:1"), Retry: 10 * time.Millisecond, Logf: t.Logf})
	k.Start()
	defer k.Close()
	time.Sleep(50 * time.Millisecond) // a few failed connections
	if st := k.View().State; st != session.OutOfService {
		t.Fatalf("state %v", st)
	}
	txt := screenTexts(k)
	for _, s := range []string{"暂停服务，请联系工作人员", "Out of service, please ask staff", "正在启动，请稍候…"} {
		if !strings.Contains(txt, s) {
			t.Errorf("screen lacks %q:\n%s", s, txt)
		}
	}
}

func TestSimulatedCardButton(t *testing.T) {
	h := start(t, fakeagent.DemoStatus(), "zh")
	h.has("模拟刷卡（演示）  Simulate card (demo)")
	h.tap("simtap")
	h.wait(session.Greeting)
	if h.button("simtap") != nil {
		t.Error("demo button outside the idle screen")
	}

	st := fakeagent.DemoStatus()
	st.Readers = []localapi.Reader{{Name: "sam0", Kind: "sam", State: "ok"}}
	h2 := start(t, st, "zh")
	if h2.button("simtap") != nil {
		t.Error("demo button without a simulated reader")
	}
	h2.lacks("模拟刷卡")
}

func TestStatusLine(t *testing.T) {
	h := start(t, fakeagent.DemoStatus(), "zh")
	h.agent.SetStatus(func(s *localapi.Status) { s.Online = false; s.Outbox.Depth = 12 })
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(h.texts(), "待上传 12 条") && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	h.has("未联网，登记保存在本机", "offline, check-ins kept here", "待上传 12 条 / 12 to upload")
}

func TestStatusDoesNotRebuildTheMenu(t *testing.T) {
	h := start(t, fakeagent.DemoStatus(), "zh")
	h.agent.Tap(zhang)
	h.wait(session.Greeting)
	h.tap("continue")
	h.wait(session.ChooseService)
	before := h.button("service:benefits")
	h.agent.SetStatus(func(s *localapi.Status) { s.Outbox.Depth = 40; s.Online = false })
	deadline := time.Now().Add(10 * time.Second)
	for h.k.View().Backlog != 40 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	if h.k.View().Backlog != 40 {
		t.Fatal("status not received")
	}
	if h.button("service:benefits") != before {
		t.Error("a status change rebuilt the menu")
	}
}

func TestEnglishFirst(t *testing.T) {
	h := start(t, fakeagent.DemoStatus(), "en")
	h.has("Tap your ID card", "请刷身份证")
	// The primary language is the larger one.
	var hero *canvas.Text
	h.k.mu.Lock()
	for _, o := range test.LaidOutObjects(h.k.Window.Content()) {
		if t, ok := o.(*canvas.Text); ok && (hero == nil || t.TextSize > hero.TextSize) {
			hero = t
		}
	}
	h.k.mu.Unlock()
	if hero == nil || hero.Text != "Tap your ID card" {
		t.Errorf("largest text %+v, want the English prompt", hero)
	}
}

// TestTourFitsScreens walks the screenshot tour on the screens a station
// may have and checks every screen fits without growing the window.
func TestTourFitsScreens(t *testing.T) {
	for _, sz := range []fyne.Size{{Width: 1280, Height: 800}, {Width: 1024, Height: 768}, {Width: 1080, Height: 1920}, {Width: 1920, Height: 1080}} {
		t.Run(sizeName(sz)+"-en", func(t *testing.T) {
			if sz.Width < 1280 {
				t.Skip("English is checked on landscape screens of 1280 and more")
			}
			app := test.NewApp()
			defer app.Quit()
			k := LoadUI(app, Config{Size: sz, Lang: "en", Logf: t.Logf, Speaker: &recorder{}})
			defer k.Close()
			for _, st := range Tour() {
				st.Show(k)
				k.mu.Lock()
				m := k.Window.Content().MinSize()
				k.mu.Unlock()
				if m.Width > sz.Width || m.Height > sz.Height {
					t.Errorf("%s needs %v, more than the screen's %v", st.Name, m, sz)
				}
			}
		})
		t.Run(sizeName(sz), func(t *testing.T) {
			app := test.NewApp()
			defer app.Quit()
			k := LoadUI(app, Config{Size: sz, Logf: t.Logf, Speaker: &recorder{}})
			defer k.Close()
			hall := LoadHall(app, Config{Size: sz, Logf: t.Logf})
			hall.SetStatus(TourStatus())
			hall.SetQueue(TourQueue())
			if m := hall.Window.Content().MinSize(); sz.Width >= 1280 && (m.Width > sz.Width || m.Height > sz.Height) {
				t.Errorf("the hall needs %v, more than the screen's %v", m, sz)
			}
			for _, st := range Tour() {
				st.Show(k)
				if got := k.View().State; got != st.Want {
					t.Fatalf("%s: state %v, want %v", st.Name, got, st.Want)
				}
				k.mu.Lock()
				m := k.Window.Content().MinSize()
				k.mu.Unlock()
				if m.Width > sz.Width || m.Height > sz.Height {
					t.Errorf("%s needs %v, more than the screen's %v", st.Name, m, sz)
				}
			}
		})
	}
}

func sizeName(s fyne.Size) string { return fmt.Sprintf("%.0fx%.0f", s.Width, s.Height) }

func TestThemeFont(t *testing.T) {
	dir := t.TempDir()
	ttc := filepath.Join(dir, "x.ttc")
	if err := os.WriteFile(ttc, []byte("not a font"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		wantCJK bool
		wantLog string
	}{
		{"missing file", filepath.Join(dir, "nope.ttf"), false, "cannot load font"},
		{"collection refused", ttc, false, "TrueType collection"},
	}
	if _, err := os.Stat(DefaultFontPath); err == nil {
		tests = append(tests, struct {
			name    string
			path    string
			wantCJK bool
			wantLog string
		}{"default font", "", true, ""})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("FYNE_FONT", tc.path)
			var logged []string
			th := NewTheme(func(f string, a ...any) { logged = append(logged, f) })
			if th.HasCJKFont() != tc.wantCJK {
				t.Errorf("HasCJKFont = %v", th.HasCJKFont())
			}
			if got := strings.Join(logged, "\n"); !strings.Contains(got, tc.wantLog) || tc.wantLog == "" && got != "" {
				t.Errorf("log %q, want %q", got, tc.wantLog)
			}
			mono := th.Font(fyne.TextStyle{Monospace: true})
			if mono == th.font && th.font != nil {
				t.Error("monospace text gets the CJK font")
			}
			if tc.wantCJK && th.Font(fyne.TextStyle{Bold: true}) != th.font {
				t.Error("bold text lacks the CJK font")
			}
		})
	}
}

func TestThemeSizes(t *testing.T) {
	th := NewTheme(t.Logf)
	if th.Size(SizeTile) < 60 || th.Size(SizeButton) < 60 {
		t.Errorf("touch targets too small: tile %v, button %v (15 mm is about 57 px at 96 dpi)", th.Size(SizeTile), th.Size(SizeButton))
	}
	if th.Size("padding") != sizes["padding"] || th.Size("scrollBar") == 0 {
		t.Error("sizes not overridden or not inherited")
	}
}
