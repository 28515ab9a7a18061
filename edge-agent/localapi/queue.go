package localapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// The hall: the queue of the day, staff on duty, today's visitors and the
// ticket printer. Calls that change the queue or read visitors need a staff
// session (StaffSession.Session); the queue's overview (for the hall's
// "now serving" screen) does not, and shows masked names only.
const (
	PathQueue         = "/v1/queue"          // GET: QueueStatus
	PathQueueCall     = "/v1/queue/call"     // POST: CallRequest → Ticket (the one called)
	PathQueueServed   = "/v1/queue/served"   // POST: TicketAction → Ticket
	PathQueueNoShow   = "/v1/queue/no-show"  // POST: TicketAction → Ticket
	PathQueueRecall   = "/v1/queue/recall"   // POST: TicketAction → Ticket (call the same ticket again)
	PathQueueTransfer = "/v1/queue/transfer" // POST: TransferRequest → Ticket (the new ticket)
	PathVisitors      = "/v1/visitors"       // GET ?q=&staff_session=: VisitorList (today's)
	PathDuty          = "/v1/duty"           // GET: DutyStatus; POST DutyRequest → DutyStatus
	PathPrint         = "/v1/print"          // POST: PrintRequest → 204 (print the ticket again)
)

// EventQueue is sent on the event stream whenever the queue changes; data:
// QueueStatus. The hall's "now serving" screen follows it.
const EventQueue = "queue"

// Ticket states.
const (
	TicketWaiting     = "waiting"
	TicketCalled      = "called"
	TicketServed      = "served"
	TicketNoShow      = "no_show"
	TicketTransferred = "transferred" // moved to another service's queue (a new ticket)
)

// Ticket is one visitor's place in a service's queue today.
type Ticket struct {
	CheckInID  string     `json:"checkin_id"`
	QueueNo    string     `json:"queue_no"` // e.g. B007
	Service    string     `json:"service"`
	Detail     string     `json:"detail,omitempty"` // the sub-choice, e.g. application
	State      string     `json:"state"`            // waiting, called, served, no_show, transferred
	MaskedName string     `json:"masked_name"`
	At         time.Time  `json:"at"` // checked in
	CalledAt   *time.Time `json:"called_at,omitempty"`
	DoneAt     *time.Time `json:"done_at,omitempty"` // served, no-show or transferred
	Counter    string     `json:"counter,omitempty"` // the desk that called it, e.g. "2号窗口"
	StaffID    string     `json:"staff_id,omitempty"`
	Calls      int        `json:"calls"` // how many times it was called
}

// QueueService is the queue of one service today.
type QueueService struct {
	Service     string   `json:"service"`
	Waiting     []Ticket `json:"waiting"` // in order
	Called      []Ticket `json:"called"`  // being served now
	ServedToday int      `json:"served_today"`
	AvgServiceS int      `json:"avg_service_s"` // mean time from call to served today (0 when unknown)
	AvgWaitS    int      `json:"avg_wait_s"`    // mean time from check-in to call today (0 when unknown)
}

// QueueStatus is the whole queue of the day.
type QueueStatus struct {
	Day        string         `json:"day"` // YYYY-MM-DD, the station's local day
	Services   []QueueService `json:"services"`
	NowServing []Ticket       `json:"now_serving"` // the latest calls, newest first (at most 6), for the hall screen
}

// CallRequest calls the next waiting ticket of Service to Counter.
type CallRequest struct {
	StaffSession string `json:"staff_session"`
	Service      string `json:"service"`
	Counter      string `json:"counter,omitempty"`
}

// TicketAction marks one ticket.
type TicketAction struct {
	StaffSession string `json:"staff_session"`
	CheckInID    string `json:"checkin_id"`
}

// TransferRequest moves a ticket to another service's queue: the visitor
// gets a new number there, ahead of nobody.
type TransferRequest struct {
	StaffSession string `json:"staff_session"`
	CheckInID    string `json:"checkin_id"`
	Service      string `json:"service"`
}

// VisitorEntry is a visit of today as staff see it: names and ID numbers
// masked even here; staff find people by the name they ask for.
type VisitorEntry struct {
	CheckInID  string    `json:"checkin_id"`
	Seq        uint64    `json:"seq"`
	At         time.Time `json:"at"`
	MaskedName string    `json:"masked_name"`
	MaskedID   string    `json:"masked_id"`
	Service    string    `json:"service"`
	Detail     string    `json:"detail,omitempty"`
	QueueNo    string    `json:"queue_no"`
	State      string    `json:"state"`  // the ticket's state
	Method     string    `json:"method"` // card, manual, qr
	Rated      bool      `json:"rated"`
}

