package cloud

import (
	"time"

	"github.com/vetnet/vetnet"
)

// The types of the dashboard: pre-aggregated statistics, the station log
// (presence and fault transitions), alerts and follow-up tasks, people and
// their sessions, and the audit log.

// Dim is a dimension a statistics query groups by.
type Dim string

const (
	DimDay     Dim = "day"     // the day in the store's zone
	DimHour    Dim = "hour"    // the hour of day (0..23) in the store's zone
	DimStation Dim = "station" // the station (its own check-ins, not those under it)
	DimService Dim = "service"
	DimRating  Dim = "rating" // ratings only
)

// StatsQuery selects pre-aggregated counts. From and To are days (their
// midnight in the store's zone; a time inside a day means that day);
// To is exclusive. Zero From or To leave the range open.
type StatsQuery struct {
	// Roots selects the stations counted: each root and every station
	// under it in the registry tree. Nil counts every station.
	Roots []string
	// Exact counts the Roots alone, not the stations under them (a
	// station's staff see their station only).
	Exact   bool
	From    time.Time
	To      time.Time
	Service vetnet.Service // only this service, when set
	GroupBy []Dim          // the dimensions of each row; none: one total
}

// StatsRow is one group of a statistics answer. Fields not grouped by
// are zero (Day is the zero time).
type StatsRow struct {
	Day     time.Time // midnight in the store's zone
	Hour    int
	Station string
	Service vetnet.Service
	Rating  vetnet.Rating
	N       int64
}

// LogKind names what a station log entry records.
type LogKind string

const (
	LogPresence LogKind = "presence" // State is a PresenceState
	LogReader   LogKind = "reader"   // Subject is the reader's name; State ok, fault or absent
	LogDisk     LogKind = "disk"     // State "low" or "ok"
	LogBacklog  LogKind = "backlog"  // State "high" or "ok" (the backlog alert rule's condition)
)

// LogEntry is one transition of a station: its presence, a reader's
// health, its disk. Uptime per day and the fault timeline are read from
// these transitions.
type LogEntry struct {
	Station string
	At      time.Time // hub clock
	Kind    LogKind
	Subject string // the reader's name for LogReader; else ""
	State   string
	Detail  string // safe to show: a reason, a reader kind and its detail
}

// AlertRule names an alert rule.
type AlertRule string

const (
	RuleOffline     AlertRule = "offline"      // offline or stale longer than the rule's minutes
	RuleBacklog     AlertRule = "backlog"      // outbox deeper than N or its oldest older than N minutes
	RuleReaderFault AlertRule = "reader_fault" // a reader or printer reports a fault
	RuleDiskLow     AlertRule = "disk_low"     // the station's disk is nearly full
	RuleBadRating   AlertRule = "bad_rating"   // a rating of 1 or 2: a follow-up task with a due date
)

// Label returns the rule's name in lang ("zh" or "en").
func (r AlertRule) Label(lang string) string {
	names := map[AlertRule][2]string{
		RuleOffline:     {"站点离线", "Station offline"},
		RuleBacklog:     {"待上传积压", "Backlog"},
		RuleReaderFault: {"设备故障", "Device fault"},
		RuleDiskLow:     {"存储将满", "Disk nearly full"},
		RuleBadRating:   {"差评回访", "Bad rating follow-up"},
	}
	n, ok := names[r]
	if !ok {
		return string(r)
	}
	if lang == "zh" {
		return n[0]
	}
	return n[1]
}

// AlertState is where an alert is in its life.
type AlertState string

const (
	AlertOpen         AlertState = "open"
	AlertAcknowledged AlertState = "acknowledged" // someone took it; still open
	AlertResolved     AlertState = "resolved"
)

// Label returns the state's name in lang ("zh" or "en").
// Valid reports whether s is one of the three states.
func (s AlertState) Valid() bool {
	return s == AlertOpen || s == AlertAcknowledged || s == AlertResolved
}

// CheckNew checks an alert about to be opened and gives it the open state
// when it has none: what every store does before OpenAlert stores it.
// Errors: EINVALID.
func (a Alert) CheckNew() (Alert, error) {
	if a.Key == "" || a.Rule == "" || a.Station == "" || a.OpenedAt.IsZero() {
		return a, vetnet.Errorz(vetnet.EINVALID, "告警缺少规则、键、站点或时间", "An alert lacks its rule, key, station or time.")
	}
	if a.State == "" {
		a.State = AlertOpen
	}
	if a.State == AlertResolved || !a.State.Valid() {
		return a, vetnet.Errorz(vetnet.EINVALID, "新告警的状态无效", "A new alert's state is not valid.")
	}
	return a, nil
}

func (s AlertState) Label(lang string) string {
	names := map[AlertState][2]string{
		AlertOpen:         {"待处理", "Open"},
		AlertAcknowledged: {"已确认", "Acknowledged"},
		AlertResolved:     {"已解决", "Resolved"},
	}
	n, ok := names[s]
	if !ok {
		return string(s)
	}
	if lang == "zh" {
		return n[0]
	}
	return n[1]
}

