package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/kiosk/session"
)

// The visitor's screens around the check-in: the sub-choices of a
// service, the confirmation with the queue number, the wait and the
// rating, the reasons of a bad rating and the thanks.

// chooseDetail offers the sub-choices of the chosen service.
func (k *Kiosk) chooseDetail(v session.View) fyne.CanvasObject {
	info, _ := v.Visit.Service.Info()
	sp, _ := k.lang.pair(info.ZH, info.EN)
	tp, _ := k.lang.tr("chooseDetail", sp)
	_, ts := k.lang.tr("chooseDetail", map[bool]string{true: info.ZH, false: info.EN}[k.lang.en])
	title := stackV(line(tp, SizeTitle, colNavy, true), vgap(4), line(ts, SizeSmall, colMuted, false), vgap(size(SizeGap)))
	var tiles []fyne.CanvasObject
	for _, o := range info.Options {
		o := o
		p, s := k.lang.pair(o.ZH, o.EN)
		b := k.button("detail:"+o.Key, widget.MediumImportance, func() session.Event { return session.DetailChosen{Detail: o.Key} })
		tiles = append(tiles, bigButton(b, p, s, k.tileText(), 260, size(SizeTile)*1.3))
	}
	grid := container.New(&tileGrid{minH: size(SizeTile) * 1.3, maxH: 240, gap: size(SizeGap) * 0.75}, tiles...)
	back := k.action("back", "back", widget.MediumImportance, func() session.Event { return session.Back{} })
	cancel := k.action("cancel", "cancel", widget.MediumImportance, func() session.Event { return session.Cancel{} })
	bottom := container.New(layout.NewCustomPaddedLayout(size(SizeGap), 0, 0, 0), container.NewBorder(nil, nil, back, cancel))
	return container.NewBorder(title, bottom, nil, nil, grid)
}

// waitLines says how many are ahead and how long the wait should be.
func (k *Kiosk) waitLines(v session.View) (wp, ws, ep, es string) {
	switch v.Visit.Ahead {
	case 0:
		wp, ws = k.lang.tr("waitingNone")
	case 1:
		wp, ws = k.lang.tr("waitingOne")
	default:
		wp, ws = k.lang.tr("waiting", v.Visit.Ahead)
	}
	switch {
	case v.Visit.Ahead == 0:
		ep, es = k.lang.tr("expectedSoon")
	case v.Visit.WaitFor > 0:
		ep, es = k.lang.tr("expectedWait", max(1, int((v.Visit.WaitFor+30*time.Second)/time.Minute)))
	default:
		ep, es = k.lang.tr("expectedUnknown")
	}
	return
}

// confirmed shows the queue number, large, with the service, the people
// ahead and the expected wait, and offers the rating as the way out.
func (k *Kiosk) confirmed(v session.View) fyne.CanvasObject {
	cp, cs := k.lang.tr("confirmed")
	np, ns := k.lang.tr("yourNumber")
	info, _ := v.Visit.Service.Info()
	sp, ss := k.lang.pair(info.ZH, info.EN)
	for _, o := range info.Options {
		if o.Key == v.Visit.Detail {
			dp, ds := k.lang.pair(o.ZH, o.EN)
			sp, ss = sp+" · "+dp, ss+" · "+ds
		}
	}
	wp, ws, ep, es := k.waitLines(v)

	icon := canvas.NewImageFromResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
	icon.SetMinSize(fyne.NewSize(48, 48))
	icon.FillMode = canvas.ImageFillContain
	head := container.New(&rowLayout{}, icon, fixed(12, 1), line(cp, SizeTitle, colOK, true))

	ticket := panel(stackV(
		fixed(320, 1),
		line(np+" · "+ns, SizeSmall, colMuted, false),
		line(v.Visit.QueueNo, SizeQueue, colNavy, true),
		line(sp, SizeBody, colInk, true),
		vgap(2),
		line(ss, SizeSmall, colMuted, false),
	))
	k.count = line(k.countdown(v.Deadline, k.now()), SizeStatus, colMuted, false)
	infoCol := []fyne.CanvasObject{
		head,
		line(cs, SizeSmall, colMuted, false),
		vgap(size(SizeGap) / 2),
		line(wp, SizeBody, colInk, true),
		line(ep, SizeBody, colInk, false),
		line(ws+"; "+lower(es), SizeStatus, colMuted, false),
	}
	if v.Visit.Printed {
		pp, ps := k.lang.tr("printed")
		infoCol = append(infoCol, vgap(6), line(pp, SizeSmall, colInk, false), line(ps, SizeStatus, colMuted, false))
	}
	done := k.action("done", "rateDone", widget.MediumImportance, func() session.Event { return session.Done{} })
	infoCol = append(infoCol, vgap(size(SizeGap)/2), done, k.count)
	top := container.New(&splitLayout{gap: size(SizeGap)}, container.NewCenter(ticket), container.NewCenter(stackV(infoCol...)))

	rp, rs := k.lang.tr("rateTitle")
	var rates []fyne.CanvasObject
	for r := vetnet.RatingVerySatisfied; r >= vetnet.RatingVeryDissatisfied; r-- {
		r := r
		p, s := k.lang.pair(r.Label("zh"), r.Label("en"))
		b := k.button(fmt.Sprintf("rate:%d", r), widget.MediumImportance, func() session.Event { return session.Rate{Rating: r} })
		rates = append(rates, rateButton(b, p, s, int(r), k.lang.en))
	}
	rateBlock := stackV(
		line(rp, SizeBody, colNavy, true),
		line(rs, SizeSmall, colMuted, false),
		vgap(8),
		container.New(&gridLayout{cols: 5, gap: size(SizeGap) / 2}, rates...),
	)
	return container.NewBorder(nil, rateBlock, nil, nil, top)
}

