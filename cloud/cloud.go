// Package cloud holds the hub's own types: the Store that keeps stations,
// check-ins and presence, the filters and pages of check-ins, the presence
// of a station as the hub sees it, and the live events the dashboard
// follows. Programs other than the hub never import it; types that stations
// share with the hub live in the root package vetnet and in wire.
//
// The Store is an interface so that the embedded SQLite store (package
// cloud/sqlite) and the PostgreSQL store (cloud/postgres) are
// interchangeable: both pass the conformance suite in cloud/storetest
// (and both implement MeetingStore), and nothing above the Store knows
// which one runs.
//
// The hub acknowledges a station's check-ins only after Save has
// returned without error, so Save must commit durably (fsync'd)
// before it returns. A store that cannot promise that must not be used.
package cloud

import (
	"context"
	"time"

	"github.com/vetnet/vetnet"
)

// Store keeps the hub's data. Every method is safe for concurrent use.
// Errors are *vetnet.Error; their messages are safe to show and never
// contain SQL text or personal data (the cause is kept for the log).
type Store interface {
	// UpsertStations inserts the stations or replaces the stored ones with
	// the same ID, in one transaction. Stations are never deleted here: the
	// check-ins of a station that left the registry keep their station.
	// Errors: EINVALID (a station fails Validate), EUNAVAILABLE, EFULL,
	// EINTERNAL.
	UpsertStations(ctx context.Context, stations []vetnet.Station) error

	// Stations returns every stored station ordered by ID.
	// Errors: EUNAVAILABLE, EINTERNAL.
	Stations(ctx context.Context) ([]vetnet.Station, error)

	// Save stores a station batch, check-ins, feedback, visit and duty
	// events, in ONE
	// transaction, all or nothing, and commits it durably before
	// returning. It is idempotent by ID: a record whose ID is already stored
	// is skipped and its stored row left as it is. It returns the IDs it
	// newly stored, in input order; the others were already there.
	// ReceivedAt must be set by the caller (the hub's clock). Errors:
	// EINVALID (an empty ID, a zero At or ReceivedAt), EUNAVAILABLE (the
	// database is busy or cannot be reached; retry later), EFULL (the disk
	// is full), EINTERNAL.
	Save(ctx context.Context, b Batch) (Saved, error)
	// Feedback returns one page of ratings matching the filter (Station,
	// Stations, Service, From, To on the station's clock, Limit, Cursor;
	// Order is ignored),
	// newest first. Errors: EINVALID (a malformed cursor), EUNAVAILABLE,
	// EINTERNAL.
	Feedback(ctx context.Context, f CheckInFilter) (FeedbackPage, error)
	// VisitEvents returns one page of visit events (queue tickets called,
	// served, ...) matching the filter as Feedback does, newest first.
	// Errors: EINVALID (a malformed cursor), EUNAVAILABLE, EINTERNAL.
	VisitEvents(ctx context.Context, f CheckInFilter) (VisitPage, error)
	// DutyEvents returns one page of duty events (staff on or off duty)
	// matching the filter as Feedback does, newest first.
	// Errors: EINVALID (a malformed cursor), EUNAVAILABLE, EINTERNAL.
	DutyEvents(ctx context.Context, f CheckInFilter) (DutyPage, error)

	// CheckIns returns one page of check-ins matching the filter, newest
	// first by the station's clock (At, then ID, descending), or, with
	// Order OrderSeq, one station's timeline in sequence order (Seq, then
	// ID, ascending), which holds whatever the station's clock said. Page.Next is
	// the cursor of the following page, empty after the last page. Pages
	// are keyset-based: rows stored while a client pages through older
	// rows neither repeat nor hide rows on later pages.
	// Errors: EINVALID (a malformed cursor, OrderSeq without a station, an
	// unknown order), EUNAVAILABLE, EINTERNAL.
	CheckIns(ctx context.Context, f CheckInFilter) (Page, error)

	// SeqRuns returns, for every station with check-ins, the runs of
	// consecutive sequence numbers stored, ascending and merged: a station
	// whose check-ins 1..40 and 43..90 are stored has [{1 40} {43 90}]. The
	// hub builds its gap tracking from it when it starts.
	// Errors: EUNAVAILABLE, EINTERNAL.
	SeqRuns(ctx context.Context) (map[string][]SeqRun, error)
	// CountCheckIns counts the check-ins matching the filter's Station,
	// Stations, Service, From and To (Limit, Cursor and Order are
	// ignored). Without From and To it reads the aggregates (no scan).
	// Errors: EUNAVAILABLE, EINTERNAL.
	CountCheckIns(ctx context.Context, f CheckInFilter) (int, error)

	// StationStats returns, for each station with at least one check-in,
	// its highest stored sequence number, the time of its newest check-in
	// and how many of its check-ins happened (station clock) at or after
	// since. When since is a midnight in the store's zone the counts come
	// from the aggregates (no scan). Errors: EUNAVAILABLE, EINTERNAL.
	StationStats(ctx context.Context, since time.Time) (map[string]StationStats, error)

	// SavePresence stores the presence of each station, replacing what was
	// stored for it, in one transaction.
	// Errors: EINVALID (an invalid station ID), EUNAVAILABLE, EFULL,
	// EINTERNAL.
	SavePresence(ctx context.Context, ps []Presence) error

	// Presences returns every stored presence ordered by station ID.
	// Errors: EUNAVAILABLE, EINTERNAL.
	Presences(ctx context.Context) ([]Presence, error)

	// CheckIn returns one stored check-in, in full (for an audited
	// unmasking). Errors: ENOTFOUND, EUNAVAILABLE, EINTERNAL.
	CheckIn(ctx context.Context, id string) (vetnet.CheckIn, error)

	// PersonData returns the check-ins of the person with this ID number
	// (found by its keyed hash, so returning visitors are recognised
	// without a searchable ID number) and the ratings of those visits,
	// oldest first, in full: for the person's own request.
	// Errors: EINVALID (a malformed ID number), EUNAVAILABLE, EINTERNAL.
	PersonData(ctx context.Context, idNumber string) (PersonData, error)

	// ErasePerson removes the person's ID number and name from each of
	// their check-ins and the comments from their ratings, in one
	// transaction. The rows stay (without personal data), so counts and
	// statistics do not change. Errors: EINVALID, EUNAVAILABLE, EINTERNAL.
	ErasePerson(ctx context.Context, idNumber string, at time.Time) (Erased, error)

	// Anonymise removes the ID number and name of at most limit check-ins
	// made (station clock) before before, oldest first, and returns how
	// many; statistics do not change. Errors: EUNAVAILABLE, EINTERNAL.
	Anonymise(ctx context.Context, before, at time.Time, limit int) (int, error)

	// CheckInStats returns check-in counts from the aggregates that Save
	// keeps in the same transaction as the check-ins, so they are exact.
	// Days and hours are in the store's zone. Rows come ordered by their
	// dimensions. GroupBy may hold DimDay, DimHour, DimStation and
	// DimService. Errors: EINVALID (an unknown dimension), EUNAVAILABLE,
	// EINTERNAL.
	CheckInStats(ctx context.Context, q StatsQuery) ([]StatsRow, error)

	// RatingStats is CheckInStats for ratings; GroupBy may hold DimDay,
	// DimStation, DimService and DimRating (not DimHour).
	RatingStats(ctx context.Context, q StatsQuery) ([]StatsRow, error)

	// AppendLog stores station transitions (presence, readers, disk).
	// Errors: EINVALID, EUNAVAILABLE, EFULL, EINTERNAL.
	AppendLog(ctx context.Context, entries []LogEntry) error

	// StationLog returns a station's transitions with At in [from, to),
	// oldest first, preceded by the last entry of each kind and subject
	// before from (the state the period began in).
	// Errors: EUNAVAILABLE, EINTERNAL.
	StationLog(ctx context.Context, station string, from, to time.Time) ([]LogEntry, error)

	// OpenAlert stores a new alert unless one with the same Key is not
	// resolved yet; it returns the stored alert (with its ID) and whether
	// it is new. Errors: EINVALID, EUNAVAILABLE, EFULL, EINTERNAL.
	OpenAlert(ctx context.Context, a Alert) (Alert, bool, error)

	// UpdateAlert stores the state, acknowledgement, clearing and
	// resolution of an alert. Errors: ENOTFOUND, EUNAVAILABLE, EINTERNAL.
	UpdateAlert(ctx context.Context, a Alert) error

	// Alert returns one alert. Errors: ENOTFOUND, EUNAVAILABLE, EINTERNAL.
	Alert(ctx context.Context, id int64) (Alert, error)

	// Alerts returns one page of alerts, newest first.
	// Errors: EINVALID (a malformed cursor), EUNAVAILABLE, EINTERNAL.
	Alerts(ctx context.Context, f AlertFilter) (AlertPage, error)

	// PutUser adds a person or replaces the stored one of the same Name.
	// Errors: EINVALID, EUNAVAILABLE, EINTERNAL.
	PutUser(ctx context.Context, u User) error

	// User returns a person by sign-in name.
	// Errors: ENOTFOUND, EUNAVAILABLE, EINTERNAL.
	User(ctx context.Context, name string) (User, error)

	// Users returns every person, ordered by name.
	// Errors: EUNAVAILABLE, EINTERNAL.
	Users(ctx context.Context) ([]User, error)

	// CreateSession stores a new session.
	// Errors: EINVALID, ECONFLICT, EUNAVAILABLE, EINTERNAL.
	CreateSession(ctx context.Context, s Session) error

	// Session returns the session of a token hash.
	// Errors: ENOTFOUND, EUNAVAILABLE, EINTERNAL.
	Session(ctx context.Context, tokenHash string) (Session, error)

	// DeleteSessions deletes the session of tokenHash, or with tokenHash
	// empty every session that expired before the given time.
	// Errors: EUNAVAILABLE, EINTERNAL.
	DeleteSessions(ctx context.Context, tokenHash string, expiredBefore time.Time) error

	// AppendAudit adds an entry to the audit log and returns its ID. The
	// log is append-only: nothing updates or deletes entries.
	// Errors: EINVALID, EUNAVAILABLE, EFULL, EINTERNAL.
	AppendAudit(ctx context.Context, e AuditEntry) (int64, error)

	// Audit returns one page of the audit log, newest first.
	// Errors: EINVALID (a malformed cursor), EUNAVAILABLE, EINTERNAL.
	Audit(ctx context.Context, f AuditFilter) (AuditPage, error)

	// Ping checks that the store can be reached.
	// Errors: EUNAVAILABLE.
	Ping(ctx context.Context) error

	// Close releases the store. Calls after Close fail with EUNAVAILABLE.
	Close() error
}

