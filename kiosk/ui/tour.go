package ui

import (
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/kiosk/session"
)

// TourStep is one screen of the screenshot tour: Show feeds canned events
// to a kiosk (on Fyne's goroutine) so that it shows the screen Name.
type TourStep struct {
	Name string // e.g. "idle"; the screenshot is kiosk-<Name>.png
	Want session.State
	Show func(k *Kiosk)
}

// TourStatus is the canned agent status of the tour: a village station of
// the demo district, online, with a small backlog and a simulated reader.
func TourStatus() localapi.Status {
	return localapi.Status{
		Station: localapi.StationInfo{
			ID: "cz-xb-sanjing-xinqiao", Name: "新桥社区退役军人服务站", NameEN: "Xinqiao Community Station", Level: "village",
			Services: []string{"employment", "benefits", "legal_aid", "hardship", "records", "consultation", "training"},
		},
		Online:  true,
		Outbox:  localapi.Outbox{Depth: 3},
		Readers: []localapi.Reader{{Name: "idcard0", Kind: "idcard", State: "ok"}},
		Agent:   "tour",
		SimTap:  true,
		Staff:   true,
	}
}

// TourRoster is the tour's staff roster.
func TourRoster() localapi.StaffList {
	return localapi.StaffList{Staff: []localapi.StaffMember{
		{ID: "xb-0111", Name: "李卫东", Role: "head", HasPIN: true},
		{ID: "xb-0118", Name: "孙秀英", Role: "grid", HasPIN: true},
		{ID: "xb-0119", Name: "王志强", Role: "officer", HasPIN: true},
	}}
}

// TourVisitors are the tour's visitors of the day (synthetic, masked).
func TourVisitors() []localapi.VisitorEntry {
	day := time.Now()
	at := func(h, m int) time.Time { return time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, time.Local) }
	return []localapi.VisitorEntry{
		{CheckInID: "01JDTOUR000000000000000004", At: at(10, 12), MaskedName: "张*国", MaskedID: "320411********531X", Service: "benefits", Detail: "application", QueueNo: "B007", State: "waiting", Method: "card"},
		{CheckInID: "01JDTOUR000000000000000003", At: at(9, 58), MaskedName: "王*", MaskedID: "320411********0027", Service: "employment", Detail: "jobs", QueueNo: "A003", State: "called", Method: "card"},
		{CheckInID: "01JDTOUR000000000000000002", At: at(9, 41), MaskedName: "刘*华", MaskedID: "320411********2210", Service: "legal_aid", Detail: "advice", QueueNo: "L001", State: "served", Method: "manual", Rated: true},
		{CheckInID: "01JDTOUR000000000000000001", At: at(9, 5), MaskedName: "陈*明", MaskedID: "320411********1413", Service: "records", Detail: "contact", QueueNo: "R001", State: "served", Method: "card", Rated: true},
	}
}

// TourQueue is the tour's queue of the day.
func TourQueue() localapi.QueueStatus {
	t := func(id, no, svc, detail, state, name string) localapi.Ticket {
		return localapi.Ticket{CheckInID: "01JDTOUR00000000000000000" + id, QueueNo: no, Service: svc, Detail: detail, State: state, MaskedName: name}
	}
	called := t("3", "A003", "employment", "jobs", "called", "王*")
	called.Counter = "1号窗口"
	b6 := t("5", "B006", "benefits", "enquiry", "called", "赵*兰")
	b6.Counter = "2号窗口"
	return localapi.QueueStatus{Day: time.Now().Format("2006-01-02"), Services: []localapi.QueueService{
		{Service: "employment", Called: []localapi.Ticket{called}, ServedToday: 2, AvgServiceS: 420},
		{Service: "benefits", Waiting: []localapi.Ticket{t("4", "B007", "benefits", "application", "waiting", "张*国"), t("6", "B008", "benefits", "enquiry", "waiting", "孙*")},
			Called: []localapi.Ticket{b6}, ServedToday: 5, AvgServiceS: 270, AvgWaitS: 300},
		{Service: "legal_aid", ServedToday: 1},
		{Service: "records", ServedToday: 1},
	}, NowServing: []localapi.Ticket{b6, called}}
}

