package web

import (
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/wire"
)

// The JSON shapes of the API. They are this package's own (never domain
// structs as they are), documented in docs/api.md.

type stationsResponse struct {
	Stations    []stationView `json:"stations"`
	Summary     summaryView   `json:"summary"` // over every station the person sees, before filters
	GeneratedAt time.Time     `json:"generated_at"`
	TodayFrom   time.Time     `json:"today_from"` // start of "today" for checkins_today
}

type stationView struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	NameEN        string     `json:"name_en"`
	Level         string     `json:"level"`
	LevelZH       string     `json:"level_zh"`
	LevelEN       string     `json:"level_en"`
	Parent        string     `json:"parent"`
	CheckInsToday int        `json:"checkins_today"`
	LastSeq       uint64     `json:"last_seq"`        // highest sequence number the hub stored
	LastCheckInAt *time.Time `json:"last_checkin_at"` // station clock of the newest stored check-in
	Seq           seqView    `json:"seq"`
	AlertsOpen    int        `json:"alerts_open"` // alerts not resolved
	presenceView
}

// Gaps are the sequence numbers the hub misses for a station.
type Gaps struct {
	Max     uint64         // highest held
	Missing uint64         // not held in 1..Max
	Runs    []cloud.SeqRun // the missing ranges, oldest first (the first few)
}

type seqView struct {
	Max     uint64       `json:"max"`     // highest sequence number the hub holds
	Missing uint64       `json:"missing"` // numbers below max the hub does not hold
	Gaps    []seqRunView `json:"gaps"`    // the first missing ranges
}

type seqRunView struct {
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
}

// presenceView is the presence part of a station, also sent alone in
// presence events.
type presenceView struct {
	Station       string       `json:"station"`
	State         string       `json:"state"`
	StateZH       string       `json:"state_zh"`
	StateEN       string       `json:"state_en"`
	StateSince    *time.Time   `json:"state_since"`
	StateReason   string       `json:"state_reason"`
	LastSeen      *time.Time   `json:"last_seen"`
	LastHeartbeat *time.Time   `json:"last_heartbeat"`
	HeartbeatS    int          `json:"heartbeat_s"`
	Outbox        outboxView   `json:"outbox"`
	Readers       []readerView `json:"readers"`
	Agent         string       `json:"agent"`
	ConfigVersion string       `json:"config_version"`
	ConfigCurrent bool         `json:"config_current"` // the station applied the configuration the hub publishes now
	UptimeS       int64        `json:"uptime_s"`
	ClockSkewS    float64      `json:"clock_skew_s"` // station clock minus hub clock at the last heartbeat, seconds
	Disk          diskView     `json:"disk"`
}

type diskView struct {
	FreeBytes uint64 `json:"free_bytes"` // free on the station's data file system; 0 if unknown
	FileBytes int64  `json:"file_bytes"` // size of the station's data file
	Low       bool   `json:"low"`        // the station refuses check-ins until space is freed
}

type outboxView struct {
	Depth    int        `json:"depth"`
	OldestAt *time.Time `json:"oldest_at"`
	LastSeq  uint64     `json:"last_seq"` // highest sequence number committed at the station
	Rejected int        `json:"rejected"`
}

type readerView struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
}

type presenceEvent struct {
	presenceView
	Changed bool `json:"changed"` // the state changed (not only heartbeat data)
}

type checkInsResponse struct {
	CheckIns []checkInView `json:"checkins"`
	Next     string        `json:"next"`  // cursor of the next page; "" on the last
	Total    int           `json:"total"` // rows matching the filter, all pages
}

