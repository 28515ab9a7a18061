package metrics

import (
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	r := NewRegistry()
	c := r.Counter("vetnet_test_messages_total", "Messages by kind.", "kind")
	c.Inc("status")
	c.Add(3, "checkins")
	c.Inc("we\"ird\\\n")
	plain := r.Counter("vetnet_test_plain_total", "A counter without labels\nand a second line.")
	r.GaugeFunc("vetnet_test_up", "Whether it is up.", nil, func() []Sample { return []Sample{{Value: 1}} })
	r.GaugeFunc("vetnet_test_stations", "Stations by state.", []string{"state"}, func() []Sample {
		return []Sample{{Labels: []string{"online"}, Value: 2}, {Labels: []string{"offline"}, Value: 0.5}}
	})
	var b strings.Builder
	if _, err := r.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP vetnet_test_messages_total Messages by kind.
# TYPE vetnet_test_messages_total counter
vetnet_test_messages_total{kind="checkins"} 3
vetnet_test_messages_total{kind="status"} 1
vetnet_test_messages_total{kind="we\"ird\\\n"} 1
# HELP vetnet_test_plain_total A counter without labels\nand a second line.
# TYPE vetnet_test_plain_total counter
vetnet_test_plain_total 0
# HELP vetnet_test_up Whether it is up.
# TYPE vetnet_test_up gauge
vetnet_test_up 1
# HELP vetnet_test_stations Stations by state.
# TYPE vetnet_test_stations gauge
vetnet_test_stations{state="offline"} 0.5
vetnet_test_stations{state="online"} 2
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
	if c.Value("checkins") != 3 || c.Sum() != 5 || plain.Value() != 0 {
		t.Fatal("values")
	}
}

func TestMisuse(t *testing.T) {
	tests := []struct {
		name string
		fn   func()
	}{
		{"twice", func() { r := NewRegistry(); r.Counter("a_total", ""); r.Counter("a_total", "") }},
		{"label count", func() { NewRegistry().Counter("a_total", "", "x").Inc() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			tt.fn()
		})
	}
}
