package ui

import (
	"context"
	"fmt"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/kiosk/session"
)

// The next video meeting, on the attract screen and the staff screen: a
// column at the right with its title, time and a countdown, the room link
// as a QR code (when the hub has a video provider), and for signed-in
// staff the roll-call button. The band lives here, apart from the
// screens: render wraps the screen in it (withMeeting) and tick refreshes
// its countdown.

// meetingState is the kiosk's side of the meetings.
type meetingState struct {
	board  session.MeetingBoard
	count  *canvas.Text // the countdown on screen, refreshed by tick
	countS *canvas.Text // its second language
	done   string       // meeting ID whose roll-call this staff member answered
	busy   bool         // a roll-call is being sent
	err    string       // why the last roll-call failed, for the staff member
}

// meetingStep takes the agent's meeting sets.
func (k *Kiosk) meetingStep(ev session.Event) {
	switch ev := ev.(type) {
	case session.MeetingsChanged:
		k.meet.board.Update(ev.Meetings, k.now())
	case session.StaffLogout, session.StaffSignedIn:
		k.meet.done, k.meet.err = "", ""
	}
}

// meetingSubmission makes a check-in of service training the answer to
// the roll-call of the next meeting when veterans attend it and its
// roll-call is open: the visitor tapped their card and chose 培训签到.
func (k *Kiosk) meetingSubmission(sub session.Submission) session.Submission {
	if sub.Request.Service != string(vetnet.ServiceTraining) || sub.Request.Meeting != "" || sub.Login != nil || sub.Roster || sub.Logout != "" {
		return sub
	}
	if n, ok := k.meet.board.Next(k.now()); ok && n.RollCall && n.Meeting.Veterans {
		sub.Request.Meeting = n.Meeting.ID
	}
	return sub
}

// meetingShown reports whether the band goes on the screen of v.
func meetingShown(v session.View) bool {
	return (v.State == session.Idle && !v.StorageLow) || v.State == session.StaffMenu
}

// meetingSig is what of the band changes the screen: which meeting, live
// or not, roll-call open or answered. The countdown is tick's.
func (k *Kiosk) meetingSig(v session.View) string {
	if !meetingShown(v) {
		return ""
	}
	n, ok := k.meet.board.Next(k.now())
	if !ok {
		return "none"
	}
	return fmt.Sprintf("%s|%s|%v|%v|%v|%s|%v|%s", n.Meeting.ID, n.Meeting.Title, n.Meeting.Start, n.Live, n.RollCall, n.Meeting.Link,
		k.meet.busy, k.meet.done+k.meet.err)
}

// withMeeting puts the band under screen when there is a meeting to show.
func (k *Kiosk) withMeeting(v session.View, screen fyne.CanvasObject) fyne.CanvasObject {
	k.meet.count, k.meet.countS = nil, nil
	if !meetingShown(v) {
		return screen
	}
	n, ok := k.meet.board.Next(k.now())
	if !ok {
		return screen
	}
	// The band never makes the window grow: it goes where the screen
	// leaves room (at the right, else at the bottom), else as one line at
	// the bottom, else not at all.
	room, need := k.Window.Canvas().Size(), screen.MinSize()
	if !k.portrait() {
		if band := k.meetingBand(v, n, false); room.Width-need.Width >= band.MinSize().Width {
			return container.NewBorder(nil, nil, nil, band, screen)
		}
	}
	if band := k.meetingBand(v, n, true); room.Height-need.Height >= band.MinSize().Height && room.Width >= band.MinSize().Width {
		return container.NewBorder(nil, band, nil, nil, screen)
	}
	if tick := k.meetingTicker(n); room.Height-need.Height >= tick.MinSize().Height {
		return container.NewBorder(nil, tick, nil, nil, screen)
	}
	k.meet.count, k.meet.countS = nil, nil
	return screen
}

