package session

import (
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

// The end of a visit: a service's sub-choices before the check-in, and the
// five-level rating (好差评) after it. The confirmation offers the five
// ratings as its way out; a good one is sent at once, a bad one asks why
// (optional) first. The rating is posted to the agent, which commits it
// like a check-in; only its answer shows the thanks.

type (
	// DetailChosen is the sub-choice of the service (vetnet.Option.Key).
	DetailChosen struct{ Detail string }
	// Back goes one screen back: from the sub-choices to the service menu,
	// from a staff screen to the staff menu.
	Back struct{}
	// Rate is the rating tapped on the confirmation.
	Rate struct{ Rating vetnet.Rating }
	// ToggleReason ticks or unticks a reason of a bad rating.
	ToggleReason struct{ Reason vetnet.Reason }
	// SendRating sends a bad rating with the reasons ticked (maybe none).
	SendRating struct{}
	// FeedbackDone is the agent's 2xx answer to a Submission with Feedback.
	FeedbackDone struct {
		Attempt  uint64
		Response localapi.FeedbackResponse
	}
	// FeedbackFailed is the agent's error answer, or none, to a rating.
	FeedbackFailed struct {
		Attempt uint64
		Err     error
	}
)

// Messages of the rating.
var (
	MsgRatingFailed = Message{Code: vetnet.EUNAVAILABLE, ZH: "评价未能保存，感谢您的参与", EN: "Your rating could not be saved. Thank you all the same."}
)

// stepVisit handles the sub-choices and the rating; ok is false for
// other events.
func (s *Session) stepVisit(ev Event, now time.Time) (sub *Submission, ok bool) {
	switch ev := ev.(type) {
	case DetailChosen:
		s.touched = now
		if s.state == ChooseDetail && s.visit.Service.ValidDetail(ev.Detail) && ev.Detail != "" {
			s.visit.Detail = ev.Detail
			return s.submit(now), true
		}
		return nil, true
	case Back:
		s.touched = now
		if s.state == ChooseDetail {
			s.visit.Service, s.visit.Detail = "", ""
			s.enter(ChooseService, now)
			return nil, true
		}
		return nil, false // the staff screens' Back
	case Rate:
		s.touched = now
		if s.state != Confirmed || !ev.Rating.Valid() || s.visit.checkInID == "" {
			return nil, true
		}
		s.visit.Rating, s.visit.Reasons = ev.Rating, nil
		if ev.Rating.Bad() {
			s.enter(RateReason, now)
			return nil, true
		}
		return s.sendRating(now), true
	case ToggleReason:
		s.touched = now
		if s.state != RateReason || !ev.Reason.Valid() {
			return nil, true
		}
		for i, r := range s.visit.Reasons {
			if r == ev.Reason {
				s.visit.Reasons = append(s.visit.Reasons[:i:i], s.visit.Reasons[i+1:]...)
				return nil, true
			}
		}
		s.visit.Reasons = append(s.visit.Reasons, ev.Reason)
		return nil, true
	case SendRating:
		s.touched = now
		if s.state == RateReason {
			return s.sendRating(now), true
		}
		return nil, true
	case FeedbackDone:
		if s.state == Submitting && s.visit.Rating != 0 && ev.Attempt == s.attempt {
			s.visit.checkInID = ""
			s.enter(Thanks, now)
		}
		return nil, true
	case FeedbackFailed:
		if s.state == Submitting && s.visit.Rating != 0 && ev.Attempt == s.attempt {
			s.ratingFailed(now)
		}
		return nil, true
	}
	return nil, false
}

func (s *Session) sendRating(now time.Time) *Submission {
	s.attempt++
	req := &localapi.FeedbackRequest{CheckInID: s.visit.checkInID, Rating: int(s.visit.Rating)}
	for _, r := range s.visit.Reasons {
		req.Reasons = append(req.Reasons, string(r))
	}
	s.enter(Submitting, now)
	return &Submission{Attempt: s.attempt, Feedback: req, Deadline: now.Add(s.submitTimeout())}
}

// ratingFailed says calmly that the rating was not kept; the check-in
// itself is safe, so there is nothing to retry at the kiosk.
func (s *Session) ratingFailed(now time.Time) {
	s.wipeVisit()
	s.notice = MsgRatingFailed
	s.enter(Notice, now)
}
