package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vetnet/vetnet/kiosk/session"
)

// screen builds the whole window's content for v: a header with the
// station's name and the time, the state's body, and a footer.
func (k *Kiosk) screen(v session.View) fyne.CanvasObject {
	var body, footer fyne.CanvasObject
	switch v.State {
	case session.Idle:
		body, footer = k.idle(v), k.statusLine(v)
	case session.Greeting:
		body = k.greeting(v)
	case session.ChooseService:
		body = k.choose(v)
	case session.Submitting:
		body = k.submitting(v)
	case session.Confirmed:
		body = k.confirmed(v)
	case session.Failed:
		body = k.failed(v)
	case session.Notice:
		body = k.notice(v)
	case session.StaffLogin:
		body = k.staffLogin(v)
	case session.StaffMenu:
		body = k.staffMenu(v)
	case session.ManualEntry:
		body = k.manualEntry(v)
	case session.ChooseDetail:
		body = k.chooseDetail(v)
	case session.RateReason:
		body = k.rateReason(v)
	case session.Thanks:
		body = k.thanks(v)
	case session.StaffVisitors:
		body = k.staffVisitors(v)
	case session.StaffQueue:
		body = k.staffQueue(v)
	case session.StaffTransfer:
		body = k.staffTransfer(v)
	default:
		body, footer = k.outOfService(v), k.statusLine(v)
	}
	m := size(SizeMargin)
	padded := container.New(layout.NewCustomPaddedLayout(m*0.75, m*0.75, m, m), body)
	main := container.NewBorder(k.header(v), footer, nil, nil, padded)
	bg := canvas.NewRectangle(colPaper)
	return container.NewStack(bg, newTouchArea(func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		k.step(session.Touch{})
	}), main)
}

// header: the station's name on navy, the time on the right, and a thin
// red rule under it.
func (k *Kiosk) header(v session.View) fyne.CanvasObject {
	zh, en := v.Station.Name, v.Station.NameEN
	if zh == "" {
		zh, en = texts["station"][0], texts["station"][1]
	}
	if en == "" {
		en = zh
	}
	p, s := k.lang.pair(zh, en)
	name := stackV(line(p, SizeHeaderLn, colWhite, true), vgap(2), line(s, SizeSmall, colOnNavy2, false))
	for _, o := range name.Objects {
		if t, ok := o.(*canvas.Text); ok {
			t.Alignment = fyne.TextAlignLeading
		}
	}
	now := k.now()
	k.clock = line(now.Format("15:04"), SizeHeaderLn, colWhite, true)
	k.clock.Alignment = fyne.TextAlignTrailing
	k.date = line(k.lang.today(now), SizeStatus, colOnNavy2, false)
	k.date.Alignment = fyne.TextAlignTrailing
	var rights []fyne.CanvasObject
	if v.HasStaff && v.State == session.Idle {
		// Staff sign-in sits in the header, away from the visitor's eye
		// line but always in the same place.
		b := k.button("staff", widget.MediumImportance, func() session.Event { return session.StaffOpen{} })
		sp, ss := k.lang.tr("staffButton")
		rights = append(rights, switchButton(b, sp, ss), fixed(size(SizeGap), 1))
	}
	for _, sw := range k.switches() {
		rights = append(rights, sw, fixed(6, 1))
	}
	rights = append(rights, fixed(10, 1), rightAligned(stackV(k.clock, vgap(2), k.date)))
	right := container.New(&rowLayout{}, rights...)

	m := size(SizeMargin)
	row := container.NewBorder(nil, nil, leftAligned(name), right)
	bar := container.NewStack(canvas.NewRectangle(colNavy),
		container.New(layout.NewCustomPaddedLayout(10, 10, m*0.75, m*0.75), row))
	rule := canvas.NewRectangle(colRed)
	rule.SetMinSize(fyne.NewSize(1, 5))
	return container.NewVBox(bar, rule)
}

// leftAligned and rightAligned keep a column of lines flush to one side.
func leftAligned(o *fyne.Container) fyne.CanvasObject {
	o.Layout = &sideLayout{}
	return o
}

func rightAligned(o *fyne.Container) fyne.CanvasObject {
	o.Layout = &sideLayout{right: true}
	return o
}

type sideLayout struct{ right bool }

func (l *sideLayout) MinSize(objs []fyne.CanvasObject) fyne.Size { return columnLayout{}.MinSize(objs) }

func (l *sideLayout) Layout(objs []fyne.CanvasObject, sz fyne.Size) {
	y := float32(0)
	for _, o := range objs {
		m := o.MinSize()
		x := float32(0)
		if l.right {
			x = sz.Width - m.Width
		}
		o.Resize(m)
		o.Move(fyne.NewPos(x, y))
		y += m.Height
	}
}

