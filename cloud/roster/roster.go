// Package roster computes a meeting's roll-call: for each invited station
// whether it joined, joined late, left early or stayed away, and who was
// there, from two sources that the hub already has:
//
//   - the station's presence log (online, stale, offline transitions with
//     the hub's time), which says whether the station was connected
//     during the meeting; and
//   - the station's roll-call answers (staff roll-calls and roll-call
//     check-ins), which carry the station's clock and travel through the
//     station's outbox, so they arrive even when the station was offline
//     during the meeting.
//
// The rules (docs/architecture.md, "The meeting roster"):
//
//  1. The meeting's window is [Start, End). A roll-call counts when its
//     station time is in [Start-Early, End), whenever it was delivered.
//  2. A station's first evidence is the earlier of the first moment it was
//     online inside the window and its first counted roll-call (a
//     roll-call before Start counts as at Start).
//  3. joined: first evidence at or before Start+Grace; late: after it; no
//     evidence: pending until Start+Grace, absent after (during the
//     meeting an absent station may still turn late).
//  4. left early: the station was online inside the window, went offline
//     (or stale) more than Grace before the end (or before now, while the
//     meeting runs), did not come back, and made no roll-call after it
//     went. A station known only from its roll-calls is never "left
//     early": presence says nothing about it.
//  5. reported late: some of its roll-calls reached the hub after the
//     meeting ended (the station was offline); they count all the same.
//
// The computation is a pure function of its input, so the live board, the
// reports and the tests compute the same roster.
package roster

import (
	"slices"
	"sort"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
)

// Status is a station's place in the roster.
type Status string

const (
	Pending   Status = "pending"    // the meeting has not started, or is within its grace
	Joined    Status = "joined"     // there on time
	Late      Status = "late"       // there, after the grace
	LeftEarly Status = "left_early" // was there, went before the end
	Absent    Status = "absent"     // not there
)

// Label names the status in lang ("zh" or "en").
func (s Status) Label(lang string) string {
	names := map[Status][2]string{Pending: {"待入会", "Not yet"}, Joined: {"已入会", "Joined"}, Late: {"迟到", "Late"},
		LeftEarly: {"提前离会", "Left early"}, Absent: {"缺席", "Absent"}}
	n, ok := names[s]
	if !ok {
		return string(s)
	}
	if lang == "zh" {
		return n[0]
	}
	return n[1]
}

// Phase is where the meeting is in time.
type Phase string

const (
	Upcoming  Phase = "upcoming"
	Live      Phase = "live"
	Ended     Phase = "ended"
	Cancelled Phase = "cancelled"
)

// Input is what a roster is computed from.
type Input struct {
	Meeting  vetnet.Meeting
	Registry []vetnet.Station
	// Log holds each invited station's presence transitions from the
	// last one before Start up to End (cloud.Store.StationLog with
	// [Start, End)); other kinds are ignored.
	Log        map[string][]cloud.LogEntry
	Attendance []cloud.Attendance // the meeting's
	Grace      time.Duration      // joining later than Start+Grace is late
	Early      time.Duration      // roll-calls count from Start-Early
	Now        time.Time
}

// Person is one roll-call answer, as the roster lists it. IDNumber and
// Name are as stored: callers mask them.
type Person struct {
	Kind     cloud.AttendanceKind
	Staff    string
	Role     vetnet.StaffRole
	Method   string
	IDNumber string
	Name     string
	At       time.Time
	Late     bool // delivered after the meeting ended
}

// Station is one invited station's line of the roster.
type Station struct {
	ID           string
	Name         string
	NameEN       string
	Level        vetnet.Level
	Town         string // the town station above it (itself for a town); "" for the district level
	Contact      string
	Status       Status
	Online       bool       // connected at the roster's time (or at the end)
	JoinedAt     *time.Time // first evidence
	LeftAt       *time.Time // left_early: when it went
	OnlineFor    time.Duration
	Source       string // presence, rollcall, both; "" without evidence
	ReportedLate bool   // roll-calls delivered after the end
	Staff        int    // staff roll-calls (distinct staff)
	Persons      int    // roll-call check-ins (distinct people)
	MissingRoles []vetnet.StaffRole
	People       []Person
}

