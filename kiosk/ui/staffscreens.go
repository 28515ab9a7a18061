package ui

import (
	"fmt"
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/kiosk/session"
)

// Staff screens: sign-in (name and PIN), the staff menu, and the keypad
// for a visitor's ID number. They use the same large type and buttons as
// the visitor's screens: staff at a village station are often older too.

const (
	keyW, keyH = 112, 60 // a keypad key: far above the 15 mm a finger needs
)

// keypad is a 3×4 pad of digits with a key at the bottom left (X for an
// ID number, else Clear) and Delete at the bottom right.
func (k *Kiosk) keypad(left string) fyne.CanvasObject {
	var keys []fyne.CanvasObject
	key := func(id, label string, imp widget.Importance) fyne.CanvasObject {
		b := k.button("key:"+id, imp, func() session.Event { return session.Key{K: id} })
		return bigButton(b, label, "", SizeTitle, keyW, keyH)
	}
	for _, d := range "123456789" {
		keys = append(keys, key(string(d), string(d), widget.MediumImportance))
	}
	switch left {
	case "X":
		keys = append(keys, key("X", "X", widget.MediumImportance))
	default:
		p, _ := k.lang.tr("keyClear")
		keys = append(keys, key(session.KeyClear, p, widget.LowImportance))
	}
	keys = append(keys, key("0", "0", widget.MediumImportance))
	p, _ := k.lang.tr("keyDelete")
	keys = append(keys, key(session.KeyDelete, p, widget.LowImportance))
	g := size(SizeGap) / 2
	return container.New(&gridLayout{cols: 3, gap: g}, keys...)
}

// gridLayout puts equal cells in cols columns with gap between them.
type gridLayout struct {
	cols int
	gap  float32
}

func (l *gridLayout) cell(objs []fyne.CanvasObject) fyne.Size {
	var c fyne.Size
	for _, o := range objs {
		c = c.Max(o.MinSize())
	}
	return c
}

func (l *gridLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	c := l.cell(objs)
	rows := (len(objs) + l.cols - 1) / l.cols
	return fyne.NewSize(float32(l.cols)*c.Width+float32(l.cols-1)*l.gap, float32(rows)*c.Height+float32(max(rows-1, 0))*l.gap)
}

func (l *gridLayout) Layout(objs []fyne.CanvasObject, sz fyne.Size) {
	c := l.cell(objs)
	m := l.MinSize(objs)
	x0 := (sz.Width - m.Width) / 2
	for i, o := range objs {
		r, col := i/l.cols, i%l.cols
		o.Resize(c)
		o.Move(fyne.NewPos(x0+float32(col)*(c.Width+l.gap), float32(r)*(c.Height+l.gap)))
	}
}

// title is a screen's title and its second language below.
func (k *Kiosk) title(key string, args ...any) fyne.CanvasObject {
	p, s := k.lang.tr(key, args...)
	return stackV(line(p, SizeTitle, colNavy, true), vgap(4), line(s, SizeSmall, colMuted, false))
}

// errorLine is a refusal in both languages on one line, or space for one.
func (k *Kiosk) errorLine(m session.Message) fyne.CanvasObject {
	if m.ZH == "" && m.EN == "" {
		return line(" ", SizeSmall, colRed, false)
	}
	p, s := k.lang.pair(m.ZH, m.EN)
	return line(p+" · "+s, SizeSmall, colRed, true)
}

// staffLogin: the names of the staff who have a PIN, and the PIN pad.
func (k *Kiosk) staffLogin(v session.View) fyne.CanvasObject {
	var names []fyne.CanvasObject
	for _, m := range v.Staff.Roster {
		m := m
		imp := widget.MediumImportance
		if m.ID == v.Staff.Picked {
			imp = widget.HighImportance
		}
		role := vetnet.StaffRole(m.Role)
		b := k.button("pick:"+m.ID, imp, func() session.Event { return session.StaffPick{ID: m.ID} })
		p, s := k.lang.pair(m.Name+" · "+role.Label("zh"), role.Label("en"))
		names = append(names, bigButton(b, p, s, SizeBody, 300, 76))
	}
	if len(names) == 0 && v.Staff.Error == (session.Message{}) {
		p, s := k.lang.tr("starting")
		names = append(names, line(p+" · "+s, SizeSmall, colMuted, false))
	}
	np, ns := k.lang.tr("staffPickName")
	left := stackV(append([]fyne.CanvasObject{
		k.title("staffLogin"), vgap(4), k.hint("staffLoginHint"), vgap(4), k.errorLine(v.Staff.Error), vgap(size(SizeGap) / 2),
		line(np+" · "+ns, SizeSmall, colMuted, false), vgap(8)}, spaced(names, 10)...)...)

	dots := strings.Repeat("● ", v.Staff.PINLen) + strings.Repeat("○ ", max(vetnet.MinPINLen-v.Staff.PINLen, 0))
	pp, ps := k.lang.tr("staffPIN")
	signKey := "signIn"
	if v.Staff.Busy {
		signKey = "signingIn"
	}
	sp, ss := k.lang.tr(signKey)
	sign := bigButton(k.button("signin", widget.HighImportance, func() session.Event { return session.StaffSubmit{} }), sp, ss, SizeBody, 170, size(SizeButton))
	cp, cs := k.lang.tr("cancel")
	cancel := bigButton(k.button("cancel", widget.MediumImportance, func() session.Event { return session.Cancel{} }), cp, cs, SizeBody, 170, size(SizeButton))
	right := stackV(
		line(pp+" · "+ps, SizeSmall, colMuted, false),
		line(strings.TrimSpace(dots), SizeTitle, colNavy, true),
		vgap(4),
		k.keypad(session.KeyClear),
		vgap(size(SizeGap)/2),
		k.actions(cancel, sign),
	)
	return container.New(&splitLayout{gap: size(SizeGap)}, container.NewCenter(left), container.NewCenter(right))
}