// statusLine is the small line for staff on the idle screen: the link to
// the hub, the backlog, and the demo button when there is a simulated
// reader.
func (k *Kiosk) statusLine(v session.View) fyne.CanvasObject {
	dot := canvas.NewCircle(colOK)
	var msg string
	switch {
	case !v.Connected:
		dot.FillColor = colRed
		msg = k.lang.both("agentDown")
	case v.Online:
		msg = k.lang.both("online")
	default:
		dot.FillColor = colWarn
		msg = k.lang.both("offline")
	}
	if v.Connected {
		msg += "  ·  " + k.lang.both("backlog", v.Backlog)
	}
	if v.Station.ID != "" {
		msg += "  ·  " + v.Station.ID
	}
	txt := line(msg, SizeStatus, colMuted, false)
	txt.Alignment = fyne.TextAlignLeading
	d := size(SizeStatus) * 0.7
	left := container.NewHBox(container.NewCenter(container.NewGridWrap(fyne.NewSize(d, d), dot)), txt)

	var rights []fyne.CanvasObject
	if v.SimReader && v.State == session.Idle {
		b := widget.NewButton("", func() {
			k.mu.Lock()
			defer k.mu.Unlock()
			k.simTap()
		})
		b.Importance = widget.MediumImportance
		k.buttons["simtap"] = b
		p, s := k.lang.tr("simTap")
		if len(rights) > 0 {
			rights = append(rights, fixed(12, 1))
		}
		rights = append(rights, bigButton(b, p+"  "+s, "", SizeStatus, 300, MinTouch))
	}
	var right fyne.CanvasObject
	if len(rights) > 0 {
		right = container.New(&rowLayout{}, rights...)
	}
	m := size(SizeMargin)
	sep := canvas.NewRectangle(colLine)
	sep.SetMinSize(fyne.NewSize(1, 1))
	row := container.NewBorder(nil, nil, left, right)
	return container.NewVBox(sep, container.New(layout.NewCustomPaddedLayout(10, 12, m, m), row))
}

// idle is the attract screen.
func (k *Kiosk) idle(v session.View) fyne.CanvasObject {
	if v.StorageLow {
		p, s := k.lang.tr("storageFull")
		hp, hs := k.lang.tr("storageFullHint")
		return container.NewCenter(stackV(
			line("⚠", SizeHero, colRed, true),
			line(p, SizeTitle, colRed, true),
			vgap(8),
			line(s, SizeBody, colMuted, false),
			vgap(size(SizeGap)),
			line(hp, SizeBody, colInk, false),
			vgap(4),
			line(hs, SizeSmall, colMuted, false),
		))
	}
	p, s := k.lang.tr("tapCard")
	hp, hs := k.lang.tr("tapHint")
	return container.NewCenter(stackV(
		cardArt(),
		vgap(size(SizeGap)),
		line(p, SizeHero, colNavy, true),
		vgap(8),
		line(s, SizeTitle, colMuted, false),
		vgap(size(SizeGap)),
		line(hp, SizeBody, colInk, false),
		vgap(4),
		line(hs, SizeSmall, colMuted, false),
	))
}

// cardArt is a drawing of an ID card on a reader, so that the prompt is
// understood without reading.
func cardArt() fyne.CanvasObject {
	const w, h = 250, 158
	reader := canvas.NewRectangle(colNavy)
	reader.CornerRadius = 16
	reader.Resize(fyne.NewSize(w+60, 34))
	reader.Move(fyne.NewPos(0, h-8))

	card := canvas.NewRectangle(colWhite)
	card.StrokeColor = colNavy
	card.StrokeWidth = 4
	card.CornerRadius = 14
	card.Resize(fyne.NewSize(w, h))
	card.Move(fyne.NewPos(30, 0))

	photo := canvas.NewRectangle(color.NRGBA{0xDC, 0xE4, 0xEE, 0xFF})
	photo.CornerRadius = 8
	photo.Resize(fyne.NewSize(62, 78))
	photo.Move(fyne.NewPos(30+w-62-22, 26))

	objs := []fyne.CanvasObject{card, photo}
	for i, lw := range []float32{120, 96, 132, 80} {
		bar := canvas.NewRectangle(color.NRGBA{0xC9, 0xD3, 0xDF, 0xFF})
		bar.CornerRadius = 4
		bar.Resize(fyne.NewSize(lw, 10))
		bar.Move(fyne.NewPos(30+22, 30+float32(i)*22))
		objs = append(objs, bar)
	}
	stripe := canvas.NewRectangle(colRed)
	stripe.CornerRadius = 3
	stripe.Resize(fyne.NewSize(w-44, 8))
	stripe.Move(fyne.NewPos(30+22, h-30))
	objs = append(objs, stripe, reader)

	art := container.NewWithoutLayout(objs...)
	return container.NewStack(fixed(w+60, h+26), art)
}

