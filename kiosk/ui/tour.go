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
		{"submitting", session.Submitting, func(k *Kiosk) {
			sub = k.Step(session.ServiceChosen{Service: vetnet.ServiceBenefits})
		}},
		{"confirmed", session.Confirmed, func(k *Kiosk) {
			k.Step(session.CheckInDone{Attempt: sub.Attempt, Response: localapi.CheckInResponse{
				QueueNo: "B007", Service: "benefits", MaskedName: "张*国", Waiting: 2, At: time.Now()}})
		}},
		{"error", session.Failed, func(k *Kiosk) {
			k.Step(session.Done{})
			k.Step(session.CardRead{Card: card("李*东")})
			sub = k.Step(session.ServiceChosen{Service: vetnet.ServiceRecords})
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
	}
}
