package vetnet_test

import (
	"bytes"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
)

func TestCheckInIDSortsByTime(t *testing.T) {
	var ids []string
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 200; i++ {
		id, err := vetnet.NewCheckInID(base.Add(time.Duration(i)*time.Millisecond), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := vetnet.ValidateCheckInID(id); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		got, _ := vetnet.CheckInIDTime(id)
		if !got.Equal(base.Add(time.Duration(i) * time.Millisecond)) {
			t.Fatalf("time of %s = %v", id, got)
		}
		ids = append(ids, id)
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatal("IDs made in time order do not sort in time order")
	}
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		id, _ := vetnet.NewCheckInID(base, nil)
		if seen[id] {
			t.Fatalf("duplicate %s", id)
		}
		seen[id] = true
	}
}

func TestCheckInIDDeterministic(t *testing.T) {
	id, err := vetnet.NewCheckInID(time.UnixMilli(1469918176385), bytes.NewReader(make([]byte, 10)))
	if err != nil {
		t.Fatal(err)
	}
	// The ULID specification's example timestamp encodes as 01ARYZ6S41.
	if id != "01ARYZ6S410000000000000000" {
		t.Fatalf("id = %s", id)
	}
	if _, err := vetnet.NewCheckInID(time.Now(), bytes.NewReader(nil)); vetnet.ErrorCode(err) != vetnet.EINTERNAL {
		t.Fatalf("short entropy: %v", err)
	}
}

func TestValidateCheckInID(t *testing.T) {
	for _, id := range []string{"", "01ARYZ6S41000000000000000", "01ARYZ6S41000000000000000U", "81ARYZ6S410000000000000000", "01aryz6s410000000000000000"} {
		if vetnet.ValidateCheckInID(id) == nil {
			t.Errorf("accepted %q", id)
		}
	}
}

func validCheckIn() vetnet.CheckIn {
	return vetnet.CheckIn{
		ID: "01ARYZ6S410000000000000000", StationID: "cz-xb-town-01", Seq: 1,
		Visitor: vetnet.Visitor{IDNumber: "11010519491231002X", Name: "张三", DocType: vetnet.DocResident},
		Service: vetnet.ServiceBenefits, Method: vetnet.MethodCard, QueueNo: "B001", At: now,
	}
}

func TestCheckInValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*vetnet.CheckIn)
		ok     bool
	}{
		{"valid", func(*vetnet.CheckIn) {}, true},
		{"bad id", func(c *vetnet.CheckIn) { c.ID = "x" }, false},
		{"bad station", func(c *vetnet.CheckIn) { c.StationID = "A/B" }, false},
		{"zero seq", func(c *vetnet.CheckIn) { c.Seq = 0 }, false},
		{"unknown service", func(c *vetnet.CheckIn) { c.Service = "golf" }, false},
		{"unknown method", func(c *vetnet.CheckIn) { c.Method = "telepathy" }, false},
		{"bad doc type", func(c *vetnet.CheckIn) { c.Visitor.DocType = "passport" }, false},
		{"bad id number", func(c *vetnet.CheckIn) { c.Visitor.IDNumber = "110105194912310021" }, false},
		{"name with newline", func(c *vetnet.CheckIn) { c.Visitor.Name = "张\n三" }, false},
		{"no time", func(c *vetnet.CheckIn) { c.At = time.Time{} }, false},
		{"manual without name", func(c *vetnet.CheckIn) { c.Method = vetnet.MethodManual; c.Visitor.Name = "" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validCheckIn()
			tt.mutate(&c)
			err := c.Validate(now)
			if (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	err := vetnet.Wrap(vetnet.EUNAVAILABLE, errors.New("dial tcp: refused"), "暂时无法连接", "Cannot connect now.")
	if got := vetnet.ErrorMessage(err, "zh"); got != "暂时无法连接" {
		t.Fatal(got)
	}
	if got := vetnet.ErrorMessage(err, "en"); got != "Cannot connect now." {
		t.Fatal(got)
	}
	if got := vetnet.ErrorMessage(errors.New("pq: syntax error at SELECT"), "en"); got != "Internal error." {
		t.Fatalf("raw error leaked: %q", got)
	}
	if vetnet.ErrorCode(nil) != "" || vetnet.ErrorCode(errors.New("x")) != vetnet.EINTERNAL {
		t.Fatal("codes")
	}
}
