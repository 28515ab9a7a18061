package session

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

// The staff desk: today's visitors (searched by name) and their services,
// the queue of each service (call next, served, not present), moving a
// ticket to another service, printing a ticket again, and duty sign-in and
// sign-out. Every change is a call of the agent's local API (a Submission
// with Hall set); its answer comes back as HallDone and is shown as a note
// in both languages. The screens hold masked names only, and only while a
// staff member is signed in.

// Kinds of HallCall, one per call of the local API.
const (
	CallQueue    = "queue"    // Client.Queue
	CallNext     = "call"     // Client.Call
	CallServed   = "served"   // Client.Served
	CallNoShow   = "no_show"  // Client.NoShow
	CallTransfer = "transfer" // Client.Transfer
	CallVisitors = "visitors" // Client.Visitors
	CallDuty     = "duty"     // Client.Duty
	CallSetDuty  = "set_duty" // Client.SetDuty
	CallPrint    = "print"    // Client.Print
)

// HallCall is a call of the hall's local API for the staff member signed in.
type HallCall struct {
	Kind      string
	Session   string // the staff session
	Service   string // CallNext, CallTransfer
	CheckInID string // CallServed, CallNoShow, CallTransfer, CallPrint
	Query     string // CallVisitors
	On        bool   // CallSetDuty
}

type (
	// StaffOpenVisitors opens today's visitors.
	StaffOpenVisitors struct{}
	// StaffOpenQueue opens the queue.
	StaffOpenQueue struct{}
	// StaffSearch searches today's visitors by name (empty: all).
	StaffSearch struct{ Query string }
	// StaffCall calls the next waiting ticket of a service.
	StaffCall struct{ Service vetnet.Service }
	// StaffServed marks a called ticket served.
	StaffServed struct{ CheckInID string }
	// StaffNoShow marks a called ticket as not present.
	StaffNoShow struct{ CheckInID string }
	// StaffTransferStart picks a visit to move to another service.
	StaffTransferStart struct{ CheckInID, QueueNo string }
	// StaffTransferTo moves the picked visit to a service.
	StaffTransferTo struct{ Service vetnet.Service }
	// StaffPrint prints a visit's ticket again.
	StaffPrint struct{ CheckInID string }
	// StaffDuty signs the staff member on (true) or off duty.
	StaffDuty struct{ On bool }
	// QueueChanged is the agent's queue, from its event stream.
	QueueChanged struct{ Queue localapi.QueueStatus }
	// HallDone is the answer to a HallCall: Err, or the result of its kind.
	HallDone struct {
		Call     HallCall
		Queue    *localapi.QueueStatus
		Visitors *localapi.VisitorList
		Duty     *localapi.DutyStatus
		Ticket   *localapi.Ticket
		Err      error
	}
)

// hallMode is the staff desk's part of staffMode.
type hallMode struct {
	visitors []localapi.VisitorEntry
	query    string
	note     Message
	onDuty   bool
	since    time.Time
	duty     int // staff on duty at the station
	moving   string
	movingNo string
	back     State // where StaffTransfer returns
}

// Messages of the staff desk.
var (
	MsgQueryTooLong = Message{Code: vetnet.EINVALID, ZH: "搜索内容过长", EN: "The search is too long."}
)

func (s *Session) hallCall(c HallCall, now time.Time) *Submission {
	c.Session = s.staff.session
	return &Submission{Hall: &c, Deadline: now.Add(s.submitTimeout())}
}

