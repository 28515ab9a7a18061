package vetnet_test

import (
	"strings"
	"testing"

	"github.com/vetnet/vetnet"
)

func TestVisitEventValidate(t *testing.T) {
	valid := func() vetnet.VisitEvent {
		return vetnet.VisitEvent{ID: "01ARYZ6S410000000000000001", StationID: "cz-xb-01", CheckInID: "01ARYZ6S410000000000000000",
			Action: vetnet.VisitCalled, Service: vetnet.ServiceBenefits, QueueNo: "B007", Staff: "xb-0107", Counter: "2号窗口", At: now}
	}
	transfer := func(e *vetnet.VisitEvent) {
		e.Action, e.ToService, e.ToQueueNo = vetnet.VisitTransferred, vetnet.ServiceLegalAid, "L003"
	}
	tests := []struct {
		name   string
		mutate func(*vetnet.VisitEvent)
		ok     bool
	}{
		{"valid", func(*vetnet.VisitEvent) {}, true},
		{"served without staff or counter", func(e *vetnet.VisitEvent) { e.Action, e.Staff, e.Counter = vetnet.VisitServed, "", "" }, true},
		{"transfer", transfer, true},
		{"bad id", func(e *vetnet.VisitEvent) { e.ID = "x" }, false},
		{"bad station", func(e *vetnet.VisitEvent) { e.StationID = "Bad ID" }, false},
		{"bad check-in id", func(e *vetnet.VisitEvent) { e.CheckInID = "" }, false},
		{"unknown action", func(e *vetnet.VisitEvent) { e.Action = "teleported" }, false},
		{"unknown service", func(e *vetnet.VisitEvent) { e.Service = "golf" }, false},
		{"no queue number", func(e *vetnet.VisitEvent) { e.QueueNo = "" }, false},
		{"bad staff", func(e *vetnet.VisitEvent) { e.Staff = "a b" }, false},
		{"long counter", func(e *vetnet.VisitEvent) { e.Counter = strings.Repeat("窗", vetnet.MaxCounterLen+1) }, false},
		{"counter with newline", func(e *vetnet.VisitEvent) { e.Counter = "2号\n窗口" }, false},
		{"transfer to the same service", func(e *vetnet.VisitEvent) { transfer(e); e.ToService = e.Service }, false},
		{"transfer without number", func(e *vetnet.VisitEvent) { transfer(e); e.ToQueueNo = "" }, false},
		{"target on a call", func(e *vetnet.VisitEvent) { e.ToService = vetnet.ServiceLegalAid }, false},
		{"no time", func(e *vetnet.VisitEvent) { e.At = zeroTime }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := valid()
			tt.mutate(&e)
			if err := e.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tt.ok)
			}
		})
	}
	for _, a := range vetnet.VisitActions {
		if a.Label("zh") == string(a) || a.Label("en") == string(a) {
			t.Errorf("action %s has no label", a)
		}
	}
}

func TestDutyEventValidate(t *testing.T) {
	valid := func() vetnet.DutyEvent {
		return vetnet.DutyEvent{ID: "01ARYZ6S410000000000000001", StationID: "cz-xb-01", Staff: "xb-0107", On: true, At: now}
	}
	tests := []struct {
		name   string
		mutate func(*vetnet.DutyEvent)
		ok     bool
	}{
		{"on", func(*vetnet.DutyEvent) {}, true},
		{"off", func(d *vetnet.DutyEvent) { d.On = false }, true},
		{"bad id", func(d *vetnet.DutyEvent) { d.ID = "" }, false},
		{"bad station", func(d *vetnet.DutyEvent) { d.StationID = "" }, false},
		{"no staff", func(d *vetnet.DutyEvent) { d.Staff = "" }, false},
		{"no time", func(d *vetnet.DutyEvent) { d.At = zeroTime }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := valid()
			tt.mutate(&d)
			if err := d.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