// meetingTicker is the band in one line, for a screen without room.
func (k *Kiosk) meetingTicker(n session.NextMeeting) fyne.CanvasObject {
	hp, _ := k.bi("下次视频会议", "Next meeting")
	if n.Live {
		hp, _ = k.bi("视频会议进行中", "Meeting under way")
	}
	cp, cs := k.meetingCountdown(n)
	k.meet.count, k.meet.countS = line(cp, SizeSmall, colRed, true), line(cs, SizeSmall, colRed, false)
	t := line(hp+" · "+shorten(n.Meeting.Title, 12)+" · "+n.Meeting.Start.In(k.now().Location()).Format("15:04"), SizeSmall, colNavy, true)
	bg := canvas.NewRectangle(color.NRGBA{0xF3, 0xF0, 0xE6, 0xFF})
	return container.NewStack(bg, container.NewHScroll(container.NewCenter(container.New(&rowLayout{}, t, fixed(12, 1), k.meet.count, fixed(8, 1), k.meet.countS))))
}

// bi returns the primary and secondary of a pair of texts.
func (k *Kiosk) bi(zh, en string) (string, string) {
	if k.lang.en {
		return en, zh
	}
	return zh, en
}

func (k *Kiosk) meetingBand(v session.View, n session.NextMeeting, bottom bool) fyne.CanvasObject {
	m := n.Meeting
	loc := k.now().Location()
	start, end := m.Start.In(loc), m.End.In(loc)
	kind := vetnet.MeetingKind(m.Kind)
	hp, hs := k.bi("下次视频会议", "Next video meeting")
	if n.Live {
		hp, hs = k.bi("视频会议进行中", "Meeting under way")
	}
	kp, ks := k.bi(kind.Label("zh"), kind.Label("en"))
	cp, cs := k.meetingCountdown(n)
	k.meet.count, k.meet.countS = line(cp, SizeBody, colRed, true), line(cs, SizeSmall, colRed, false)
	col := []fyne.CanvasObject{
		line(hp, SizeBody, colNavy, true),
		line(hs, SizeSmall, colMuted, false),
		vgap(8),
		titleLines(m.Title),
		line(fmt.Sprintf("%d月%d日 %s–%s", start.Month(), start.Day(), start.Format("15:04"), end.Format("15:04")), SizeSmall, colInk, false),
		line(kp+" "+ks, SizeSmall, colMuted, false),
		vgap(6),
		k.meet.count,
		k.meet.countS,
	}
	var qr []fyne.CanvasObject
	if m.Link != "" {
		if img := qrImage(m.Link, 150); img != nil {
			sp, ss := k.bi("扫码入会", "Scan to join")
			qr = []fyne.CanvasObject{img, line(sp+" "+ss, SizeSmall, colMuted, false)}
		}
	}
	var more []fyne.CanvasObject
	if m.Veterans && v.State == session.Idle && n.RollCall {
		p, s := k.bi("退役军人请刷身份证签到", "Veterans: tap your ID card")
		more = append(more, vgap(6), line(p, SizeSmall, colInk, true), line(s, SizeSmall, colMuted, false))
	}
	if v.State == session.StaffMenu && n.RollCall {
		more = append(more, vgap(8), k.rollCallRow(v, m))
	}
	var body fyne.CanvasObject
	if bottom {
		// A portrait screen has height to spare: a band across the
		// bottom, the QR code beside the words.
		row := []fyne.CanvasObject{}
		if qr != nil {
			row = append(row, stackV(qr...), fixed(size(SizeGap), 1))
		}
		row = append(row, stackV(append(col, more...)...))
		body = container.New(&rowLayout{}, row...)
	} else {
		// A landscape one has width: a column at the right.
		if qr != nil {
			col = append(append(col, vgap(8)), qr...)
		}
		body = stackV(append(col, more...)...)
	}
	bg := canvas.NewRectangle(color.NRGBA{0xF3, 0xF0, 0xE6, 0xFF})
	bg.StrokeColor, bg.StrokeWidth = colNavy, 2
	return container.NewStack(bg, container.NewPadded(container.NewCenter(body)))
}

// portrait reports whether the window is taller than wide.
func (k *Kiosk) portrait() bool {
	sz := k.Window.Canvas().Size()
	return sz.Height > sz.Width
}

// titleLines shows a title in lines of at most 7 characters, at most
// two, so that the column stays narrow.
func titleLines(title string) fyne.CanvasObject {
	r := []rune(shorten(title, 14))
	var ls []fyne.CanvasObject
	for len(r) > 0 {
		n := min(len(r), 7)
		ls = append(ls, line(string(r[:n]), SizeBody, colInk, true))
		r = r[n:]
	}
	return stackV(ls...)
}

