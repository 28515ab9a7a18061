package cloud

import "github.com/vetnet/vetnet"

// VisitPage is one page of visit events: the steps of stations' queue
// tickets after check-in (called, recalled, served, no-show, transferred).
type VisitPage struct {
	Visits []vetnet.VisitEvent
	Next   string // cursor of the next page; empty when this is the last
}

// DutyPage is one page of duty events: staff signing on and off duty.
type DutyPage struct {
	Duty []vetnet.DutyEvent
	Next string // cursor of the next page; empty when this is the last
}