// lower lower-cases the first letter of an English sentence joined to
// another; Chinese is left alone.
func lower(s string) string {
	if s != "" && s[0] >= 'A' && s[0] <= 'Z' {
		return string(s[0]+'a'-'A') + s[1:]
	}
	return s
}

// rateButton shows a rating by its words and by stars (as many as the
// rating), so that it is understood without colour and without reading.
func rateButton(b *widget.Button, primary, secondary string, stars int, en bool) fyne.CanvasObject {
	st := line(strings.Repeat("★", stars)+strings.Repeat("☆", 5-stars), SizeSmall, colNavy, false)
	sz := SizeBody
	if en {
		sz = SizeSmall // "Very dissatisfied" is three times as long as 非常不满意
	}
	labels := stackV(st, line(primary, sz, colInk, true), line(secondary, SizeStatus, colMuted, false))
	border := canvas.NewRectangle(colTile)
	border.StrokeColor = colLine
	border.StrokeWidth = 2
	border.CornerRadius = size(theme.SizeNameInputRadius)
	return container.NewStack(fixed(172, MinTouch*1.4), b, border, container.New(layout.NewCustomPaddedLayout(6, 6, 8, 8), container.NewCenter(labels)))
}

// rateReason asks, after a bad rating, what went wrong; every reason is
// optional and says whether it is ticked in words, not by colour alone.
func (k *Kiosk) rateReason(v session.View) fyne.CanvasObject {
	ticked := map[vetnet.Reason]bool{}
	for _, r := range v.Visit.Reasons {
		ticked[r] = true
	}
	tp, tk := k.lang.tr("ticked")
	var boxes []fyne.CanvasObject
	for _, r := range vetnet.Reasons {
		r := r
		p, s := k.lang.pair(r.Label("zh"), r.Label("en"))
		imp := widget.MediumImportance
		mark := "☐ "
		if ticked[r] {
			imp, mark = widget.HighImportance, "☑ "
			s += " · " + tp + " " + tk
		}
		b := k.button("reason:"+string(r), imp, func() session.Event { return session.ToggleReason{Reason: r} })
		boxes = append(boxes, bigButton(b, mark+p, s, SizeBody, 340, size(SizeButton)))
	}
	rp, rs := k.lang.pair(v.Visit.Rating.Label("zh"), v.Visit.Rating.Label("en"))
	return container.NewCenter(stackV(
		k.title("reasonTitle"),
		vgap(6),
		line(rp+" · "+rs, SizeSmall, colInk, false),
		vgap(6),
		k.hint("reasonHint"),
		vgap(size(SizeGap)),
		container.New(&gridLayout{cols: 2, gap: size(SizeGap) / 2}, boxes...),
		vgap(size(SizeGap)),
		k.actions(
			k.action("cancel", "cancel", widget.MediumImportance, func() session.Event { return session.Cancel{} }),
			k.action("send", "sendRating", widget.HighImportance, func() session.Event { return session.SendRating{} }),
		),
	))
}

// thanks closes a rated visit.
func (k *Kiosk) thanks(v session.View) fyne.CanvasObject {
	p, s := k.lang.tr("thanks")
	hp, hs := k.lang.tr("thanksHint")
	icon := canvas.NewImageFromResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
	icon.SetMinSize(fyne.NewSize(96, 96))
	icon.FillMode = canvas.ImageFillContain
	k.count = line(k.countdown(v.Deadline, k.now()), SizeStatus, colMuted, false)
	return container.NewCenter(stackV(
		container.NewCenter(icon),
		vgap(size(SizeGap)),
		line(p, SizeHero, colNavy, true),
		vgap(8),
		line(s, SizeTitle, colMuted, false),
		vgap(size(SizeGap)),
		line(hp, SizeBody, colInk, false),
		line(hs, SizeSmall, colMuted, false),
		vgap(size(SizeGap)*1.5),
		k.actions(k.action("done", "done", widget.HighImportance, func() session.Event { return session.Done{} })),
		vgap(8),
		k.count,
	))
}
