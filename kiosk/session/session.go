package session

import (
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

// State is the screen the kiosk shows.
type State int

const (
	// OutOfService: the agent cannot be reached (or has not answered yet).
	// It is the zero state, so a kiosk starts out of service until the
	// agent's first status arrives.
	OutOfService  State = iota
	Idle                // attract screen: station name, "tap your ID card"
	Greeting            // hello with the masked name
	ChooseService       // the services the station offers
	Submitting          // the check-in is being committed by the agent
	Confirmed           // queue number, service, people waiting
	Failed              // the check-in failed; retry or cancel
	Notice              // a message for people (card error, time up), then idle
	StaffLogin          // a staff member picks their name and types their PIN
	StaffMenu           // a staff member is signed in: what to do for a visitor
	ManualEntry         // the staff member types a visitor's ID number
	ChooseDetail        // the sub-choices of the chosen service (benefits: enquiry, application, certificate)
	RateReason          // a bad rating: why (optional), then send
	Thanks              // the rating is saved: thank you, then idle
	StaffVisitors       // staff: today's visitors, search by name, transfer, print
	StaffQueue          // staff: the queue of each service; call next, served, no-show
	StaffTransfer       // staff: the service to move a ticket to
)

var stateNames = [...]string{"OutOfService", "Idle", "Greeting", "ChooseService", "Submitting", "Confirmed", "Failed", "Notice",
	"StaffLogin", "StaffMenu", "ManualEntry", "ChooseDetail", "RateReason", "Thanks", "StaffVisitors", "StaffQueue", "StaffTransfer"}

func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return "State(?)"
	}
	return stateNames[s]
}

// Default timeouts.
const (
	DefaultGreetingFor   = 4 * time.Second
	DefaultInactive      = 60 * time.Second
	DefaultConfirmedFor  = 20 * time.Second
	DefaultNoticeFor     = 10 * time.Second
	DefaultSubmitTimeout = 30 * time.Second
	DefaultThanksFor     = 5 * time.Second
)

// Session is the state machine of one kiosk. The zero value is ready to
// use (timeouts take their defaults) and starts in OutOfService. It is not
// safe for concurrent use: the caller serialises Step (the UI does it on
// Fyne's goroutine, the autopilot in one loop).
type Session struct {
	// GreetingFor is how long the greeting shows before the service menu
	// replaces it by itself. Zero means DefaultGreetingFor (4 s).
	GreetingFor time.Duration
	// Inactive is how long Greeting, ChooseService and Failed wait for a
	// touch before going back to Idle. Zero means DefaultInactive (60 s).
	Inactive time.Duration
	// ConfirmedFor is how long the queue number stays on screen. Zero
	// means DefaultConfirmedFor (20 s).
	ConfirmedFor time.Duration
	// NoticeFor is how long a Notice stays. Zero means DefaultNoticeFor (10 s).
	NoticeFor time.Duration
	// SubmitTimeout is how long Submitting waits for the agent's answer
	// before showing Failed. It should exceed the HTTP client's timeout so
	// that the agent's own answer normally wins. Zero means
	// DefaultSubmitTimeout (30 s).
	SubmitTimeout time.Duration
	// ThanksFor is how long the thanks for a rating stays. Zero means
	// DefaultThanksFor (5 s).
	ThanksFor time.Duration
	// Now is the clock for events other than Tick. Nil means time.Now.
	Now func() time.Time

	state   State
	since   time.Time // when the state was entered
	touched time.Time // last touch, or entry into the state
	attempt uint64    // last submission's number; never reset

	status    localapi.Status
	connected bool // the agent's event stream is up
	ever      bool // the agent has answered at least once

	visit  visit                 // everything about the person; wiped on return to idle
	notice Message               // what a Notice says; never personal
	staff  staffMode             // the signed-in staff member; wiped on return to idle
	queue  *localapi.QueueStatus // the day's queue, from the agent's queue events; not personal beyond masked names
}

