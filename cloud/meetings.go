package cloud

import (
	"context"
	"time"

	"github.com/vetnet/vetnet"
)

// MeetingStore keeps the meetings of the three-level video conference,
// their attendance (roll-calls and roll-call check-ins, which Save stores
// with the batch that brings them) and the follow-up of absent stations.
// Both stores implement it (cloud/sqlite, cloud/postgres) and pass its
// conformance suite (storetest.RunMeetings); the hub serves meetings only
// with a store that does.
type MeetingStore interface {
	// PutMeetings inserts the meetings or replaces the stored ones with
	// the same ID, with their invited stations, in one transaction.
	// Errors: EINVALID (a meeting fails Validate), EUNAVAILABLE, EFULL,
	// EINTERNAL.
	PutMeetings(ctx context.Context, ms []vetnet.Meeting) error

	// Meeting returns one meeting. Errors: ENOTFOUND, EUNAVAILABLE,
	// EINTERNAL.
	Meeting(ctx context.Context, id string) (vetnet.Meeting, error)

	// Meetings returns the meetings matching the filter ordered by start
	// (then ID). Errors: EUNAVAILABLE, EINTERNAL.
	Meetings(ctx context.Context, f MeetingFilter) ([]vetnet.Meeting, error)

	// Attendance returns the attendance matching the filter, oldest first
	// by the station's clock. Person rows carry the check-in's full ID
	// number and name: callers mask them. Errors: EINVALID (no meeting
	// and no period), EUNAVAILABLE, EINTERNAL.
	Attendance(ctx context.Context, f AttendanceFilter) ([]Attendance, error)

	// PresenceLog returns the presence transitions of the stations in
	// [from, to), each station's preceded by its last one before from
	// (the state it was in), oldest first; stations without any are
	// absent from the map. Errors: EUNAVAILABLE, EINTERNAL.
	PresenceLog(ctx context.Context, stations []string, from, to time.Time) (map[string][]LogEntry, error)

	// AddFollowUp appends a follow-up of an absent station and returns its
	// ID. Errors: EINVALID, EUNAVAILABLE, EFULL, EINTERNAL.
	AddFollowUp(ctx context.Context, fu FollowUp) (int64, error)

	// FollowUps returns a meeting's follow-ups, oldest first.
	// Errors: EUNAVAILABLE, EINTERNAL.
	FollowUps(ctx context.Context, meetingID string) ([]FollowUp, error)
}

// MeetingFilter selects meetings. Zero fields select everything.
type MeetingFilter struct {
	EndsAfter    time.Time // End > EndsAfter, when not zero
	StartsBefore time.Time // Start < StartsBefore, when not zero
	Station      string    // only meetings inviting this station
	Series       string    // only this series
	// Stations, when not nil, keeps only meetings inviting at least one
	// of them (a person's scope).
	Stations      []string
	WithCancelled bool // include cancelled meetings
	Limit         int  // at most this many; <= 0: MaxLimit
}

// AttendanceKind says who answered a roll-call.
type AttendanceKind string

const (
	AttendStaff  AttendanceKind = "staff"  // a staff member, by badge or PIN (record rollcall)
	AttendPerson AttendanceKind = "person" // anyone by ID card or typed ID number (a check-in of service training)
)

// Attendance is one answer to a meeting's roll-call at a station.
type Attendance struct {
	ID         string // the roll-call record's or the check-in's ID
	MeetingID  string
	Station    string
	Kind       AttendanceKind
	Staff      string // staff ID (AttendStaff)
	Role       vetnet.StaffRole
	Method     string // badge, pin (staff); card, manual, qr (person)
	IDNumber   string // person: from the check-in, unmasked here
	Name       string // person: from the check-in, unmasked here
	At         time.Time
	ReceivedAt time.Time
}

// AttendanceFilter selects attendance rows: of one meeting, or of the
// meetings of a period (their attendance, whatever the meeting).
type AttendanceFilter struct {
	Meeting  string
	Stations []string  // when not nil, only these stations
	From, To time.Time // At in [From, To), when set
}

// FollowUp is what was done about a station's absence from a meeting: a
// call back, its outcome and a note. Each is also written to the audit
// log.
type FollowUp struct {
	ID        int64
	MeetingID string
	Station   string
	At        time.Time
	By        string // the person who recorded it
	Outcome   string // one of FollowUpOutcomes
	Note      string
}

// FollowUpOutcomes are the outcomes of a follow-up.
var FollowUpOutcomes = map[string][2]string{
	"reached":     {"已联系", "Reached"},
	"no_answer":   {"无人接听", "No answer"},
	"excused":     {"已说明原因", "Excused"},
	"rescheduled": {"已安排补学", "Catch-up arranged"},
	"other":       {"其他", "Other"},
}

// Validate checks a follow-up.
func (f *FollowUp) Validate() error {
	if f.MeetingID == "" || vetnet.ValidateStationID(f.Station) != nil {
		return vetnet.Errorz(vetnet.EINVALID, "跟进记录缺少会议或站点", "A follow-up needs its meeting and station.")
	}
	if _, ok := FollowUpOutcomes[f.Outcome]; !ok {
		return vetnet.Errorz(vetnet.EINVALID, "跟进结果应为 reached、no_answer、excused、rescheduled 或 other",
			"The outcome must be reached, no_answer, excused, rescheduled or other.")
	}
	if len([]rune(f.Note)) > 500 {
		return vetnet.Errorz(vetnet.EINVALID, "备注不能超过500字", "A note is at most 500 characters.")
	}
	return nil
}

// AuditFollowUp is the audit action of a follow-up record.
const AuditFollowUp AuditAction = "meeting_followup"

// AuditMeeting is the audit action of a meeting created, changed or
// cancelled.
const AuditMeeting AuditAction = "meeting"
