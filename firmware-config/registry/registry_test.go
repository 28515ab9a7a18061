package registry_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/firmware-config/registry"
)

func TestLoadDemo(t *testing.T) {
	r, err := registry.Load("../stations/demo.toml")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(r.Stations()); n < 5 {
		t.Fatalf("%d stations", n)
	}
	st, ok := r.Station("cz-xb-sanjing-xinqiao")
	if !ok || st.Level != vetnet.LevelVillage || st.Parent != "cz-xb-sanjing" || !st.Offers(vetnet.ServiceLegalAid) {
		t.Fatalf("%+v", st)
	}
	town, _ := r.Station("cz-xb-sanjing")
	if len(town.Staff) != 2 || town.Staff[0].BadgeUID != "04A22B1A5C8011" || !vetnet.CheckPIN(town.Staff[0].PINHash, "1357") ||
		!vetnet.CheckPIN(town.Staff[1].PINHash, "2468") {
		t.Fatalf("staff of %s: %+v", town.ID, town.Staff)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"syntax", "[[station]]\nid = \n", "x.toml:2"},
		{"unknown field", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"district\"\ncolour=\"red\"\n", `x.toml:5: unknown field "station.colour"`},
		{"bad level", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"city\"\n", `x.toml:4: station ab (#1): level: "city" is not`},
		{"missing parent", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"town\"\nparent=\"zz\"\n", `x.toml:5: station ab: parent: "zz" is not in the registry`},
		{"no parent", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"town\"\n", `x.toml:1: station ab (#1): parent: required for a town station`},
		{"village under district", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"district\"\n[[station]]\nid=\"cd\"\nname=\"c\"\nlevel=\"village\"\nparent=\"ab\"\n", "x.toml:9: station cd: parent: a village station cannot report to a district"},
		{"duplicate", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"district\"\n[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"district\"\n", "x.toml:6: station ab (#2): id: repeated: also station #1"},
		{"bad id", "# c\n\n[[station]]\nid=\"AB\"\nname=\"a\"\nlevel=\"district\"\n", "x.toml:4: station AB (#1): id: A station ID has"},
		{"no name", "[[station]]\nid=\"ab\"\nlevel=\"district\"\n", "x.toml:1: station ab (#1): name: required"},
		{"bad service", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"district\"\nservices = [\n \"benefits\",\n \"karaoke\",\n]\ncontact=\"1\"\nhours=[\"mon-fri 08:00-17:00\"]\n", `x.toml:5: station ab (#1): services: "karaoke" is not a service`},
		{"wrong type", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"district\"\nservices=\"benefits\"\n", "services"},
		{"bad hours", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"district\"\nhours = [\"mon-fri 08:30-12:00,14:00-17:30\", \"fri 09:00-12:00\"]\n", `x.toml:5: station ab (#1): hours: hours[1] "fri 09:00-12:00": fri is already named`},
		{"hours backwards", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"district\"\nhours = [\"mon 17:00-08:00\"]\n", `hours: hours[0] "mon 17:00-08:00": "17:00-08:00" ends before it starts`},
		{"second station's staff", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"district\"\n[[station.staff]]\nid=\"s1\"\nname=\"甲\"\nrole=\"head\"\nbadge=\"AA:BB:CC:DD\"\n[[station]]\nid=\"cd\"\nname=\"c\"\nlevel=\"town\"\nparent=\"ab\"\n[[station.staff]]\nid=\"s2\"\nname=\"乙\"\nrole=\"boss\"\nbadge=\"DEADBEEF\"\n", "x.toml:15: station cd (#2): staff s2: Unknown staff role"},
		{"empty", "", "no [[station]] entries"},
		{"staff without badge or PIN", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"district\"\n[[station.staff]]\nid=\"s1\"\nname=\"甲\"\nrole=\"head\"\n", "x.toml:5: station ab (#1): staff s1: A staff member needs a badge or a PIN"},
		{"staff role", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"district\"\n[[station.staff]]\nid=\"s1\"\nname=\"甲\"\nrole=\"boss\"\nbadge=\"DEADBEEF\"\n", "staff s1: Unknown staff role"},
		{"badge of two people", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"district\"\n[[station.staff]]\nid=\"s1\"\nname=\"甲\"\nrole=\"head\"\nbadge=\"DEADBEEF\"\n[[station]]\nid=\"cd\"\nname=\"c\"\nlevel=\"town\"\nparent=\"ab\"\n[[station.staff]]\nid=\"s2\"\nname=\"乙\"\nrole=\"head\"\nbadge=\"de:ad:be:ef\"\n", "x.toml:19: station cd: staff s2: badge: already the badge of s1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := registry.Parse("x.toml", tt.text)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if vetnet.ErrorCode(err) != vetnet.EINVALID {
				t.Fatalf("code %s", vetnet.ErrorCode(err))
			}
		})
	}
}

// Every problem of a file is reported, each at its own line, in line order.
func TestParseReportsEveryProblemInLineOrder(t *testing.T) {
	text := `[[station]]
id    = "ab"
name  = "a"
level = "district"

[[station]]
id     = "cd"
name   = "c"
level  = "town"
parent = "ab"
hours  = ["sun-mon 09:00-12:00"]

[[station]]
id     = "ef"
name   = "e"
level  = "village"
parent = "nowhere"
`
	_, err := registry.Parse("broken.toml", text)
	if err == nil {
		t.Fatal("no error")
	}
	msg := vetnet.ErrorMessage(err, "en")
	want := []string{"broken.toml:11: station cd (#2): hours:", `broken.toml:17: station ef: parent: "nowhere" is not in the registry`}
	last := -1
	for _, w := range want {
		i := strings.Index(msg, w)
		if i < 0 || i < last {
			t.Fatalf("message\n%s\nlacks %q in order", msg, w)
		}
		last = i
	}
	if zh := vetnet.ErrorMessage(err, "zh"); !strings.HasPrefix(zh, "站点清单有误") {
		t.Fatalf("zh: %s", zh)
	}
}

func TestOpeningHoursLoaded(t *testing.T) {
	r, err := registry.Load("../stations/demo.toml")
	if err != nil {
		t.Fatal(err)
	}
	st, _ := r.Station("cz-xb-sanjing-xinqiao")
	if !st.Hours.Published() {
		t.Fatalf("no hours: %+v", st.Hours)
	}
	loc := time.FixedZone("CST", 8*3600)
	if !st.Hours.OpenAt(time.Date(2026, 3, 2, 9, 0, 0, 0, loc)) || st.Hours.OpenAt(time.Date(2026, 3, 2, 12, 30, 0, 0, loc)) ||
		st.Hours.OpenAt(time.Date(2026, 3, 1, 9, 0, 0, 0, loc)) {
		t.Fatalf("hours %v", st.Hours.Rules)
	}
}
