package sam

import (
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf16"

	"github.com/vetnet/vetnet"
)

// TextLen is the size of the text block of every card type.
const TextLen = 256

// NoExpiry is what the valid-to field of a resident ID card says when the
// card does not expire (长期).
const NoExpiry = "长期"

// Card is what the text block of a card says, decoded and checked. Which
// fields are set depends on Doc.
type Card struct {
	Doc         vetnet.DocType // resident (居民身份证), hmt (港澳台居民居住证, J) or foreign (外国人永久居留身份证, I)
	Name        string         // the Chinese name; for a foreign card its optional Chinese name
	NameEN      string         // foreign: the name in Latin letters
	Gender      Gender         //
	Nation      string         // resident: two-digit code of Nations
	Birth       string         // YYYYMMDD
	Address     string         // resident, hmt
	IDNumber    string         // 18 characters; foreign (2017 edition): the 15-character card number
	Authority   string         // resident, hmt: issuing authority; foreign: the authority's code
	ValidFrom   string         // YYYYMMDD (foreign: the issue date)
	ValidTo     string         // YYYYMMDD, or NoExpiry
	PassNumber  string         // hmt: number of the pass (通行证号码)
	IssueCount  string         // hmt: how many times a permit was issued, two digits
	Nationality string         // foreign: three letters of GB/T 2659 (ISO 3166-1 alpha-3)
	Version     string         // foreign: card version
	Photo       []byte         // WLT, opaque; only when the profile asks to keep it
}

// Visitor returns the person as the agent checks them in.
func (c Card) Visitor() vetnet.Visitor {
	name := c.Name
	if name == "" {
		name = c.NameEN
	}
	return vetnet.Visitor{IDNumber: c.IDNumber, Name: name, DocType: c.Doc}
}

// field is a slice of the text block: offset and length in bytes.
type field struct {
	name     string
	off, len int
}

// The layouts. The resident and the HMT layout share their first 220 bytes.
var (
	fName      = field{"name", 0, 30}
	fGender    = field{"gender", 30, 2}
	fNation    = field{"nation", 32, 4}
	fBirth     = field{"birth", 36, 16}
	fAddress   = field{"address", 52, 70}
	fIDNumber  = field{"id_number", 122, 36}
	fAuthority = field{"authority", 158, 30}
	fValidFrom = field{"valid_from", 188, 16}
	fValidTo   = field{"valid_to", 204, 16}
	fPass      = field{"pass_number", 220, 18}
	fIssues    = field{"issue_count", 238, 4}
	fType      = field{"card_type", 248, 2}

	fEnName      = field{"name_en", 0, 120}
	fFGender     = field{"gender", 120, 2}
	fCardNo      = field{"card_number", 122, 30}
	fNationality = field{"nationality", 152, 6}
	fCnName      = field{"name", 158, 30}
	fIssued      = field{"issued", 188, 16}
	fExpiry      = field{"valid_to", 204, 16}
	fFBirth      = field{"birth", 220, 16}
	fVersion     = field{"version", 236, 4}
	fAuthCode    = field{"authority", 240, 8}
)

// DecodeText decodes and checks the 256-byte text block of a card; now
// bounds the birth date in the ID number. Errors are *DecodeError (or
// *UnsupportedCardError for a card type other than a resident ID card, J
// or I); both unwrap to a *vetnet.Error (EINVALID) for the kiosk. An error
// never carries card data.
func DecodeText(block []byte, now time.Time) (Card, error) {
	if len(block) != TextLen {
		return Card{}, decodeErr("text", fmt.Sprintf("%d bytes, want %d", len(block), TextLen))
	}
	t := binary.LittleEndian.Uint16(block[fType.off:])
	switch t {
	case 0x0000, ' ':
		return decodeResident(block, vetnet.DocResident, now)
	case 'J':
		return decodeResident(block, vetnet.DocHMT, now)
	case 'I':
		return decodeForeign(block, now)
	}
	return Card{}, &UnsupportedCardError{Type: t}
}

type textReader struct {
	block []byte
	err   error
}

