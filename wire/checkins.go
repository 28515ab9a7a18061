package wire

import (
	"encoding/json"
	"time"

	"github.com/vetnet/vetnet"
)

// CheckInBatch is the payload of vs/v1/st/{station}/checkins: check-ins of
// one station in ascending sequence order, and other records of the
// station (ratings, ...) that travel the same way: durable at the station,
// cleared only by the hub's Ack. A station resends a batch (the same or
// regrouped) until the hub's Ack names what it holds.
type CheckInBatch struct {
	V        int         `json:"v"`
	Station  string      `json:"station"`
	Batch    string      `json:"batch"`   // the sender's label for this message, echoed in the Ack
	SentAt   time.Time   `json:"sent_at"` // station clock
	CheckIns []CheckInV1 `json:"checkins"`
	Records  []RecordV1  `json:"records,omitempty"`
}

// Record kinds.
const (
	RecordFeedback = "feedback" // a visitor's rating of a visit
	RecordVisit    = "visit"    // a step of a visit's queue ticket: called, recalled, served, no_show, transferred
	RecordDuty     = "duty"     // a staff member signed on or off duty
	RecordRollCall = "rollcall" // a staff member present for a meeting's roll-call
)

// RecordV1 is a record other than a check-in. Kind says which of the
// kind-specific fields is set; exactly that one is.
type RecordV1 struct {
	ID       string      `json:"id"`   // ULID made at the station; unique among all its records and check-ins
	Kind     string      `json:"kind"` // feedback, visit, duty or rollcall
	At       time.Time   `json:"at"`   // station clock
	Feedback *FeedbackV1 `json:"feedback,omitempty"`
	Visit    *VisitV1    `json:"visit,omitempty"`
	Duty     *DutyV1     `json:"duty,omitempty"`
	RollCall *RollCallV1 `json:"rollcall,omitempty"`
}

// VisitV1 is a step of a visit after its check-in: its queue ticket
// called, called again, served, not answered or moved to another service.
type VisitV1 struct {
	CheckInID string `json:"checkin_id"`
	Action    string `json:"action"`            // called, recalled, served, no_show, transferred
	Service   string `json:"service"`           // the ticket's service
	QueueNo   string `json:"queue_no"`          // the ticket's number
	Staff     string `json:"staff,omitempty"`   // who acted; absent at a station without a roster
	Counter   string `json:"counter,omitempty"` // the counter that called, e.g. "2号窗口"
	// ToService and ToQueueNo are the new service and number of a
	// transfer; absent for other actions.
	ToService string `json:"to_service,omitempty"`
	ToQueueNo string `json:"to_queue_no,omitempty"`
}

// DutyV1 is a staff member signing on or off duty.
type DutyV1 struct {
	Staff string `json:"staff"`
	State string `json:"state"` // on or off
}

// Duty states.
const (
	DutyOn  = "on"
	DutyOff = "off"
)

// VisitToWire converts a domain visit event.
func VisitToWire(e vetnet.VisitEvent) RecordV1 {
	return RecordV1{ID: e.ID, Kind: RecordVisit, At: e.At.UTC(), Visit: &VisitV1{CheckInID: e.CheckInID, Action: string(e.Action),
		Service: string(e.Service), QueueNo: e.QueueNo, Staff: e.Staff, Counter: e.Counter,
		ToService: string(e.ToService), ToQueueNo: e.ToQueueNo}}
}

// VisitOf converts a visit record of station; ok is false for other kinds.
func (r RecordV1) VisitOf(station string) (vetnet.VisitEvent, bool) {
	if r.Kind != RecordVisit || r.Visit == nil {
		return vetnet.VisitEvent{}, false
	}
	v := r.Visit
	return vetnet.VisitEvent{ID: r.ID, StationID: station, CheckInID: v.CheckInID, Action: vetnet.VisitAction(v.Action),
		Service: vetnet.Service(v.Service), QueueNo: v.QueueNo, Staff: v.Staff, Counter: v.Counter,
		ToService: vetnet.Service(v.ToService), ToQueueNo: v.ToQueueNo, At: r.At}, true
}

// DutyToWire converts a domain duty event.
func DutyToWire(d vetnet.DutyEvent) RecordV1 {
	state := DutyOff
	if d.On {
		state = DutyOn
	}
	return RecordV1{ID: d.ID, Kind: RecordDuty, At: d.At.UTC(), Duty: &DutyV1{Staff: d.Staff, State: state}}
}

