// Package localapi is the edge agent's API for the kiosk on the same
// device: loopback HTTP with JSON bodies and a server-sent-events stream of
// reader events. It is documented in docs/protocol.md ("Local API").
//
// The kiosk owns no hardware and no storage. A card read becomes a CardEvent
// carrying only masked data and a short-lived token; the full identity stays
// in the agent, and the kiosk checks the visitor in by presenting the token
// with the chosen service. The agent answers only after the check-in is
// committed to its bbolt file, so a success the kiosk shows is durable.
package localapi

import "time"

// DefaultAddr is where the agent listens unless configured otherwise.
const DefaultAddr = "127.0.0.1:7474"

// Paths of the API.
const (
	PathHealth   = "/healthz"
	PathStatus   = "/v1/status"
	PathEvents   = "/v1/events"   // GET: text/event-stream
	PathCheckIns = "/v1/checkins" // POST: CheckInRequest → CheckInResponse
	PathSimTap   = "/v1/sim/tap"  // POST: SimTapRequest; only with a simulated or emulated reader
	// PathStaff lists the station's staff who can sign in (GET: StaffList).
	PathStaff = "/v1/staff"
	// PathStaffLogin signs a staff member in by PIN (POST:
	// StaffLoginRequest → StaffSession).
	PathStaffLogin = "/v1/staff/login"
	// PathStaffLogout ends a staff session (POST: StaffLogoutRequest → 204).
	PathStaffLogout = "/v1/staff/logout"
	PathFeedback    = "/v1/feedback" // POST: FeedbackRequest → FeedbackResponse
)

// Event types on the stream (the SSE "event:" field).
const (
	EventCard      = "card"       // data: CardEvent
	EventCardError = "card_error" // data: CardErrorEvent
	EventStatus    = "status"     // data: Status, sent on connect and on every change
	EventStaff     = "staff"      // data: StaffSession, when a staff badge of the roster is read
)

// StationInfo is what the kiosk shows of its station.
type StationInfo struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	NameEN   string   `json:"name_en"`
	Level    string   `json:"level"`
	Services []string `json:"services"` // service keys offered, in menu order
}

// Reader is the health of one reader.
type Reader struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	State  string `json:"state"` // ok, fault, absent
	Detail string `json:"detail,omitempty"`
}

// Outbox is the station's backlog of check-ins not yet acknowledged.
type Outbox struct {
	Depth    int        `json:"depth"`
	OldestAt *time.Time `json:"oldest_at"`
	LastSeq  uint64     `json:"last_seq"`
	Rejected int        `json:"rejected"`
}

// Storage is the station's disk. When Low, check-ins are refused (EFULL)
// until space is freed; nothing stored is dropped.
type Storage struct {
	FreeBytes uint64 `json:"free_bytes"` // 0 when unknown
	Low       bool   `json:"low"`
}

// Status is the state of the agent.
type Status struct {
	Station       StationInfo `json:"station"`
	ConfigVersion string      `json:"config_version"`
	Online        bool        `json:"online"` // connected to the broker
	Outbox        Outbox      `json:"outbox"`
	Readers       []Reader    `json:"readers"`
	Storage       Storage     `json:"storage"`
	Agent         string      `json:"agent"` // version
	Now           time.Time   `json:"now"`   // the agent's clock
	// SimTap says that PathSimTap works: the agent has a simulated
	// reader or a SAM emulator (the demo's "模拟刷卡" button).
	SimTap bool `json:"sim_tap"`
	// Staff says that the station has a staff roster: a typed ID number
	// then needs a staff session.
	Staff bool `json:"staff"`
}

// CardEvent says a card was read. It holds nothing that identifies the
// person on its own: the name and the ID number are masked.
type CardEvent struct {
	Token      string     `json:"token"`       // present it in CheckInRequest; checks one visit in (a repeat with the same service gets the same answer)
	ExpiresAt  time.Time  `json:"expires_at"`  // after this the token is refused (410)
	MaskedName string     `json:"masked_name"` // e.g. 张*国
	MaskedID   string     `json:"masked_id"`   // e.g. 320411********123X
	Doc        string     `json:"doc"`         // resident, hmt, foreign
	Reader     string     `json:"reader"`      // which reader read it
	Returning  bool       `json:"returning"`   // visited this station before
	LastVisit  *time.Time `json:"last_visit,omitempty"`
}

