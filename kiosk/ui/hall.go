package ui

import (
	"context"
	"fmt"
	"log"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/kiosk/session"
)

// Hall is the "now serving" screen, for a second display in the hall: the
// number each service is serving now, the latest calls, and how many
// wait. It follows the agent's event stream (queue events, live) and has
// nothing to touch. It shows queue numbers only, never names.
type Hall struct {
	Window fyne.Window

	cfg  Config
	lang lang
	logf func(string, ...any)
	now  func() time.Time

	mu        sync.Mutex
	status    localapi.Status
	queue     *localapi.QueueStatus
	connected bool
	shown     string
	clock     *canvas.Text

	ctx    context.Context
	cancel context.CancelFunc
}

// LoadHall builds the hall's window on a and shows it; Start connects it
// to the agent (cfg.Client).
func LoadHall(a fyne.App, cfg Config) *Hall {
	w := newWindow(a, texts["hallTitle"][0], cfg.KioskMode)
	w.SetPadded(false)
	if cfg.Fullscreen || cfg.KioskMode {
		w.SetFullScreen(true)
	} else {
		sz := cfg.Size
		if sz.IsZero() {
			sz = fyne.NewSize(1280, 800)
		}
		w.Resize(sz)
	}
	h := NewHallIn(a, w, cfg)
	if cfg.KioskMode {
		w.SetCloseIntercept(func() { h.logf("kiosk: hall: close refused: kiosk mode") })
	}
	w.Show()
	return h
}

// NewHallIn shows the hall's screen in an existing window w (the
// screenshot tour uses the kiosk's own).
func NewHallIn(a fyne.App, w fyne.Window, cfg Config) *Hall {
	h := &Hall{Window: w, cfg: cfg, lang: newLang(cfg.Lang), logf: cfg.Logf, now: cfg.Now}
	if h.logf == nil {
		h.logf = log.Printf
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	applyLook(cfg.Look)
	a.Settings().SetTheme(NewTheme(h.logf))
	h.mu.Lock()
	h.render()
	h.mu.Unlock()
	return h
}

// Start follows the agent's stream until Close: the status and the queue
// on connect, then every queue event.
func (h *Hall) Start() {
	retry := h.cfg.Retry
	if retry <= 0 {
		retry = 2 * time.Second
	}
	if c := h.cfg.Client; c != nil {
		go c.Subscribe(h.ctx, retry, func(ev localapi.Event) {
			sev, err := session.FromAPI(ev)
			if err != nil {
				h.logf("kiosk: hall: %v", err)
				return
			}
			switch e := sev.(type) {
			case session.QueueChanged:
				fyne.Do(func() { h.SetQueue(e.Queue) })
			case session.AgentStatus:
				first := !h.isConnected()
				fyne.Do(func() { h.SetStatus(e.Status) })
				if first {
					// The stream sends the queue only when it changes:
					// fetch today's on (re)connecting.
					go h.fetchQueue(c)
				}
			}
		}, func(up bool) {
			if !up {
				fyne.Do(func() { h.SetDown() })
			}
		})
	}
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-h.ctx.Done():
				return
			case now := <-t.C:
				fyne.Do(func() {
					h.mu.Lock()
					defer h.mu.Unlock()
					if h.clock != nil {
						h.clock.Text = now.Format("15:04")
						h.clock.Refresh()
					}
				})
			}
		}
	}()
}

func (h *Hall) isConnected() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.connected
}

func (h *Hall) fetchQueue(c *localapi.Client) {
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	q, err := c.Queue(ctx)
	if err != nil {
		h.logf("kiosk: hall: queue: %s", vetnet.ErrorMessage(err, "en"))
		return
	}
	fyne.Do(func() { h.SetQueue(q) })
}

// Close stops following the agent.
func (h *Hall) Close() { h.cancel() }

// SetQueue shows q. Call it on Fyne's goroutine.
func (h *Hall) SetQueue(q localapi.QueueStatus) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.queue = &q
	h.render()
}

// SetStatus takes the agent's status (the station's name and services).
func (h *Hall) SetStatus(st localapi.Status) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status, h.connected = st, true
	h.render()
}

// SetDown says the agent is away: the hall says it is not serving.
func (h *Hall) SetDown() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.connected = false
	h.render()
}

// Serving returns, per service key, the number it is serving now (its
// latest call), as the screen shows it.
func (h *Hall) Serving() map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return serving(h.queue)
}

func serving(q *localapi.QueueStatus) map[string]string {
	out := map[string]string{}
	if q == nil {
		return out
	}
	for _, s := range q.Services {
		var latest *localapi.Ticket
		for i := range s.Called {
			t := &s.Called[i]
			if latest == nil || t.CalledAt != nil && (latest.CalledAt == nil || t.CalledAt.After(*latest.CalledAt)) {
				latest = t
			}
		}
		if latest != nil {
			out[s.Service] = latest.QueueNo
		}
	}
	// NowServing is newest first and the most exact about order.
	for i := len(q.NowServing) - 1; i >= 0; i-- {
		t := q.NowServing[i]
		out[t.Service] = t.QueueNo
	}
	return out
}

