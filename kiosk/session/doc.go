// Package session is the kiosk's state machine: what the screen shows and
// what happens next, with no user interface and no I/O, so that every
// transition and every timeout can be tested with explicit times.
//
// A visit runs
//
//	Idle ──card──▶ Greeting ──(GreetingFor or Continue)──▶ ChooseService
//	  ──ServiceChosen──▶ [ChooseDetail ──DetailChosen──▶] Submitting ──CheckInDone──▶ Confirmed
//	                                └─CheckInFailed──▶ Failed ──Retry──▶ Submitting
//	Confirmed ──Rate (good)──▶ Submitting ──FeedbackDone──▶ Thanks ──ThanksFor──▶ Idle
//	          ──Rate (bad)──▶ RateReason ──SendRating──▶ Submitting …
//	          ──(ConfirmedFor or Done)──▶ Idle
//
// ChooseDetail appears for a service with sub-choices (vetnet.ServiceInfo
// Options, e.g. benefits: enquiry, application, certificate). The
// confirmation shows the queue number, the people ahead and the expected
// wait, and offers the five-level rating (好差评) as its way out; a bad
// rating asks why (optional). A person needs four taps from the card to a
// rating: Continue (or wait), a service, its sub-choice, a rating.
//
// Staff mode (staff.go, hall.go) adds the sign-in, typed check-ins, and
// the staff desk: duty, today's visitors, the queue and transfers.
//
// with side roads: a card error shows a Notice, the agent going away shows
// OutOfService, and every screen but Submitting goes back to Idle by itself
// (Greeting, ChooseService and Failed after Inactive without a touch). A
// Submitting screen cannot be cancelled: the agent may be committing the
// check-in, and only its answer (or SubmitTimeout) ends the wait.
//
// The caller feeds events with Step and renders View. Step returns a
// Submission when a check-in must be posted; the caller posts it in the
// background and reports the answer with CheckInDone or CheckInFailed,
// carrying the Submission's Attempt so that a late answer to an abandoned
// attempt changes nothing. The caller also sends a Tick about once a second;
// the session has no timers of its own.
//
// Personal data (the masked name, the last visit, the token, the queue
// number) lives in one place and is wiped on every return to Idle or
// OutOfService, so nothing of one person is left for the next. The kiosk
// only ever receives masked data from the agent; the session masks names
// again anyway, because a screen in a public hall is the last place to
// trust that someone else did it.
package session
