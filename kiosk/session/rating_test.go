package session

import (
	"reflect"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

const testCheckInID = "01JD0000000000000000000000"

// confirmed reaches Confirmed through the sub-choices of benefits, with
// the answer of a real agent's shape (ID, ahead, expected wait).
func confirmed(t *testing.T) *fixture {
	t.Helper()
	f := reach(t, ChooseService)
	if sub := f.step(ServiceChosen{Service: vetnet.ServiceBenefits}); sub != nil || f.s.State() != ChooseDetail {
		t.Fatalf("benefits: %v %+v, want ChooseDetail and no submission", f.s.State(), sub)
	}
	sub := f.step(DetailChosen{"application"})
	if sub == nil || sub.Request.Detail != "application" || sub.Request.Service != "benefits" || sub.Request.Token == "" {
		t.Fatalf("submission %+v", sub)
	}
	f.step(CheckInDone{Attempt: sub.Attempt, Response: localapi.CheckInResponse{ID: testCheckInID, QueueNo: "B007", Service: "benefits",
		Detail: "application", MaskedName: "张*国", Waiting: 6, Ahead: 2, ExpectedWaitS: 540}})
	v := f.s.View()
	if v.State != Confirmed || v.Visit.QueueNo != "B007" || v.Visit.Ahead != 2 || v.Visit.WaitFor != 9*time.Minute || v.Visit.Detail != "application" {
		t.Fatalf("confirmed view %+v", v)
	}
	return f
}

func TestSubChoices(t *testing.T) {
	tests := []struct {
		name   string
		events []Event
		want   State
		detail string
	}{
		{"detail chosen", []Event{ServiceChosen{Service: vetnet.ServiceBenefits}, DetailChosen{"certificate"}}, Submitting, "certificate"},
		{"detail given with the service", []Event{ServiceChosen{vetnet.ServiceBenefits, "enquiry"}}, Submitting, "enquiry"},
		{"unknown detail ignored", []Event{ServiceChosen{Service: vetnet.ServiceBenefits}, DetailChosen{"bogus"}}, ChooseDetail, ""},
		{"empty detail ignored", []Event{ServiceChosen{Service: vetnet.ServiceBenefits}, DetailChosen{""}}, ChooseDetail, ""},
		{"another service's detail ignored", []Event{ServiceChosen{Service: vetnet.ServiceBenefits}, DetailChosen{"plaque"}}, ChooseDetail, ""},
		{"back to the menu", []Event{ServiceChosen{Service: vetnet.ServiceBenefits}, Back{}}, ChooseService, ""},
		{"back, then another service", []Event{ServiceChosen{Service: vetnet.ServiceBenefits}, Back{}, ServiceChosen{Service: vetnet.ServiceLegalAid}, DetailChosen{"aid"}}, Submitting, "aid"},
		{"cancel wipes", []Event{ServiceChosen{Service: vetnet.ServiceBenefits}, Cancel{}}, Idle, ""},
		{"times out to idle", []Event{ServiceChosen{Service: vetnet.ServiceBenefits}, at(DefaultInactive)}, Idle, ""},
		{"token expiry", []Event{ServiceChosen{Service: vetnet.ServiceBenefits}, at(5 * time.Minute)}, Notice, ""},
		{"agent down", []Event{ServiceChosen{Service: vetnet.ServiceBenefits}, AgentDown{}}, OutOfService, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := reach(t, ChooseService)
			for _, ev := range tc.events {
				f.step(ev)
			}
			if got := f.s.State(); got != tc.want {
				t.Fatalf("state %v, want %v", got, tc.want)
			}
			if tc.want == Submitting && f.sub.Request.Detail != tc.detail {
				t.Fatalf("detail %q, want %q", f.sub.Request.Detail, tc.detail)
			}
			if tc.want == Idle || tc.want == OutOfService {
				assertWiped(t, f.s)
			}
		})
	}
}

