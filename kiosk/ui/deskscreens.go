package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/kiosk/session"
)

// The staff desk: today's visitors, the queue, moving a ticket to another
// service. Every button is a session event; the calls to the agent run in
// the background (Kiosk.submit) and come back as notes in both languages.

// deskTop is a desk screen's title, the outcome of the last call, and Back.
func (k *Kiosk) deskTop(v session.View, key string, args ...any) fyne.CanvasObject {
	back := k.action("back", "back", widget.MediumImportance, func() session.Event { return session.Back{} })
	note := k.noteLine(v.Staff.Note)
	return container.NewVBox(container.NewBorder(nil, nil, nil, back, leftAligned(stackV(k.titleLeft(key, args...), note))), vgap(8))
}

// titleLeft is a title flush left.
func (k *Kiosk) titleLeft(key string, args ...any) fyne.CanvasObject {
	p, s := k.lang.tr(key, args...)
	return stackV(line(p, SizeTitle, colNavy, true), line(s, SizeSmall, colMuted, false))
}

// noteLine is the outcome of the last call: an error in red with a
// warning sign, success in ink; both in words.
func (k *Kiosk) noteLine(m session.Message) *fyne.Container {
	if m.ZH == "" && m.EN == "" {
		return stackV(line(" ", SizeSmall, colInk, false))
	}
	p, s := k.lang.pair(m.ZH, m.EN)
	if m.Code != "" {
		return stackV(line("⚠ "+p+" · "+s, SizeSmall, colRed, true))
	}
	return stackV(line("✓ "+p+" · "+s, SizeSmall, colInk, true))
}

// small is a desk button: one or two lines, at least MinTouch high.
func (k *Kiosk) small(id, key string, imp widget.Importance, ev func() session.Event) fyne.CanvasObject {
	p, s := k.lang.tr(key)
	return bigButton(k.button(id, imp, ev), p, s, SizeSmall, 120, MinTouch)
}

func serviceLabel(l lang, key, detail string) (string, string) {
	sv := vetnet.Service(key)
	info, _ := sv.Info()
	p, s := l.pair(info.ZH, info.EN)
	for _, o := range info.Options {
		if o.Key == detail {
			dp, ds := l.pair(o.ZH, o.EN)
			p, s = p+"·"+dp, s+" · "+ds
		}
	}
	return p, s
}

func (k *Kiosk) stateLabel(state string) (string, string) {
	if _, ok := texts["state:"+state]; ok {
		return k.lang.tr("state:" + state)
	}
	return state, state
}

// staffVisitors lists today's visitors, newest first, with a name search.
func (k *Kiosk) staffVisitors(v session.View) fyne.CanvasObject {
	if k.search == nil {
		k.search = widget.NewEntry()
		k.search.SetText(v.Staff.Query)
	}
	e := k.search
	p, s := k.lang.tr("searchHint")
	e.SetPlaceHolder(p + " / " + s)
	e.OnSubmitted = func(q string) {
		k.mu.Lock()
		defer k.mu.Unlock()
		k.step(session.StaffSearch{Query: q})
	}
	go1 := k.small("search", "search", widget.HighImportance, func() session.Event { return session.StaffSearch{Query: e.Text} })
	all := k.small("searchAll", "searchAll", widget.MediumImportance, func() session.Event { e.SetText(""); return session.StaffSearch{} })
	bar := container.NewBorder(nil, nil, nil, container.New(&rowLayout{}, fixed(8, 1), go1, fixed(8, 1), all),
		container.New(&minHeight{h: MinTouch}, e))

	var rows []fyne.CanvasObject
	for _, x := range v.Staff.Visitors {
		x := x
		sp, ss := serviceLabel(k.lang, x.Service, x.Detail)
		tp, ts := k.stateLabel(x.State)
		left := stackV(line(x.QueueNo+"  "+x.MaskedName+"  "+x.At.Format("15:04"), SizeBody, colInk, true), line(sp+" · "+tp, SizeSmall, colInk, false),
			line(ss+" · "+ts, SizeStatus, colMuted, false))
		var btns []fyne.CanvasObject
		if x.State == localapi.TicketWaiting || x.State == localapi.TicketCalled {
			btns = append(btns, k.small("transfer:"+x.CheckInID, "transfer", widget.MediumImportance,
				func() session.Event { return session.StaffTransferStart{CheckInID: x.CheckInID, QueueNo: x.QueueNo} }))
		}
		if v.Printer {
			btns = append(btns, fixed(8, 1), k.small("print:"+x.CheckInID, "print", widget.MediumImportance,
				func() session.Event { return session.StaffPrint{CheckInID: x.CheckInID} }))
		}
		rows = append(rows, panelRow(leftAligned(left), container.New(&rowLayout{}, btns...)))
	}
	var list fyne.CanvasObject
	if len(rows) == 0 {
		p, s := k.lang.tr("noVisitors")
		list = container.NewCenter(stackV(line(p, SizeBody, colMuted, false), line(s, SizeSmall, colMuted, false)))
	} else {
		cp, cs := k.lang.tr("visitorsCount", len(rows))
		rows = append([]fyne.CanvasObject{leftAligned(stackV(line(cp+" · "+cs, SizeStatus, colMuted, false)))}, rows...)
		list = container.NewVScroll(container.NewVBox(rows...))
	}
	return container.NewBorder(container.NewVBox(k.deskTop(v, "deskVisitors"), bar, vgap(8)), nil, nil, nil, list)
}

