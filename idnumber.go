package vetnet

import (
	"strings"
	"time"
)

// IDNumberLen is the length of a mainland resident ID number (GB 11643-1999),
// which the Hong Kong/Macau/Taiwan residence permits share. Foreign permanent
// residence cards of the 2023 format also have 18 characters and the same
// check character.
const IDNumberLen = 18

// provinces are the valid first two digits of a region code (GB/T 2260),
// including 71 Taiwan, 81 Hong Kong, 82 Macau, 83 for residence permits of
// Taiwan residents and 9x used by foreign permanent residence cards.
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true, "83": true,
	"91": true, "92": true, "93": true, "94": true, "95": true,
}

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

// IDCheckChar returns the ISO 7064 MOD 11-2 check character for the first
// 17 digits of an ID number. It returns 0 if first17 is not 17 ASCII digits.
func IDCheckChar(first17 string) byte {
	if len(first17) != 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0
		}
		sum += int(c-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

// NormalizeIDNumber trims spaces and upper-cases a trailing x.
func NormalizeIDNumber(s string) string {
	return strings.ToUpper(strings.TrimSpace(s))
}

// ValidateIDNumber checks an 18-character ID number: its length, that the
// first 17 characters are digits, the province of the region code, that the
// birth date is a real date not in the future (relative to now) and not
// before 1900, and the MOD 11-2 check character. The input must already be
// normalised (see NormalizeIDNumber). Errors are EINVALID with a message
// that never repeats the number.
func ValidateIDNumber(id string, now time.Time) error { return validateIDNumber(id, now, false) }

// validateIDNumber is ValidateIDNumber; hmt accepts the region codes of
// residence permits (810000, 820000, 830000), which end in 0000.
func validateIDNumber(id string, now time.Time, hmt bool) error {
	if len(id) != IDNumberLen {
		return Errorz(EINVALID, "身份证号码应为18位", "An ID number has 18 characters.")
	}
	for i := 0; i < 17; i++ {
		if id[i] < '0' || id[i] > '9' {
			return Errorz(EINVALID, "身份证号码前17位应为数字", "The first 17 characters of an ID number are digits.")
		}
	}
	last := id[17]
	if !(last >= '0' && last <= '9') && last != 'X' {
		return Errorz(EINVALID, "身份证号码最后一位应为数字或X", "The last character of an ID number is a digit or X.")
	}
	if !provinces[id[:2]] || id[2:6] == "0000" && !hmt {
		return Errorz(EINVALID, "身份证号码的地区代码无效", "The region code of the ID number is not valid.")
	}
	if _, err := IDBirthDate(id, now); err != nil {
		return err
	}
	if IDCheckChar(id[:17]) != last {
		return Errorz(EINVALID, "身份证号码校验位不正确，请核对", "The check character of the ID number is wrong; please check it.")
	}
	return nil
}

// IDBirthDate returns the birth date encoded in characters 7–14 of an
// 18-character ID number. It fails with EINVALID when the date is not a real
// calendar date, is before 1900-01-01 or after now.
func IDBirthDate(id string, now time.Time) (time.Time, error) {
	if len(id) < 14 {
		return time.Time{}, Errorz(EINVALID, "身份证号码过短", "The ID number is too short.")
	}
	d, err := time.Parse("20060102", id[6:14])
	if err != nil || d.Format("20060102") != id[6:14] {
		return time.Time{}, Errorz(EINVALID, "身份证号码中的出生日期无效", "The birth date in the ID number is not a real date.")
	}
	if d.Year() < 1900 || d.After(now) {
		return time.Time{}, Errorz(EINVALID, "身份证号码中的出生日期超出范围", "The birth date in the ID number is out of range.")
	}
	return d, nil
}

// MaskIDNumber shows the region code and the last four characters only:
// 320411********123X. Anything that is not 18 characters long is masked
// completely except its last two characters, so a malformed number never
// leaks whole.
func MaskIDNumber(id string) string {
	if len(id) == IDNumberLen {
		return id[:6] + "********" + id[14:]
	}
	r := []rune(id)
	if len(r) <= 2 {
		return strings.Repeat("*", len(r))
	}
	return strings.Repeat("*", len(r)-2) + string(r[len(r)-2:])
}

// MaskName keeps the first character of a name and, for names of
// exactly three characters, the last one too: 张* · 张*明 · 欧***. Latin names (from
// foreign permanent residence cards) keep the first letter of each word.
func MaskName(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return ""
	}
	if strings.ContainsRune(name, ' ') {
		words := strings.Fields(name)
		for i, w := range words {
			r := []rune(w)
			words[i] = string(r[0]) + strings.Repeat("*", len(r)-1)
		}
		return strings.Join(words, " ")
	}
	r := []rune(name)
	switch {
	case len(r) == 1:
		return "*"
	case len(r) == 2:
		return string(r[0]) + "*"
	case len(r) == 3:
		return string(r[0]) + "*" + string(r[2])
	default:
		return string(r[0]) + strings.Repeat("*", len(r)-1)
	}
}

// ForeignCardNumberLen is the length of the number of a foreign permanent
// residence card of the 2017 edition: three letters of the nationality and
// twelve digits. (The 2023 edition has 18 characters, starting with 9, and
// the check character of ID numbers.)
const ForeignCardNumberLen = 15

// HMTPrefixes start the ID numbers of residence permits of Hong Kong,
// Macau and Taiwan residents.
var HMTPrefixes = []string{"810000", "820000", "830000"}

// ValidateDocNumber checks the number of a document of type doc: an ID
// number (ValidateIDNumber) for a resident ID card; an ID number starting
// with one of HMTPrefixes for a Hong Kong/Macau/Taiwan residence permit; for
// a foreign permanent residence card either an 18-character number starting
// with 9 (checked as an ID number) or a 15-character number of the 2017
// edition (three capital letters and twelve digits; its check digit is not
// public, so only the form is checked). An empty doc is a resident ID card.
// The input must be normalised (NormalizeIDNumber). Errors are EINVALID and
// never repeat the number.
func ValidateDocNumber(doc DocType, id string, now time.Time) error {
	switch doc {
	case "", DocResident:
		return ValidateIDNumber(id, now)
	case DocHMT:
		for _, p := range HMTPrefixes {
			if strings.HasPrefix(id, p) {
				return validateIDNumber(id, now, true)
			}
		}
		if err := ValidateIDNumber(id, now); err != nil {
			return err
		}
		return Errorz(EINVALID, "港澳台居民居住证号码应以810000、820000或830000开头", "The number of an HMT residence permit starts with 810000, 820000 or 830000.")
	case DocForeign:
		if len(id) == IDNumberLen {
			if id[0] != '9' {
				return Errorz(EINVALID, "外国人永久居留身份证号码应以9开头", "An 18-character foreign permanent residence card number starts with 9.")
			}
			return ValidateIDNumber(id, now)
		}
		if len(id) != ForeignCardNumberLen {
			return Errorz(EINVALID, "外国人永久居留身份证号码应为15位或18位", "A foreign permanent residence card number has 15 or 18 characters.")
		}
		for i := 0; i < len(id); i++ {
			c := id[i]
			if i < 3 && (c < 'A' || c > 'Z') || i >= 3 && (c < '0' || c > '9') {
				return Errorz(EINVALID, "外国人永久居留身份证号码格式不正确", "A 15-character foreign permanent residence card number is three letters and twelve digits.")
			}
		}
		return nil
	}
	return Errorz(EINVALID, "未知的证件类型", "Unknown document type.")
}
