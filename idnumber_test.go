package vetnet_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/vetnettest"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func TestValidateIDNumber(t *testing.T) {
	tests := []struct {
		name string
		id   string
		ok   bool
	}{
		{"valid with digit check", "11010519491231002X", true},
		{"born 1880, before 1900", "440524188001010014", false},
		{"too short", "32041119580115001", false},
		{"too long", "3204111958011500140", false},
		{"letter inside", "3204111958A1150014", false},
		{"lower-case x not normalised", "11010519491231002x", false},
		{"bad province", "990524188001010014", false},
		{"zero region", "110000194912310021", false},
		{"february 30", "320411195802300011", false},
		{"future birth", "320411202712010011", false},
		{"before 1900", "320411189912310011", false},
		{"wrong check char", "110105194912310021", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := vetnet.ValidateIDNumber(tt.id, now)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidateIDNumber(%q) = %v, want ok=%v", tt.id, err, tt.ok)
			}
			if err != nil && vetnet.ErrorCode(err) != vetnet.EINVALID {
				t.Fatalf("code = %q, want invalid", vetnet.ErrorCode(err))
			}
		})
	}
}

func TestIDCheckChar(t *testing.T) {
	// Worked examples of GB 11643-1999.
	for first17, want := range map[string]byte{
		"11010519491231002": 'X',
		"44052418800101001": '4',
		"abc":               0,
		"1101051949123100A": 0,
	} {
		if got := vetnet.IDCheckChar(first17); got != want {
			t.Errorf("IDCheckChar(%q) = %q, want %q", first17, got, want)
		}
	}
}

func TestSyntheticIDNumbersValidate(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		v := vetnettest.Veteran(r)
		if err := vetnet.ValidateIDNumber(v.IDNumber, now); err != nil {
			t.Fatalf("synthetic %s: %v", v.IDNumber, err)
		}
		if v.IDNumber[:6] != vetnettest.Region {
			t.Fatalf("region %s", v.IDNumber[:6])
		}
	}
}

func TestMaskIDNumber(t *testing.T) {
	for in, want := range map[string]string{
		"32041119580115123X": "320411********123X",
		"12345":              "***45",
		"":                   "",
		"1":                  "*",
	} {
		if got := vetnet.MaskIDNumber(in); got != want {
			t.Errorf("MaskIDNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskName(t *testing.T) {
	for in, want := range map[string]string{
		"张三":           "张*",
		"张三丰":          "张*丰",
		"欧阳娜娜":         "欧***",
		"王":            "*",
		"":             "",
		" 李明 ":         "李*",
		"JOHN SMITH":   "J*** S****",
		"MARIA GARCIA": "M**** G*****",
	} {
		if got := vetnet.MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzValidateIDNumber(f *testing.F) {
	f.Add("11010519491231002X")
	f.Add("320411195802300011")
	f.Add("")
	f.Add("810000199001010019")
	f.Add("USA310085110151")
	f.Add("932682198501010017")
	f.Fuzz(func(t *testing.T, id string) {
		err := vetnet.ValidateIDNumber(id, now)
		if err == nil {
			if len(id) != 18 || vetnet.IDCheckChar(id[:17]) != id[17] {
				t.Fatalf("accepted %q", id)
			}
		}
		for _, doc := range []vetnet.DocType{vetnet.DocResident, vetnet.DocHMT, vetnet.DocForeign} {
			err := vetnet.ValidateDocNumber(doc, id, now)
			if err != nil {
				if vetnet.ErrorCode(err) != vetnet.EINVALID || len(id) >= 6 && strings.Contains(vetnet.ErrorMessage(err, "zh"), id) {
					t.Fatalf("ValidateDocNumber(%s, %q): %v", doc, id, err)
				}
				continue
			}
			switch {
			case doc == vetnet.DocResident && vetnet.ValidateIDNumber(id, now) != nil,
				doc == vetnet.DocHMT && (len(id) != 18 || vetnet.IDCheckChar(id[:17]) != id[17] || !strings.HasPrefix(id, "8") || id[2:6] != "0000"),
				doc == vetnet.DocForeign && len(id) == 18 && (id[0] != '9' || vetnet.IDCheckChar(id[:17]) != id[17]),
				doc == vetnet.DocForeign && len(id) != 18 && len(id) != vetnet.ForeignCardNumberLen:
				t.Fatalf("ValidateDocNumber(%s) accepted %q", doc, id)
			}
		}
		m := vetnet.MaskIDNumber(id)
		if len(id) == 18 {
			if m[:6] != id[:6] || m[6:14] != "********" || m[14:] != id[14:] {
				t.Fatalf("MaskIDNumber(%q) = %q", id, m)
			}
		} else if r := []rune(m); len(r) > 2 && strings.Trim(string(r[:len(r)-2]), "*") != "" {
			t.Fatalf("MaskIDNumber(%q) = %q shows more than the last two characters", id, m)
		}
	})
}

// FuzzMask: masking never panics, never returns an 18-character ID
// number's birth date, and never returns a name of two or more characters
// whole.
func FuzzMask(f *testing.F) {
	f.Add("320411195003070011")
	f.Add("张三")
	f.Add("欧阳建国")
	f.Add("John Smith")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		m := vetnet.MaskIDNumber(s)
		if len(s) == vetnet.IDNumberLen && m[6:14] != "********" {
			t.Fatalf("MaskIDNumber(%q) = %q keeps the birth date", s, m)
		}
		if r := []rune(m); len(s) != vetnet.IDNumberLen && len(r) > 2 && strings.Trim(string(r[:len(r)-2]), "*") != "" {
			t.Fatalf("MaskIDNumber(%q) = %q shows more than its last two characters", s, m)
		}
		n := vetnet.MaskName(s)
		long := false // a word of two or more characters, which must lose some
		for _, w := range strings.Fields(s) {
			long = long || len([]rune(w)) >= 2
		}
		if long && n == strings.TrimSpace(s) && !strings.Contains(s, "*") {
			t.Fatalf("MaskName(%q) returned it whole", s)
		}
	})
}