// visit is everything the session holds about the person in front of the
// kiosk. Keeping it in one struct makes the wipe a single assignment that
// cannot forget a field.
type visit struct {
	token     string
	expires   time.Time
	typed     string // an ID number typed by staff (instead of token)
	checkInID string // the committed check-in, for its rating
	Visit
}

// Visit is what the screens show about the person in front of the kiosk.
// It is the zero value whenever the kiosk is Idle or OutOfService.
type Visit struct {
	Name      string          // masked, e.g. 张*国
	Returning bool            // visited this station before
	LastVisit time.Time       // zero if unknown
	Service   vetnet.Service  // chosen service
	Detail    string          // chosen sub-choice of the service (vetnet.Option.Key), or ""
	QueueNo   string          // e.g. B007, once confirmed
	Waiting   int             // people before this one for the same service today
	Ahead     int             // tickets of the service still waiting ahead of this one
	WaitFor   time.Duration   // expected wait from the agent's pace of the day; 0 when unknown or nobody is ahead
	Printed   bool            // a paper ticket came out of the printer
	Rating    vetnet.Rating   // the rating given (RateReason, Thanks, or Submitting it)
	Reasons   []vetnet.Reason // reasons ticked for a bad rating
	Error     Message         // why the check-in failed (Failed)
	CanRetry  bool            // whether Failed offers a retry
	Typed     bool            // the ID number was typed by staff (Name is then the masked number)
}

// Message is a text for people in both languages.
type Message struct {
	Code string // a vetnet error code, or "" for none
	ZH   string
	EN   string
}

// Messages the session makes itself; the others come from the agent.
var (
	MsgTokenExpired = Message{Code: vetnet.EEXPIRED, ZH: "操作超时，请重新刷卡", EN: "Time is up. Please tap your card again."}
	MsgStorageFull  = Message{Code: vetnet.EFULL, ZH: "本机存储空间将满，暂停登记。请联系工作人员，已保存的记录不会丢失。",
		EN: "This station's storage is nearly full, so check-ins are paused. Please ask staff; nothing saved is lost."}
	MsgNoAnswer = Message{Code: vetnet.EUNAVAILABLE, ZH: "站点服务没有应答，请重试或联系工作人员", EN: "The station did not answer. Please try again or ask staff."}
)

// View is everything a screen shows. It holds no token.
type View struct {
	State      State
	Station    localapi.StationInfo
	Services   []vetnet.Service      // offered and known, in menu order
	Connected  bool                  // the agent's event stream is up
	Ever       bool                  // the agent has answered at least once since start
	Online     bool                  // the station is connected to the hub
	Backlog    int                   // check-ins not yet acknowledged by the hub
	Oldest     *time.Time            // when the oldest of them was made (station clock); nil if none
	Readers    []localapi.Reader     // reader health, for the staff screen
	StorageLow bool                  // the station's disk is nearly full: it takes no check-in
	SimReader  bool                  // the agent has a simulated reader (demo)
	Visit      Visit                 // zero in Idle and OutOfService
	Notice     Message               // what a Notice says
	Deadline   time.Time             // when the screen moves on by itself; zero if never
	HasStaff   bool                  // the station has a staff roster (the idle screen offers staff sign-in)
	Staff      StaffView             // the staff screens; zero outside staff mode
	Printer    bool                  // the station has a ticket printer (a device of kind "printer")
	Queue      *localapi.QueueStatus // the day's queue (staff screens); nil until the agent sent it
}

// Submission is a call the caller must make to the agent: a check-in
// (Request), or with Login set a staff sign-in, with Logout set a staff
// sign-out (no answer expected), with Roster set a fetch of the staff
// roster (answer StaffRoster).
type Submission struct {
	Attempt  uint64 // report the answer with this
	Request  localapi.CheckInRequest
	Login    *localapi.StaffLoginRequest
	Logout   string
	Roster   bool
	Feedback *localapi.FeedbackRequest // a rating to post (answer FeedbackDone or FeedbackFailed)
	Hall     *HallCall                 // a call of the hall's API for staff (answer HallDone)
	Deadline time.Time                 // give up waiting at this time (the session will)
}