type checkInView struct {
	ID            string    `json:"id"`
	Station       string    `json:"station"`
	StationName   string    `json:"station_name"`
	StationNameEN string    `json:"station_name_en"`
	Seq           uint64    `json:"seq"`
	At            time.Time `json:"at"`          // station clock
	ReceivedAt    time.Time `json:"received_at"` // hub clock
	Service       string    `json:"service"`
	ServiceZH     string    `json:"service_zh"`
	ServiceEN     string    `json:"service_en"`
	Method        string    `json:"method"`
	QueueNo       string    `json:"queue_no"`
	IDNumber      string    `json:"id_number"` // always masked
	Name          string    `json:"name"`      // always masked
	Doc           string    `json:"doc"`
	Staff         string    `json:"staff"`      // ID of the staff member who typed the ID number; "" if none
	StaffName     string    `json:"staff_name"` // their name on the station's roster; "" if unknown
	Detail        string    `json:"detail"`     // the service's sub-choice, e.g. application; "" if none
	DetailZH      string    `json:"detail_zh"`
	DetailEN      string    `json:"detail_en"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// currentConfig is the configuration version the hub publishes for st.
func (s *Server) currentConfig(st vetnet.Station) string {
	if st.ID == "" {
		return ""
	}
	return wire.NewConfig(st, s.o.HeartbeatS, time.Time{}).Version
}

func (s *Server) stationView(st vetnet.Station, p cloud.Presence, stats cloud.StationStats) stationView {
	seq := seqView{Max: stats.LastSeq, Gaps: []seqRunView{}}
	if s.o.Gaps != nil {
		g := s.o.Gaps(st.ID)
		seq.Max, seq.Missing = max(seq.Max, g.Max), g.Missing
		for _, r := range g.Runs {
			seq.Gaps = append(seq.Gaps, seqRunView(r))
		}
	}
	return stationView{
		Seq: seq,
		ID:  st.ID, Name: st.Name, NameEN: st.NameEN, Level: string(st.Level),
		LevelZH: st.Level.Label("zh"), LevelEN: st.Level.Label("en"), Parent: st.Parent,
		CheckInsToday: stats.CheckInsSince, LastSeq: stats.LastSeq, LastCheckInAt: timePtr(stats.LastAt),
		presenceView: presenceViewOf(p, s.currentConfig(st)),
	}
}

func presenceViewOf(p cloud.Presence, currentConfig string) presenceView {
	v := presenceView{
		Station: p.Station, State: string(p.State), StateZH: p.State.Label("zh"), StateEN: p.State.Label("en"),
		StateSince: timePtr(p.Since), StateReason: p.Reason, LastSeen: timePtr(p.LastSeen),
		LastHeartbeat: timePtr(p.LastHeartbeat), HeartbeatS: p.HeartbeatS,
		Outbox:  outboxView{Depth: p.Outbox.Depth, OldestAt: timePtr(p.Outbox.OldestAt), LastSeq: p.Outbox.LastSeq, Rejected: p.Outbox.Rejected},
		Readers: []readerView{}, Agent: p.Agent, ConfigVersion: p.ConfigVersion, UptimeS: p.UptimeS,
		ConfigCurrent: p.ConfigVersion != "" && p.ConfigVersion == currentConfig,
		ClockSkewS:    p.ClockSkew.Seconds(),
		Disk:          diskView(p.Disk),
	}
	for _, r := range p.Readers {
		v.Readers = append(v.Readers, readerView(r))
	}
	return v
}

// checkInViewOf converts a check-in for people to see: the ID number and
// the name are masked here, whether or not they were already.
func checkInViewOf(c vetnet.CheckIn, st vetnet.Station) checkInView {
	info, _ := c.Service.Info()
	return checkInView{
		ID: c.ID, Station: c.StationID, StationName: st.Name, StationNameEN: st.NameEN, Seq: c.Seq,
		At: c.At.UTC(), ReceivedAt: c.ReceivedAt.UTC(),
		Service: string(c.Service), ServiceZH: info.ZH, ServiceEN: info.EN, Method: string(c.Method), QueueNo: c.QueueNo,
		IDNumber: vetnet.MaskIDNumber(c.Visitor.IDNumber), Name: vetnet.MaskName(c.Visitor.Name), Doc: string(c.Visitor.DocType),
		Staff: c.Staff, StaffName: staffName(st, c.Staff), Detail: c.Detail,
		DetailZH: optionLabel(info, c.Detail, "zh"), DetailEN: optionLabel(info, c.Detail, "en"),
	}
}

func staffName(st vetnet.Station, id string) string {
	if id == "" {
		return ""
	}
	m, _ := st.StaffByID(id)
	return m.Name
}

type feedbackResponse struct {
	Feedback []feedbackView `json:"feedback"`
	Next     string         `json:"next"` // cursor of the next page; "" on the last
}

type feedbackView struct {
	ID            string       `json:"id"`
	Station       string       `json:"station"`
	StationName   string       `json:"station_name"`
	StationNameEN string       `json:"station_name_en"`
	CheckInID     string       `json:"checkin_id"`
	Service       string       `json:"service"`
	ServiceZH     string       `json:"service_zh"`
	ServiceEN     string       `json:"service_en"`
	Rating        int          `json:"rating"` // 1 very dissatisfied … 5 very satisfied
	RatingZH      string       `json:"rating_zh"`
	RatingEN      string       `json:"rating_en"`
	Bad           bool         `json:"bad"` // must be followed up
	Reasons       []reasonView `json:"reasons"`
	Comment       string       `json:"comment"`
	At            time.Time    `json:"at"`          // station clock
	ReceivedAt    time.Time    `json:"received_at"` // hub clock
}

type reasonView struct {
	Key string `json:"key"`
	ZH  string `json:"zh"`
	EN  string `json:"en"`
}

func feedbackViewOf(f vetnet.Feedback, st vetnet.Station) feedbackView {
	info, _ := f.Service.Info()
	v := feedbackView{ID: f.ID, Station: f.StationID, StationName: st.Name, StationNameEN: st.NameEN, CheckInID: f.CheckInID,
		Service: string(f.Service), ServiceZH: info.ZH, ServiceEN: info.EN, Rating: int(f.Rating),
		RatingZH: f.Rating.Label("zh"), RatingEN: f.Rating.Label("en"), Bad: f.Rating.Bad(), Reasons: []reasonView{},
		Comment: f.Comment, At: f.At.UTC(), ReceivedAt: f.ReceivedAt.UTC()}
	for _, r := range f.Reasons {
		v.Reasons = append(v.Reasons, reasonView{Key: string(r), ZH: r.Label("zh"), EN: r.Label("en")})
	}
	return v
}

// summaryView counts the stations a person sees.
type summaryView struct {
	Stations      int `json:"stations"`
	Online        int `json:"online"`
	Stale         int `json:"stale"`
	Offline       int `json:"offline"`
	NeverSeen     int `json:"never_seen"`
	Backlog       int `json:"backlog"` // check-ins waiting at stations not offline
	CheckInsToday int `json:"checkins_today"`
	Faults        int `json:"faults"` // stations with a reader or printer fault or a full disk
	AlertsOpen    int `json:"alerts_open"`
}

func (m *summaryView) add(v stationView) {
	m.Stations++
	switch cloud.PresenceState(v.State) {
	case cloud.StateOnline:
		m.Online++
	case cloud.StateStale:
		m.Stale++
	case cloud.StateOffline:
		m.Offline++
	default:
		m.NeverSeen++
	}
	if v.State != string(cloud.StateOffline) && v.State != string(cloud.StateNeverSeen) {
		m.Backlog += v.Outbox.Depth
	}
	m.CheckInsToday += v.CheckInsToday
	if v.hasFault() {
		m.Faults++
	}
	m.AlertsOpen += v.AlertsOpen
}

func (v stationView) hasFault() bool {
	for _, r := range v.Readers {
		if r.State == "fault" {
			return true
		}
	}
	return v.Disk.Low
}
