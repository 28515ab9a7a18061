package vetnet

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Staff is a member of a station's staff as the station knows them: enough
// to recognise their badge or PIN at the kiosk and to record who assisted
// a check-in. The roster is defined with the station (firmware-config) and
// delivered to it in the hub's retained configuration.
type Staff struct {
	ID       string    // staff ID (工号), unique in the district; see ValidateStaffID
	Name     string    // display name, shown to staff on the kiosk
	Role     StaffRole // head, officer or grid
	BadgeUID string    // UID of their MIFARE badge as upper-case hex (NormalizeBadgeUID); empty if none
	PINHash  string    // HashPIN of their PIN; empty if they sign in by badge only
}

// StaffRole is what a staff member does at the station.
type StaffRole string

const (
	RoleHead    StaffRole = "head"    // 站长
	RoleOfficer StaffRole = "officer" // 服务专干
	RoleGrid    StaffRole = "grid"    // 网格员
)

// Valid reports whether r is a known role.
func (r StaffRole) Valid() bool { return r == RoleHead || r == RoleOfficer || r == RoleGrid }

// Label names the role in lang ("zh" or "en").
func (r StaffRole) Label(lang string) string {
	names := map[StaffRole][2]string{RoleHead: {"站长", "Station head"}, RoleOfficer: {"服务专干", "Service officer"}, RoleGrid: {"网格员", "Grid worker"}}
	n, ok := names[r]
	if !ok {
		return string(r)
	}
	if lang == "zh" {
		return n[0]
	}
	return n[1]
}

var staffIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)

// ValidateStaffID checks the form of a staff ID: 1–32 letters, digits,
// dots, underscores and hyphens, starting with a letter or digit.
func ValidateStaffID(id string) error {
	if !staffIDRe.MatchString(id) {
		return Errorz(EINVALID, "工作人员编号格式无效", "A staff ID is 1–32 letters, digits, '.', '_' or '-'.")
	}
	return nil
}

// NormalizeBadgeUID returns a badge UID as upper-case hex without
// separators (04:A2:2B… and 04a22b… are the same badge).
func NormalizeBadgeUID(s string) string {
	s = strings.NewReplacer(":", "", " ", "", "-", "").Replace(strings.TrimSpace(s))
	return strings.ToUpper(s)
}

// ValidateBadgeUID checks a normalised UID: 4, 7 or 10 bytes (ISO 14443-3
// single, double and triple size) in hex.
func ValidateBadgeUID(uid string) error {
	if n := len(uid); n != 8 && n != 14 && n != 20 {
		return Errorz(EINVALID, "工作证卡号应为4、7或10字节的十六进制数", "A badge UID is 4, 7 or 10 bytes in hex.")
	}
	for i := 0; i < len(uid); i++ {
		c := uid[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return Errorz(EINVALID, "工作证卡号应为十六进制数", "A badge UID is upper-case hex.")
		}
	}
	return nil
}

// Validate checks one staff member.
func (s Staff) Validate() error {
	if err := ValidateStaffID(s.ID); err != nil {
		return err
	}
	if strings.TrimSpace(s.Name) == "" || len([]rune(s.Name)) > MaxNameLen || strings.ContainsAny(s.Name, "\x00\n\r\t") {
		return Errorz(EINVALID, "工作人员姓名为空、过长或含有非法字符", "A staff member's name is empty, too long or has control characters.")
	}
	if !s.Role.Valid() {
		return Errorz(EINVALID, "未知的工作人员角色", "Unknown staff role (head, officer or grid).")
	}
	if s.BadgeUID != "" {
		if err := ValidateBadgeUID(s.BadgeUID); err != nil {
			return err
		}
	}
	if s.PINHash != "" {
		if _, _, _, err := parsePINHash(s.PINHash); err != nil {
			return err
		}
	}
	if s.BadgeUID == "" && s.PINHash == "" {
		return Errorz(EINVALID, "工作人员需要工作证或PIN码才能登录", "A staff member needs a badge or a PIN to sign in.")
	}
	return nil
}

