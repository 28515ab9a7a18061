package session

import (
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

// Staff mode: a staff member signs in at the kiosk (their badge on the
// badge reader, or their name and PIN on the screen) to check a visitor in
// by typing the visitor's ID number, for a damaged card or a visitor who
// needs help. The check-in records the staff member. The staff session
// ends with Logout, after a minute without a touch, when the agent's
// session expires, and on every road to idle.

type (
	// StaffOpen opens the sign-in screen (the idle screen's staff button).
	StaffOpen struct{}
	// StaffRoster is the agent's answer to a Submission with Roster.
	StaffRoster struct{ List localapi.StaffList }
	// StaffPick picks a staff member on the sign-in screen.
	StaffPick struct{ ID string }
	// Key is a key of the on-screen keypads: "0"–"9", "X", KeyDelete or
	// KeyClear.
	Key struct{ K string }
	// StaffSubmit signs in with the PIN typed.
	StaffSubmit struct{}
	// StaffSignedIn is a staff session: the agent's answer to a sign-in,
	// or a badge read (then Attempt is 0).
	StaffSignedIn struct {
		Attempt uint64
		Session localapi.StaffSession
	}
	// StaffLoginFailed is the agent's refusal of a sign-in.
	StaffLoginFailed struct {
		Attempt uint64
		Err     error
	}
	// StaffLogout signs the staff member out.
	StaffLogout struct{}
	// ManualStart opens the ID-number keypad.
	ManualStart struct{}
	// ManualConfirm takes the number typed: checked as a card's is, then
	// the service menu.
	ManualConfirm struct{}
)

// Keys of the keypads besides the digits and X.
const (
	KeyDelete = "del"
	KeyClear  = "clear"
)

// staffMode is the staff member signed in and the staff screens' input.
type staffMode struct {
	session string
	expires time.Time
	ttl     time.Duration // the agent renews the session for this long at each use
	member  localapi.StaffMember
	via     string
	roster  []localapi.StaffMember
	picked  string
	pin     string
	busy    bool // a sign-in is being checked
	err     Message
	entry   string // the ID number being typed
	hall    hallMode
}

// StaffView is what the staff screens show.
type StaffView struct {
	Member   localapi.StaffMember   // signed in; zero on the sign-in screen
	Via      string                 // badge or pin
	Roster   []localapi.StaffMember // the sign-in screen's list (those with a PIN)
	Picked   string                 // staff ID picked
	PINLen   int                    // digits typed (shown as dots)
	Busy     bool                   // a sign-in is being checked
	Error    Message                // why the sign-in or the number was refused
	Entry    string                 // the ID number typed so far (shown to the staff member typing it)
	EntryMax int                    // its length when complete

	Visitors  []localapi.VisitorEntry // today's visitors matching Query (StaffVisitors)
	Query     string                  // the name searched for
	Note      Message                 // the outcome of the last call at the desk
	OnDuty    bool                    // the staff member signed in is on duty
	DutySince time.Time               // since when
	DutyCount int                     // staff on duty at the station
	Moving    string                  // queue number being moved (StaffTransfer)
}

// Messages of staff mode.
var (
	MsgPickStaff = Message{Code: vetnet.EINVALID, ZH: "请先选择您的姓名", EN: "Choose your name first."}
	MsgNoRoster  = Message{Code: vetnet.ENOTFOUND, ZH: "本站未配置工作人员名单", EN: "This station has no staff roster."}
)

func (s *Session) staffView() StaffView {
	st := s.staff
	v := StaffView{Member: st.member, Via: st.via, Picked: st.picked, PINLen: len(st.pin), Busy: st.busy, Error: st.err,
		Entry: st.entry, EntryMax: vetnet.IDNumberLen,
		Visitors: st.hall.visitors, Query: st.hall.query, Note: st.hall.note, OnDuty: st.hall.onDuty, DutySince: st.hall.since,
		DutyCount: st.hall.duty, Moving: st.hall.movingNo}
	for _, m := range st.roster {
		if m.HasPIN {
			v.Roster = append(v.Roster, m)
		}
	}
	return v
}

// stepStaff handles the events of staff mode; ok is false for the others.
func (s *Session) stepStaff(ev Event, now time.Time) (sub *Submission, ok bool) {
	switch ev := ev.(type) {
	case StaffOpen:
		s.touched = now
		if s.state != Idle {
			return nil, true
		}
		s.wipe()
		s.enter(StaffLogin, now)
		if !s.status.Staff {
			s.staff.err = MsgNoRoster
			return nil, true
		}
		s.attempt++
		return &Submission{Attempt: s.attempt, Roster: true, Deadline: now.Add(s.submitTimeout())}, true
	case StaffRoster:
		if s.state == StaffLogin {
			s.staff.roster = ev.List.Staff
		}
		return nil, true
	case StaffPick:
		s.touched = now
		if s.state == StaffLogin && !s.staff.busy {
			s.staff.picked, s.staff.pin, s.staff.err = ev.ID, "", Message{}
		}
		return nil, true
	case Key:
		s.touched = now
		switch s.state {
		case StaffLogin:
			if !s.staff.busy {
				s.staff.pin = edit(s.staff.pin, ev.K, vetnet.MaxPINLen, false)
				s.staff.err = Message{}
			}
		case ManualEntry:
			s.staff.entry = edit(s.staff.entry, ev.K, vetnet.IDNumberLen, len(s.staff.entry) == vetnet.IDNumberLen-1)
			s.staff.err = Message{}
		}
		return nil, true
	case StaffSubmit:
		s.touched = now
		if s.state != StaffLogin || s.staff.busy {
			return nil, true
		}
		if s.staff.picked == "" {
			s.staff.err = MsgPickStaff
			return nil, true
		}
		if err := vetnet.ValidatePIN(s.staff.pin); err != nil {
			s.staff.err = message(err)
			return nil, true
		}
		s.attempt++
		s.staff.busy = true
		req := localapi.StaffLoginRequest{StaffID: s.staff.picked, PIN: s.staff.pin}
		s.staff.pin = "" // the request holds it now; the screen need not
		return &Submission{Attempt: s.attempt, Login: &req, Deadline: now.Add(s.submitTimeout())}, true
	case StaffSignedIn:
		if ev.Attempt != 0 && (s.state != StaffLogin || ev.Attempt != s.attempt) {
			return nil, true // an answer that no longer matters
		}
		switch s.state {
		case Idle, Notice, StaffLogin, StaffMenu:
		default:
			return nil, true // a badge must not interrupt a visitor
		}
		s.connected, s.ever = true, true
		s.wipe()
		s.staff = staffMode{session: ev.Session.Session, expires: ev.Session.ExpiresAt, ttl: ev.Session.ExpiresAt.Sub(now),
			member: ev.Session.Staff, via: ev.Session.Via}
		s.enter(StaffMenu, now)
		return s.hallCall(HallCall{Kind: CallDuty}, now), true
	case StaffLoginFailed:
		if s.state == StaffLogin && ev.Attempt == s.attempt {
			s.staff.busy, s.staff.pin, s.staff.err = false, "", message(ev.Err)
		}
		return nil, true
	case StaffLogout:
		session := s.staff.session
		switch s.state {
		case StaffLogin, StaffMenu, ManualEntry, StaffVisitors, StaffQueue, StaffTransfer:
			s.toIdle(now)
		default:
			return nil, true
		}
		if session == "" {
			return nil, true
		}
		return &Submission{Logout: session, Deadline: now.Add(s.submitTimeout())}, true
	case ManualStart:
		s.touched = now
		if s.state == StaffMenu {
			s.wipeVisit()
			s.staff.entry, s.staff.err = "", Message{}
			s.enter(ManualEntry, now)
		}
		return nil, true
	case ManualConfirm:
		s.touched = now
		if s.state != ManualEntry {
			return nil, true
		}
		id := vetnet.NormalizeIDNumber(s.staff.entry)
		if err := vetnet.ValidateIDNumber(id, now); err != nil {
			s.staff.err = message(err)
			return nil, true
		}
		s.staff.entry, s.staff.err = "", Message{}
		s.visit = visit{typed: id, Visit: Visit{Name: vetnet.MaskIDNumber(id), Typed: true}}
		s.enter(ChooseService, now)
		return nil, true
	case Cancel:
		switch s.state {
		case ManualEntry:
			s.staff.entry, s.staff.err = "", Message{}
			s.enter(StaffMenu, now)
			return nil, true
		case StaffLogin:
			s.toIdle(now)
			return nil, true
		}
	}
	return nil, false
}

// staffExpired ends staff mode when the agent's session expired; it
// reports whether it did.
func (s *Session) staffExpired(now time.Time) bool {
	if s.staff.session == "" || s.staff.expires.IsZero() || now.Before(s.staff.expires) {
		return false
	}
	switch s.state {
	case Submitting, Confirmed:
		return false // the visit finishes first
	}
	s.toIdle(now)
	return true
}

// renewStaff follows the agent, which renews a staff session each time a
// check-in is typed with it.
func (s *Session) renewStaff(now time.Time) {
	if s.staff.session != "" && s.staff.ttl > 0 {
		s.staff.expires = now.Add(s.staff.ttl)
	}
}

// edit applies a keypad key to s: a digit (or X as the last character of
// an ID number, when lastX) is appended up to max, KeyDelete removes the
// last character, KeyClear empties it.
func edit(s, key string, max int, lastX bool) string {
	switch key {
	case KeyDelete:
		if s != "" {
			return s[:len(s)-1]
		}
		return s
	case KeyClear:
		return ""
	}
	if len(s) >= max || len(key) != 1 {
		return s
	}
	c := key[0]
	if c >= '0' && c <= '9' || (c == 'X' || c == 'x') && lastX {
		if c == 'x' {
			c = 'X'
		}
		return s + string(c)
	}
	return s
}

func message(err error) Message {
	return Message{Code: vetnet.ErrorCode(err), ZH: vetnet.ErrorMessage(err, "zh"), EN: vetnet.ErrorMessage(err, "en")}
}