// str decodes a UTF-16LE field, trimming trailing spaces and NULs. Control
// characters and broken surrogates are an error: a name or number never
// holds them, and the kiosk and the log must not show them.
func (r *textReader) str(f field) string {
	if r.err != nil {
		return ""
	}
	units := make([]uint16, f.len/2)
	for i := range units {
		units[i] = binary.LittleEndian.Uint16(r.block[f.off+2*i:])
	}
	for len(units) > 0 && (units[len(units)-1] == ' ' || units[len(units)-1] == 0) {
		units = units[:len(units)-1]
	}
	for i := 0; i < len(units); i++ {
		u := units[i]
		switch {
		case u < 0x20 || u == 0x7F || (u >= 0x80 && u < 0xA0) || u == 0xFFFE || u == 0xFFFF:
			r.err = decodeErr(f.name, "control character")
			return ""
		case u >= 0xD800 && u < 0xDC00: // a high surrogate needs a low one after it
			if i+1 >= len(units) || units[i+1] < 0xDC00 || units[i+1] > 0xDFFF {
				r.err = decodeErr(f.name, "broken UTF-16")
				return ""
			}
			i++
		case u >= 0xDC00 && u <= 0xDFFF:
			r.err = decodeErr(f.name, "broken UTF-16")
			return ""
		}
	}
	return string(utf16.Decode(units))
}

// need is str for a field that must not be empty.
func (r *textReader) need(f field) string {
	s := r.str(f)
	if r.err == nil && s == "" {
		r.err = decodeErr(f.name, "empty")
	}
	return s
}

func (r *textReader) check(f field, err string) {
	if r.err == nil && err != "" {
		r.err = decodeErr(f.name, err)
	}
}

func decodeResident(block []byte, doc vetnet.DocType, now time.Time) (Card, error) {
	r := &textReader{block: block}
	c := Card{Doc: doc}
	c.Name = r.need(fName)
	c.Gender = gender(r, fGender)
	if doc == vetnet.DocResident {
		c.Nation = r.need(fNation)
		if _, ok := Nations[c.Nation]; r.err == nil && !ok {
			r.check(fNation, "not a code of GB/T 3304")
		}
	}
	c.Birth = r.need(fBirth)
	r.check(fBirth, checkDate(c.Birth))
	c.Address = r.str(fAddress)
	c.IDNumber = vetnet.NormalizeIDNumber(r.need(fIDNumber))
	if r.err == nil {
		if err := vetnet.ValidateDocNumber(doc, c.IDNumber, now); err != nil {
			return Card{}, &DecodeError{Field: fIDNumber.name, Reason: "invalid", err: err}
		}
		if c.IDNumber[6:14] != c.Birth {
			r.check(fIDNumber, "birth date differs from the birth field")
		}
		male := (c.IDNumber[16]-'0')%2 == 1
		if (c.Gender == GenderMale && !male) || (c.Gender == GenderFemale && male) {
			r.check(fIDNumber, "sequence code contradicts the gender field")
		}
	}
	c.Authority = r.str(fAuthority)
	c.ValidFrom = r.need(fValidFrom)
	r.check(fValidFrom, checkDate(c.ValidFrom))
	c.ValidTo = r.need(fValidTo)
	if c.ValidTo != NoExpiry {
		r.check(fValidTo, checkDate(c.ValidTo))
		if r.err == nil && c.ValidTo < c.ValidFrom {
			r.check(fValidTo, "before valid_from")
		}
	}
	if doc == vetnet.DocHMT {
		c.PassNumber = r.need(fPass)
		r.check(fPass, checkPrintable(c.PassNumber))
		c.IssueCount = r.need(fIssues)
		r.check(fIssues, checkDigits(c.IssueCount, 2))
	}
	if r.err != nil {
		return Card{}, r.err
	}
	return c, nil
}