// hint is a small text in both languages, one line each.
func (k *Kiosk) hint(key string) fyne.CanvasObject {
	p, s := k.lang.tr(key)
	return stackV(line(p, SizeStatus, colMuted, false), line(s, SizeStatus, colMuted, false))
}

func spaced(objs []fyne.CanvasObject, gap float32) []fyne.CanvasObject {
	var out []fyne.CanvasObject
	for i, o := range objs {
		if i > 0 {
			out = append(out, vgap(gap))
		}
		out = append(out, o)
	}
	return out
}

// staffMenu: who is signed in, and what they can do.
func (k *Kiosk) staffMenu(v session.View) fyne.CanvasObject {
	m := v.Staff.Member
	role := vetnet.StaffRole(m.Role)
	tp, _ := k.lang.tr("staffSignedIn", m.Name, role.Label("zh"))
	_, ts := k.lang.tr("staffSignedIn", m.Name, role.Label("en"))
	if k.lang.en {
		tp, ts = ts, tp
	}
	manual := k.action("manual", "manualButton", widget.HighImportance, func() session.Event { return session.ManualStart{} })
	act := func(id, key string, imp widget.Importance, ev func() session.Event) fyne.CanvasObject {
		p, s := k.lang.tr(key)
		return bigButton(k.button(id, imp, ev), p, s, SizeBody, 190, size(SizeButton))
	}
	visitors := act("visitors", "deskVisitors", widget.MediumImportance, func() session.Event { return session.StaffOpenVisitors{} })
	queue := act("queue", "deskQueue", widget.MediumImportance, func() session.Event { return session.StaffOpenQueue{} })
	dutyKey, on := "dutyOn", true
	if v.Staff.OnDuty {
		dutyKey, on = "dutyOff", false
	}
	duty := act("duty", dutyKey, widget.MediumImportance, func() session.Event { return session.StaffDuty{On: on} })
	out := act("signout", "signOut", widget.MediumImportance, func() session.Event { return session.StaffLogout{} })
	g := size(SizeGap) / 2
	lower := []fyne.CanvasObject{duty, fixed(g, 1), out}
	if k.cfg.KioskMode {
		exit := k.exitButton()
		lower = append(lower, fixed(g, 1), exit)
	}
	left := stackV(
		container.New(&maxWidth{w: 520}, manual),
		vgap(g),
		container.New(&rowLayout{}, visitors, fixed(g, 1), queue),
		vgap(g),
		container.New(&rowLayout{}, lower...),
		vgap(g),
		k.dutyLine(v),
		k.noteLine(v.Staff.Note),
	)
	return container.NewCenter(stackV(
		iconTitle(tp, theme.AccountIcon()),
		line(ts, SizeSmall, colMuted, false),
		vgap(g),
		k.hint("staffMenuHint"),
		vgap(g),
		container.New(&rowLayout{}, left, fixed(size(SizeGap), 1), container.New(&maxWidth{w: 340}, k.syncPanel(v))),
	))
}

// exitButton leaves the kiosk (kiosk mode): offered only on the staff
// menu, so only a signed-in staff member can close the kiosk.
func (k *Kiosk) exitButton() fyne.CanvasObject {
	b := widget.NewButton("", func() {
		k.mu.Lock()
		ok := k.sess.State() == session.StaffMenu
		k.mu.Unlock()
		if !ok {
			return
		}
		k.logf("kiosk: staff left kiosk mode")
		if k.cfg.OnExit != nil {
			k.cfg.OnExit()
			return
		}
		k.app.Quit()
	})
	b.Importance = widget.MediumImportance
	k.buttons["exit"] = b
	p, s := k.lang.tr("exitKiosk")
	return bigButton(b, p, s, SizeBody, 190, size(SizeButton))
}