// Tally counts stations by status, and people.
type Tally struct {
	Key       string `json:"key"`
	Name      string `json:"name"`
	NameEN    string `json:"name_en"`
	Expected  int    `json:"expected"`
	Joined    int    `json:"joined"` // joined + late + left early: were there
	OnTime    int    `json:"on_time"`
	Late      int    `json:"late"`
	LeftEarly int    `json:"left_early"`
	Absent    int    `json:"absent"`
	Pending   int    `json:"pending"`
	Staff     int    `json:"staff"`
	Persons   int    `json:"persons"`
}

func (t *Tally) add(s Station) {
	t.Expected++
	switch s.Status {
	case Joined:
		t.Joined++
		t.OnTime++
	case Late:
		t.Joined++
		t.Late++
	case LeftEarly:
		t.Joined++
		t.LeftEarly++
	case Absent:
		t.Absent++
	case Pending:
		t.Pending++
	}
	t.Staff += s.Staff
	t.Persons += s.Persons
}

// Roster is a meeting's roll-call at one time.
type Roster struct {
	Meeting  vetnet.Meeting
	Phase    Phase
	At       time.Time // the time it was computed for
	Stations []Station // in invitation (registry) order
	Total    Tally
	ByLevel  []Tally // in vetnet.Levels order, levels with invited stations only
	ByTown   []Tally // in registry order of the towns; "" (the district level) first
}

// Compute computes the roster of in.Meeting at in.Now.
func Compute(in Input) Roster {
	m := in.Meeting
	reg := map[string]vetnet.Station{}
	for _, st := range in.Registry {
		reg[st.ID] = st
	}
	r := Roster{Meeting: m, At: in.Now}
	switch {
	case m.Cancelled:
		r.Phase = Cancelled
	case in.Now.Before(m.Start):
		r.Phase = Upcoming
	case in.Now.Before(m.End):
		r.Phase = Live
	default:
		r.Phase = Ended
	}
	until := m.End
	if in.Now.Before(until) {
		until = in.Now
	}
	byStation := map[string][]cloud.Attendance{}
	for _, a := range in.Attendance {
		if a.MeetingID != m.ID || a.At.Before(m.Start.Add(-in.Early)) || !a.At.Before(m.End) {
			continue
		}
		byStation[a.Station] = append(byStation[a.Station], a)
	}
	for _, id := range m.Stations {
		st := reg[id]
		line := Station{ID: id, Name: st.Name, NameEN: st.NameEN, Level: st.Level, Town: townOf(reg, id), Contact: st.Contact}
		if line.Name == "" {
			line.Name = id
		}
		computeStation(&line, m, in, until, in.Log[id], byStation[id])
		r.Stations = append(r.Stations, line)
		r.Total.add(line)
	}
	levels := map[vetnet.Level]*Tally{}
	towns := map[string]*Tally{}
	for _, s := range r.Stations {
		if levels[s.Level] == nil {
			levels[s.Level] = &Tally{Key: string(s.Level), Name: levelName(s.Level, "zh"), NameEN: levelName(s.Level, "en")}
		}
		levels[s.Level].add(s)
		if towns[s.Town] == nil {
			t := &Tally{Key: s.Town, Name: "区级", NameEN: "District level"}
			if s.Town != "" {
				t.Name, t.NameEN = reg[s.Town].Name, reg[s.Town].NameEN
			}
			towns[s.Town] = t
		}
		towns[s.Town].add(s)
	}
	for _, l := range vetnet.Levels {
		if t := levels[l]; t != nil {
			r.ByLevel = append(r.ByLevel, *t)
		}
	}
	if t := towns[""]; t != nil {
		r.ByTown = append(r.ByTown, *t)
	}
	for _, st := range in.Registry {
		if t := towns[st.ID]; t != nil && st.ID != "" {
			r.ByTown = append(r.ByTown, *t)
		}
	}
	return r
}