// Batch is what a station sends in one message and the hub stores at once.
type Batch struct {
	CheckIns []vetnet.CheckIn
	Feedback []vetnet.Feedback
	Visits   []vetnet.VisitEvent
	Duty     []vetnet.DutyEvent
	// RollCalls are staff answering a meeting's roll-call. A store that
	// keeps meetings (MeetingStore) stores them, and an attendance row for
	// each new check-in that names a meeting, in the same transaction.
	RollCalls []vetnet.RollCall
}

// Saved names the records a Save newly stored.
type Saved struct {
	CheckIns  []string
	Feedback  []string
	Visits    []string
	Duty      []string
	RollCalls []string
}

// SaveCheckIns stores check-ins alone: Save with a batch of check-ins.
func SaveCheckIns(ctx context.Context, s Store, cs []vetnet.CheckIn) ([]string, error) {
	saved, err := s.Save(ctx, Batch{CheckIns: cs})
	return saved.CheckIns, err
}

// FeedbackPage is one page of ratings.
type FeedbackPage struct {
	Feedback []vetnet.Feedback
	Next     string // cursor of the next page; empty when this is the last
}

// CheckInFilter selects check-ins. Zero fields select everything.
type CheckInFilter struct {
	Station string // only this station's check-ins
	// Stations, when not nil, keeps only these stations' rows (a
	// person's scope, or a station and those under it). An empty,
	// non-nil slice selects nothing.
	Stations []string
	Service  vetnet.Service // only this service, when set
	From     time.Time      // At >= From (station clock), when not zero
	To       time.Time      // At < To (station clock), when not zero
	Limit    int            // page size; <= 0 means DefaultLimit, capped at MaxLimit
	Cursor   string         // Page.Next of the previous page; empty for the first page
	Order    Order          // OrderAt (default) or OrderSeq; ignored by CountCheckIns
}

