package sam_test

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/reader/sam"
	"github.com/vetnet/vetnet/edge-agent/reader/sam/samtest"
)

var now = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)

func resident() sam.Card {
	return sam.Card{Doc: vetnet.DocResident, Name: "张建国", Gender: sam.GenderFemale, Nation: "01", Birth: "19491231",
		Address: "北京市东城区景山前街4号", IDNumber: "11010519491231002X", Authority: "北京市公安局东城分局",
		ValidFrom: "20100101", ValidTo: sam.NoExpiry}
}

func encode(t testing.TB, c sam.Card) []byte {
	t.Helper()
	b, err := sam.EncodeText(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// putUnits writes UTF-16 units at a byte offset of a block.
func putUnits(b []byte, off int, units ...uint16) []byte {
	for i, u := range units {
		binary.LittleEndian.PutUint16(b[off+2*i:], u)
	}
	return b
}

func TestDecodeCards(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	hmt, foreign := samtest.HMTCard(r), samtest.ForeignCard(r)
	rare := resident()
	rare.Name = "张𠀾" // a name with a character outside the BMP (a surrogate pair)
	dated := resident()
	dated.ValidTo = "20300101"
	tests := []struct {
		name string
		card sam.Card
	}{
		{"resident", resident()},
		{"resident, valid to a date", dated},
		{"resident, rare character", rare},
		{"hmt (J)", hmt},
		{"foreign (I)", foreign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sam.DecodeText(encode(t, tt.card), now)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.card
			if got.Doc != want.Doc || got.Name != want.Name || got.NameEN != want.NameEN || got.Gender != want.Gender ||
				got.Nation != want.Nation || got.Birth != want.Birth || got.Address != want.Address ||
				got.IDNumber != want.IDNumber || got.Authority != want.Authority || got.ValidFrom != want.ValidFrom ||
				got.ValidTo != want.ValidTo || got.PassNumber != want.PassNumber || got.IssueCount != want.IssueCount ||
				got.Nationality != want.Nationality || got.Version != want.Version {
				t.Errorf("decoded\n%+v\nwant\n%+v", got, want)
			}
		})
	}
	v := tests[3].card
	if got, _ := sam.DecodeText(encode(t, v), now); got.Visitor().DocType != vetnet.DocHMT {
		t.Errorf("hmt visitor: %+v", got.Visitor())
	}
	if got, _ := sam.DecodeText(encode(t, foreign), now); got.Visitor().Name != "史密斯" || got.Visitor().IDNumber != foreign.IDNumber {
		t.Errorf("foreign visitor: %+v", got.Visitor())
	}
}

// Trailing spaces and NULs are padding; a field padded with NULs instead
// of spaces decodes the same.
func TestPaddingTrimmed(t *testing.T) {
	b := encode(t, resident())
	putUnits(b, 6, 0, 0, 0, 0, 0) // after 张建国 (3 units): NULs instead of spaces
	putUnits(b, 186, 0)           // the last unit of the authority
	c, err := sam.DecodeText(b, now)
	if err != nil || c.Name != "张建国" || c.Authority != "北京市公安局东城分局" {
		t.Fatalf("%q %q %v", c.Name, c.Authority, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name      string
		block     func(t *testing.T) []byte
		wantField string // "" for UnsupportedCardError
	}{
		{"short block", func(t *testing.T) []byte { return make([]byte, 100) }, "text"},
		{"nation unknown", func(t *testing.T) []byte { c := resident(); c.Nation = "57"; return encode(t, c) }, "nation"},
		{"nation missing", func(t *testing.T) []byte { c := resident(); c.Nation = ""; return encode(t, c) }, "nation"},
		{"gender unknown", func(t *testing.T) []byte { c := resident(); c.Gender = '3'; return encode(t, c) }, "gender"},
		{"gender contradicts the ID number", func(t *testing.T) []byte { c := resident(); c.Gender = sam.GenderMale; return encode(t, c) }, "id_number"},
		{"birth differs from the ID number", func(t *testing.T) []byte { c := resident(); c.Birth = "19491230"; return encode(t, c) }, "id_number"},
		{"birth not a date", func(t *testing.T) []byte { c := resident(); c.Birth = "19490231"; return encode(t, c) }, "birth"},
		{"ID check character", func(t *testing.T) []byte { c := resident(); c.IDNumber = "110105194912310021"; return encode(t, c) }, "id_number"},
		{"ID number short", func(t *testing.T) []byte { c := resident(); c.IDNumber = "1101051949"; return encode(t, c) }, "id_number"},
		{"name empty", func(t *testing.T) []byte { c := resident(); c.Name = ""; return encode(t, c) }, "name"},
		{"name with a control character", func(t *testing.T) []byte { return putUnits(encode(t, resident()), 2, 0x0007) }, "name"},
		{"name with a lone surrogate", func(t *testing.T) []byte { return putUnits(encode(t, resident()), 2, 0xD800) }, "name"},
		{"name with a lone low surrogate", func(t *testing.T) []byte { return putUnits(encode(t, resident()), 2, 0xDC00) }, "name"},
		{"valid to before valid from", func(t *testing.T) []byte { c := resident(); c.ValidTo = "20000101"; return encode(t, c) }, "valid_to"},
		{"valid to garbage", func(t *testing.T) []byte { c := resident(); c.ValidTo = "永久"; return encode(t, c) }, "valid_to"},
		{"hmt with a mainland number", func(t *testing.T) []byte {
			c := samtest.HMTCard(rand.New(rand.NewPCG(3, 4)))
			c.IDNumber = "11010519491231002X"
			c.Birth, c.Gender = "19491231", sam.GenderFemale
			return encode(t, c)
		}, "id_number"},
		{"hmt without a pass number", func(t *testing.T) []byte {
			c := samtest.HMTCard(rand.New(rand.NewPCG(3, 4)))
			c.PassNumber = ""
			return encode(t, c)
		}, "pass_number"},
		{"hmt issue count", func(t *testing.T) []byte {
			c := samtest.HMTCard(rand.New(rand.NewPCG(3, 4)))
			c.IssueCount = "1x"
			return encode(t, c)
		}, "issue_count"},
		{"foreign card number", func(t *testing.T) []byte {
			c := samtest.ForeignCard(rand.New(rand.NewPCG(3, 4)))
			c.IDNumber = "US1234567890123"
			return encode(t, c)
		}, "card_number"},
		{"foreign nationality", func(t *testing.T) []byte {
			c := samtest.ForeignCard(rand.New(rand.NewPCG(3, 4)))
			c.Nationality = "us"
			return encode(t, c)
		}, "nationality"},
		{"foreign without English name", func(t *testing.T) []byte {
			c := samtest.ForeignCard(rand.New(rand.NewPCG(3, 4)))
			c.NameEN = ""
			return encode(t, c)
		}, "name_en"},
		{"card type Y", func(t *testing.T) []byte { return putUnits(encode(t, resident()), 248, 'Y') }, ""},
		{"card type digit", func(t *testing.T) []byte { return putUnits(encode(t, resident()), 248, '9') }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sam.DecodeText(tt.block(t), now)
			if err == nil {
				t.Fatal("no error")
			}
			var de *sam.DecodeError
			var ue *sam.UnsupportedCardError
			switch {
			case tt.wantField == "" && !errors.As(err, &ue):
				t.Fatalf("err = %v, want UnsupportedCardError", err)
			case tt.wantField != "" && (!errors.As(err, &de) || de.Field != tt.wantField):
				t.Fatalf("err = %v, want a DecodeError of %s", err, tt.wantField)
			}
			if vetnet.ErrorCode(err) != vetnet.EINVALID {
				t.Errorf("code %s", vetnet.ErrorCode(err))
			}
			zh, en := vetnet.ErrorMessage(err, "zh"), vetnet.ErrorMessage(err, "en")
			if zh == "" || en == "" || zh == en {
				t.Errorf("messages %q / %q", zh, en)
			}
			// No card data in any message.
			for _, s := range []string{err.Error(), zh, en} {
				for _, secret := range []string{"张建国", "11010519491231002X", "110105"} {
					if contains(s, secret) {
						t.Errorf("message %q shows card data", s)
					}
				}
			}
		})
	}
}

func contains(s, sub string) bool {
	return len(sub) > 0 && len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestEncodeTooLong(t *testing.T) {
	c := resident()
	c.Name = string(utf16.Decode(make([]uint16, 16)))
	if _, err := sam.EncodeText(c); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("err = %v", err)
	}
}