func decodeForeign(block []byte, now time.Time) (Card, error) {
	r := &textReader{block: block}
	c := Card{Doc: vetnet.DocForeign}
	c.NameEN = r.need(fEnName)
	r.check(fEnName, checkPrintable(c.NameEN))
	c.Gender = gender(r, fFGender)
	c.IDNumber = vetnet.NormalizeIDNumber(r.need(fCardNo))
	if r.err == nil {
		if err := vetnet.ValidateDocNumber(vetnet.DocForeign, c.IDNumber, now); err != nil {
			return Card{}, &DecodeError{Field: fCardNo.name, Reason: "invalid", err: err}
		}
	}
	c.Nationality = r.need(fNationality)
	r.check(fNationality, checkLetters(c.Nationality, 3))
	c.Name = r.str(fCnName)
	c.ValidFrom = r.need(fIssued)
	r.check(fIssued, checkDate(c.ValidFrom))
	c.ValidTo = r.need(fExpiry)
	r.check(fExpiry, checkDate(c.ValidTo))
	if r.err == nil && c.ValidTo < c.ValidFrom {
		r.check(fExpiry, "before the issue date")
	}
	c.Birth = r.need(fFBirth)
	r.check(fFBirth, checkDate(c.Birth))
	c.Version = r.str(fVersion)
	r.check(fVersion, checkPrintable(c.Version))
	c.Authority = r.str(fAuthCode)
	r.check(fAuthCode, checkPrintable(c.Authority))
	if r.err != nil {
		return Card{}, r.err
	}
	return c, nil
}

func gender(r *textReader, f field) Gender {
	s := r.need(f)
	if r.err != nil {
		return 0
	}
	if len(s) != 1 || !Gender(s[0]).Valid() {
		r.check(f, "not a code of GB/T 2261.1")
		return 0
	}
	return Gender(s[0])
}

func checkDate(s string) string {
	if len(s) != 8 {
		return "not YYYYMMDD"
	}
	d, err := time.Parse("20060102", s)
	if err != nil || d.Format("20060102") != s || d.Year() < 1900 {
		return "not a real date"
	}
	return ""
}

func checkDigits(s string, n int) string {
	if len(s) != n {
		return fmt.Sprintf("not %d digits", n)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return fmt.Sprintf("not %d digits", n)
		}
	}
	return ""
}

func checkLetters(s string, n int) string {
	if len(s) != n {
		return fmt.Sprintf("not %d capital letters", n)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return fmt.Sprintf("not %d capital letters", n)
		}
	}
	return ""
}

// checkPrintable accepts printable ASCII (Latin names, pass numbers,
// codes).
func checkPrintable(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7E {
			return "not printable ASCII"
		}
	}
	return ""
}

