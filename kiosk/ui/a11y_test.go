package ui

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/kiosk/session"
)

// recorder is a Speaker that records what it is asked to say.
type recorder struct {
	mu    sync.Mutex
	said  []string
	stops int
}

func (r *recorder) Say(s string) { r.mu.Lock(); r.said = append(r.said, s); r.mu.Unlock() }
func (r *recorder) Stop()        { r.mu.Lock(); r.stops++; r.mu.Unlock() }
func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.said...)
}

// tourKiosk is a kiosk with no agent on a fixed clock, at 1024×768.
func tourKiosk(t *testing.T, cfg Config) (*Kiosk, fyne.App) {
	t.Helper()
	app := test.NewApp()
	t.Cleanup(app.Quit)
	fixed := time.Date(2026, 11, 26, 10, 30, 0, 0, time.Local)
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return fixed }
	}
	if cfg.Size.IsZero() {
		cfg.Size = fyne.NewSize(1024, 768)
	}
	cfg.Logf = t.Logf
	k := LoadUI(app, cfg)
	t.Cleanup(func() { k.Close(); applyLook(LookStandard) })
	return k, app
}

// everyScreen shows each screen of the tour in turn and calls fn on it.
func everyScreen(t *testing.T, k *Kiosk, fn func(t *testing.T, st TourStep)) {
	t.Helper()
	for _, st := range Tour() {
		st.Show(k)
		if got := k.View().State; got != st.Want {
			t.Fatalf("%s: state %v, want %v", st.Name, got, st.Want)
		}
		fn(t, st)
	}
}

// Every button of every screen, in the standard and the large look, is at
// least MinTouch (15 mm at AssumedPPI) in both directions.
func TestTouchTargets(t *testing.T) {
	if MinTouch < MinTouchMM/25.4*AssumedPPI {
		t.Fatalf("MinTouch %v is under %d mm at %d ppi", MinTouch, MinTouchMM, AssumedPPI)
	}
	for _, look := range []Look{LookStandard, LookLarge} {
		k, _ := tourKiosk(t, Config{Look: look, Speaker: &recorder{}})
		n := 0
		everyScreen(t, k, func(t *testing.T, st TourStep) {
			k.mu.Lock()
			defer k.mu.Unlock()
			if len(k.buttons) == 0 {
				t.Errorf("%s: no buttons (the header's switches at least)", st.Name)
			}
			for id, b := range k.buttons {
				if !b.Visible() {
					continue
				}
				n++
				if s := b.Size(); s.Width < MinTouch || s.Height < MinTouch {
					t.Errorf("look %d, %s: button %q is %v, under %v", look, st.Name, id, s, MinTouch)
				}
			}
		})
		if n < 100 {
			t.Errorf("only %d buttons checked", n)
		}
	}
}

// The switches are on every screen, and each works from any screen: the
// other language, large type, high contrast, the voice.
func TestSwitchesOnEveryScreen(t *testing.T) {
	rec := &recorder{}
	k, _ := tourKiosk(t, Config{Speaker: rec})
	tap := func(id string) {
		k.mu.Lock()
		b := k.buttons[id]
		k.mu.Unlock()
		if b == nil {
			t.Fatalf("no %s switch on %v", id, k.View().State)
		}
		test.Tap(b)
	}
	i := 0
	everyScreen(t, k, func(t *testing.T, st TourStep) {
		i++
		for _, id := range []string{"lang", "large", "contrast", "voice"} {
			k.mu.Lock()
			b := k.buttons[id]
			k.mu.Unlock()
			if b == nil {
				t.Errorf("%s: no %q switch", st.Name, id)
			}
		}
		if i%3 != 1 {
			return // switching redraws everything: try it on every third screen, the presence is checked on all
		}
		before := k.View()
		// English and back.
		tap("lang")
		if k.Lang() != "en" || !strings.Contains(screenTexts(k), "中文") {
			t.Errorf("%s: language did not switch:\n%s", st.Name, screenTexts(k))
		}
		tap("lang")
		if k.Lang() != "zh" {
			t.Errorf("%s: language did not switch back", st.Name)
		}
		// Large type: the largest text grows.
		big := largestText(k)
		tap("large")
		if k.Look() != LookLarge || largestText(k) < big*1.2 {
			t.Errorf("%s: large type: look %d, text %v → %v", st.Name, k.Look(), big, largestText(k))
		}
		tap("large")
		// High contrast: black paper, and the switch says how to go back.
		tap("contrast")
		if k.theme.Color(theme.ColorNameBackground, theme.VariantLight) != contrastPalette.paper || !strings.Contains(screenTexts(k), "标准颜色") {
			t.Errorf("%s: high contrast not applied", st.Name)
		}
		tap("contrast")
		if k.Look() != LookStandard || k.theme.Color(theme.ColorNameBackground, theme.VariantLight) != standardPalette.paper {
			t.Errorf("%s: look not back to standard", st.Name)
		}
		// A switch changes the look, never the visit.
		if after := k.View(); after.State != before.State || after.Visit.QueueNo != before.Visit.QueueNo {
			t.Errorf("%s: a switch changed the session: %v → %v", st.Name, before.State, after.State)
		}
	})
}

