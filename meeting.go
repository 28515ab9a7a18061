package vetnet

import (
	"slices"
	"strings"
	"time"
)

// MeetingKind is what a video meeting of the three-level network is for
// (DOMAIN.md, "The three-level video conference").
type MeetingKind string

const (
	MeetingTraining    MeetingKind = "training"    // 多点同步培训: multi-site training
	MeetingSupervision MeetingKind = "supervision" // 督查督办: supervision of tasks
	MeetingInformation MeetingKind = "information" // 信息通报: sharing information
)

// MeetingKinds lists the kinds.
var MeetingKinds = []MeetingKind{MeetingTraining, MeetingSupervision, MeetingInformation}

// Valid reports whether k is a known kind.
func (k MeetingKind) Valid() bool { return slices.Contains(MeetingKinds, k) }

// Label names the kind in lang ("zh" or "en").
func (k MeetingKind) Label(lang string) string {
	names := map[MeetingKind][2]string{
		MeetingTraining:    {"培训", "Training"},
		MeetingSupervision: {"督查督办", "Supervision"},
		MeetingInformation: {"信息通报", "Information"},
	}
	n, ok := names[k]
	if !ok {
		return string(k)
	}
	if lang == "zh" {
		return n[0]
	}
	return n[1]
}

// Invitation says which stations a meeting invites: every station of the
// given levels under a station (the district when Under is empty), and
// stations named one by one. It is kept with the meeting as it was given
// and resolved against the registry into Meeting.Stations when the
// meeting is saved.
type Invitation struct {
	Levels   []Level  // invite these levels (none: no station by level)
	Under    string   // within this station's subtree, itself included; empty: the whole district
	Stations []string // and these stations
}

// Resolve returns the invited stations of the registry, in registry
// order. A named station not in the registry is an error.
func (inv Invitation) Resolve(registry []Station) ([]string, error) {
	known := map[string]bool{}
	kids := map[string][]string{}
	for _, st := range registry {
		known[st.ID] = true
		kids[st.Parent] = append(kids[st.Parent], st.ID)
	}
	want := map[string]bool{}
	for _, id := range inv.Stations {
		if !known[id] {
			return nil, Errorz(EINVALID, "邀请了未登记的站点："+id, "Station "+id+" is not in the registry.")
		}
		want[id] = true
	}
	if len(inv.Levels) > 0 {
		in := map[string]bool{}
		if inv.Under == "" {
			for id := range known {
				in[id] = true
			}
		} else {
			if !known[inv.Under] {
				return nil, Errorz(EINVALID, "上级站点未登记："+inv.Under, "Station "+inv.Under+" is not in the registry.")
			}
			queue := []string{inv.Under}
			in[inv.Under] = true
			for i := 0; i < len(queue); i++ {
				for _, k := range kids[queue[i]] {
					if !in[k] {
						in[k] = true
						queue = append(queue, k)
					}
				}
			}
		}
		for _, st := range registry {
			if in[st.ID] && slices.Contains(inv.Levels, st.Level) {
				want[st.ID] = true
			}
		}
	}
	var out []string
	for _, st := range registry {
		if want[st.ID] {
			out = append(out, st.ID)
		}
	}
	return out, nil
}

// Meeting is a video meeting of the district centre with invited
// stations. The hub keeps it; each invited station receives it (wire
// MeetingsV1) and takes its roll-call.
type Meeting struct {
	ID       string // made at the hub (NewCheckInID form)
	SeriesID string // the recurring series it belongs to; empty for a single meeting
	Title    string
	Kind     MeetingKind
	Start    time.Time
	End      time.Time
	Room     string // the room's name at the video provider
	Invite   Invitation
	Stations []string    // the invitation resolved, in registry order
	Roles    []StaffRole // staff roles expected at each station
	Veterans bool        // veterans attend (trainings only) and check in with their ID card
	// Cancelled meetings are kept (their roster too) and sent to the
	// stations as cancelled until they would have ended.
	Cancelled bool
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MaxMeetingTitleLen bounds a title in characters.
const MaxMeetingTitleLen = 100

// MaxMeetingLength bounds a meeting's length.
const MaxMeetingLength = 12 * time.Hour

// ValidateRoom checks a room name: 1–64 letters, digits, '-' and '_'.
func ValidateRoom(room string) error {
	ok := room != "" && len(room) <= 64
	for _, r := range room {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			ok = false
		}
	}
	if !ok {
		return Errorz(EINVALID, "会议室名称应为1到64个字母、数字、'-' 或 '_'", "A room name is 1 to 64 letters, digits, '-' or '_'.")
	}
	return nil
}