// Event is an input to the session: one of the types below.
type Event interface{ event() }

type (
	// AgentStatus is the agent's status, from the event stream or a poll;
	// it also says the agent is up.
	AgentStatus struct{ Status localapi.Status }
	// AgentDown says the agent cannot be reached (the stream dropped).
	AgentDown struct{}
	// CardRead is a card read by one of the agent's readers.
	CardRead struct{ Card localapi.CardEvent }
	// CardFailed is a card the reader could not read.
	CardFailed struct{ Error localapi.CardErrorEvent }
	// Touch is any touch on the screen; it keeps the screen from timing out.
	Touch struct{}
	// Continue moves on from the greeting.
	Continue struct{}
	// ServiceChosen is the person's choice. A service with sub-choices
	// opens them (ChooseDetail) unless Detail already names one.
	ServiceChosen struct {
		Service vetnet.Service
		Detail  string
	}
	// CheckInDone is the agent's 2xx answer to a Submission.
	CheckInDone struct {
		Attempt  uint64
		Response localapi.CheckInResponse
	}
	// CheckInFailed is the agent's error answer, or no answer, to a Submission.
	CheckInFailed struct {
		Attempt uint64
		Err     error
	}
	// Retry posts the failed check-in again.
	Retry struct{}
	// Cancel abandons the visit.
	Cancel struct{}
	// Done ends a confirmed visit.
	Done struct{}
	// Tick lets time pass: timeouts are checked against Now.
	Tick struct{ Now time.Time }
)

func (AgentStatus) event()        {}
func (AgentDown) event()          {}
func (CardRead) event()           {}
func (CardFailed) event()         {}
func (Touch) event()              {}
func (Continue) event()           {}
func (ServiceChosen) event()      {}
func (CheckInDone) event()        {}
func (CheckInFailed) event()      {}
func (Retry) event()              {}
func (Cancel) event()             {}
func (Done) event()               {}
func (Tick) event()               {}
func (StaffOpen) event()          {}
func (StaffRoster) event()        {}
func (StaffPick) event()          {}
func (Key) event()                {}
func (StaffSubmit) event()        {}
func (StaffSignedIn) event()      {}
func (StaffLoginFailed) event()   {}
func (StaffLogout) event()        {}
func (ManualStart) event()        {}
func (ManualConfirm) event()      {}
func (DetailChosen) event()       {}
func (Back) event()               {}
func (Rate) event()               {}
func (ToggleReason) event()       {}
func (SendRating) event()         {}
func (FeedbackDone) event()       {}
func (FeedbackFailed) event()     {}
func (QueueChanged) event()       {}
func (HallDone) event()           {}
func (StaffOpenVisitors) event()  {}
func (StaffOpenQueue) event()     {}
func (StaffSearch) event()        {}
func (StaffCall) event()          {}
func (StaffServed) event()        {}
func (StaffNoShow) event()        {}
func (StaffTransferStart) event() {}
func (StaffTransferTo) event()    {}
func (StaffPrint) event()         {}
func (StaffDuty) event()          {}

// State returns the current state.
func (s *Session) State() State { return s.state }

