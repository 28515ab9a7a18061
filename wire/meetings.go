package wire

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"

	"github.com/vetnet/vetnet"
)

// Meetings is the retained payload of vs/v1/st/{station}/meetings: the
// station's upcoming meetings (not yet ended), cancelled ones flagged, in
// order of start. The hub publishes it again whenever a meeting of the
// station is created, changed or cancelled, and when one ends, so a
// station that was offline gets the current set when it reconnects. The
// agent keeps the last good one across restarts; Version (a content hash)
// tells whether anything changed.
type Meetings struct {
	V        int         `json:"v"`
	Station  string      `json:"station"`
	Version  string      `json:"version"` // content hash, see MeetingsVersion
	IssuedAt time.Time   `json:"issued_at"`
	Meetings []MeetingV1 `json:"meetings"`
}

// MaxMeetings bounds the meetings of one station's payload: the hub sends
// the nearest.
const MaxMeetings = 50

// MeetingV1 is one meeting as a station sees it.
type MeetingV1 struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Kind      string    `json:"kind"` // training, supervision, information
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Link      string    `json:"link,omitempty"`  // the video room; absent when the hub has no provider
	Roles     []string  `json:"roles,omitempty"` // staff roles expected at the station
	Veterans  bool      `json:"veterans,omitempty"`
	Cancelled bool      `json:"cancelled,omitempty"`
}

// NewMeetings builds station's payload from its meetings (already
// selected: invited, not ended), sorted by start and cut to MaxMeetings.
// link returns a meeting's room link ("" for none).
func NewMeetings(station string, ms []vetnet.Meeting, link func(vetnet.Meeting) string, issuedAt time.Time) Meetings {
	p := Meetings{V: Version, Station: station, IssuedAt: issuedAt.UTC(), Meetings: []MeetingV1{}}
	ms = slices.Clone(ms)
	slices.SortFunc(ms, func(a, b vetnet.Meeting) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return compareStrings(a.ID, b.ID)
	})
	for _, m := range ms {
		if len(p.Meetings) == MaxMeetings {
			break
		}
		w := MeetingV1{ID: m.ID, Title: m.Title, Kind: string(m.Kind), Start: m.Start.UTC(), End: m.End.UTC(),
			Link: link(m), Veterans: m.Veterans, Cancelled: m.Cancelled}
		for _, r := range m.Roles {
			w.Roles = append(w.Roles, string(r))
		}
		p.Meetings = append(p.Meetings, w)
	}
	p.Version = MeetingsVersion(p)
	return p
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// MeetingsVersion hashes the content of p (all but Version and IssuedAt).
func MeetingsVersion(p Meetings) string {
	p.Version, p.IssuedAt = "", time.Time{}
	b, _ := json.Marshal(p)
	sum := sha256.Sum256(b)
	return "m" + hex.EncodeToString(sum[:6])
}

// Encode returns the JSON payload.
func (p Meetings) Encode() ([]byte, error) { return json.Marshal(p) }

// Find returns the meeting with id.
func (p Meetings) Find(id string) (MeetingV1, bool) {
	for _, m := range p.Meetings {
		if m.ID == id {
			return m, true
		}
	}
	return MeetingV1{}, false
}

// DecodeMeetings parses and validates a station's meetings received on
// the topic of topicStation, including that the version matches the
// content.
func DecodeMeetings(topicStation string, data []byte) (Meetings, error) {
	var p Meetings
	if err := decode(data, MaxMeetingsPayload, &p); err != nil {
		return Meetings{}, err
	}
	if err := checkStation(p.Station, topicStation); err != nil {
		return Meetings{}, err
	}
	if p.Meetings == nil {
		return Meetings{}, fieldErr("meetings: missing (send [] for none)")
	}
	if len(p.Meetings) > MaxMeetings {
		return Meetings{}, fieldErr("meetings: more than %d", MaxMeetings)
	}
	ids := map[string]bool{}
	for i, m := range p.Meetings {
		if vetnet.ValidateCheckInID(m.ID) != nil {
			return Meetings{}, fieldErr("meetings[%d].id: malformed", i)
		}
		if ids[m.ID] {
			return Meetings{}, fieldErr("meetings[%d].id: repeated", i)
		}
		ids[m.ID] = true
		if m.Title == "" || len([]rune(m.Title)) > vetnet.MaxMeetingTitleLen {
			return Meetings{}, fieldErr("meetings[%d].title: 1 to %d characters", i, vetnet.MaxMeetingTitleLen)
		}
		if !vetnet.MeetingKind(m.Kind).Valid() {
			return Meetings{}, fieldErr("meetings[%d].kind: unknown kind %q", i, m.Kind)
		}
		if m.Start.IsZero() || !m.End.After(m.Start) {
			return Meetings{}, fieldErr("meetings[%d].end: not after start", i)
		}
		if len(m.Link) > 512 {
			return Meetings{}, fieldErr("meetings[%d].link: longer than 512 bytes", i)
		}
		for _, r := range m.Roles {
			if !vetnet.StaffRole(r).Valid() {
				return Meetings{}, fieldErr("meetings[%d].roles: unknown role %q", i, r)
			}
		}
		if m.Veterans && m.Kind != string(vetnet.MeetingTraining) {
			return Meetings{}, fieldErr("meetings[%d].veterans: only for a training", i)
		}
	}
	if p.Version != MeetingsVersion(p) {
		return Meetings{}, fieldErr("version: does not match the content")
	}
	return p, nil
}

// RollCallV1 is a staff member's answer to a meeting's roll-call (record
// kind rollcall).
type RollCallV1 struct {
	Meeting string `json:"meeting"`
	Staff   string `json:"staff"`
	Role    string `json:"role,omitempty"`
	Method  string `json:"method"` // badge or pin
}

// RollCallToWire converts a domain roll-call.
func RollCallToWire(r vetnet.RollCall) RecordV1 {
	return RecordV1{ID: r.ID, Kind: RecordRollCall, At: r.At.UTC(),
		RollCall: &RollCallV1{Meeting: r.MeetingID, Staff: r.Staff, Role: string(r.Role), Method: string(r.Method)}}
}

// RollCallOf converts a roll-call record of station; ok is false for
// other kinds.
func (r RecordV1) RollCallOf(station string) (vetnet.RollCall, bool) {
	if r.Kind != RecordRollCall || r.RollCall == nil {
		return vetnet.RollCall{}, false
	}
	x := r.RollCall
	return vetnet.RollCall{ID: r.ID, StationID: station, MeetingID: x.Meeting, Staff: x.Staff, Role: vetnet.StaffRole(x.Role),
		Method: vetnet.RollCallMethod(x.Method), At: r.At}, true
}