// DutyOf converts a duty record of station; ok is false for other kinds.
func (r RecordV1) DutyOf(station string) (vetnet.DutyEvent, bool) {
	if r.Kind != RecordDuty || r.Duty == nil {
		return vetnet.DutyEvent{}, false
	}
	return vetnet.DutyEvent{ID: r.ID, StationID: station, Staff: r.Duty.Staff, On: r.Duty.State == DutyOn, At: r.At}, true
}

// FeedbackV1 is a rating (好差评) of one visit.
type FeedbackV1 struct {
	CheckInID string   `json:"checkin_id"`
	Service   string   `json:"service"`
	Rating    int      `json:"rating"`            // 1 very dissatisfied … 5 very satisfied
	Reasons   []string `json:"reasons,omitempty"` // waiting, attitude, unresolved, process, environment, other
	Comment   string   `json:"comment,omitempty"`
}

// FeedbackToWire converts a domain feedback.
func FeedbackToWire(f vetnet.Feedback) RecordV1 {
	fw := &FeedbackV1{CheckInID: f.CheckInID, Service: string(f.Service), Rating: int(f.Rating), Comment: f.Comment}
	for _, r := range f.Reasons {
		fw.Reasons = append(fw.Reasons, string(r))
	}
	return RecordV1{ID: f.ID, Kind: RecordFeedback, At: f.At.UTC(), Feedback: fw}
}

// FeedbackOf converts a feedback record of station; ok is false for other
// kinds.
func (r RecordV1) FeedbackOf(station string) (vetnet.Feedback, bool) {
	if r.Kind != RecordFeedback || r.Feedback == nil {
		return vetnet.Feedback{}, false
	}
	f := vetnet.Feedback{ID: r.ID, StationID: station, CheckInID: r.Feedback.CheckInID, Service: vetnet.Service(r.Feedback.Service),
		Rating: vetnet.Rating(r.Feedback.Rating), Comment: r.Feedback.Comment, At: r.At}
	for _, x := range r.Feedback.Reasons {
		f.Reasons = append(f.Reasons, vetnet.Reason(x))
	}
	return f, true
}

// CheckInV1 is one check-in on the wire.
type CheckInV1 struct {
	ID      string    `json:"id"`       // ULID made at the station
	Seq     uint64    `json:"seq"`      // the station's sequence number, from 1
	At      time.Time `json:"at"`       // station clock
	Service string    `json:"service"`  // a service key
	Method  string    `json:"method"`   // card, manual or qr
	QueueNo string    `json:"queue_no"` // the ticket given; may be empty
	Visitor VisitorV1 `json:"visitor"`
	// Staff is the ID of the staff member who typed the visitor's ID
	// number for them (method manual); absent otherwise.
	Staff string `json:"staff,omitempty"`
	// Detail is the service's sub-choice (vetnet.ServiceInfo.Options),
	// e.g. application; absent when the visitor chose none.
	Detail string `json:"detail,omitempty"`
	// Meeting is the meeting whose roll-call the check-in answers
	// (service training); absent for an ordinary visit.
	Meeting string `json:"meeting,omitempty"`
}

// VisitorV1 is the person of a check-in on the wire.
type VisitorV1 struct {
	IDNumber string `json:"id_number"`
	Name     string `json:"name"`
	Doc      string `json:"doc"` // resident, hmt or foreign
}

// CheckInToWire converts a domain check-in.
func CheckInToWire(c vetnet.CheckIn) CheckInV1 {
	return CheckInV1{
		ID: c.ID, Seq: c.Seq, At: c.At.UTC(), Service: string(c.Service), Method: string(c.Method),
		QueueNo: c.QueueNo, Staff: c.Staff, Detail: c.Detail, Meeting: c.Meeting,
		Visitor: VisitorV1{IDNumber: c.Visitor.IDNumber, Name: c.Visitor.Name, Doc: string(c.Visitor.DocType)},
	}
}

// ToDomain converts a wire check-in of station.
func (w CheckInV1) ToDomain(station string) vetnet.CheckIn {
	return vetnet.CheckIn{
		ID: w.ID, StationID: station, Seq: w.Seq, At: w.At, Service: vetnet.Service(w.Service),
		Method: vetnet.Method(w.Method), QueueNo: w.QueueNo, Staff: w.Staff, Detail: w.Detail, Meeting: w.Meeting,
		Visitor: vetnet.Visitor{IDNumber: w.Visitor.IDNumber, Name: w.Visitor.Name, DocType: vetnet.DocType(w.Visitor.Doc)},
	}
}