// Step applies ev. It returns a Submission when a check-in must be posted,
// else nil.
func (s *Session) Step(ev Event) *Submission {
	now := s.now()
	if t, ok := ev.(Tick); ok {
		now = t.Now
	}
	if sub, ok := s.stepStaff(ev, now); ok {
		return sub
	}
	if sub, ok := s.stepHall(ev, now); ok {
		return sub
	}
	if sub, ok := s.stepVisit(ev, now); ok {
		return sub
	}
	switch ev := ev.(type) {
	case AgentStatus:
		s.status, s.connected, s.ever = ev.Status, true, true
		if s.state == OutOfService {
			s.enter(Idle, now)
		}
	case AgentDown:
		s.connected = false
		switch s.state {
		case Idle, Notice, Greeting, ChooseService, ChooseDetail, StaffLogin, StaffMenu, ManualEntry, StaffVisitors, StaffQueue, StaffTransfer:
			// Without the agent the token is worthless; do not let the
			// person choose a service that cannot be booked.
			s.toIdle(now)
		}
		// Submitting, Confirmed and Failed finish first: the answer to
		// the check-in (or its timeout) decides, and the person should see
		// the outcome.
	case CardRead:
		if s.state == Submitting {
			return nil // a commit is under way; the card can be tapped again
		}
		s.connected, s.ever = true, true // the card came down the stream
		if s.status.Storage.Low {
			// The station cannot keep a check-in now: say so before the
			// visitor chooses anything.
			s.wipeVisit()
			s.notice = MsgStorageFull
			s.enter(Notice, now)
			return nil
		}
		c := ev.Card
		s.wipeVisit()
		s.visit = visit{token: c.Token, expires: c.ExpiresAt, Visit: Visit{
			Name:      vetnet.MaskName(c.MaskedName),
			Returning: c.Returning,
		}}
		if c.LastVisit != nil {
			s.visit.LastVisit = *c.LastVisit
		}
		s.enter(Greeting, now)
	case CardFailed:
		switch s.state {
		case Idle, Notice, StaffMenu:
			s.wipeVisit()
			s.notice = Message{Code: ev.Error.Code, ZH: ev.Error.MessageZH, EN: ev.Error.MessageEN}
			if s.notice.ZH == "" && s.notice.EN == "" {
				s.notice = Message{Code: ev.Error.Code, ZH: "读卡失败，请重新刷卡", EN: "The card could not be read. Please try again."}
			}
			s.enter(Notice, now)
		}
		// Elsewhere a failed read must not disturb the person being served.
	case Touch:
		s.touched = now
	case Continue:
		s.touched = now
		if s.state == Greeting {
			s.enter(ChooseService, now)
		}
	case ServiceChosen:
		s.touched = now
		if (s.state == Greeting || s.state == ChooseService) && s.offers(ev.Service) && (s.visit.token != "" || s.visit.typed != "") {
			s.visit.Service, s.visit.Detail = ev.Service, ""
			info, _ := ev.Service.Info()
			if ev.Detail != "" && ev.Service.ValidDetail(ev.Detail) {
				s.visit.Detail = ev.Detail
				return s.submit(now)
			}
			if len(info.Options) > 0 {
				s.enter(ChooseDetail, now)
				return nil
			}
			return s.submit(now)
		}
	case Retry:
		s.touched = now
		if s.state == Failed && s.visit.CanRetry {
			return s.submit(now)
		}
	case CheckInDone:
		if s.state != Submitting || ev.Attempt != s.attempt || s.visit.Rating != 0 {
			return nil
		}
		r := ev.Response
		if svc, err := vetnet.ParseService(r.Service); err == nil {
			s.visit.Service = svc
		}
		if r.MaskedName != "" {
			s.visit.Name = vetnet.MaskName(r.MaskedName)
		}
		s.visit.QueueNo, s.visit.Waiting, s.visit.Ahead, s.visit.Printed = r.QueueNo, r.Waiting, r.Ahead, r.Printed
		s.visit.WaitFor = time.Duration(r.ExpectedWaitS) * time.Second
		if r.Detail != "" {
			s.visit.Detail = r.Detail
		}
		s.visit.checkInID = r.ID
		if s.visit.typed != "" {
			s.renewStaff(now)
		}
		s.visit.token, s.visit.typed = "", "" // single use: it is spent
		s.enter(Confirmed, now)
	case CheckInFailed:
		if s.state != Submitting || ev.Attempt != s.attempt || s.visit.Rating != 0 {
			return nil
		}
		s.fail(Message{
			Code: vetnet.ErrorCode(ev.Err),
			ZH:   vetnet.ErrorMessage(ev.Err, "zh"),
			EN:   vetnet.ErrorMessage(ev.Err, "en"),
		}, now)
	case Cancel:
		switch s.state {
		case Greeting, ChooseService, ChooseDetail, Failed, Notice, Confirmed, RateReason, Thanks:
			s.endVisit(now)
		}
	case Done:
		switch s.state {
		case Confirmed, Notice, Thanks:
			s.endVisit(now)
		}
	case Tick:
		s.tick(now)
	}
	return nil
}