// panelRow is a row of a desk list: what it is on the left, its buttons
// on the right.
func panelRow(left, right fyne.CanvasObject) fyne.CanvasObject {
	return container.New(layout.NewCustomPaddedLayout(0, 6, 0, 0), panel(container.NewBorder(nil, nil, left, right)))
}

// minHeight gives its content at least h.
type minHeight struct{ h float32 }

func (m *minHeight) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	s.Height = max(s.Height, m.h)
	return s
}

func (m *minHeight) Layout(objs []fyne.CanvasObject, sz fyne.Size) {
	for _, o := range objs {
		o.Resize(sz)
		o.Move(fyne.NewPos(0, 0))
	}
}

// staffQueue shows each offered service's queue: who is being served
// (served, not present, transfer) and how many wait (call next).
func (k *Kiosk) staffQueue(v session.View) fyne.CanvasObject {
	byService := map[string]localapi.QueueService{}
	if v.Queue != nil {
		for _, q := range v.Queue.Services {
			byService[q.Service] = q
		}
	}
	var rows []fyne.CanvasObject
	for _, svc := range v.Services {
		svc := svc
		q := byService[string(svc)]
		sp, ss := serviceLabel(k.lang, string(svc), "")
		wp, ws := k.lang.tr("queueWaiting", len(q.Waiting))
		dp, ds := k.lang.tr("queueServed", q.ServedToday)
		head := stackV(line(sp+" · "+wp+" · "+dp, SizeBody, colInk, true), line(ss+" · "+ws+" · "+ds, SizeStatus, colMuted, false))
		imp := widget.HighImportance
		if len(q.Waiting) == 0 {
			imp = widget.MediumImportance
		}
		call := k.small("call:"+string(svc), "callNext", imp, func() session.Event { return session.StaffCall{Service: svc} })
		items := []fyne.CanvasObject{container.NewBorder(nil, nil, leftAligned(head), call)}
		for _, t := range q.Called {
			t := t
			tp, ts := k.stateLabel(t.State)
			who := stackV(line(t.QueueNo+"  "+t.MaskedName+"  · "+tp, SizeSmall, colInk, true), line(ts, SizeStatus, colMuted, false))
			btns := container.New(&rowLayout{},
				k.small("served:"+t.CheckInID, "served", widget.HighImportance, func() session.Event { return session.StaffServed{CheckInID: t.CheckInID} }),
				fixed(8, 1),
				k.small("noshow:"+t.CheckInID, "noShow", widget.MediumImportance, func() session.Event { return session.StaffNoShow{CheckInID: t.CheckInID} }),
				fixed(8, 1),
				k.small("transfer:"+t.CheckInID, "transfer", widget.MediumImportance, func() session.Event {
					return session.StaffTransferStart{CheckInID: t.CheckInID, QueueNo: t.QueueNo}
				}),
			)
			items = append(items, vgap(6), container.NewBorder(nil, nil, leftAligned(who), btns))
		}
		rows = append(rows, container.New(layout.NewCustomPaddedLayout(0, 6, 0, 0), panel(container.NewVBox(items...))))
	}
	var body fyne.CanvasObject = container.NewVScroll(container.NewVBox(rows...))
	if v.Queue == nil {
		p, s := k.lang.tr("loading")
		body = container.NewCenter(line(p+" · "+s, SizeBody, colMuted, false))
	}
	return container.NewBorder(k.deskTop(v, "deskQueue"), nil, nil, nil, body)
}

// staffTransfer offers the other services to move a ticket to.
func (k *Kiosk) staffTransfer(v session.View) fyne.CanvasObject {
	var tiles []fyne.CanvasObject
	for _, svc := range v.Services {
		svc := svc
		info, _ := svc.Info()
		p, s := k.lang.pair(info.ZH, info.EN)
		b := k.button("to:"+string(svc), widget.MediumImportance, func() session.Event { return session.StaffTransferTo{Service: svc} })
		sz := SizeBody
		if k.lang.en {
			sz = SizeSmall
		}
		tiles = append(tiles, bigButton(b, p, s, sz, 220, size(SizeButton)))
	}
	grid := container.New(&tileGrid{minH: size(SizeButton), maxH: 160, gap: size(SizeGap) * 0.75}, tiles...)
	return container.NewBorder(k.deskTop(v, "transferTitle", v.Staff.Moving), nil, nil, nil, grid)
}

// dutyLine says whether the staff member is on duty, and since when.
func (k *Kiosk) dutyLine(v session.View) fyne.CanvasObject {
	var p, s string
	if v.Staff.OnDuty {
		p, s = k.lang.tr("onDutyNow", v.Staff.DutySince.Format("15:04"))
	} else {
		p, s = k.lang.tr("offDutyNow")
	}
	cp, cs := k.lang.tr("dutyCount", v.Staff.DutyCount)
	return stackV(line(p+" · "+cp, SizeSmall, colInk, true), line(s+" · "+cs, SizeStatus, colMuted, false))
}