func computeStation(line *Station, m vetnet.Meeting, in Input, until time.Time, log []cloud.LogEntry, att []cloud.Attendance) {
	// Presence: the state at Start, then the transitions inside.
	var entries []cloud.LogEntry
	for _, e := range log {
		if e.Kind == cloud.LogPresence {
			entries = append(entries, e)
		}
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].At.Before(entries[j].At) })
	online := false
	var firstOnline, wentAt time.Time
	var onlineSince time.Time
	for _, e := range entries {
		if !e.At.After(m.Start) {
			online = e.State == string(cloud.StateOnline)
			continue
		}
		break
	}
	if online && m.Start.Before(until) {
		firstOnline, onlineSince = m.Start, m.Start
	}
	// While the meeting runs, until is now and a transition that happened
	// now counts; after it, until is the end, which is outside the window.
	live := in.Now.Before(m.End)
	for _, e := range entries {
		if !e.At.After(m.Start) || e.At.After(until) || (!live && e.At.Equal(until)) {
			continue
		}
		now := e.State == string(cloud.StateOnline)
		switch {
		case now && !online:
			if firstOnline.IsZero() {
				firstOnline = e.At
			}
			onlineSince = e.At
			wentAt = time.Time{}
		case !now && online:
			line.OnlineFor += e.At.Sub(onlineSince)
			wentAt = e.At
		}
		online = now
	}
	if online && !onlineSince.IsZero() && until.After(onlineSince) {
		line.OnlineFor += until.Sub(onlineSince)
	}
	line.Online = online && !m.Start.After(until)

	// Roll-calls: distinct staff and people.
	var firstCall, lastCall time.Time
	staff := map[string]bool{}
	persons := map[string]bool{}
	roles := map[vetnet.StaffRole]bool{}
	for _, a := range att {
		at := a.At
		if at.Before(m.Start) {
			at = m.Start
		}
		if firstCall.IsZero() || at.Before(firstCall) {
			firstCall = at
		}
		if a.At.After(lastCall) {
			lastCall = a.At
		}
		late := a.ReceivedAt.After(m.End)
		if late {
			line.ReportedLate = true
		}
		switch a.Kind {
		case cloud.AttendStaff:
			if staff[a.Staff] {
				continue
			}
			staff[a.Staff] = true
			roles[a.Role] = true
		default:
			key := a.IDNumber
			if key == "" {
				key = a.ID
			}
			if persons[key] {
				continue
			}
			persons[key] = true
		}
		line.People = append(line.People, Person{Kind: a.Kind, Staff: a.Staff, Role: a.Role, Method: a.Method,
			IDNumber: a.IDNumber, Name: a.Name, At: a.At, Late: late})
	}
	line.Staff, line.Persons = len(staff), len(persons)
	for _, role := range m.Roles {
		if !roles[role] {
			line.MissingRoles = append(line.MissingRoles, role)
		}
	}

	first := firstOnline
	switch {
	case !firstOnline.IsZero() && !firstCall.IsZero():
		line.Source = "both"
		if firstCall.Before(first) {
			first = firstCall
		}
	case !firstOnline.IsZero():
		line.Source = "presence"
	case !firstCall.IsZero():
		line.Source = "rollcall"
		first = firstCall
	}
	if first.IsZero() {
		if in.Now.Before(m.Start.Add(in.Grace)) {
			line.Status = Pending
		} else {
			line.Status = Absent
		}
		return
	}
	line.JoinedAt = &first
	if first.After(m.Start.Add(in.Grace)) {
		line.Status = Late
	} else {
		line.Status = Joined
	}
	// Left early: seen online, gone for more than the grace before the
	// end (or now), not back, and no roll-call since.
	if !firstOnline.IsZero() && !online && !wentAt.IsZero() && wentAt.Before(until.Add(-in.Grace)) && !lastCall.After(wentAt) {
		line.Status = LeftEarly
		w := wentAt
		line.LeftAt = &w
	}
}

// townOf returns the town station at or above id; "" when there is none
// (the district centre, or a post directly under it).
func townOf(reg map[string]vetnet.Station, id string) string {
	seen := map[string]bool{}
	for id != "" && !seen[id] {
		seen[id] = true
		st, ok := reg[id]
		if !ok {
			return ""
		}
		if st.Level == vetnet.LevelTown {
			return id
		}
		id = st.Parent
	}
	return ""
}

func levelName(l vetnet.Level, lang string) string {
	names := map[vetnet.Level][2]string{vetnet.LevelDistrict: {"区级中心", "District"}, vetnet.LevelTown: {"镇(街道)服务站", "Town"},
		vetnet.LevelVillage: {"村(社区)服务站", "Village"}, vetnet.LevelPost: {"退役军人驿站", "Veteran post"}}
	n, ok := names[l]
	if !ok {
		return string(l)
	}
	if lang == "zh" {
		return n[0]
	}
	return n[1]
}

// Absentees returns the absent stations of r (the call-back list).
func (r Roster) Absentees() []Station {
	var out []Station
	for _, s := range r.Stations {
		if s.Status == Absent {
			out = append(out, s)
		}
	}
	return out
}

// Has reports whether station is invited.
func (r Roster) Has(station string) bool { return slices.Contains(r.Meeting.Stations, station) }