// stepHall handles the staff desk's events; ok is false for the others.
func (s *Session) stepHall(ev Event, now time.Time) (sub *Submission, ok bool) {
	h := &s.staff.hall
	desk := s.state == StaffMenu || s.state == StaffVisitors || s.state == StaffQueue || s.state == StaffTransfer
	switch ev := ev.(type) {
	case QueueChanged:
		q := ev.Queue
		s.queue = &q
		return nil, true
	case StaffOpenVisitors:
		s.touched = now
		if s.state == StaffMenu {
			h.note, h.query, h.visitors = Message{}, "", nil
			s.enter(StaffVisitors, now)
			return s.hallCall(HallCall{Kind: CallVisitors}, now), true
		}
		return nil, true
	case StaffOpenQueue:
		s.touched = now
		if s.state == StaffMenu {
			h.note = Message{}
			s.enter(StaffQueue, now)
			return s.hallCall(HallCall{Kind: CallQueue}, now), true
		}
		return nil, true
	case StaffSearch:
		s.touched = now
		if s.state != StaffVisitors {
			return nil, true
		}
		if utf8.RuneCountInString(ev.Query) > localapi.MaxQueryLen {
			h.note = MsgQueryTooLong
			return nil, true
		}
		h.query, h.note = ev.Query, Message{}
		return s.hallCall(HallCall{Kind: CallVisitors, Query: ev.Query}, now), true
	case StaffCall:
		s.touched = now
		if s.state == StaffQueue && s.offers(ev.Service) {
			return s.hallCall(HallCall{Kind: CallNext, Service: string(ev.Service)}, now), true
		}
		return nil, true
	case StaffServed:
		s.touched = now
		if s.state == StaffQueue && ev.CheckInID != "" {
			return s.hallCall(HallCall{Kind: CallServed, CheckInID: ev.CheckInID}, now), true
		}
		return nil, true
	case StaffNoShow:
		s.touched = now
		if s.state == StaffQueue && ev.CheckInID != "" {
			return s.hallCall(HallCall{Kind: CallNoShow, CheckInID: ev.CheckInID}, now), true
		}
		return nil, true
	case StaffTransferStart:
		s.touched = now
		if (s.state == StaffVisitors || s.state == StaffQueue) && ev.CheckInID != "" {
			h.moving, h.movingNo, h.back, h.note = ev.CheckInID, ev.QueueNo, s.state, Message{}
			s.enter(StaffTransfer, now)
		}
		return nil, true
	case StaffTransferTo:
		s.touched = now
		if s.state != StaffTransfer || !s.offers(ev.Service) {
			return nil, true
		}
		id := h.moving
		s.enter(h.back, now)
		return s.hallCall(HallCall{Kind: CallTransfer, CheckInID: id, Service: string(ev.Service)}, now), true
	case StaffPrint:
		s.touched = now
		if s.state == StaffVisitors && ev.CheckInID != "" && HasPrinter(s.status) {
			return s.hallCall(HallCall{Kind: CallPrint, CheckInID: ev.CheckInID}, now), true
		}
		return nil, true
	case StaffDuty:
		s.touched = now
		if s.state == StaffMenu {
			return s.hallCall(HallCall{Kind: CallSetDuty, On: ev.On}, now), true
		}
		return nil, true
	case Back:
		switch s.state {
		case StaffVisitors, StaffQueue:
			h.note, h.visitors, h.query = Message{}, nil, ""
			s.enter(StaffMenu, now)
		case StaffTransfer:
			s.enter(h.back, now)
		default:
			return nil, false
		}
		return nil, true
	case HallDone:
		if !desk || ev.Call.Session != s.staff.session || s.staff.session == "" {
			return nil, true // an answer for a staff member no longer here
		}
		return s.hallDone(ev, now), true
	}
	return nil, false
}

func (s *Session) hallDone(ev HallDone, now time.Time) *Submission {
	h := &s.staff.hall
	if ev.Err != nil {
		h.note = message(ev.Err)
		if vetnet.ErrorCode(ev.Err) == vetnet.EEXPIRED {
			s.toIdle(now) // the agent ended the staff session
		}
		return nil
	}
	s.renewStaff(now) // the agent renews a session at each use
	if ev.Queue != nil {
		s.queue = ev.Queue
	}
	if ev.Duty != nil {
		h.onDuty, h.since, h.duty = false, time.Time{}, len(ev.Duty.OnDuty)
		for _, d := range ev.Duty.OnDuty {
			if d.Staff.ID == s.staff.member.ID {
				h.onDuty, h.since = true, d.Since
			}
		}
	}
	if ev.Visitors != nil && s.state == StaffVisitors && ev.Call.Query == h.query {
		h.visitors = ev.Visitors.Visitors
	}
	t := ev.Ticket
	switch ev.Call.Kind {
	case CallNext:
		h.note = noteOf("已呼叫 %s", "Called %s", t.QueueNo)
	case CallServed:
		h.note = noteOf("%s 已办结", "%s served", t.QueueNo)
	case CallNoShow:
		h.note = noteOf("%s 未到", "%s not present", t.QueueNo)
	case CallPrint:
		h.note = Message{ZH: "已重新打印排队号", EN: "The ticket was printed again."}
	case CallSetDuty:
		if h.onDuty {
			h.note = Message{ZH: "已签到上岗", EN: "You are on duty."}
		} else {
			h.note = Message{ZH: "已签退下岗", EN: "You are off duty."}
		}
	case CallTransfer:
		sv := vetnet.Service(t.Service)
		h.note = Message{ZH: fmt.Sprintf("已转至%s，新号 %s", sv.Label("zh"), t.QueueNo), EN: fmt.Sprintf("Moved to %s, new number %s", sv.Label("en"), t.QueueNo)}
		if s.state == StaffVisitors {
			return s.hallCall(HallCall{Kind: CallVisitors, Query: h.query}, now)
		}
	}
	return nil
}

func noteOf(zh, en string, no string) Message {
	return Message{ZH: fmt.Sprintf(zh, no), EN: fmt.Sprintf(en, no)}
}