// VisitorList is today's visitors matching a search, newest first.
type VisitorList struct {
	Visitors []VisitorEntry `json:"visitors"`
}

// DutyRequest signs the staff member of the session on or off duty.
type DutyRequest struct {
	StaffSession string `json:"staff_session"`
	On           bool   `json:"on"`
}

// OnDuty is a staff member on duty now.
type OnDuty struct {
	Staff StaffMember `json:"staff"`
	Since time.Time   `json:"since"`
}

// DutyStatus is who is on duty at the station.
type DutyStatus struct {
	OnDuty []OnDuty `json:"on_duty"`
}

// PrintRequest prints a visit's ticket again.
type PrintRequest struct {
	StaffSession string `json:"staff_session,omitempty"`
	CheckInID    string `json:"checkin_id"`
}

// Queue returns the queue of the day.
func (c *Client) Queue(ctx context.Context) (QueueStatus, error) {
	var q QueueStatus
	err := c.do(ctx, http.MethodGet, PathQueue, nil, &q)
	return q, err
}

// Call calls the next waiting ticket. Errors: ENOTFOUND (nobody waits),
// EEXPIRED (the staff session ended), EINVALID, EUNAVAILABLE.
func (c *Client) Call(ctx context.Context, req CallRequest) (Ticket, error) {
	var t Ticket
	err := c.do(ctx, http.MethodPost, PathQueueCall, req, &t)
	return t, err
}

// Served marks a called ticket served. Errors: ENOTFOUND, ECONFLICT (not
// called), EEXPIRED, EUNAVAILABLE.
func (c *Client) Served(ctx context.Context, req TicketAction) (Ticket, error) {
	var t Ticket
	err := c.do(ctx, http.MethodPost, PathQueueServed, req, &t)
	return t, err
}

// NoShow marks a called ticket as not answered. Errors as Served.
func (c *Client) NoShow(ctx context.Context, req TicketAction) (Ticket, error) {
	var t Ticket
	err := c.do(ctx, http.MethodPost, PathQueueNoShow, req, &t)
	return t, err
}

// Recall calls a called ticket again. Errors as Served.
func (c *Client) Recall(ctx context.Context, req TicketAction) (Ticket, error) {
	var t Ticket
	err := c.do(ctx, http.MethodPost, PathQueueRecall, req, &t)
	return t, err
}

// Transfer moves a ticket to another service and returns the new ticket.
// Errors: ENOTFOUND, ECONFLICT (already done), EINVALID (service not
// offered), EEXPIRED, EUNAVAILABLE.
func (c *Client) Transfer(ctx context.Context, req TransferRequest) (Ticket, error) {
	var t Ticket
	err := c.do(ctx, http.MethodPost, PathQueueTransfer, req, &t)
	return t, err
}

// Visitors searches today's visitors by name (q may be empty: all).
// Errors: EEXPIRED (staff session), EUNAVAILABLE.
func (c *Client) Visitors(ctx context.Context, staffSession, q string) (VisitorList, error) {
	var v VisitorList
	err := c.do(ctx, http.MethodGet, PathVisitors+"?"+url.Values{"staff_session": {staffSession}, "q": {q}}.Encode(), nil, &v)
	return v, err
}

// Duty returns who is on duty.
func (c *Client) Duty(ctx context.Context) (DutyStatus, error) {
	var d DutyStatus
	err := c.do(ctx, http.MethodGet, PathDuty, nil, &d)
	return d, err
}

// SetDuty signs the session's staff member on or off duty. Errors:
// EEXPIRED, EUNAVAILABLE.
func (c *Client) SetDuty(ctx context.Context, req DutyRequest) (DutyStatus, error) {
	var d DutyStatus
	err := c.do(ctx, http.MethodPost, PathDuty, req, &d)
	return d, err
}

// Print prints a visit's ticket again. Errors: ENOTFOUND (no such visit, or
// no printer), EUNAVAILABLE (printer fault).
func (c *Client) Print(ctx context.Context, req PrintRequest) error {
	return c.do(ctx, http.MethodPost, PathPrint, req, nil)
}

// QueueStatus decodes the data of an EventQueue.
func (e Event) QueueStatus() (QueueStatus, error) {
	var v QueueStatus
	err := json.Unmarshal(e.Data, &v)
	return v, err
}
