package vetnet

import (
	"strings"
	"time"
)

// VisitAction is what happened to a visitor's queue ticket at the station.
type VisitAction string

const (
	VisitCalled      VisitAction = "called"      // staff called the ticket to a counter
	VisitRecalled    VisitAction = "recalled"    // called again (the visitor did not come yet)
	VisitServed      VisitAction = "served"      // the visit was served
	VisitNoShow      VisitAction = "no_show"     // called, but the visitor did not come
	VisitTransferred VisitAction = "transferred" // moved to another service's queue with a new number
)

// VisitActions lists the actions in the order a ticket meets them.
var VisitActions = []VisitAction{VisitCalled, VisitRecalled, VisitServed, VisitNoShow, VisitTransferred}

var visitActionNames = map[VisitAction][2]string{
	VisitCalled:      {"叫号", "Called"},
	VisitRecalled:    {"重新叫号", "Called again"},
	VisitServed:      {"办结", "Served"},
	VisitNoShow:      {"过号", "No-show"},
	VisitTransferred: {"转办", "Transferred"},
}

// Valid reports whether a is a known action.
func (a VisitAction) Valid() bool { _, ok := visitActionNames[a]; return ok }

// Label names the action in lang ("zh" or "en").
func (a VisitAction) Label(lang string) string {
	n, ok := visitActionNames[a]
	if !ok {
		return string(a)
	}
	if lang == "zh" {
		return n[0]
	}
	return n[1]
}

// MaxCounterLen bounds a counter's (desk's) name in characters, e.g. "2号窗口".
const MaxCounterLen = 32

// ValidateCounter checks a counter name: empty, or at most MaxCounterLen
// characters without control characters.
func ValidateCounter(name string) error {
	if len([]rune(name)) > MaxCounterLen || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return Errorz(EINVALID, "窗口名称过长或含有非法字符", "The counter name is too long or has control characters.")
	}
	return nil
}

// VisitEvent is one step of a visit after its check-in: its ticket called,
// called again, served, not answered or transferred, by whom and at which
// counter. Like a rating it names the check-in, not the person. Stations
// make them as staff work the queue; the hub keeps them to show waiting
// and service times per station and service.
type VisitEvent struct {
	ID        string      // made at the station, like a check-in ID
	StationID string      // the station
	CheckInID string      // the visit
	Action    VisitAction // what happened
	Service   Service     // the ticket's service (before a transfer: the service left)
	QueueNo   string      // the ticket's number, e.g. B007
	Staff     string      // the staff member who acted; empty at a station without a roster
	Counter   string      // the counter (desk) that called; may be empty
	// ToService and ToQueueNo are the new service and number of a
	// transfer; empty for other actions.
	ToService  Service
	ToQueueNo  string
	At         time.Time // station clock
	ReceivedAt time.Time // hub clock; zero at the station
}

// Validate checks a visit event as the hub receives it.
func (e *VisitEvent) Validate() error {
	if err := ValidateCheckInID(e.ID); err != nil {
		return Errorz(EINVALID, "办理记录编号格式无效", "The visit event ID is malformed.")
	}
	if err := ValidateStationID(e.StationID); err != nil {
		return err
	}
	if err := ValidateCheckInID(e.CheckInID); err != nil {
		return Errorz(EINVALID, "办理记录的签到编号无效", "The visit event's check-in ID is malformed.")
	}
	if !e.Action.Valid() {
		return Errorz(EINVALID, "未知的办理动作", "Unknown visit action.")
	}
	if !e.Service.Valid() {
		return Errorz(EINVALID, "未知的服务项目", "Unknown service.")
	}
	if e.QueueNo == "" || len(e.QueueNo) > 16 {
		return Errorz(EINVALID, "排队号缺失或过长", "The queue number is missing or too long.")
	}
	if e.Staff != "" {
		if err := ValidateStaffID(e.Staff); err != nil {
			return err
		}
	}
	if err := ValidateCounter(e.Counter); err != nil {
		return err
	}
	if e.Action == VisitTransferred {
		if !e.ToService.Valid() || e.ToService == e.Service {
			return Errorz(EINVALID, "转办需要另一个服务项目", "A transfer needs another service.")
		}
		if e.ToQueueNo == "" || len(e.ToQueueNo) > 16 {
			return Errorz(EINVALID, "转办后的排队号缺失或过长", "A transfer needs the new queue number.")
		}
	} else if e.ToService != "" || e.ToQueueNo != "" {
		return Errorz(EINVALID, "只有转办才有目标服务", "Only a transfer has a target service.")
	}
	if e.At.IsZero() {
		return Errorz(EINVALID, "办理时间缺失", "A visit event needs its time.")
	}
	return nil
}

// DutyEvent is a staff member signing on or off duty at a station.
type DutyEvent struct {
	ID         string // made at the station, like a check-in ID
	StationID  string
	Staff      string    // the staff member's ID
	On         bool      // true: on duty from At; false: off duty from At
	At         time.Time // station clock
	ReceivedAt time.Time // hub clock; zero at the station
}

// Validate checks a duty event as the hub receives it.
func (d *DutyEvent) Validate() error {
	if err := ValidateCheckInID(d.ID); err != nil {
		return Errorz(EINVALID, "值班记录编号格式无效", "The duty event ID is malformed.")
	}
	if err := ValidateStationID(d.StationID); err != nil {
		return err
	}
	if err := ValidateStaffID(d.Staff); err != nil {
		return err
	}
	if d.At.IsZero() {
		return Errorz(EINVALID, "值班时间缺失", "A duty event needs its time.")
	}
	return nil
}