func (h *Hall) render() {
	sig := fmt.Sprintf("%v %+v %+v", h.connected, h.status.Station, h.queue)
	if sig == h.shown {
		return
	}
	h.shown = sig
	h.Window.SetContent(h.screen())
}

func (h *Hall) screen() fyne.CanvasObject {
	zh, en := h.status.Station.Name, h.status.Station.NameEN
	if zh == "" {
		zh, en = texts["station"][0], texts["station"][1]
	}
	p, s := h.lang.pair(zh, en)
	tp, ts := h.lang.tr("hallTitle")
	name := leftAligned(stackV(line(p, SizeHeaderLn, colWhite, true), line(s, SizeSmall, colOnNavy2, false)))
	h.clock = line(h.now().Format("15:04"), SizeTitle, colWhite, true)
	gp, gs := h.lang.tr("hallPleaseGo")
	title := stackV(line(tp+" · "+ts, SizeTitle, colWhite, true), line(gp+" · "+gs, SizeStatus, colOnNavy2, false))
	m := size(SizeMargin)
	bar := container.NewStack(canvas.NewRectangle(colNavy),
		container.New(layout.NewCustomPaddedLayout(12, 12, m, m), container.NewBorder(nil, nil, name, h.clock, container.NewCenter(title))))
	rule := canvas.NewRectangle(colRed)
	rule.SetMinSize(fyne.NewSize(1, 5))
	header := container.NewVBox(bar, rule)

	var body fyne.CanvasObject
	if !h.connected {
		np, ns := h.lang.tr("hallNotServing")
		body = container.NewCenter(stackV(line(np, SizeHero, colInk, true), line(ns, SizeTitle, colMuted, false)))
	} else {
		body = h.board()
	}
	return container.NewStack(canvas.NewRectangle(colPaper),
		container.NewBorder(header, nil, nil, nil, container.New(layout.NewCustomPaddedLayout(m/2, m/2, m/2, m/2), body)))
}

// board: a card per offered service (its number now, the people waiting)
// and the latest calls, newest first and marked as such in words.
func (h *Hall) board() fyne.CanvasObject {
	now := serving(h.queue)
	waiting := map[string]int{}
	counter := map[string]string{}
	if h.queue != nil {
		for _, s := range h.queue.Services {
			waiting[s.Service] = len(s.Waiting)
			for _, t := range s.Called {
				if t.QueueNo == now[s.Service] {
					counter[s.Service] = t.Counter
				}
			}
		}
	}
	var cards []fyne.CanvasObject
	for _, svc := range session.OfferedServices(h.status.Station) {
		info, _ := svc.Info()
		p, s := h.lang.pair(info.ZH, info.EN)
		no := now[string(svc)]
		numLine := line(no, SizeQueue, colNavy, true)
		numLine.TextSize = size(SizeQueue) * 0.36
		if no == "" {
			np, _ := h.lang.tr("hallNone")
			numLine = line(np, SizeBody, colMuted, false)
		}
		wp, ws := h.lang.tr("hallWaiting", waiting[string(svc)])
		if c := counter[string(svc)]; c != "" {
			wp = c + " · " + wp
		}
		nameSize := SizeBody
		if h.lang.en {
			nameSize = SizeSmall
		}
		cards = append(cards, hallCard(stackV(
			line(p, nameSize, colInk, true), line(s, SizeStatus, colMuted, false),
			numLine,
			line(wp+" · "+ws, SizeStatus, colInk, false))))
	}
	grid := container.New(&tileGrid{minH: 150, maxH: 260, gap: size(SizeGap) / 2}, cards...)

	var latest []fyne.CanvasObject
	lp, ls := h.lang.tr("hallLatest")
	latest = append(latest, line(lp, SizeBody, colNavy, true), line(ls, SizeStatus, colMuted, false), vgap(8))
	if h.queue != nil {
		for i, t := range h.queue.NowServing {
			sp, _ := h.lang.pair(vetnet.Service(t.Service).Label("zh"), vetnet.Service(t.Service).Label("en"))
			no := t.QueueNo
			if t.Counter != "" {
				no += " → " + t.Counter
			}
			if i == 0 {
				np, _ := h.lang.tr("hallNewest")
				latest = append(latest, line("▶ "+no, SizeBody, colRed, true), line(sp+" "+np, SizeStatus, colInk, false))
			} else {
				latest = append(latest, line(no, SizeSmall, colInk, true), line(sp, SizeStatus, colMuted, false))
			}
			latest = append(latest, vgap(6))
		}
	}
	side := container.New(&maxWidth{w: 300}, panel(stackV(latest...)))
	return container.NewBorder(nil, nil, nil, container.New(layout.NewCustomPaddedLayout(0, 0, size(SizeGap)/2, 0), side), grid)
}

// hallCard is a panel with less padding than the kiosk's: seven services
// must fit a 1280×800 screen.
func hallCard(content fyne.CanvasObject) fyne.CanvasObject {
	bg := canvas.NewRectangle(colWhite)
	bg.StrokeColor = colLine
	bg.StrokeWidth = 2
	bg.CornerRadius = 14
	return container.NewStack(bg, container.New(layout.NewCustomPaddedLayout(6, 6, 12, 12), content))
}
