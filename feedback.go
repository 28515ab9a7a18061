package vetnet

import (
	"strings"
	"time"
)

// Feedback is a visitor's satisfaction rating (好差评) of one visit, given at
// the kiosk when the visit ends. It names the check-in it rates but not the
// person: ratings are reported by station and service, and a bad one opens
// a follow-up (rectified within 15 working days, with a call back) through
// the check-in it belongs to.
type Feedback struct {
	ID         string    // made at the station, like a check-in ID
	StationID  string    // the station rated
	CheckInID  string    // the visit rated
	Service    Service   // the service of that visit
	Rating     Rating    // 1 (very dissatisfied) to 5 (very satisfied)
	Reasons    []Reason  // why, for a bad rating (optional; at most one of each)
	Comment    string    // optional free text, at most MaxCommentLen characters
	At         time.Time // station clock
	ReceivedAt time.Time // hub clock; zero at the station
}

// MaxCommentLen bounds a feedback comment in characters.
const MaxCommentLen = 200

// Reason is why a visitor was not satisfied.
type Reason string

const (
	ReasonWaiting     Reason = "waiting"     // waited too long
	ReasonAttitude    Reason = "attitude"    // staff attitude
	ReasonUnresolved  Reason = "unresolved"  // the matter was not settled
	ReasonProcess     Reason = "process"     // too many steps or documents
	ReasonEnvironment Reason = "environment" // the hall: seats, signs, accessibility
	ReasonOther       Reason = "other"
)

// Reasons lists the reasons in the order the kiosk offers them.
var Reasons = []Reason{ReasonWaiting, ReasonAttitude, ReasonUnresolved, ReasonProcess, ReasonEnvironment, ReasonOther}

var reasonNames = map[Reason][2]string{
	ReasonWaiting:     {"等候时间长", "Waited too long"},
	ReasonAttitude:    {"服务态度", "Staff attitude"},
	ReasonUnresolved:  {"问题未解决", "Matter not resolved"},
	ReasonProcess:     {"手续繁琐", "Too many steps"},
	ReasonEnvironment: {"环境设施", "Hall and facilities"},
	ReasonOther:       {"其他", "Other"},
}

// Valid reports whether r is a known reason.
func (r Reason) Valid() bool { _, ok := reasonNames[r]; return ok }

// Label returns the reason in lang ("zh" or "en").
func (r Reason) Label(lang string) string {
	n, ok := reasonNames[r]
	if !ok {
		return string(r)
	}
	if lang == "zh" {
		return n[0]
	}
	return n[1]
}

// Validate checks a feedback as the hub receives it.
func (f *Feedback) Validate() error {
	if err := ValidateCheckInID(f.ID); err != nil {
		return Errorz(EINVALID, "评价编号格式无效", "The feedback ID is malformed.")
	}
	if err := ValidateStationID(f.StationID); err != nil {
		return err
	}
	if err := ValidateCheckInID(f.CheckInID); err != nil {
		return Errorz(EINVALID, "被评价的签到编号无效", "The rated check-in ID is malformed.")
	}
	if !f.Service.Valid() {
		return Errorz(EINVALID, "未知的服务项目", "Unknown service.")
	}
	if !f.Rating.Valid() {
		return Errorz(EINVALID, "评价等级应为1到5", "A rating is from 1 to 5.")
	}
	seen := map[Reason]bool{}
	for _, r := range f.Reasons {
		if !r.Valid() || seen[r] {
			return Errorz(EINVALID, "评价原因无效或重复", "A reason is unknown or repeated.")
		}
		seen[r] = true
	}
	if len([]rune(f.Comment)) > MaxCommentLen || strings.ContainsAny(f.Comment, "\x00") {
		return Errorz(EINVALID, "评价留言过长", "The comment is too long.")
	}
	if f.At.IsZero() {
		return Errorz(EINVALID, "评价时间缺失", "A rating needs its time.")
	}
	return nil
}