// syncPanel tells staff, calmly, how the station stands with the hub: on
// or off line, what waits to upload and since when, the readers, the disk.
// Words carry every state; colour only repeats them.
func (k *Kiosk) syncPanel(v session.View) fyne.CanvasObject {
	rows := []fyne.CanvasObject{k.pair("syncTitle", SizeBody, colNavy, true)}
	if v.Online {
		rows = append(rows, k.pair("syncOnline", SizeSmall, colOK, false))
	} else {
		rows = append(rows, k.pair("syncOffline", SizeSmall, colWarn, false))
	}
	if v.Backlog > 0 {
		rows = append(rows, k.pair("syncBacklog", SizeSmall, colInk, false, v.Backlog))
		if v.Oldest != nil {
			age := k.now().Sub(*v.Oldest)
			zh, en := ageText(age)
			p, _ := k.lang.tr("syncOldest", zh)
			_, s := k.lang.tr("syncOldest", en)
			if k.lang.en {
				p, s = s, p
			}
			rows = append(rows, stackV(line(p, SizeSmall, colInk, false), line(s, SizeStatus, colMuted, false)))
		}
	} else {
		rows = append(rows, k.pair("syncNone", SizeSmall, colInk, false))
	}
	if len(v.Readers) > 0 {
		var zh, en []string
		for _, r := range v.Readers {
			key := map[string]string{"ok": "readerOK", "fault": "readerFault"}[r.State]
			if key == "" {
				key = "readerAbsent"
			}
			a, b := texts[key][0], texts[key][1]
			zh, en = append(zh, r.Name+" "+a), append(en, r.Name+" "+b)
		}
		p, _ := k.lang.tr("syncReaders", strings.Join(zh, "，"))
		_, s := k.lang.tr("syncReaders", strings.Join(en, ", "))
		if k.lang.en {
			p, s = s, p
		}
		rows = append(rows, stackV(line(p, SizeSmall, colInk, false), line(s, SizeStatus, colMuted, false)))
	}
	if v.StorageLow {
		rows = append(rows, k.pair("syncStorageLow", SizeSmall, colRed, true))
	}
	return panel(stackV(rows...))
}

// pair is a line of text in the primary language over its translation.
func (k *Kiosk) pair(key string, sz fyne.ThemeSizeName, c color.Color, bold bool, args ...any) fyne.CanvasObject {
	p, s := k.lang.tr(key, args...)
	return stackV(line(p, sz, c, bold), line(s, SizeStatus, colMuted, false))
}

// ageText says how long ago, in words, in both languages.
func ageText(d time.Duration) (zh, en string) {
	switch {
	case d < time.Minute:
		return "不到1分钟", "under a minute"
	case d < time.Hour:
		m := int(d / time.Minute)
		return fmt.Sprintf("%d分钟", m), fmt.Sprintf("%d min", m)
	case d < 48*time.Hour:
		h := int(d / time.Hour)
		return fmt.Sprintf("%d小时", h), fmt.Sprintf("%d h", h)
	default:
		days := int(d / (24 * time.Hour))
		return fmt.Sprintf("%d天", days), fmt.Sprintf("%d days", days)
	}
}

func iconTitle(text string, res fyne.Resource) fyne.CanvasObject {
	icon := widget.NewIcon(theme.NewPrimaryThemedResource(res))
	return container.New(&rowLayout{}, container.NewGridWrap(fyne.NewSize(52, 52), icon), fixed(12, 1), line(text, SizeTitle, colNavy, true))
}

// manualEntry: the ID-number keypad. The number is grouped as it is
// printed (region, birth date, sequence and check character), with a place
// for each character still to type.
func (k *Kiosk) manualEntry(v session.View) fyne.CanvasObject {
	e := v.Staff.Entry
	slots := []byte(e + strings.Repeat("_", max(v.Staff.EntryMax-len(e), 0)))
	shown := string(slots)
	if len(slots) == vetnet.IDNumberLen {
		shown = string(slots[:6]) + " " + string(slots[6:14]) + " " + string(slots[14:])
	}
	display := panel(line(shown, SizeTitle, colNavy, true))
	next := k.action("next", "next", widget.HighImportance, func() session.Event { return session.ManualConfirm{} })
	cancel := k.action("cancel", "cancel", widget.MediumImportance, func() session.Event { return session.Cancel{} })
	side := stackV(next, vgap(size(SizeGap)), cancel)
	pad := container.New(&rowLayout{}, k.keypad("X"), fixed(size(SizeGap)*1.5, 1), container.NewCenter(side))
	return container.NewCenter(stackV(
		k.title("manualTitle"),
		k.hint("manualHint"),
		vgap(8),
		container.New(&maxWidth{w: 620}, display),
		k.errorLine(v.Staff.Error),
		pad,
	))
}
