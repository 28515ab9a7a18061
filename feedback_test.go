package vetnet_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
)

func TestFeedbackValidate(t *testing.T) {
	valid := func() vetnet.Feedback {
		return vetnet.Feedback{ID: "01ARYZ6S410000000000000001", StationID: "cz-xb-01", CheckInID: "01ARYZ6S410000000000000000",
			Service: vetnet.ServiceBenefits, Rating: vetnet.RatingDissatisfied, Reasons: []vetnet.Reason{vetnet.ReasonWaiting},
			Comment: "等了很久", At: now}
	}
	tests := []struct {
		name   string
		mutate func(*vetnet.Feedback)
		ok     bool
	}{
		{"valid", func(*vetnet.Feedback) {}, true},
		{"good rating without reasons", func(f *vetnet.Feedback) { f.Rating, f.Reasons, f.Comment = 5, nil, "" }, true},
		{"bad id", func(f *vetnet.Feedback) { f.ID = "x" }, false},
		{"bad check-in id", func(f *vetnet.Feedback) { f.CheckInID = "" }, false},
		{"rating 0", func(f *vetnet.Feedback) { f.Rating = 0 }, false},
		{"rating 6", func(f *vetnet.Feedback) { f.Rating = 6 }, false},
		{"unknown reason", func(f *vetnet.Feedback) { f.Reasons = []vetnet.Reason{"weather"} }, false},
		{"repeated reason", func(f *vetnet.Feedback) { f.Reasons = []vetnet.Reason{"waiting", "waiting"} }, false},
		{"long comment", func(f *vetnet.Feedback) { f.Comment = strings.Repeat("长", vetnet.MaxCommentLen+1) }, false},
		{"unknown service", func(f *vetnet.Feedback) { f.Service = "golf" }, false},
		{"no time", func(f *vetnet.Feedback) { f.At = zeroTime }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := valid()
			tt.mutate(&f)
			if err := f.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tt.ok)
			}
		})
	}
	for _, r := range vetnet.Reasons {
		if r.Label("zh") == string(r) || r.Label("en") == string(r) {
			t.Errorf("reason %s has no label", r)
		}
	}
}
var zeroTime time.Time
