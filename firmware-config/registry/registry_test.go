package registry_test

import (
	"strings"
	"testing"

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
		{"unknown field", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"district\"\ncolour=\"red\"\n", `unknown field "station.colour"`},
		{"bad level", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"city\"\n", "station #1 (ab)"},
		{"missing parent", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"town\"\nparent=\"zz\"\n", `parent: "zz" is not in the registry`},
		{"village under district", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"district\"\n[[station]]\nid=\"cd\"\nname=\"c\"\nlevel=\"village\"\nparent=\"ab\"\n", "a village station cannot report to a district"},
		{"duplicate", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"district\"\n[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"district\"\n", "id: repeated"},
		{"empty", "", "no [[station]] entries"},
		{"staff without badge or PIN", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"district\"\n[[station.staff]]\nid=\"s1\"\nname=\"甲\"\nrole=\"head\"\n", "Staff s1: A staff member needs a badge or a PIN"},
		{"staff role", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"district\"\n[[station.staff]]\nid=\"s1\"\nname=\"甲\"\nrole=\"boss\"\nbadge=\"DEADBEEF\"\n", "Staff s1: Unknown staff role"},
		{"badge of two people", "[[station]]\nid=\"ab\"\nname=\"a\"\nlevel=\"district\"\n[[station.staff]]\nid=\"s1\"\nname=\"甲\"\nrole=\"head\"\nbadge=\"DEADBEEF\"\n[[station]]\nid=\"cd\"\nname=\"c\"\nlevel=\"town\"\nparent=\"ab\"\n[[station.staff]]\nid=\"s2\"\nname=\"乙\"\nrole=\"head\"\nbadge=\"de:ad:be:ef\"\n", "staff s2: badge: already the badge of s1"},
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
