// Package ui is the kiosk's touchscreen: Fyne screens for the states of
// kiosk/session, a theme for a public hall, and the link to the edge
// agent's local API.
//
// As in Fyne's own apps, the state and the handlers live on a plain
// struct (Kiosk) and LoadUI takes the fyne.App, so tests run every screen
// headless with test.NewApp. Callbacks do no I/O: calls to the agent run in
// goroutines and hand their results back with fyne.Do. Each screen is built
// afresh from the session's View when the view changes, so a screen never
// keeps a widget, and so never a name, from the visit before.
package ui

import (
	"context"
	"fmt"
	"log"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/kiosk/session"
)

// Config configures a kiosk.
type Config struct {
	// Client is the agent's local API. Nil means no agent: the kiosk shows
	// what Step feeds it (the screenshot tour) and posts nothing.
	Client *localapi.Client
	// Lang is the primary language, "zh" (default) or "en"; the other one
	// is always shown too, smaller.
	Lang string
	// Fullscreen fills the screen, as on a kiosk; else the window has Size.
	Fullscreen bool
	// Size is the window's size when not fullscreen. Zero means 1280×800.
	Size fyne.Size
	// Session holds the timeouts. Nil means the defaults.
	Session *session.Session
	// Retry is the pause before reconnecting to the agent. Zero means 2 s.
	Retry time.Duration
	// Logf logs, with masked data only. Nil means log.Printf.
	Logf func(format string, args ...any)
	// Now is the clock of the header and the ticks. Nil means time.Now.
	Now func() time.Time
}

// Kiosk is the running touchscreen.
type Kiosk struct {
	Window fyne.Window

	cfg   Config
	lang  lang
	theme *Theme
	sess  *session.Session
	logf  func(string, ...any)
	now   func() time.Time

	// mu serialises everything that touches the session and the widgets.
	// Under the real driver all of it runs on Fyne's goroutine anyway; the
	// test driver runs fyne.Do on the caller's goroutine, so the lock keeps
	// tests honest.
	mu      sync.Mutex
	shown   string                    // signature of the view on screen
	buttons map[string]*widget.Button // by action, for tests and taps
	clock   *canvas.Text
	date    *canvas.Text
	count   *canvas.Text // countdown on the confirmation
	simBusy bool
	meet    meetingState // the next video meeting (meeting.go)

	ctx    context.Context
	cancel context.CancelFunc
}

// LoadUI builds the kiosk's window on a and shows it. It talks to the
// agent only after Start.
func LoadUI(a fyne.App, cfg Config) *Kiosk {
	k := &Kiosk{cfg: cfg, lang: newLang(cfg.Lang), sess: cfg.Session, logf: cfg.Logf, now: cfg.Now}
	if k.sess == nil {
		k.sess = &session.Session{}
	}
	if k.logf == nil {
		k.logf = log.Printf
	}
	if k.now == nil {
		k.now = time.Now
	}
	if k.sess.Now == nil {
		k.sess.Now = k.now
	}
	k.ctx, k.cancel = context.WithCancel(context.Background())
	k.theme = NewTheme(k.logf)
	a.Settings().SetTheme(k.theme)

	title, _ := k.lang.tr("station")
	k.Window = a.NewWindow(title)
	k.Window.SetPadded(false)
	if cfg.Fullscreen {
		k.Window.SetFullScreen(true)
	} else {
		sz := cfg.Size
		if sz.IsZero() {
			sz = fyne.NewSize(1280, 800)
		}
		k.Window.Resize(sz)
	}
	k.mu.Lock()
	k.render()
	k.mu.Unlock()
	k.Window.Show()
	return k
}

// Start connects to the agent (reconnecting until Close) and starts the
// clock that drives the timeouts.
func (k *Kiosk) Start() {
	retry := k.cfg.Retry
	if retry <= 0 {
		retry = 2 * time.Second
	}
	if c := k.cfg.Client; c != nil {
		go c.Subscribe(k.ctx, retry, func(ev localapi.Event) {
			sev, err := session.FromAPI(ev)
			if err != nil {
				k.logf("kiosk: %v", err)
				return
			}
			if sev != nil {
				k.post(sev)
			}
		}, func(up bool) {
			if !up {
				k.post(session.AgentDown{})
			}
		})
	}
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-k.ctx.Done():
				return
			case <-t.C:
				k.post(session.Tick{Now: k.now()})
			}
		}
	}()
}

// Close stops the kiosk's goroutines; the window is the app's to close.
func (k *Kiosk) Close() { k.cancel() }

// Step feeds ev to the session and updates the screen. A Submission it
// causes is posted to the agent in the background (when there is one) and
// returned. Call it on Fyne's goroutine (or through fyne.Do).
func (k *Kiosk) Step(ev session.Event) *session.Submission {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.step(ev)
}

// View is what the screen shows now.
func (k *Kiosk) View() session.View {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.sess.View()
}