// Order is the order of a page of check-ins.
type Order string

const (
	// OrderAt is newest first by the station's clock: the dashboard's list.
	OrderAt Order = ""
	// OrderSeq is one station's check-ins in the order it made them
	// (ascending sequence number): its true timeline even when its clock
	// was wrong. It needs CheckInFilter.Station.
	OrderSeq Order = "seq"
)

// SeqRun is a run of consecutive sequence numbers, First..Last inclusive.
type SeqRun struct {
	First, Last uint64
}

// Page sizes of CheckIns.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// PageLimit returns the page size a store uses for the filter's Limit.
func (f CheckInFilter) PageLimit() int {
	switch {
	case f.Limit <= 0:
		return DefaultLimit
	case f.Limit > MaxLimit:
		return MaxLimit
	}
	return f.Limit
}

// Page is one page of check-ins.
type Page struct {
	CheckIns []vetnet.CheckIn
	Next     string // cursor of the next page; empty when this is the last
}

// StationStats sums up one station's stored check-ins.
type StationStats struct {
	CheckInsSince int       // check-ins with At >= the since asked for
	LastSeq       uint64    // highest stored sequence number
	LastAt        time.Time // At of the newest stored check-in (station clock)
}

// PresenceState is how the hub sees a station's connection.
type PresenceState string