// ValidateRoster checks a station's staff: each member, and that IDs and
// badges are not repeated.
func ValidateRoster(staff []Staff) error {
	ids, badges := map[string]bool{}, map[string]bool{}
	for _, s := range staff {
		if err := s.Validate(); err != nil {
			return Wrap(EINVALID, err, "工作人员"+s.ID+"："+ErrorMessage(err, "zh"), "Staff "+s.ID+": "+ErrorMessage(err, "en"))
		}
		if ids[s.ID] {
			return Errorz(EINVALID, "工作人员编号重复: "+s.ID, "Staff ID "+s.ID+" is listed twice.")
		}
		ids[s.ID] = true
		if s.BadgeUID != "" {
			if badges[s.BadgeUID] {
				return Errorz(EINVALID, "工作证卡号重复", "Staff "+s.ID+": the badge is already someone else's.")
			}
			badges[s.BadgeUID] = true
		}
	}
	return nil
}

// PIN rules.
const (
	MinPINLen = 4
	MaxPINLen = 8
	// PINIterations is the PBKDF2 work factor of HashPIN. A PIN has few
	// possible values, so the hash alone cannot protect it from someone
	// holding the roster: the roster goes only to its own station, over the
	// station's own topic, and the agent locks a PIN out after a few
	// failures. The work factor only slows a bulk guess.
	PINIterations = 100_000
)

const pinScheme = "pbkdf2-sha256"

// ValidatePIN checks the form of a PIN: 4–8 digits.
func ValidatePIN(pin string) error {
	if len(pin) < MinPINLen || len(pin) > MaxPINLen {
		return Errorz(EINVALID, "PIN码应为4至8位数字", "A PIN is 4 to 8 digits.")
	}
	for i := 0; i < len(pin); i++ {
		if pin[i] < '0' || pin[i] > '9' {
			return Errorz(EINVALID, "PIN码应为4至8位数字", "A PIN is 4 to 8 digits.")
		}
	}
	return nil
}

// HashPIN returns "pbkdf2-sha256$iterations$salt$key" (base64 without
// padding) for pin, with a random salt.
//
// Errors: EINVALID (not 4–8 digits), EINTERNAL.
func HashPIN(pin string) (string, error) {
	if err := ValidatePIN(pin); err != nil {
		return "", err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", Wrap(EINTERNAL, err, "无法生成随机数", "Cannot make a salt.")
	}
	return hashPIN(pin, salt, PINIterations)
}

func hashPIN(pin string, salt []byte, iter int) (string, error) {
	key, err := pbkdf2.Key(sha256.New, pin, salt, iter, 32)
	if err != nil {
		return "", Wrap(EINTERNAL, err, "无法计算PIN码摘要", "Cannot hash the PIN.")
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("%s$%d$%s$%s", pinScheme, iter, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

func parsePINHash(h string) (iter int, salt, key []byte, err error) {
	bad := Errorz(EINVALID, "PIN码摘要格式无效", "The PIN hash is not pbkdf2-sha256$iterations$salt$key.")
	parts := strings.Split(h, "$")
	if len(parts) != 4 || parts[0] != pinScheme {
		return 0, nil, nil, bad
	}
	iter, err = strconv.Atoi(parts[1])
	if err != nil || iter < 1000 || iter > 10_000_000 {
		return 0, nil, nil, bad
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	key, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) != 32 {
		return 0, nil, nil, bad
	}
	return iter, salt, key, nil
}

// CheckPIN reports whether pin matches hash (in constant time for a hash of
// the same form). A malformed hash matches nothing.
func CheckPIN(hash, pin string) bool {
	iter, salt, key, err := parsePINHash(hash)
	if err != nil || ValidatePIN(pin) != nil {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, pin, salt, iter, 32)
	return err == nil && subtle.ConstantTimeCompare(got, key) == 1
}