func TestRating(t *testing.T) {
	tests := []struct {
		name     string
		events   []Event
		want     State
		feedback *localapi.FeedbackRequest // the last submission's
	}{
		{"very satisfied is sent at once", []Event{Rate{vetnet.RatingVerySatisfied}}, Submitting,
			&localapi.FeedbackRequest{CheckInID: testCheckInID, Rating: 5}},
		{"fair is sent at once", []Event{Rate{vetnet.RatingFair}}, Submitting, &localapi.FeedbackRequest{CheckInID: testCheckInID, Rating: 3}},
		{"dissatisfied asks why", []Event{Rate{vetnet.RatingDissatisfied}}, RateReason, nil},
		{"reasons ticked and sent", []Event{Rate{vetnet.RatingVeryDissatisfied}, ToggleReason{vetnet.ReasonWaiting}, ToggleReason{vetnet.ReasonProcess},
			ToggleReason{vetnet.ReasonWaiting}, ToggleReason{vetnet.ReasonAttitude}, SendRating{}}, Submitting,
			&localapi.FeedbackRequest{CheckInID: testCheckInID, Rating: 1, Reasons: []string{"process", "attitude"}}},
		{"no reason is fine", []Event{Rate{vetnet.RatingDissatisfied}, SendRating{}}, Submitting,
			&localapi.FeedbackRequest{CheckInID: testCheckInID, Rating: 2}},
		{"unknown reason ignored", []Event{Rate{vetnet.RatingDissatisfied}, ToggleReason{"bogus"}, SendRating{}}, Submitting,
			&localapi.FeedbackRequest{CheckInID: testCheckInID, Rating: 2}},
		{"invalid rating ignored", []Event{Rate{0}, Rate{6}}, Confirmed, nil},
		{"reason screen times out", []Event{Rate{vetnet.RatingDissatisfied}, at(DefaultInactive)}, Idle, nil},
		{"reason screen cancelled", []Event{Rate{vetnet.RatingDissatisfied}, Cancel{}}, Idle, nil},
		{"confirmation times out unrated", []Event{at(DefaultConfirmedFor)}, Idle, nil},
		{"saved: thanks", []Event{Rate{vetnet.RatingSatisfied}, pending(func(f *fixture) Event { return FeedbackDone{Attempt: f.sub.Attempt} })}, Thanks, nil},
		{"thanks times out", []Event{Rate{vetnet.RatingSatisfied}, pending(func(f *fixture) Event { return FeedbackDone{Attempt: f.sub.Attempt} }),
			at(DefaultThanksFor)}, Idle, nil},
		{"stale answer ignored", []Event{Rate{vetnet.RatingSatisfied}, pending(func(f *fixture) Event { return FeedbackDone{Attempt: f.sub.Attempt - 1} })}, Submitting, nil},
		{"refused: calm notice", []Event{Rate{vetnet.RatingSatisfied}, pending(func(f *fixture) Event {
			return FeedbackFailed{Attempt: f.sub.Attempt, Err: vetnet.Errorz(vetnet.ECONFLICT, "已评价", "Already rated.")}
		})}, Notice, nil},
		{"no answer: calm notice", []Event{Rate{vetnet.RatingSatisfied}, at(DefaultSubmitTimeout)}, Notice, nil},
		{"a rating answer is not a check-in answer", []Event{Rate{vetnet.RatingSatisfied}, pending(func(f *fixture) Event {
			return CheckInDone{Attempt: f.sub.Attempt, Response: localapi.CheckInResponse{QueueNo: "X"}}
		})}, Submitting, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := confirmed(t)
			f.sub = nil
			for _, ev := range tc.events {
				if p, ok := ev.(pending); ok {
					ev = p(f)
				}
				f.step(ev)
			}
			if got := f.s.State(); got != tc.want {
				t.Fatalf("state %v, want %v", got, tc.want)
			}
			if tc.feedback != nil {
				if f.sub == nil || !reflect.DeepEqual(f.sub.Feedback, tc.feedback) {
					t.Fatalf("feedback %+v, want %+v", f.sub, tc.feedback)
				}
			}
			switch tc.want {
			case Idle:
				assertWiped(t, f.s)
			case Notice:
				if v := f.s.View(); v.Notice != MsgRatingFailed || v.Visit.QueueNo != "" {
					t.Fatalf("notice %+v", v)
				}
			case Thanks:
				if v := f.s.View(); v.Visit.Rating != vetnet.RatingSatisfied || v.Deadline != f.now.Add(DefaultThanksFor) {
					t.Fatalf("thanks view %+v", v)
				}
			}
		})
	}
}

// A check-in typed by staff can be rated too, and then the kiosk goes back
// to the staff menu.
func TestRatingAfterTypedCheckIn(t *testing.T) {
	f := &fixture{now: t0}
	f.s = &Session{Now: func() time.Time { return f.now }}
	f.step(AgentStatus{staffStatus()})
	f.step(StaffSignedIn{Session: staffSession(head, "badge")})
	f.step(ManualStart{})
	keys(f, "11010519491231002X")
	f.step(ManualConfirm{})
	sub := f.step(ServiceChosen{vetnet.ServiceRecords, "contact"})
	f.step(CheckInDone{Attempt: sub.Attempt, Response: localapi.CheckInResponse{ID: testCheckInID, QueueNo: "R001", Service: "records"}})
	sub = f.step(Rate{vetnet.RatingVerySatisfied})
	if sub == nil || sub.Feedback == nil {
		t.Fatalf("no feedback: %+v", sub)
	}
	f.step(FeedbackDone{Attempt: sub.Attempt})
	f.step(Done{})
	if v := f.s.View(); v.State != StaffMenu || !reflect.ValueOf(v.Visit).IsZero() {
		t.Fatalf("after the rating: %v %+v", v.State, v.Visit)
	}
}