const (
	// StateNeverSeen: a registered station the hub has never heard from.
	StateNeverSeen PresenceState = "never_seen"
	// StateOnline: the station announced itself online and its heartbeats
	// arrive on time.
	StateOnline PresenceState = "online"
	// StateStale: the station announced itself online, but no heartbeat
	// came for StaleFactor times its heartbeat interval, and no will either:
	// a half-open connection, a hung agent or a broker that lost the will.
	StateStale PresenceState = "stale"
	// StateOffline: the station said it stopped (shutdown) or the broker
	// published its last will (connection lost).
	StateOffline PresenceState = "offline"
)

// StaleFactor is how many heartbeat intervals may pass without a heartbeat
// before an online station is stale. 2.5 tolerates one lost heartbeat and
// a late one.
const StaleFactor = 2.5

// Valid reports whether s is one of the four states.
func (s PresenceState) Valid() bool {
	switch s {
	case StateNeverSeen, StateOnline, StateStale, StateOffline:
		return true
	}
	return false
}

// Label returns the state's name in lang ("zh" or "en").
func (s PresenceState) Label(lang string) string {
	names := map[PresenceState][2]string{
		StateNeverSeen: {"从未连接", "Never seen"},
		StateOnline:    {"在线", "Online"},
		StateStale:     {"心跳超时", "Stale"},
		StateOffline:   {"离线", "Offline"},
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

// Presence is what the hub knows of a station's connection and health.
// Times are the hub's clock unless noted.
type Presence struct {
	Station       string
	State         PresenceState
	Since         time.Time // when State began; zero for never_seen
	Reason        string    // why: connect, shutdown, will, heartbeat, heartbeat_missed
	LastSeen      time.Time // the last status or heartbeat of any kind; zero if never
	LastHeartbeat time.Time // the last heartbeat; zero if none
	HeartbeatS    int       // the station's heartbeat interval in seconds, as it reported
	Agent         string    // agent software version
	ConfigVersion string    // configuration the station applied
	ConnectedAt   time.Time // station clock: when its current connection began (Status.Since)
	Outbox        Backlog   // from the last heartbeat
	Readers       []Reader  // from the last heartbeat
	UptimeS       int64     // from the last heartbeat
	// ClockSkew is the station's clock minus the hub's when its last
	// heartbeat arrived (network delay included, so a few hundred
	// milliseconds are noise). A station hours off still has a correct
	// timeline at the hub: its sequence numbers and the hub's receive
	// times are kept beside its own times.
	ClockSkew time.Duration
	// Disk is the station's disk from its last heartbeat.
	Disk Disk
}

// Disk is a station's disk as its heartbeat reports it.
type Disk struct {
	FreeBytes uint64 // free on its data file system; 0 if unknown
	FileBytes int64  // size of its data file
	Low       bool   // it refuses check-ins until space is freed
}

// Backlog is a station's outbox as its last heartbeat reported it.
type Backlog struct {
	Depth    int       // check-ins waiting for the hub's ack
	OldestAt time.Time // station clock of the oldest waiting; zero if none
	LastSeq  uint64    // highest sequence number committed at the station
	Rejected int       // check-ins the hub refused, parked at the station
}

// Reader is the health of one reader or device of a station.
type Reader struct {
	Name   string
	Kind   string
	State  string // ok, fault or absent
	Detail string
}

// EventKind names a live event.
type EventKind string

const (
	EventCheckIn  EventKind = "checkin"  // a check-in was newly stored
	EventPresence EventKind = "presence" // a station's presence changed or its heartbeat data did
	EventFeedback EventKind = "feedback" // a rating was newly stored
	EventAlert    EventKind = "alert"    // an alert opened, was acknowledged, cleared or resolved
	EventMeeting  EventKind = "meeting"  // a meeting or its roster changed: read it again
)

// Event is a live event for dashboards. A check-in in an event is always
// masked (vetnet.Visitor.Masked): events are for screens.
type Event struct {
	Kind     EventKind
	CheckIn  vetnet.CheckIn  // for EventCheckIn; masked
	Presence Presence        // for EventPresence
	Feedback vetnet.Feedback // for EventFeedback
	Alert    Alert           // for EventAlert
	Changed  bool            // for EventPresence: the state changed (not only the heartbeat data)
	Meeting  string          // for EventMeeting: the meeting's ID
}

// Leadership is implemented by a store that several hub replicas share
// (cloud/postgres). Every replica takes every status and heartbeat and
// keeps every station's presence in memory, but one at a time leads: only
// the leader stores presence and the station log and opens and resolves
// the presence alerts, which would otherwise be written once per replica.
// When the leader dies its database session ends and another replica
// takes over at its next presence tick.
type Leadership interface {
	// Lead reports whether this store's replica leads, trying to become
	// the leader if nobody is. Errors: EUNAVAILABLE.
	Lead(ctx context.Context) (bool, error)
}
