package vetnet_test

import (
	"strings"
	"testing"

	"github.com/vetnet/vetnet"
)

func TestPIN(t *testing.T) {
	h, err := vetnet.HashPIN("2468")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "pbkdf2-sha256$100000$") || strings.Contains(h, "2468") {
		t.Fatalf("hash %q", h)
	}
	h2, _ := vetnet.HashPIN("2468")
	if h == h2 {
		t.Error("two hashes of one PIN are equal: no salt")
	}
	for pin, want := range map[string]bool{"2468": true, "2469": false, "": false, "24680": false, "abcd": false} {
		if got := vetnet.CheckPIN(h, pin); got != want {
			t.Errorf("CheckPIN(%q) = %v", pin, got)
		}
	}
	for _, bad := range []string{"", "x", "pbkdf2-sha256$1$AAAA$AAAA", "md5$100000$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		if vetnet.CheckPIN(bad, "2468") {
			t.Errorf("malformed hash %q matched", bad)
		}
	}
	for _, pin := range []string{"123", "123456789", "12a4", ""} {
		if _, err := vetnet.HashPIN(pin); vetnet.ErrorCode(err) != vetnet.EINVALID {
			t.Errorf("HashPIN(%q): %v", pin, err)
		}
	}
}

func TestRoster(t *testing.T) {
	h, _ := vetnet.HashPIN("1357")
	ok := vetnet.Staff{ID: "xb-0107", Name: "王立新", Role: vetnet.RoleHead, BadgeUID: "04A22B1A5C8011", PINHash: h}
	tests := []struct {
		name  string
		staff []vetnet.Staff
		ok    bool
	}{
		{"empty", nil, true},
		{"one", []vetnet.Staff{ok}, true},
		{"badge only", []vetnet.Staff{{ID: "a1", Name: "甲", Role: vetnet.RoleGrid, BadgeUID: "DEADBEEF"}}, true},
		{"neither badge nor PIN", []vetnet.Staff{{ID: "a1", Name: "甲", Role: vetnet.RoleGrid}}, false},
		{"bad ID", []vetnet.Staff{{ID: "a 1", Name: "甲", Role: vetnet.RoleGrid, BadgeUID: "DEADBEEF"}}, false},
		{"no name", []vetnet.Staff{{ID: "a1", Role: vetnet.RoleGrid, BadgeUID: "DEADBEEF"}}, false},
		{"bad role", []vetnet.Staff{{ID: "a1", Name: "甲", Role: "boss", BadgeUID: "DEADBEEF"}}, false},
		{"badge of 5 bytes", []vetnet.Staff{{ID: "a1", Name: "甲", Role: vetnet.RoleGrid, BadgeUID: "DEADBEEF00"}}, false},
		{"badge in lower case", []vetnet.Staff{{ID: "a1", Name: "甲", Role: vetnet.RoleGrid, BadgeUID: "deadbeef"}}, false},
		{"bad PIN hash", []vetnet.Staff{{ID: "a1", Name: "甲", Role: vetnet.RoleGrid, PINHash: "1234"}}, false},
		{"repeated ID", []vetnet.Staff{ok, ok}, false},
		{"repeated badge", []vetnet.Staff{ok, {ID: "a2", Name: "乙", Role: vetnet.RoleGrid, BadgeUID: ok.BadgeUID}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := vetnet.ValidateRoster(tt.staff)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v", err)
			}
			if err != nil && (vetnet.ErrorCode(err) != vetnet.EINVALID || vetnet.ErrorMessage(err, "zh") == vetnet.ErrorMessage(err, "en")) {
				t.Errorf("err = %v", err)
			}
		})
	}
	st := vetnet.Station{Staff: []vetnet.Staff{ok}}
	if m, found := st.StaffByBadge(vetnet.NormalizeBadgeUID("04:a2:2b:1a:5c:80:11")); !found || m.ID != ok.ID {
		t.Error("StaffByBadge")
	}
	if _, found := st.StaffByID("nobody"); found {
		t.Error("StaffByID")
	}
	if vetnet.RoleOfficer.Label("zh") != "服务专干" || vetnet.RoleHead.Label("en") != "Station head" {
		t.Error("labels")
	}
}

func TestValidateDocNumber(t *testing.T) {
	tests := []struct {
		doc vetnet.DocType
		id  string
		ok  bool
	}{
		{vetnet.DocResident, "11010519491231002X", true},
		{"", "11010519491231002X", true},
		{vetnet.DocResident, "810000199001010019", false}, // an HMT number is not a resident's
		{vetnet.DocHMT, "810000199001010019", true},
		{vetnet.DocHMT, "11010519491231002X", false},
		{vetnet.DocHMT, "810000199001010013", false}, // check character
		{vetnet.DocForeign, "USA310085110151", true},
		{vetnet.DocForeign, "US3310085110151", false},
		{vetnet.DocForeign, "USA31008511015", false},
		{vetnet.DocForeign, "932682198501010017", true},
		{vetnet.DocForeign, "11010519491231002X", false}, // 18 characters must start with 9
		{"passport", "11010519491231002X", false},
	}
	for _, tt := range tests {
		err := vetnet.ValidateDocNumber(tt.doc, tt.id, now)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateDocNumber(%q, %q) = %v", tt.doc, tt.id, err)
		}
	}
}