// greeting says hello with the masked name.
func (k *Kiosk) greeting(v session.View) fyne.CanvasObject {
	hp, hs := k.lang.tr("hello", v.Visit.Name)
	var wp, ws string
	if v.Visit.Returning {
		wp, ws = k.lang.tr("welcomeBack")
		if !v.Visit.LastVisit.IsZero() {
			dp, ds := k.lang.date(v.Visit.LastVisit)
			lp, _ := k.lang.tr("lastVisit", dp)
			_, ls := k.lang.tr("lastVisit", ds)
			wp, ws = wp+" · "+lp, ws+" · "+ls
		}
	} else {
		wp, ws = k.lang.tr("welcome")
	}
	mp, ms := k.lang.tr("menuSoon")
	return container.NewCenter(stackV(
		line(hp, SizeHero, colNavy, true),
		vgap(8),
		line(hs, SizeTitle, colMuted, false),
		vgap(size(SizeGap)*1.5),
		line(wp, SizeBody, colInk, false),
		vgap(4),
		line(ws, SizeSmall, colMuted, false),
		vgap(size(SizeGap)*2),
		k.actions(
			k.action("cancel", "cancel", widget.MediumImportance, func() session.Event { return session.Cancel{} }),
			k.action("continue", "continue", widget.HighImportance, func() session.Event { return session.Continue{} }),
		),
		vgap(size(SizeGap)),
		line(mp+" · "+ms, SizeStatus, colMuted, false),
	))
}

// action is a big button for a session event, labelled in both languages.
func (k *Kiosk) action(id, key string, imp widget.Importance, ev func() session.Event) fyne.CanvasObject {
	p, s := k.lang.tr(key)
	return bigButton(k.button(id, imp, ev), p, s, SizeBody, 300, size(SizeButton))
}

// actions puts buttons side by side, centred.
func (k *Kiosk) actions(bs ...fyne.CanvasObject) fyne.CanvasObject {
	g := size(SizeGap)
	objs := []fyne.CanvasObject{layout.NewSpacer()}
	for i, b := range bs {
		if i > 0 {
			objs = append(objs, fixed(g, 1))
		}
		objs = append(objs, b)
	}
	objs = append(objs, layout.NewSpacer())
	return container.New(&rowLayout{}, objs...)
}

// rowLayout puts objects side by side at their minimum sizes, centred,
// without Fyne's padding (the spacing is explicit).
type rowLayout struct{}

func (rowLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		m := o.MinSize()
		s.Width += m.Width
		s.Height = max(s.Height, m.Height)
	}
	return s
}

func (r rowLayout) Layout(objs []fyne.CanvasObject, sz fyne.Size) {
	total := r.MinSize(objs)
	x := (sz.Width - total.Width) / 2
	for _, o := range objs {
		m := o.MinSize()
		o.Resize(fyne.NewSize(m.Width, total.Height))
		o.Move(fyne.NewPos(x, (sz.Height-total.Height)/2))
		x += m.Width
	}
}

// choose is the service menu.
func (k *Kiosk) choose(v session.View) fyne.CanvasObject {
	tp, ts := k.lang.tr("choose", v.Visit.Name)
	title := stackV(line(tp, SizeTitle, colNavy, true), vgap(4), line(ts, SizeSmall, colMuted, false), vgap(size(SizeGap)))

	tiles := make([]fyne.CanvasObject, 0, len(v.Services))
	for _, svc := range v.Services {
		svc := svc
		info, _ := svc.Info()
		p, s := k.lang.pair(info.ZH, info.EN)
		b := k.button("service:"+string(svc), widget.MediumImportance, func() session.Event { return session.ServiceChosen{Service: svc} })
		tiles = append(tiles, bigButton(b, p, s, k.tileText(), 220, size(SizeTile)))
	}
	grid := container.New(&tileGrid{minH: size(SizeTile), maxH: 220, gap: size(SizeGap) * 0.75}, tiles...)

	hp, hs := k.lang.tr("chooseHint")
	hint := stackV(line(hp, SizeStatus, colMuted, false), line(hs, SizeStatus, colMuted, false))
	cancel := k.action("cancel", "cancel", widget.MediumImportance, func() session.Event { return session.Cancel{} })
	bottom := container.New(layout.NewCustomPaddedLayout(size(SizeGap), 0, 0, 0),
		container.NewBorder(nil, nil, cancel, nil, container.NewVBox(layout.NewSpacer(), rightAligned(hint), layout.NewSpacer())))
	return container.NewBorder(title, bottom, nil, nil, grid)
}