func largestText(k *Kiosk) float32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	var m float32
	for _, o := range test.LaidOutObjects(k.Window.Content()) {
		if t, ok := o.(*canvas.Text); ok && t.TextSize > m {
			m = t.TextSize
		}
	}
	return m
}

// Prompts are spoken once per screen, in Mandarin, without names or ID
// numbers; the switch silences them.
func TestSpokenPrompts(t *testing.T) {
	rec := &recorder{}
	k, _ := tourKiosk(t, Config{Speaker: rec})
	everyScreen(t, k, func(t *testing.T, st TourStep) {})
	said := strings.Join(rec.all(), "\n")
	for _, want := range []string{"您好，欢迎再次光临", "请选择办理事项", "请选择具体事项", "登记成功，您的排队号是B 0 0 7，前面还有2人", "感谢您的评价",
		"请选择不满意的原因", "暂停服务，请联系工作人员", "请输入来访者的身份证号码"} {
		if !strings.Contains(said, want) {
			t.Errorf("not said: %q; said:\n%s", want, said)
		}
	}
	for _, secret := range []string{"张", "李*东", "320411", "531X"} {
		if strings.Contains(said, secret) {
			t.Errorf("a prompt says %q:\n%s", secret, said)
		}
	}
	// Off: nothing more, and the prompt being spoken stops.
	k.mu.Lock()
	b := k.buttons["voice"]
	k.mu.Unlock()
	test.Tap(b)
	n := len(rec.all())
	k.Step(session.StaffLogout{})
	k.Step(session.CardRead{Card: localapi.CardEvent{Token: "t", ExpiresAt: time.Now().Add(time.Hour), MaskedName: "张*国"}})
	if k.View().State != session.Greeting {
		t.Fatalf("state %v", k.View().State)
	}
	if len(rec.all()) != n || rec.stops == 0 {
		t.Errorf("voice off: said %v more, stops %d", rec.all()[n:], rec.stops)
	}
	if !strings.Contains(screenTexts(k), "语音：关") {
		t.Error("the switch does not say the voice is off")
	}
}

// The real espeak-ng speaks a prompt into a WAV file.
func TestEspeakWAV(t *testing.T) {
	e, err := NewEspeak(t.Logf)
	if err != nil {
		t.Skip(err)
	}
	path := filepath.Join(t.TempDir(), "prompt.wav")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.WriteWAV(ctx, "登记成功，您的排队号是B 0 0 7", path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 8000 || !bytes.HasPrefix(b, []byte("RIFF")) || !bytes.Equal(b[8:12], []byte("WAVE")) {
		t.Fatalf("not a WAV of speech: %d bytes, %q", len(b), b[:min(len(b), 12)])
	}
	out, _ := exec.Command(e.Path, "--version").CombinedOutput()
	t.Logf("%s: %d bytes", strings.TrimSpace(string(out)), len(b))
}