// Validate checks a meeting as the hub stores it.
func (m *Meeting) Validate() error {
	if err := ValidateCheckInID(m.ID); err != nil {
		return Errorz(EINVALID, "会议编号格式无效", "The meeting ID is malformed.")
	}
	t := strings.TrimSpace(m.Title)
	if t == "" || len([]rune(m.Title)) > MaxMeetingTitleLen || strings.ContainsAny(m.Title, "\x00\n\r\t") {
		return Errorz(EINVALID, "会议名称应为1到100个字，且不含控制字符", "A meeting title is 1 to 100 characters without control characters.")
	}
	if !m.Kind.Valid() {
		return Errorz(EINVALID, "会议类型应为培训、督查督办或信息通报", "The meeting kind must be training, supervision or information.")
	}
	if m.Start.IsZero() || !m.End.After(m.Start) {
		return Errorz(EINVALID, "会议结束时间应晚于开始时间", "A meeting ends after it starts.")
	}
	if m.End.Sub(m.Start) > MaxMeetingLength {
		return Errorz(EINVALID, "会议时长不能超过12小时", "A meeting lasts at most 12 hours.")
	}
	if err := ValidateRoom(m.Room); err != nil {
		return err
	}
	if len(m.Stations) == 0 {
		return Errorz(EINVALID, "会议至少要邀请一个站点", "A meeting invites at least one station.")
	}
	for _, id := range m.Stations {
		if err := ValidateStationID(id); err != nil {
			return err
		}
	}
	for _, r := range m.Roles {
		if !r.Valid() {
			return Errorz(EINVALID, "未知的工作人员岗位", "Unknown staff role.")
		}
	}
	if m.Veterans && m.Kind != MeetingTraining {
		return Errorz(EINVALID, "只有培训可以安排退役军人参加", "Only trainings have veterans attending.")
	}
	return nil
}

// Invited reports whether station is invited.
func (m *Meeting) Invited(station string) bool { return slices.Contains(m.Stations, station) }

// Frequency is how a series of meetings repeats.
type Frequency string

const (
	Weekly  Frequency = "weekly"
	Monthly Frequency = "monthly"
)

// Recurrence describes a series: every week or month from the first
// meeting, Count meetings in all, or until Until (inclusive of a meeting
// starting that day), whichever is set.
type Recurrence struct {
	Freq  Frequency
	Count int       // meetings in the series, the first included; 0 with Until
	Until time.Time // last possible start; zero with Count
}

// MaxSeries bounds the meetings of one series.
const MaxSeries = 104

// Occurrences returns the starts of the series that begins at first, in
// first's location. A monthly series keeps the day of the month and
// skips months without it (a series on the 31st meets in months with 31
// days).
func (r Recurrence) Occurrences(first time.Time) ([]time.Time, error) {
	if r.Freq != Weekly && r.Freq != Monthly {
		return nil, Errorz(EINVALID, "重复方式应为每周或每月", "A series repeats weekly or monthly.")
	}
	if (r.Count > 0) == !r.Until.IsZero() {
		return nil, Errorz(EINVALID, "重复会议应指定次数或截止日期（二选一）", "A series has either a number of meetings or an end date.")
	}
	if r.Count < 0 || r.Count > MaxSeries {
		return nil, Errorz(EINVALID, "重复会议最多104次", "A series has at most 104 meetings.")
	}
	var out []time.Time
	for i := 0; len(out) < MaxSeries+1; i++ {
		var t time.Time
		if r.Freq == Weekly {
			t = first.AddDate(0, 0, 7*i)
		} else {
			t = first.AddDate(0, i, 0)
			if t.Day() != first.Day() {
				continue // no such day this month
			}
		}
		if r.Count > 0 && len(out) == r.Count {
			break
		}
		if !r.Until.IsZero() && t.After(r.Until) {
			break
		}
		out = append(out, t)
	}
	if len(out) > MaxSeries {
		return nil, Errorz(EINVALID, "重复会议最多104次", "A series has at most 104 meetings.")
	}
	return out, nil
}

// RollCallMethod is how a staff member answered a meeting's roll-call.
type RollCallMethod string

const (
	RollCallBadge RollCallMethod = "badge" // their staff badge on the reader
	RollCallPIN   RollCallMethod = "pin"   // signed in with their PIN
)

// Valid reports whether m is known.
func (m RollCallMethod) Valid() bool { return m == RollCallBadge || m == RollCallPIN }

// RollCall is a staff member present at a station for a meeting, made at
// the station like a check-in (ID, station clock) and sent through the
// same outbox, so that a station offline during the meeting reports it
// when it is back. Veterans (and anyone by ID card) answer the roll-call
// with an ordinary check-in of service training that names the meeting
// (CheckIn.Meeting).
type RollCall struct {
	ID         string // made at the station by NewCheckInID
	StationID  string
	MeetingID  string
	Staff      string // staff ID
	Role       StaffRole
	Method     RollCallMethod
	At         time.Time // station clock
	ReceivedAt time.Time // hub clock; zero at the station
}

// Validate checks a roll-call as the hub receives it.
func (r *RollCall) Validate() error {
	if err := ValidateCheckInID(r.ID); err != nil {
		return err
	}
	if err := ValidateStationID(r.StationID); err != nil {
		return err
	}
	if err := ValidateCheckInID(r.MeetingID); err != nil {
		return Errorz(EINVALID, "会议编号格式无效", "The meeting ID is malformed.")
	}
	if err := ValidateStaffID(r.Staff); err != nil {
		return err
	}
	if r.Role != "" && !r.Role.Valid() {
		return Errorz(EINVALID, "未知的工作人员岗位", "Unknown staff role.")
	}
	if !r.Method.Valid() {
		return Errorz(EINVALID, "签到方式应为工作证或密码", "A staff roll-call is by badge or PIN.")
	}
	if r.At.IsZero() {
		return Errorz(EINVALID, "签到时间缺失", "A roll-call needs its time.")
	}
	return nil
}
