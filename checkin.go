package vetnet

import (
	"crypto/rand"
	"encoding/binary"
	"io"
	"strings"
	"time"
)

// Method says how a visitor was identified at check-in.
type Method string

const (
	MethodCard   Method = "card"   // ID card read by the SAM reader
	MethodManual Method = "manual" // ID number typed by staff
	MethodQR     Method = "qr"     // preferential-treatment card or slip scanned
)

// Valid reports whether m is a known method.
func (m Method) Valid() bool {
	return m == MethodCard || m == MethodManual || m == MethodQR
}

// DocType is the kind of identity document a visitor presented.
type DocType string

const (
	DocResident DocType = "resident" // 居民身份证
	DocHMT      DocType = "hmt"      // 港澳台居民居住证 (card type J)
	DocForeign  DocType = "foreign"  // 外国人永久居留身份证 (card type I)
)

// Valid reports whether d is a known document type.
func (d DocType) Valid() bool {
	return d == DocResident || d == DocHMT || d == DocForeign
}

// Visitor is the person a check-in is about: only what the service needs.
// Both fields are personal data: show them through MaskIDNumber and
// MaskName unless a role allows more.
type Visitor struct {
	IDNumber string  // 18 characters, validated by ValidateIDNumber
	Name     string  // as printed on the document; may be empty for manual entry
	DocType  DocType // resident unless the card says otherwise
}

// Masked returns the visitor as it may be shown on screens and in logs.
func (v Visitor) Masked() Visitor {
	return Visitor{IDNumber: MaskIDNumber(v.IDNumber), Name: MaskName(v.Name), DocType: v.DocType}
}

// CheckIn is one visit registered at a station: the fact that a person
// came for a service at a time. It is made and numbered at the edge and
// stored at the hub exactly once.
type CheckIn struct {
	ID         string    // made at the edge by NewCheckInID; unique and time-sortable
	StationID  string    // the station that made it
	Seq        uint64    // the station's own sequence number, from 1, without gaps
	Visitor    Visitor   // who came
	Service    Service   // what for
	Detail     string    // the service's sub-choice (ServiceInfo.Options), or empty
	Method     Method    // how the visitor was identified
	QueueNo    string    // the ticket given, e.g. B012; unique per station, service and day
	At         time.Time // when, by the station's clock (recorded, never trusted alone)
	ReceivedAt time.Time // when the hub stored it, by the hub's clock; zero at the edge
	// Staff is the ID of the staff member who checked the visitor in on
	// their behalf (a typed ID number, Method manual); empty when the
	// visitor checked in alone.
	Staff string
	// Meeting is the ID of the meeting whose roll-call this check-in
	// answers (service training); empty for an ordinary visit.
	Meeting string
}

// MaxNameLen bounds a visitor name in characters (names on ID cards hold at
// most 15 UTF-16 units; foreign cards up to 60 letters).
const MaxNameLen = 64

// Validate checks a check-in as the hub receives it. now bounds the birth
// date in the ID number.
func (c *CheckIn) Validate(now time.Time) error {
	if err := ValidateCheckInID(c.ID); err != nil {
		return err
	}
	if err := ValidateStationID(c.StationID); err != nil {
		return err
	}
	if c.Seq == 0 {
		return Errorz(EINVALID, "签到序号必须从1开始", "A check-in's sequence number starts at 1.")
	}
	if !c.Service.Valid() {
		return Errorz(EINVALID, "未知的服务项目", "Unknown service.")
	}
	if !c.Service.ValidDetail(c.Detail) {
		return Errorz(EINVALID, "未知的服务细项", "Unknown choice within the service.")
	}
	if !c.Method.Valid() {
		return Errorz(EINVALID, "未知的身份识别方式", "Unknown identification method.")
	}
	if c.Visitor.DocType != "" && !c.Visitor.DocType.Valid() {
		return Errorz(EINVALID, "未知的证件类型", "Unknown document type.")
	}
	if err := ValidateDocNumber(c.Visitor.DocType, c.Visitor.IDNumber, now); err != nil {
		return err
	}
	if c.Meeting != "" {
		if ValidateCheckInID(c.Meeting) != nil {
			return Errorz(EINVALID, "会议编号格式无效", "The meeting ID is malformed.")
		}
		if c.Service != ServiceTraining {
			return Errorz(EINVALID, "会议签到的服务项目应为培训签到", "A meeting's roll-call check-in has the service training.")
		}
	}
	if c.Staff != "" {
		if err := ValidateStaffID(c.Staff); err != nil {
			return err
		}
	}
	if len([]rune(c.Visitor.Name)) > MaxNameLen || strings.ContainsAny(c.Visitor.Name, "\x00\n\r\t") {
		return Errorz(EINVALID, "姓名过长或含有非法字符", "The name is too long or has control characters.")
	}
	if len(c.QueueNo) > 16 {
		return Errorz(EINVALID, "排队号过长", "The queue number is too long.")
	}
	if c.At.IsZero() {
		return Errorz(EINVALID, "签到时间缺失", "A check-in needs its time.")
	}
	return nil
}

// crockford is Crockford's base32 alphabet, whose order matches byte order,
// so IDs compare as their timestamps do.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// CheckInIDLen is the length of a check-in ID.
const CheckInIDLen = 26

// NewCheckInID returns a ULID-style identifier: 48 bits of milliseconds since
// the Unix epoch and 80 random bits from entropy (crypto/rand when nil),
// written as 26 characters of Crockford base32. IDs sort by time to the
// millisecond; within a station the sequence number gives the exact order.
func NewCheckInID(t time.Time, entropy io.Reader) (string, error) {
	if entropy == nil {
		entropy = rand.Reader
	}
	var b [16]byte
	ms := uint64(t.UnixMilli())
	binary.BigEndian.PutUint16(b[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(ms))
	if _, err := io.ReadFull(entropy, b[6:]); err != nil {
		return "", Wrap(EINTERNAL, err, "无法生成签到编号", "Cannot make a check-in ID.")
	}
	return encodeULID(b), nil
}

func encodeULID(b [16]byte) string {
	// 128 bits as 26 five-bit groups, the first group holding the top 3 bits.
	hi := binary.BigEndian.Uint64(b[0:8])
	lo := binary.BigEndian.Uint64(b[8:16])
	var out [CheckInIDLen]byte
	for i := CheckInIDLen - 1; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// CheckInIDTime returns the time encoded in a check-in ID.
func CheckInIDTime(id string) (time.Time, error) {
	if err := ValidateCheckInID(id); err != nil {
		return time.Time{}, err
	}
	var ms uint64
	for i := 0; i < 10; i++ {
		ms = ms<<5 | uint64(strings.IndexByte(crockford, id[i]))
	}
	return time.UnixMilli(int64(ms)), nil
}

// ValidateCheckInID checks the form of a check-in ID.
func ValidateCheckInID(id string) error {
	if len(id) != CheckInIDLen || id[0] > '7' {
		return Errorz(EINVALID, "签到编号格式无效", "The check-in ID is malformed.")
	}
	for i := 0; i < len(id); i++ {
		if strings.IndexByte(crockford, id[i]) < 0 {
			return Errorz(EINVALID, "签到编号格式无效", "The check-in ID is malformed.")
		}
	}
	return nil
}