// Alert is a condition that needs people: a station down, a backlog, a
// fault, or a bad rating to follow up. At most one alert per Key is not
// resolved at a time.
type Alert struct {
	ID      int64
	Rule    AlertRule
	Key     string // rule, station and subject: what makes two alerts the same one
	Station string
	Subject string // a reader's name, a rating's ID; else ""
	State   AlertState
	// MessageZH and MessageEN say what happened, safe to show (no
	// personal data).
	MessageZH string
	MessageEN string
	OpenedAt  time.Time // hub clock
	// Due is when a follow-up task must be done (bad ratings: 15 working
	// days after the rating arrived); zero for other alerts.
	Due time.Time
	// ClearedAt is when the condition ended (the station came back);
	// zero while it holds and for tasks.
	ClearedAt       time.Time
	AckAt           time.Time
	AckBy           string
	AckComment      string
	ResolvedAt      time.Time
	ResolvedBy      string // a user name, or "system" when the condition cleared
	ResolvedComment string
}

// AlertFilter selects alerts. Zero fields select everything.
type AlertFilter struct {
	Stations []string     // only these stations' alerts; nil: every station
	States   []AlertState // only these states
	Rule     AlertRule
	From     time.Time // OpenedAt >= From
	To       time.Time // OpenedAt < To
	Limit    int       // <= 0: DefaultLimit, capped at MaxLimit
	Cursor   string
}

// AlertPage is one page of alerts, newest first.
type AlertPage struct {
	Alerts []Alert
	Next   string
}

// Role is what a person may do at the hub.
type Role string

const (
	// RoleDistrictAdmin sees and does everything, and manages people.
	RoleDistrictAdmin Role = "district_admin"
	// RoleTownAdmin sees its town station and every station under it.
	RoleTownAdmin Role = "town_admin"
	// RoleStationStaff sees its own station.
	RoleStationStaff Role = "station_staff"
	// RoleAuditor reads everything, masked, and changes nothing.
	RoleAuditor Role = "auditor"
)

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool {
	switch r {
	case RoleDistrictAdmin, RoleTownAdmin, RoleStationStaff, RoleAuditor:
		return true
	}
	return false
}

// Label returns the role's name in lang ("zh" or "en").
func (r Role) Label(lang string) string {
	names := map[Role][2]string{
		RoleDistrictAdmin: {"区级管理员", "District administrator"},
		RoleTownAdmin:     {"镇级管理员", "Town administrator"},
		RoleStationStaff:  {"站点工作人员", "Station staff"},
		RoleAuditor:       {"审计员", "Auditor"},
	}
	n, ok := names[r]
	if !ok {
		return string(r)
	}
	if lang == "zh" {
		return n[0]
	}
	return n[1]
}

// NeedsStation reports whether the role is tied to one station (its town
// or its own station).
func (r Role) NeedsStation() bool { return r == RoleTownAdmin || r == RoleStationStaff }

// User is a person who signs in to the dashboard.
type User struct {
	Name         string // the sign-in name; the key
	DisplayName  string
	Role         Role
	Station      string // the town (town administrator) or station (staff)
	PasswordHash string // PHC-format hash (argon2id); never shown
	Disabled     bool
	CreatedAt    time.Time
}

// Session is a signed-in browser or client. The store keeps only a hash
// of the token, so a copy of the database opens no session.
type Session struct {
	TokenHash string // hex SHA-256 of the token
	User      string
	CSRF      string // the token state-changing requests must echo
	CreatedAt time.Time
	ExpiresAt time.Time
	Addr      string // the client's address at sign-in
}

// AuditAction names what an audit entry records.
type AuditAction string

const (
	AuditSignIn       AuditAction = "sign_in"
	AuditSignInFailed AuditAction = "sign_in_failed"
	AuditSignOut      AuditAction = "sign_out"
	AuditUnmask       AuditAction = "unmask"        // a full ID number and name shown
	AuditExport       AuditAction = "export"        // a file exported
	AuditAlertAck     AuditAction = "alert_ack"     // an alert acknowledged
	AuditAlertResolve AuditAction = "alert_resolve" // an alert resolved
	AuditUserChange   AuditAction = "user_change"   // a person added or changed
	AuditDenied       AuditAction = "denied"        // a request outside the person's rights
	AuditPersonExport AuditAction = "person_export" // a person's data exported at their request
	AuditPersonErase  AuditAction = "person_erase"  // a person's data erased at their request
)

// AuditEntry is one line of the audit log: who did what, when and why.
// It never holds personal data of visitors (a check-in is named by ID).
type AuditEntry struct {
	ID     int64
	At     time.Time
	User   string
	Role   Role
	Action AuditAction
	Target string // what: a check-in ID, an export's kind and filter, an alert ID
	Reason string // why, as the person gave it
	Detail string // more: row counts, formats, a refusal's cause
	Addr   string // the client's address
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	User   string
	Action AuditAction
	From   time.Time
	To     time.Time
	Limit  int
	Cursor string
}

// AuditPage is one page of the audit log.
type AuditPage struct {
	Entries []AuditEntry
	Next    string
}