func (s *Session) submit(now time.Time) *Submission {
	s.attempt++
	s.visit.Error, s.visit.CanRetry = Message{}, false
	s.enter(Submitting, now)
	req := localapi.CheckInRequest{Token: s.visit.token, Service: string(s.visit.Service), Detail: s.visit.Detail}
	if s.visit.typed != "" {
		req = localapi.CheckInRequest{IDNumber: s.visit.typed, Service: string(s.visit.Service), Detail: s.visit.Detail, StaffSession: s.staff.session}
	}
	return &Submission{Attempt: s.attempt, Request: req, Deadline: now.Add(s.submitTimeout())}
}

func (s *Session) fail(m Message, now time.Time) {
	s.visit.Error = m
	// An expired or spent token, or a card the agent refuses, will not get
	// better by posting again; the person taps the card again instead.
	switch m.Code {
	case vetnet.EEXPIRED, vetnet.EINVALID, vetnet.ENOTFOUND, vetnet.ECONFLICT:
		s.visit.CanRetry = false
	default:
		s.visit.CanRetry = s.visit.token != "" || s.visit.typed != ""
	}
	s.enter(Failed, now)
}

func (s *Session) tick(now time.Time) {
	if s.staffExpired(now) {
		return
	}
	switch s.state {
	case Greeting, ChooseService, ChooseDetail:
		if !s.visit.expires.IsZero() && !now.Before(s.visit.expires) {
			s.wipeVisit()
			s.notice = MsgTokenExpired
			s.enter(Notice, now)
			return
		}
		if !now.Before(s.touched.Add(s.inactive())) {
			s.endVisit(now)
			return
		}
		if s.state == Greeting && !now.Before(s.since.Add(s.greetingFor())) {
			s.since = now // the menu's own clock; touched is kept
			s.state = ChooseService
		}
	case Failed, RateReason:
		if !now.Before(s.touched.Add(s.inactive())) {
			s.endVisit(now)
		}
	case Thanks:
		if !now.Before(s.since.Add(s.thanksFor())) {
			s.endVisit(now)
		}
	case StaffLogin, StaffMenu, ManualEntry, StaffVisitors, StaffQueue, StaffTransfer:
		if !now.Before(s.touched.Add(s.inactive())) {
			s.toIdle(now)
		}
	case Submitting:
		if !now.Before(s.since.Add(s.submitTimeout())) {
			if s.visit.Rating != 0 {
				s.ratingFailed(now)
				return
			}
			s.fail(MsgNoAnswer, now)
		}
	case Confirmed:
		if !now.Before(s.since.Add(s.confirmedFor())) {
			s.endVisit(now)
		}
	case Notice:
		if !now.Before(s.since.Add(s.noticeFor())) {
			s.endVisit(now)
		}
	}
}

func (s *Session) enter(st State, now time.Time) {
	s.state, s.since, s.touched = st, now, now
}

// toIdle ends a visit and any staff sign-in: the person's data and the
// staff session go, and the screen is Idle, or OutOfService while the
// agent is away.
func (s *Session) toIdle(now time.Time) {
	s.wipe()
	if s.connected {
		s.enter(Idle, now)
	} else {
		s.enter(OutOfService, now)
	}
}

// endVisit ends a visit: back to the staff menu while a staff member is
// signed in (the visitor's data goes all the same), else to idle.
func (s *Session) endVisit(now time.Time) {
	if s.staff.session != "" && s.connected {
		s.wipeVisit()
		s.enter(StaffMenu, now)
		return
	}
	s.toIdle(now)
}

// wipe forgets the person, any notice and the staff member.
func (s *Session) wipe() {
	s.wipeVisit()
	s.staff = staffMode{}
}

// wipeVisit forgets the person and any notice.
func (s *Session) wipeVisit() {
	s.visit = visit{}
	s.notice = Message{}
}