// shorten cuts s to n characters with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// rollCallRow is the staff member's roll-call button, or its outcome.
func (k *Kiosk) rollCallRow(v session.View, m localapi.Meeting) fyne.CanvasObject {
	if k.meet.done == m.ID {
		p, s := k.bi("已签到", "Signed in to the meeting")
		return stackV(line("✓ "+p, SizeBody, colOK, true), line(s, SizeSmall, colOK, false))
	}
	p, s := k.bi("会议签到", "Meeting roll-call")
	b := widget.NewButton(p, func() { k.rollCall(m.ID) })
	b.Importance = widget.HighImportance
	if k.meet.busy {
		b.Disable()
	}
	k.buttons["rollcall"] = b
	out := []fyne.CanvasObject{container.New(&maxWidth{w: 280}, b), line(s, SizeSmall, colMuted, false)}
	if k.meet.err != "" {
		out = append(out, line(shorten(k.meet.err, 14), SizeSmall, colRed, false))
	}
	return stackV(out...)
}

// rollCall answers the meeting's roll-call for the signed-in staff
// member, in the background.
func (k *Kiosk) rollCall(meeting string) {
	k.mu.Lock()
	c, tok := k.cfg.Client, k.sess.StaffSession()
	if c == nil || k.meet.busy || tok == "" {
		k.mu.Unlock()
		return
	}
	k.meet.busy, k.meet.err = true, ""
	k.render()
	k.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(k.ctx, 10*time.Second)
		defer cancel()
		_, err := c.RollCall(ctx, localapi.RollCallRequest{Meeting: meeting, StaffSession: tok})
		fyne.Do(func() {
			k.mu.Lock()
			defer k.mu.Unlock()
			k.meet.busy = false
			if err != nil {
				k.logf("kiosk: roll-call: %s", vetnet.ErrorMessage(err, "en"))
				k.meet.err, _ = k.bi(vetnet.ErrorMessage(err, "zh"), vetnet.ErrorMessage(err, "en"))
			} else {
				k.meet.done = meeting
			}
			k.render()
		})
	}()
}

// tickMeeting refreshes the countdown.
func (k *Kiosk) tickMeeting(now time.Time) {
	if k.meet.count == nil {
		return
	}
	if n, ok := k.meet.board.Next(now); ok {
		k.meet.count.Text, k.meet.countS.Text = k.meetingCountdown(n)
		k.meet.count.Refresh()
		k.meet.countS.Refresh()
	}
}

func (k *Kiosk) meetingCountdown(n session.NextMeeting) (string, string) {
	if n.Live {
		d := durText(n.EndsIn)
		return k.bi("还剩 "+d[0], d[1]+" left")
	}
	d := durText(n.StartsIn)
	return k.bi("距开始 "+d[0], "starts in "+d[1])
}

// durText writes a duration in whole minutes, rounded up as a countdown
// is (seconds in the last one).
func durText(d time.Duration) [2]string {
	if d < time.Minute {
		s := int((d + time.Second - 1) / time.Second)
		return [2]string{fmt.Sprintf("%d秒", s), fmt.Sprintf("%d s", s)}
	}
	m := int((d + time.Minute - 1) / time.Minute)
	if m < 60 {
		return [2]string{fmt.Sprintf("%d分钟", m), fmt.Sprintf("%d min", m)}
	}
	h, m := m/60, m%60
	if h >= 48 {
		return [2]string{fmt.Sprintf("%d天", h/24), fmt.Sprintf("%d days", h/24)}
	}
	return [2]string{fmt.Sprintf("%d小时%d分钟", h, m), fmt.Sprintf("%d h %d min", h, m)}
}

// qrImage draws text as a QR code of side px (medium error correction);
// nil when text is too long for a QR code.
func qrImage(text string, px float32) fyne.CanvasObject {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil
	}
	img := canvas.NewImageFromImage(q.Image(512))
	img.FillMode = canvas.ImageFillContain
	img.ScaleMode = canvas.ImageScalePixels
	img.SetMinSize(fyne.NewSize(px, px))
	return img
}
