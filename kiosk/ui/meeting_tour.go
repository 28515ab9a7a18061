package ui

import (
	"time"

	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/kiosk/session"
)

// TourMeetings is the tour's meeting set: a training 25 minutes from now
// with veterans attending, and a supervision meeting tomorrow.
func TourMeetings(now time.Time) localapi.Meetings {
	start := now.Add(25 * time.Minute).Truncate(time.Minute)
	return localapi.Meetings{Version: "mtour", Now: now, Meetings: []localapi.Meeting{
		{ID: "01KB1P0000MTNGABCDEFGHJKMN", Title: "三季度就业政策培训", Kind: "training", KindZH: "培训", KindEN: "Training",
			Start: start, End: start.Add(90 * time.Minute), Link: "https://meet.district.lan/vetnet-01kb1p0000mtngabcdefghjkmn",
			Roles: []string{"head", "officer"}, Veterans: true},
		{ID: "01KB1P1000MTNGABCDEFGHJKMN", Title: "督查督办例会", Kind: "supervision", KindZH: "督查督办", KindEN: "Supervision",
			Start: start.Add(24 * time.Hour), End: start.Add(25 * time.Hour), Link: "https://meet.district.lan/vetnet-01kb1p1000mtngabcdefghjkmn"},
	}}
}

// MeetingTour continues Tour with the next meeting on the attract screen
// and on the staff screen (with the roll-call button).
func MeetingTour() []TourStep {
	return []TourStep{
		{"meeting-idle", session.Idle, func(k *Kiosk) {
			k.Step(session.StaffLogout{})
			k.Step(session.AgentStatus{Status: TourStatus()})
			k.Step(session.MeetingsChanged{Meetings: TourMeetings(k.now())})
		}},
		{"meeting-staff", session.StaffMenu, func(k *Kiosk) {
			k.Step(session.StaffSignedIn{Session: localapi.StaffSession{Session: "tour-staff", ExpiresAt: time.Now().Add(time.Hour),
				Staff: TourRoster().Staff[0], Via: "badge"}})
		}},
	}
}