// View returns what the current screen shows.
func (s *Session) View() View {
	v := View{
		State:      s.state,
		Station:    s.status.Station,
		Services:   OfferedServices(s.status.Station),
		Connected:  s.connected,
		Ever:       s.ever,
		Online:     s.status.Online,
		Backlog:    s.status.Outbox.Depth,
		Oldest:     s.status.Outbox.OldestAt,
		Readers:    s.status.Readers,
		StorageLow: s.status.Storage.Low,
		SimReader:  HasSimReader(s.status),
		Visit:      s.visit.Visit,
		Notice:     s.notice,
		HasStaff:   s.status.Staff,
		Staff:      s.staffView(),
		Printer:    HasPrinter(s.status),
	}
	if s.staff.session != "" {
		v.Queue = s.queue // the queue names people (masked): staff screens only
	}
	v.Visit.Reasons = append([]vetnet.Reason(nil), s.visit.Reasons...)
	switch s.state {
	case Greeting:
		v.Deadline = minTime(s.since.Add(s.greetingFor()), s.touched.Add(s.inactive()))
	case ChooseService, ChooseDetail, Failed, RateReason, StaffLogin, StaffMenu, ManualEntry, StaffVisitors, StaffQueue, StaffTransfer:
		v.Deadline = s.touched.Add(s.inactive())
	case Thanks:
		v.Deadline = s.since.Add(s.thanksFor())
	case Submitting:
		v.Deadline = s.since.Add(s.submitTimeout())
	case Confirmed:
		v.Deadline = s.since.Add(s.confirmedFor())
	case Notice:
		v.Deadline = s.since.Add(s.noticeFor())
	}
	if (s.state == Greeting || s.state == ChooseService || s.state == ChooseDetail) && !s.visit.expires.IsZero() {
		v.Deadline = minTime(v.Deadline, s.visit.expires)
	}
	return v
}

func (s *Session) offers(svc vetnet.Service) bool {
	for _, o := range OfferedServices(s.status.Station) {
		if o == svc {
			return true
		}
	}
	return false
}

// OfferedServices returns the known services a station offers, in the
// station's order; an empty list means the defaults of its level, as for
// vetnet.Station.
func OfferedServices(st localapi.StationInfo) []vetnet.Service {
	var out []vetnet.Service
	for _, k := range st.Services {
		if svc, err := vetnet.ParseService(k); err == nil {
			out = append(out, svc)
		}
	}
	if len(st.Services) == 0 {
		out = vetnet.DefaultServices(vetnet.Level(st.Level))
	}
	return out
}

// ReaderKindPrinter is the Kind of the agent's ticket printer among its
// devices (Status.Readers).
const ReaderKindPrinter = "printer"

// HasPrinter reports whether the station has a ticket printer.
func HasPrinter(st localapi.Status) bool {
	for _, r := range st.Readers {
		if r.Kind == ReaderKindPrinter {
			return true
		}
	}
	return false
}

// ReaderKindSimulated is the Kind of the agent's simulated reader.
const ReaderKindSimulated = "simulated"

// HasSimReader reports whether the agent can simulate a card (a simulated
// reader, or a SAM emulator), which makes the demo button appear.
func HasSimReader(st localapi.Status) bool {
	if st.SimTap {
		return true
	}
	for _, r := range st.Readers {
		if r.Kind == ReaderKindSimulated {
			return true
		}
	}
	return false
}

func (s *Session) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Session) greetingFor() time.Duration   { return or(s.GreetingFor, DefaultGreetingFor) }
func (s *Session) inactive() time.Duration      { return or(s.Inactive, DefaultInactive) }
func (s *Session) confirmedFor() time.Duration  { return or(s.ConfirmedFor, DefaultConfirmedFor) }
func (s *Session) noticeFor() time.Duration     { return or(s.NoticeFor, DefaultNoticeFor) }
func (s *Session) submitTimeout() time.Duration { return or(s.SubmitTimeout, DefaultSubmitTimeout) }
func (s *Session) thanksFor() time.Duration     { return or(s.ThanksFor, DefaultThanksFor) }

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
