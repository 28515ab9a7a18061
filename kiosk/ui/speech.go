package ui

import (
	"context"
	"fmt"
	"os/exec"
	"sync"
	"time"

	"github.com/vetnet/vetnet/kiosk/session"
)

// Speaker speaks prompts. Say must not block: a new prompt replaces one
// still being spoken. Stop silences it.
type Speaker interface {
	Say(text string)
	Stop()
}

// DefaultVoice is espeak-ng's Mandarin voice.
const DefaultVoice = "cmn"

// Espeak speaks with espeak-ng (Debian package espeak-ng), in Mandarin.
type Espeak struct {
	// Path is the espeak-ng program. Empty means "espeak-ng" on PATH.
	Path string
	// Voice is espeak-ng's -v. Empty means DefaultVoice (cmn).
	Voice string
	// Speed is words per minute (-s). Zero means 150: slower than
	// espeak-ng's 175, for older listeners.
	Speed int
	// Logf logs failures. Nil means none.
	Logf func(string, ...any)

	mu     sync.Mutex
	cancel context.CancelFunc
}

// NewEspeak returns a Speaker using espeak-ng, or an error when it is not
// installed.
func NewEspeak(logf func(string, ...any)) (*Espeak, error) {
	p, err := exec.LookPath("espeak-ng")
	if err != nil {
		return nil, fmt.Errorf("espeak-ng not found: %w", err)
	}
	return &Espeak{Path: p, Logf: logf}, nil
}

func (e *Espeak) args(text string) []string {
	v, s := e.Voice, e.Speed
	if v == "" {
		v = DefaultVoice
	}
	if s <= 0 {
		s = 150
	}
	return []string{"-v", v, "-s", fmt.Sprint(s), "--", text}
}

func (e *Espeak) path() string {
	if e.Path == "" {
		return "espeak-ng"
	}
	return e.Path
}

// Say speaks text in the background, stopping a prompt still spoken.
func (e *Espeak) Say(text string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	e.mu.Lock()
	if e.cancel != nil {
		e.cancel()
	}
	e.cancel = cancel
	e.mu.Unlock()
	cmd := exec.CommandContext(ctx, e.path(), e.args(text)...)
	go func() {
		defer cancel()
		if err := cmd.Run(); err != nil && ctx.Err() == nil && e.Logf != nil {
			e.Logf("kiosk: espeak-ng: %v", err)
		}
	}()
}

// Stop silences the prompt being spoken.
func (e *Espeak) Stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cancel != nil {
		e.cancel()
		e.cancel = nil
	}
}

// WriteWAV speaks text into a WAV file instead of the speakers (-w).
func (e *Espeak) WriteWAV(ctx context.Context, text, path string) error {
	args := append([]string{"-w", path}, e.args(text)...)
	out, err := exec.CommandContext(ctx, e.path(), args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("espeak-ng: %v: %s", err, out)
	}
	return nil
}

// Prompt is what the kiosk says on entering the screen of v, in Mandarin;
// "" for none. Prompts never say a name or an ID number: the hall hears
// them. The queue number is said, as staff will call it aloud anyway.
func Prompt(v session.View) string {
	switch v.State {
	case session.Greeting:
		if v.Visit.Returning {
			return "您好，欢迎再次光临"
		}
		return "您好，欢迎光临"
	case session.ChooseService:
		return "请选择办理事项"
	case session.ChooseDetail:
		return "请选择具体事项"
	case session.Confirmed:
		no := spell(v.Visit.QueueNo)
		if v.Visit.Ahead > 0 {
			return fmt.Sprintf("登记成功，您的排队号是%s，前面还有%d人。办完后请为我们评价", no, v.Visit.Ahead)
		}
		return fmt.Sprintf("登记成功，您的排队号是%s。办完后请为我们评价", no)
	case session.RateReason:
		return "请选择不满意的原因，也可以直接提交"
	case session.Thanks:
		return "感谢您的评价"
	case session.Failed:
		return "登记未成功。" + v.Visit.Error.ZH
	case session.Notice:
		return v.Notice.ZH
	case session.OutOfService:
		return "暂停服务，请联系工作人员"
	case session.ManualEntry:
		return "请输入来访者的身份证号码"
	}
	return ""
}

// spell separates the characters of a queue number so that they are read
// one by one (B 0 0 7, not "B seven").
func spell(no string) string {
	var out []rune
	for i, r := range no {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, r)
	}
	return string(out)
}

// speak says the prompt of a screen once, on entering it.
func (k *Kiosk) speak(v session.View) {
	if k.cfg.Speaker == nil || !k.voice || v.State == k.spoken {
		return
	}
	k.spoken = v.State
	if p := Prompt(v); p != "" {
		k.cfg.Speaker.Say(p)
	}
}