// post hands an event from a goroutine to Fyne's goroutine.
func (k *Kiosk) post(ev session.Event) {
	fyne.Do(func() {
		if k.ctx.Err() != nil {
			return
		}
		k.Step(ev)
	})
}

func (k *Kiosk) step(ev session.Event) *session.Submission {
	sub := k.sess.Step(ev)
	k.meetingStep(ev)
	if sub != nil && k.cfg.Client != nil {
		go k.submit(k.meetingSubmission(*sub))
	}
	if t, ok := ev.(session.Tick); ok {
		k.tick(t.Now)
	}
	k.render()
	return sub
}

// submit makes the call a Submission asks for. For a check-in, only the
// agent's 2xx answer (it has committed the check-in to disk) becomes
// CheckInDone.
func (k *Kiosk) submit(sub session.Submission) {
	ctx, cancel := context.WithDeadline(k.ctx, sub.Deadline)
	defer cancel()
	c := k.cfg.Client
	switch {
	case sub.Roster:
		l, err := c.Staff(ctx)
		if err != nil {
			k.logf("kiosk: staff roster: %s", vetnet.ErrorMessage(err, "en"))
			return
		}
		k.post(session.StaffRoster{List: l})
		return
	case sub.Login != nil:
		s, err := c.StaffLogin(ctx, *sub.Login)
		if err != nil {
			k.logf("kiosk: staff sign-in refused: %s (%s)", vetnet.ErrorMessage(err, "en"), vetnet.ErrorCode(err))
			k.post(session.StaffLoginFailed{Attempt: sub.Attempt, Err: err})
			return
		}
		k.post(session.StaffSignedIn{Attempt: sub.Attempt, Session: s})
		return
	case sub.Logout != "":
		if err := c.StaffLogout(ctx, sub.Logout); err != nil {
			k.logf("kiosk: staff sign-out: %s", vetnet.ErrorMessage(err, "en"))
		}
		return
	}
	resp, err := c.CheckIn(ctx, sub.Request)
	if err != nil {
		k.logf("kiosk: check-in failed: %s (%s)", vetnet.ErrorMessage(err, "en"), vetnet.ErrorCode(err))
		k.post(session.CheckInFailed{Attempt: sub.Attempt, Err: err})
		return
	}
	k.logf("kiosk: checked in %s → %s %s", vetnet.MaskName(resp.MaskedName), vetnet.Service(resp.Service).Label("zh"), resp.QueueNo)
	k.post(session.CheckInDone{Attempt: sub.Attempt, Response: resp})
}

// simTap asks the agent's simulated reader for a card.
func (k *Kiosk) simTap() {
	if k.cfg.Client == nil || k.simBusy {
		return
	}
	k.simBusy = true
	go func() {
		ctx, cancel := context.WithTimeout(k.ctx, 10*time.Second)
		defer cancel()
		err := k.cfg.Client.SimTap(ctx, localapi.SimTapRequest{})
		if err != nil {
			k.logf("kiosk: simulated tap: %s", vetnet.ErrorMessage(err, "en"))
		}
		fyne.Do(func() {
			k.mu.Lock()
			k.simBusy = false
			k.mu.Unlock()
		})
	}()
}

// tick updates what changes with the clock alone.
func (k *Kiosk) tick(now time.Time) {
	if k.clock != nil {
		k.clock.Text = now.Format("15:04")
		k.clock.Refresh()
	}
	if k.date != nil {
		k.date.Text = k.lang.today(now)
		k.date.Refresh()
	}
	if k.count != nil {
		k.count.Text = k.countdown(k.sess.View().Deadline, now)
		k.count.Refresh()
	}
	k.tickMeeting(now)
}

func (k *Kiosk) countdown(deadline, now time.Time) string {
	s := int(deadline.Sub(now).Round(time.Second) / time.Second)
	return k.lang.both("backIn", max(s, 0))
}

// render rebuilds the screen when the view changed.
func (k *Kiosk) render() {
	v := k.sess.View()
	v.Deadline = time.Time{} // the countdown is refreshed by tick
	if v.State != session.Idle && v.State != session.OutOfService {
		// Only those two screens show the status line. Elsewhere a status
		// change must not rebuild the screen under a finger mid-press.
		v.Connected, v.Online, v.Backlog, v.SimReader, v.HasStaff = false, false, 0, false, false
	}
	sig := fmt.Sprintf("%+v", v) + k.meetingSig(v)
	if sig == k.shown {
		return
	}
	k.shown = sig
	k.buttons = map[string]*widget.Button{}
	k.clock, k.date, k.count = nil, nil, nil
	full := k.sess.View()
	k.Window.SetContent(k.withMeeting(full, k.screen(full)))
}

// button makes a button for an action and remembers it by id.
func (k *Kiosk) button(id string, imp widget.Importance, ev func() session.Event) *widget.Button {
	b := widget.NewButton("", func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		k.step(ev())
	})
	b.Importance = imp
	k.buttons[id] = b
	return b
}