// NewCheckInBatch builds a batch of check-ins of one station.
func NewCheckInBatch(station, batch string, sentAt time.Time, cs []vetnet.CheckIn) CheckInBatch {
	b := CheckInBatch{V: Version, Station: station, Batch: batch, SentAt: sentAt.UTC(), CheckIns: make([]CheckInV1, len(cs))}
	for i, c := range cs {
		b.CheckIns[i] = CheckInToWire(c)
	}
	return b
}

// Size is how many check-ins and records the batch holds.
func (b CheckInBatch) Size() int { return len(b.CheckIns) + len(b.Records) }

// Encode returns the JSON payload.
func (b CheckInBatch) Encode() ([]byte, error) { return json.Marshal(b) }

// DecodeCheckInBatch parses and checks the shape of a batch received on
// the topic of topicStation: version, fields, station, batch size, unique
// IDs and strictly ascending sequence numbers. The domain rules of each
// check-in (ID number, service, ...) are checked by the receiver with
// vetnet.CheckIn.Validate, so that it can name the check-in it rejects.
func DecodeCheckInBatch(topicStation string, data []byte) (CheckInBatch, error) {
	var b CheckInBatch
	if err := decode(data, MaxCheckInsPayload, &b); err != nil {
		return CheckInBatch{}, err
	}
	if err := checkStation(b.Station, topicStation); err != nil {
		return CheckInBatch{}, err
	}
	if b.Batch == "" || len(b.Batch) > 64 {
		return CheckInBatch{}, fieldErr("batch: 1 to 64 characters")
	}
	if b.Size() == 0 {
		return CheckInBatch{}, decodeErr(ReasonEmptyBatch, "a batch needs at least one check-in or record")
	}
	if b.Size() > MaxBatch {
		return CheckInBatch{}, decodeErr(ReasonBatchTooBig, "more check-ins and records than MaxBatch")
	}
	if b.CheckIns == nil {
		return CheckInBatch{}, fieldErr(`checkins: missing (send [] for none)`)
	}
	ids := make(map[string]bool, len(b.CheckIns))
	var prev uint64
	for i, c := range b.CheckIns {
		if err := vetnet.ValidateCheckInID(c.ID); err != nil {
			return CheckInBatch{}, fieldErr("checkins[%d].id: malformed", i)
		}
		if ids[c.ID] {
			return CheckInBatch{}, fieldErr("checkins[%d].id: repeated in the batch", i)
		}
		ids[c.ID] = true
		if c.Seq <= prev {
			return CheckInBatch{}, fieldErr("checkins[%d].seq: not ascending", i)
		}
		prev = c.Seq
		if c.At.IsZero() {
			return CheckInBatch{}, fieldErr("checkins[%d].at: missing", i)
		}
	}
	for i, r := range b.Records {
		if err := vetnet.ValidateCheckInID(r.ID); err != nil {
			return CheckInBatch{}, fieldErr("records[%d].id: malformed", i)
		}
		if ids[r.ID] {
			return CheckInBatch{}, fieldErr("records[%d].id: repeated in the batch", i)
		}
		ids[r.ID] = true
		if r.At.IsZero() {
			return CheckInBatch{}, fieldErr("records[%d].at: missing", i)
		}
		// Exactly the field of the record's kind is set.
		set := map[string]bool{RecordFeedback: r.Feedback != nil, RecordVisit: r.Visit != nil, RecordDuty: r.Duty != nil,
			RecordRollCall: r.RollCall != nil}
		if _, known := set[r.Kind]; !known {
			return CheckInBatch{}, fieldErr("records[%d].kind: unknown kind %q", i, r.Kind)
		}
		for kind, has := range set {
			if kind == r.Kind && !has {
				return CheckInBatch{}, fieldErr("records[%d].%s: missing for kind %s", i, kind, kind)
			}
			if kind != r.Kind && has {
				return CheckInBatch{}, fieldErr("records[%d].%s: set on a record of kind %s", i, kind, r.Kind)
			}
		}
		if r.Duty != nil && r.Duty.State != DutyOn && r.Duty.State != DutyOff {
			return CheckInBatch{}, fieldErr("records[%d].duty.state: %q is not on or off", i, r.Duty.State)
		}
		if r.RollCall != nil {
			if vetnet.ValidateCheckInID(r.RollCall.Meeting) != nil {
				return CheckInBatch{}, fieldErr("records[%d].rollcall.meeting: malformed", i)
			}
			if !vetnet.RollCallMethod(r.RollCall.Method).Valid() {
				return CheckInBatch{}, fieldErr("records[%d].rollcall.method: %q is not badge or pin", i, r.RollCall.Method)
			}
		}
	}
	return b, nil
}
