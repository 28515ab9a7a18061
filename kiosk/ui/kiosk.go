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
	// Speaker speaks prompts in Mandarin (NewEspeak). Nil means silent, and
	// the header has no voice switch.
	Speaker Speaker
	// Look is the starting look: LookStandard (default), LookLarge,
	// LookContrast or both. The header's buttons switch it on any screen.
	Look Look
	// KioskMode fills the screen with a borderless window that refuses to
	// close; only a signed-in staff member can leave, with the staff
	// menu's Exit button, which calls OnExit.
	KioskMode bool
	// OnExit is called when staff leave the kiosk in KioskMode. Nil means
	// the app quits.
	OnExit func()
	// Rendered, when set, is called (on Fyne's goroutine) each time a
	// screen has been rebuilt, with its state: for benchmarks and probes.
	Rendered func(session.State)
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
	mu        sync.Mutex
	shown     string                    // signature of the view on screen
	buttons   map[string]*widget.Button // by action, for tests and taps
	clock     *canvas.Text
	date      *canvas.Text
	count     *canvas.Text // countdown on the confirmation
	simBusy   bool
	look      Look
	voice     bool          // spoken prompts on
	spoken    session.State // the state whose prompt was spoken last
	search    *widget.Entry // the staff's visitor search, kept across renders of that screen
	app       fyne.App
	attracted bool         // the attract screen was shown once (logged)
	meet      meetingState // the next video meeting (meeting.go)

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
	k.app = a
	k.theme = NewTheme(k.logf)
	k.look, k.voice, k.spoken = cfg.Look, cfg.Speaker != nil, -1
	applyLook(k.look)
	a.Settings().SetTheme(k.theme)

	title, _ := k.lang.tr("station")
	k.Window = newWindow(a, title, cfg.KioskMode)
	k.Window.SetPadded(false)
	if cfg.KioskMode {
		k.Window.SetFullScreen(true)
		k.Window.SetCloseIntercept(func() { k.logf("kiosk: close refused: kiosk mode (staff sign in to leave)") })
	} else if cfg.Fullscreen {
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

// Tap presses the button of an action on the current screen, as a finger
// would (its handler runs); false when the screen has no such button.
// Call it on Fyne's goroutine. The soak run and probes use it.
func (k *Kiosk) Tap(id string) bool {
	k.mu.Lock()
	b := k.buttons[id]
	k.mu.Unlock()
	if b == nil || b.OnTapped == nil {
		return false
	}
	b.OnTapped()
	return true
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
	case sub.Feedback != nil:
		k.submitFeedback(ctx, sub)
		return
	case sub.Hall != nil:
		k.submitHall(ctx, *sub.Hall)
		return
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

// submitFeedback posts a rating; only the agent's 2xx answer (it has
// committed it) becomes FeedbackDone.
func (k *Kiosk) submitFeedback(ctx context.Context, sub session.Submission) {
	resp, err := k.cfg.Client.Feedback(ctx, *sub.Feedback)
	if err != nil {
		k.logf("kiosk: rating not saved: %s (%s)", vetnet.ErrorMessage(err, "en"), vetnet.ErrorCode(err))
		k.post(session.FeedbackFailed{Attempt: sub.Attempt, Err: err})
		return
	}
	k.post(session.FeedbackDone{Attempt: sub.Attempt, Response: resp})
}

// submitHall makes a staff desk's call of the local API.
func (k *Kiosk) submitHall(ctx context.Context, c session.HallCall) {
	k.post(CallHall(ctx, k.cfg.Client, c))
}

// CallHall makes the local API call c asks for and returns its answer as
// the session's event. The autopilot and tests use it too.
func CallHall(ctx context.Context, cl *localapi.Client, c session.HallCall) session.HallDone {
	d := session.HallDone{Call: c}
	switch c.Kind {
	case session.CallQueue:
		q, err := cl.Queue(ctx)
		d.Queue, d.Err = &q, err
	case session.CallNext:
		t, err := cl.Call(ctx, localapi.CallRequest{StaffSession: c.Session, Service: c.Service})
		d.Ticket, d.Err = &t, err
	case session.CallServed:
		t, err := cl.Served(ctx, localapi.TicketAction{StaffSession: c.Session, CheckInID: c.CheckInID})
		d.Ticket, d.Err = &t, err
	case session.CallNoShow:
		t, err := cl.NoShow(ctx, localapi.TicketAction{StaffSession: c.Session, CheckInID: c.CheckInID})
		d.Ticket, d.Err = &t, err
	case session.CallTransfer:
		t, err := cl.Transfer(ctx, localapi.TransferRequest{StaffSession: c.Session, CheckInID: c.CheckInID, Service: c.Service})
		d.Ticket, d.Err = &t, err
	case session.CallVisitors:
		v, err := cl.Visitors(ctx, c.Session, c.Query)
		d.Visitors, d.Err = &v, err
	case session.CallDuty:
		s, err := cl.Duty(ctx)
		d.Duty, d.Err = &s, err
	case session.CallSetDuty:
		s, err := cl.SetDuty(ctx, localapi.DutyRequest{StaffSession: c.Session, On: c.On})
		d.Duty, d.Err = &s, err
	case session.CallPrint:
		d.Err = cl.Print(ctx, localapi.PrintRequest{StaffSession: c.Session, CheckInID: c.CheckInID})
	default:
		d.Err = vetnet.Errorz(vetnet.EINTERNAL, "未知的操作", "Unknown call: "+c.Kind)
	}
	if d.Err != nil {
		d.Queue, d.Visitors, d.Duty, d.Ticket = nil, nil, nil, nil
	}
	return d
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
	sig := fmt.Sprintf("%+v %v %v %v", v, k.lang, k.look, k.voice) + k.meetingSig(v)
	if sig == k.shown {
		return
	}
	k.shown = sig
	k.buttons = map[string]*widget.Button{}
	k.clock, k.date, k.count = nil, nil, nil
	full := k.sess.View()
	if full.State != session.StaffVisitors {
		k.search = nil // the typed search goes with the screen
	}
	k.Window.SetContent(k.withMeeting(full, k.screen(full)))
	k.speak(full)
	if full.State == session.Idle && !k.attracted {
		k.attracted = true
		k.logf("kiosk: attract screen shown, %v after start", time.Since(processStart).Round(time.Millisecond))
	}
	if k.cfg.Rendered != nil {
		k.cfg.Rendered(full.State)
	}
}

// processStart is about when the program started (package initialisation).
var processStart = time.Now()

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
