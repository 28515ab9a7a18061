package vetnet_test

import (
	"strings"
	"testing"

	"github.com/vetnet/vetnet"
)

func TestStationValidate(t *testing.T) {
	tests := []struct {
		name string
		st   vetnet.Station
		ok   bool
	}{
		{"district", vetnet.Station{ID: "cz-xb", Name: "新北区退役军人服务中心", Level: vetnet.LevelDistrict}, true},
		{"village", vetnet.Station{ID: "cz-xb-v1", Name: "村站", Level: vetnet.LevelVillage, Parent: "cz-xb-t1"}, true},
		{"district with parent", vetnet.Station{ID: "cz-xb", Name: "x", Level: vetnet.LevelDistrict, Parent: "p"}, false},
		{"orphan town", vetnet.Station{ID: "cz-t", Name: "x", Level: vetnet.LevelTown}, false},
		{"bad level", vetnet.Station{ID: "cz-t", Name: "x", Level: "city", Parent: "p"}, false},
		{"no name", vetnet.Station{ID: "cz-t", Level: vetnet.LevelTown, Parent: "p"}, false},
		{"upper-case id", vetnet.Station{ID: "CZ", Name: "x", Level: vetnet.LevelDistrict}, false},
		{"topic wildcard", vetnet.Station{ID: "a+b", Name: "x", Level: vetnet.LevelDistrict}, false},
		{"double hyphen", vetnet.Station{ID: "a--b", Name: "x", Level: vetnet.LevelDistrict}, false},
		{"unknown service", vetnet.Station{ID: "ab", Name: "x", Level: vetnet.LevelDistrict, Services: []vetnet.Service{"golf"}}, false},
		{"repeated service", vetnet.Station{ID: "ab", Name: "x", Level: vetnet.LevelDistrict, Services: []vetnet.Service{"records", "records"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.st.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestOfferedServices(t *testing.T) {
	post := vetnet.Station{Level: vetnet.LevelPost}
	if !post.Offers(vetnet.ServicePostServices) || post.Offers(vetnet.ServiceHonours) {
		t.Fatal("post defaults")
	}
	town := vetnet.Station{Level: vetnet.LevelTown}
	if town.Offers(vetnet.ServicePostServices) || !town.Offers(vetnet.ServiceTraining) {
		t.Fatal("town defaults")
	}
	s := vetnet.Station{Level: vetnet.LevelVillage, Services: []vetnet.Service{"records", "employment"}}
	got := s.OfferedServices()
	if len(got) != 2 || got[0] != vetnet.ServiceEmployment {
		t.Fatalf("menu order: %v", got)
	}
	for _, sv := range vetnet.Services {
		if info, ok := sv.Info(); !ok || info.ZH == "" || info.EN == "" || info.QueuePrefix == 0 {
			t.Fatalf("service %s lacks a description", sv)
		}
	}
}

func TestRating(t *testing.T) {
	if !vetnet.RatingDissatisfied.Bad() || vetnet.RatingFair.Bad() || vetnet.Rating(0).Valid() || !vetnet.RatingVerySatisfied.Valid() {
		t.Fatal("rating rules")
	}
	if vetnet.RatingVerySatisfied.Label("zh") != "非常满意" {
		t.Fatal("label")
	}
}

func TestValidateStationID(t *testing.T) {
	for id, ok := range map[string]bool{
		"ab": true, "cz-xb-01": true, "a1-b2-c3": true, strings.Repeat("a", 64): true,
		"a": false, strings.Repeat("a", 65): false, "-ab": false, "ab-": false, "a--b": false,
		"Ab": false, "a_b": false, "a/b": false, "a+b": false, "a#b": false, "a b": false, "中文": false, "": false,
	} {
		if err := vetnet.ValidateStationID(id); (err == nil) != ok {
			t.Errorf("ValidateStationID(%q) = %v, want ok=%v", id, err, ok)
		}
	}
}
