package session

import (
	"time"

	"github.com/vetnet/vetnet/edge-agent/localapi"
)

// MeetingsChanged is the station's meeting set from the agent (its
// "meetings" event). The session itself ignores it; the screen keeps it
// in a MeetingBoard.
type MeetingsChanged struct{ Meetings localapi.Meetings }

func (MeetingsChanged) event() {}

// RollCallOpen is how long before a meeting's start the agent takes its
// roll-call (agent.RollCallEarly).
const RollCallOpen = 30 * time.Minute

// NextMeeting is the meeting the attract and staff screens announce.
type NextMeeting struct {
	Meeting  localapi.Meeting
	Live     bool          // under way
	StartsIn time.Duration // before the start (0 when live)
	EndsIn   time.Duration // before the end
	RollCall bool          // its roll-call is open at the station
}

// MeetingBoard keeps the station's meetings and says which is next. The
// agent's clock counts: its set carries the agent's time, and the board
// keeps the difference to the kiosk's clock, so a countdown matches the
// station's roll-call window.
type MeetingBoard struct {
	set  localapi.Meetings
	skew time.Duration // agent clock − kiosk clock when the set arrived
}

// Update replaces the set; now is the kiosk's clock.
func (b *MeetingBoard) Update(m localapi.Meetings, now time.Time) {
	b.set = m
	b.skew = 0
	if !m.Now.IsZero() {
		b.skew = m.Now.Sub(now)
	}
}

// Next returns the first meeting, not cancelled, that has not ended at
// now (the kiosk's clock).
func (b *MeetingBoard) Next(now time.Time) (NextMeeting, bool) {
	at := now.Add(b.skew)
	m, ok := b.set.Next(at)
	if !ok {
		return NextMeeting{}, false
	}
	n := NextMeeting{Meeting: m, EndsIn: m.End.Sub(at)}
	if at.Before(m.Start) {
		n.StartsIn = m.Start.Sub(at)
	} else {
		n.Live = true
	}
	n.RollCall = !at.Before(m.Start.Add(-RollCallOpen))
	return n, true
}

// StaffSession returns the signed-in staff member's session token ("" when
// none), for calls the screen makes on their behalf (a meeting's
// roll-call).
func (s *Session) StaffSession() string { return s.staff.session }