// submitting waits for the agent's commit; there is nothing to press.
func (k *Kiosk) submitting(v session.View) fyne.CanvasObject {
	key := "submitting"
	if v.Visit.Rating != 0 {
		key = "sendingRating"
	}
	p, s := k.lang.tr(key)
	bar := widget.NewProgressBarInfinite()
	return container.NewCenter(stackV(
		line(p, SizeTitle, colNavy, true),
		vgap(8),
		line(s, SizeSmall, colMuted, false),
		vgap(size(SizeGap)*1.5),
		container.NewGridWrap(fyne.NewSize(420, 12), bar),
	))
}

// failed shows the agent's message and offers a retry when it can help.
func (k *Kiosk) failed(v session.View) fyne.CanvasObject {
	tp, ts := k.lang.tr("failed")
	mp, ms := k.lang.pair(v.Visit.Error.ZH, v.Visit.Error.EN)
	msg := stackV(para(mp, SizeBody, true), para(ms, SizeSmall, false))

	var buttons fyne.CanvasObject
	if v.Visit.CanRetry {
		buttons = k.actions(
			k.action("cancel", "cancel", widget.MediumImportance, func() session.Event { return session.Cancel{} }),
			k.action("retry", "retry", widget.HighImportance, func() session.Event { return session.Retry{} }),
		)
	} else {
		buttons = k.actions(k.action("cancel", "tapAgain", widget.HighImportance, func() session.Event { return session.Cancel{} }))
	}
	return container.NewCenter(stackV(
		k.alertTitle(tp, theme.ErrorIcon()),
		line(ts, SizeSmall, colMuted, false),
		vgap(size(SizeGap)),
		container.New(&maxWidth{w: 880}, panel(msg)),
		vgap(size(SizeGap)*1.5),
		buttons,
	))
}

// notice shows a message for people (a card that could not be read, a
// visit that timed out) and then goes back by itself.
func (k *Kiosk) notice(v session.View) fyne.CanvasObject {
	tp, ts := k.lang.tr("notice")
	mp, ms := k.lang.pair(v.Notice.ZH, v.Notice.EN)
	k.count = line(k.countdown(v.Deadline, k.now()), SizeStatus, colMuted, false)
	return container.NewCenter(stackV(
		k.alertTitle(tp, theme.WarningIcon()),
		line(ts, SizeSmall, colMuted, false),
		vgap(size(SizeGap)),
		container.New(&maxWidth{w: 880}, panel(stackV(para(mp, SizeTitle, true), para(ms, SizeBody, false)))),
		vgap(size(SizeGap)*1.5),
		k.actions(k.action("done", "ok", widget.HighImportance, func() session.Event { return session.Done{} })),
		vgap(8),
		k.count,
	))
}

// outOfService is shown while the agent cannot be reached.
func (k *Kiosk) outOfService(v session.View) fyne.CanvasObject {
	p, s := k.lang.tr("outOfService")
	rkey := "reconnecting"
	if !v.Ever {
		rkey = "starting"
	}
	rp, rs := k.lang.tr(rkey)
	icon := canvas.NewImageFromResource(theme.NewWarningThemedResource(theme.WarningIcon()))
	icon.SetMinSize(fyne.NewSize(96, 96))
	icon.FillMode = canvas.ImageFillContain
	return container.NewCenter(stackV(
		container.NewCenter(icon),
		vgap(size(SizeGap)),
		line(p, SizeTitle, colInk, true),
		vgap(8),
		line(s, SizeBody, colMuted, false),
		vgap(size(SizeGap)*1.5),
		line(rp+" · "+rs, SizeSmall, colMuted, false),
	))
}

// alertTitle is a title with an icon in the error colour.
func (k *Kiosk) alertTitle(text string, res fyne.Resource) fyne.CanvasObject {
	icon := canvas.NewImageFromResource(theme.NewErrorThemedResource(res))
	icon.SetMinSize(fyne.NewSize(52, 52))
	icon.FillMode = canvas.ImageFillContain
	return container.New(&rowLayout{}, icon, fixed(12, 1), line(text, SizeTitle, colRed, true))
}

// maxWidth gives its content at most w, so wrapped text stays readable.
type maxWidth struct{ w float32 }

func (m *maxWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	s.Width = max(s.Width, m.w)
	return s
}

func (m *maxWidth) Layout(objs []fyne.CanvasObject, sz fyne.Size) {
	w := min(sz.Width, m.w)
	for _, o := range objs {
		o.Resize(fyne.NewSize(w, sz.Height))
		o.Move(fyne.NewPos((sz.Width-w)/2, 0))
	}
}

// tileText is the size of a service tile's primary line: English names
// are about three times as long as Chinese ones.
func (k *Kiosk) tileText() fyne.ThemeSizeName {
	if k.lang.en {
		return SizeTileEN
	}
	return SizeTitle
}