// CardErrorEvent says a card could not be read; the messages are for people.
type CardErrorEvent struct {
	Reader    string `json:"reader"`
	Code      string `json:"code"`
	MessageZH string `json:"message_zh"`
	MessageEN string `json:"message_en"`
}

// CheckInRequest checks a visitor in. Either Token (from a CardEvent) or,
// for staff-assisted check-in, IDNumber (validated as the card's is) with an
// optional Name and the StaffSession of the staff member typing it (required
// when the station has a staff roster; the check-in records who it was).
type CheckInRequest struct {
	Token        string `json:"token,omitempty"`
	IDNumber     string `json:"id_number,omitempty"`
	Name         string `json:"name,omitempty"`
	Service      string `json:"service"`
	StaffSession string `json:"staff_session,omitempty"`
	// Detail is the service's sub-choice (vetnet.ServiceInfo.Options),
	// e.g. "application" for benefits; empty when the service has none.
	Detail string `json:"detail,omitempty"`
	// Meeting makes the check-in the holder's answer to a meeting's
	// roll-call (service training, which the menu need not offer).
	Meeting string `json:"meeting,omitempty"`
}

// CheckInResponse is returned once the check-in is committed at the station.
type CheckInResponse struct {
	ID         string    `json:"id"`
	Seq        uint64    `json:"seq"`
	QueueNo    string    `json:"queue_no"`
	Service    string    `json:"service"`
	At         time.Time `json:"at"`
	MaskedName string    `json:"masked_name"`
	Waiting    int       `json:"waiting"` // check-ins for the same service today before this one
	// Ahead is how many of this service's tickets are still waiting to be
	// called ahead of this one (Waiting counts every ticket of the day).
	Ahead int `json:"ahead"`
	// ExpectedWaitS is the expected wait in seconds, from today's pace of
	// the service (0 when nobody is ahead or the pace is not known yet).
	ExpectedWaitS int    `json:"expected_wait_s"`
	Detail        string `json:"detail,omitempty"`
	Printed       bool   `json:"printed"` // a ticket came out of the printer
	// Meeting is the meeting whose roll-call the check-in answered.
	Meeting string `json:"meeting,omitempty"`
}

// StaffMember is a member of the station's staff as the kiosk shows them:
// never their PIN hash or badge.
type StaffMember struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Role   string `json:"role"`    // head, officer, grid
	HasPIN bool   `json:"has_pin"` // can sign in with a PIN (else by badge only)
}

// StaffList is the station's roster.
type StaffList struct {
	Staff []StaffMember `json:"staff"`
}

// StaffLoginRequest signs a staff member in with their PIN.
type StaffLoginRequest struct {
	StaffID string `json:"staff_id"`
	PIN     string `json:"pin"`
}

// StaffSession is a signed-in staff member. Session goes with the check-ins
// they type (CheckInRequest.StaffSession); it expires after a few minutes
// without use.
type StaffSession struct {
	Session   string      `json:"session"`
	ExpiresAt time.Time   `json:"expires_at"`
	Staff     StaffMember `json:"staff"`
	Via       string      `json:"via"` // badge or pin
}

// StaffLogoutRequest ends a staff session.
type StaffLogoutRequest struct {
	Session string `json:"session"`
}

// FeedbackRequest rates a visit checked in at this station (好差评): the
// ID of its check-in (CheckInResponse.ID), a rating from 1 (very
// dissatisfied) to 5 (very satisfied), and for a bad rating optionally the
// reasons (waiting, attitude, unresolved, process, environment, other) and
// a short comment. One rating per visit.
type FeedbackRequest struct {
	CheckInID string   `json:"checkin_id"`
	Rating    int      `json:"rating"`
	Reasons   []string `json:"reasons,omitempty"`
	Comment   string   `json:"comment,omitempty"`
}

// FeedbackResponse is returned once the rating is committed at the
// station; it reaches the hub like a check-in does.
type FeedbackResponse struct {
	ID string    `json:"id"`
	At time.Time `json:"at"`
}

// SimTapRequest makes the simulated reader read a card. Empty fields are
// filled with a synthetic veteran.
type SimTapRequest struct {
	IDNumber string `json:"id_number,omitempty"`
	Name     string `json:"name,omitempty"`
}

// ErrorBody is the body of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is an error for people in both languages.
type ErrorDetail struct {
	Code      string `json:"code"` // a vetnet error code
	Message   string `json:"message"`
	MessageZH string `json:"message_zh"`
}