// EncodeText builds the text block of c, as a card holds it (the emulator
// and the tests use it). Fields are written without checks beyond their
// size: a test may build a card the decoder must refuse.
//
// Errors: EINVALID when a field does not fit its place or Doc is unknown.
func EncodeText(c Card) ([]byte, error) {
	b := make([]byte, TextLen)
	for i := 0; i < TextLen; i += 2 {
		binary.LittleEndian.PutUint16(b[i:], ' ')
	}
	var err error
	put := func(f field, s string) {
		if err != nil {
			return
		}
		u := utf16.Encode([]rune(s))
		if 2*len(u) > f.len {
			err = vetnet.Errorz(vetnet.EINVALID, "字段过长", "Field "+f.name+" is too long for the text block.")
			return
		}
		for i, x := range u {
			binary.LittleEndian.PutUint16(b[f.off+2*i:], x)
		}
	}
	switch c.Doc {
	case vetnet.DocResident, vetnet.DocHMT, "":
		put(fName, c.Name)
		put(fGender, c.Gender.String())
		put(fNation, c.Nation)
		put(fBirth, c.Birth)
		put(fAddress, c.Address)
		put(fIDNumber, c.IDNumber)
		put(fAuthority, c.Authority)
		put(fValidFrom, c.ValidFrom)
		put(fValidTo, c.ValidTo)
		if c.Doc == vetnet.DocHMT {
			put(fPass, c.PassNumber)
			put(fIssues, c.IssueCount)
			put(fType, "J")
		}
	case vetnet.DocForeign:
		put(fEnName, c.NameEN)
		put(fFGender, c.Gender.String())
		put(fCardNo, c.IDNumber)
		put(fNationality, c.Nationality)
		put(fCnName, c.Name)
		put(fIssued, c.ValidFrom)
		put(fExpiry, c.ValidTo)
		put(fFBirth, c.Birth)
		put(fVersion, c.Version)
		put(fAuthCode, c.Authority)
		put(fType, "I")
	default:
		err = vetnet.Errorz(vetnet.EINVALID, "未知的证件类型", "Unknown document type "+string(c.Doc)+".")
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// DecodeError is a text block that does not hold a valid card. It unwraps
// to a *vetnet.Error (EINVALID) that can be shown on the kiosk; Field and
// Reason are for technicians and never hold card data.
type DecodeError struct {
	Field  string // e.g. "nation", "id_number"
	Reason string // e.g. "not a code of GB/T 3304"
	err    error  // a more precise error for people, if any
}

func decodeErr(f, reason string) *DecodeError { return &DecodeError{Field: f, Reason: reason} }

func (e *DecodeError) Error() string { return "sam: text block: " + e.Field + ": " + e.Reason }

func (e *DecodeError) Unwrap() error {
	if e.Field == fIDNumber.name || e.Field == fCardNo.name {
		return vetnet.Wrap(vetnet.EINVALID, e.err, "证件号码校验未通过，请联系工作人员", "The number on the card failed its check. Please ask staff.")
	}
	return vetnet.Errorz(vetnet.EINVALID, "证件信息无法识别，请重新放卡或联系工作人员", "The card's data cannot be understood. Place the card again or ask staff.")
}

// UnsupportedCardError is a card whose type this reader does not know
// (e.g. the 2023 foreign permanent residence card, whose layout is not
// public). It unwraps to a *vetnet.Error (EINVALID).
type UnsupportedCardError struct {
	Type uint16 // the UTF-16 unit at byte 248
}

func (e *UnsupportedCardError) Error() string {
	return fmt.Sprintf("sam: unsupported card type %q", rune(e.Type))
}

func (e *UnsupportedCardError) Unwrap() error {
	return vetnet.Errorz(vetnet.EINVALID, "暂不支持此类证件，请使用居民身份证、港澳台居民居住证或外国人永久居留身份证，或请工作人员协助登记",
		"This kind of card is not supported. Please use a resident ID card, an HMT residence permit or a foreign permanent residence card, or ask staff.")
}

// ReadData is the data of a successful read (30 01 or 30 10): the text
// block, the photo and, for 30 10, the fingerprints, each as its length
// field says.
type ReadData struct {
	Text, Photo, Fingerprint []byte
}

// ParseReadData splits the data of a read answer. fingerprint says whether
// it answers 30 10 (three length fields) or 30 01 (two).
//
// Errors: *FrameError (ReasonData) when the lengths do not add up.
func ParseReadData(data []byte, fingerprint bool) (ReadData, error) {
	n := 4
	if fingerprint {
		n = 6
	}
	if len(data) < n {
		return ReadData{}, &FrameError{Reason: ReasonData, Detail: fmt.Sprintf("%d bytes, no length fields", len(data))}
	}
	tl := int(binary.BigEndian.Uint16(data[0:]))
	pl := int(binary.BigEndian.Uint16(data[2:]))
	fl := 0
	if fingerprint {
		fl = int(binary.BigEndian.Uint16(data[4:]))
	}
	if len(data) != n+tl+pl+fl {
		return ReadData{}, &FrameError{Reason: ReasonData, Detail: fmt.Sprintf("lengths %d+%d+%d do not fill %d bytes", tl, pl, fl, len(data)-n)}
	}
	rd := ReadData{Text: data[n : n+tl], Photo: data[n+tl : n+tl+pl]}
	if fingerprint {
		rd.Fingerprint = data[n+tl+pl:]
	}
	return rd, nil
}

// EncodeReadData is the inverse of ParseReadData.
func EncodeReadData(rd ReadData, fingerprint bool) []byte {
	out := binary.BigEndian.AppendUint16(nil, uint16(len(rd.Text)))
	out = binary.BigEndian.AppendUint16(out, uint16(len(rd.Photo)))
	if fingerprint {
		out = binary.BigEndian.AppendUint16(out, uint16(len(rd.Fingerprint)))
	}
	out = append(out, rd.Text...)
	out = append(out, rd.Photo...)
	if fingerprint {
		out = append(out, rd.Fingerprint...)
	}
	return out
}