// Tour walks through every screen with canned, synthetic data, in order:
// each step starts from where the one before left the kiosk.
func Tour() []TourStep {
	var sub *session.Submission
	last := time.Date(2025, 5, 12, 10, 0, 0, 0, time.Local)
	card := func(name string) localapi.CardEvent {
		return localapi.CardEvent{Token: "tour-token", ExpiresAt: time.Now().Add(time.Hour), MaskedName: name,
			MaskedID: "320411********531X", Doc: "resident", Reader: "sim0", Returning: true, LastVisit: &last}
	}
	return []TourStep{
		{"idle", session.Idle, func(k *Kiosk) {
			k.Step(session.AgentStatus{Status: TourStatus()})
		}},
		{"greeting", session.Greeting, func(k *Kiosk) {
			k.Step(session.CardRead{Card: card("张*国")})
		}},
		{"services", session.ChooseService, func(k *Kiosk) {
			k.Step(session.Continue{})
		}},
		{"detail", session.ChooseDetail, func(k *Kiosk) {
			k.Step(session.ServiceChosen{Service: vetnet.ServiceBenefits})
		}},
		{"submitting", session.Submitting, func(k *Kiosk) {
			sub = k.Step(session.DetailChosen{Detail: "application"})
		}},
		{"confirmed", session.Confirmed, func(k *Kiosk) {
			k.Step(session.CheckInDone{Attempt: sub.Attempt, Response: localapi.CheckInResponse{ID: "01JDTOUR000000000000000000",
				QueueNo: "B007", Service: "benefits", Detail: "application", MaskedName: "张*国", Waiting: 6, Ahead: 2, ExpectedWaitS: 540,
				Printed: true, At: time.Now()}})
		}},
		{"rate-reason", session.RateReason, func(k *Kiosk) {
			k.Step(session.Rate{Rating: vetnet.RatingDissatisfied})
			k.Step(session.ToggleReason{Reason: vetnet.ReasonWaiting})
		}},
		{"thanks", session.Thanks, func(k *Kiosk) {
			sub = k.Step(session.SendRating{})
			k.Step(session.FeedbackDone{Attempt: sub.Attempt})
		}},
		{"error", session.Failed, func(k *Kiosk) {
			k.Step(session.Done{})
			k.Step(session.CardRead{Card: card("李*东")})
			sub = k.Step(session.ServiceChosen{Service: vetnet.ServiceRecords, Detail: "contact"})
			k.Step(session.CheckInFailed{Attempt: sub.Attempt, Err: vetnet.Errorz(vetnet.EFULL,
				"本机存储空间已满，暂时无法登记，请联系工作人员", "The station's storage is full, so check-in is paused. Please ask staff.")})
		}},
		{"notice", session.Notice, func(k *Kiosk) {
			k.Step(session.Cancel{})
			k.Step(session.CardFailed{Error: localapi.CardErrorEvent{Reader: "sim0", Code: vetnet.EINVALID,
				MessageZH: "未能读取身份证，请将卡片平放在读卡器上，不要移动", MessageEN: "The card could not be read. Lay it flat on the reader and hold it still."}})
		}},
		{"outofservice", session.OutOfService, func(k *Kiosk) {
			k.Step(session.Done{})
			k.Step(session.AgentDown{})
		}},
		{"staff-login", session.StaffLogin, func(k *Kiosk) {
			k.Step(session.AgentStatus{Status: TourStatus()})
			k.Step(session.StaffOpen{})
			k.Step(session.StaffRoster{List: TourRoster()})
			k.Step(session.StaffPick{ID: "xb-0111"})
			k.Step(session.Key{K: "1"})
			k.Step(session.Key{K: "3"})
		}},
		{"staff-menu", session.StaffMenu, func(k *Kiosk) {
			k.Step(session.StaffSignedIn{Session: localapi.StaffSession{Session: "tour-staff", ExpiresAt: time.Now().Add(time.Hour),
				Staff: TourRoster().Staff[0], Via: "pin"}})
		}},
		{"staff-manual", session.ManualEntry, func(k *Kiosk) {
			k.Step(session.ManualStart{})
			for _, c := range "3204111958031" {
				k.Step(session.Key{K: string(c)})
			}
		}},
		{"staff-visitors", session.StaffVisitors, func(k *Kiosk) {
			k.Step(session.Cancel{})
			sub = k.Step(session.StaffOpenVisitors{})
			k.Step(session.HallDone{Call: *sub.Hall, Visitors: &localapi.VisitorList{Visitors: TourVisitors()}})
		}},
		{"staff-transfer", session.StaffTransfer, func(k *Kiosk) {
			v := TourVisitors()[0]
			k.Step(session.StaffTransferStart{CheckInID: v.CheckInID, QueueNo: v.QueueNo})
		}},
		{"staff-queue", session.StaffQueue, func(k *Kiosk) {
			k.Step(session.Back{})
			k.Step(session.Back{})
			sub = k.Step(session.StaffOpenQueue{})
			q := TourQueue()
			k.Step(session.HallDone{Call: *sub.Hall, Queue: &q})
			k.Step(session.HallDone{Call: session.HallCall{Kind: session.CallNext, Session: sub.Hall.Session}, Ticket: &q.Services[1].Called[0]})
		}},
	}
}
