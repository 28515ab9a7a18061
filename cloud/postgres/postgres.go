// Package postgres is the hub's store on PostgreSQL: cloud.Store through
// github.com/jackc/pgx/v5 (its database/sql driver), for a hub that
// outgrows one machine or runs as several replicas on one database.
//
// It keeps the same tables and aggregates as the embedded store
// (cloud/sqlite), seals ID numbers and names the same way under the hub's
// key ring (privacy.go; Options.KeyFile), keeps the meetings
// (cloud.MeetingStore, meetings.go) and passes the same conformance
// suites (cloud/storetest Run and RunMeetings); what differs is how it
// writes:
//
//   - Group commit. Save hands its batch to one writer goroutine, which
//     takes every batch waiting (up to MaxGroup records) and stores them in
//     ONE transaction with multi-row statements (INSERT ... SELECT FROM
//     unnest(arrays) ON CONFLICT DO NOTHING RETURNING id), then answers
//     each caller after the commit. A thousand stations sending at once
//     cost tens of commits a second, not thousands. If the group fails,
//     each batch is retried alone, so one batch never fails another.
//   - Idempotence by ID. checkin_ids (id primary key) says whether a
//     check-in is stored; checkins itself is partitioned.
//   - Partitions. checkins is range-partitioned by month of the station's
//     clock (UTC). The store makes the partitions it needs before it
//     writes, and at Open the current month and AheadMonths after it.
//   - Aggregates under a lock. The running totals are read-modify-write;
//     several replicas writing them at once would lose increments, so a
//     transaction takes an advisory lock (per schema) just before it adds
//     to them and holds it until commit. The check-in rows themselves are
//     written before the lock, in parallel.
//
// Durability: a commit returns after PostgreSQL flushed its WAL
// (synchronous_commit on, the server's default); Open refuses a session
// where synchronous_commit is off, because the hub acks what Save
// returned.
//
// The schema is versioned: migrations/NNNN_name.sql are embedded and
// applied in order at Open, under an advisory lock so that replicas
// starting together migrate once.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/internal/keyring"
)

var _ cloud.Store = (*Store)(nil)

// Options tune a Store. The zero value is usable.
type Options struct {
	// Schema is the PostgreSQL schema of the tables; created if missing.
	// Default "public". Tests use one schema each.
	Schema string

	// MaxConns is the size of the connection pool. Default 8. Every hub
	// replica holds up to this many connections: mind max_connections.
	MaxConns int

	// Writers is the number of group commits that run at once. Their
	// check-in rows are written in parallel; their aggregates one after
	// the other (an advisory lock). Default 3.
	Writers int

	// MaxGroup is the most records (check-ins, ratings, events) one
	// group commit stores. Default 2000.
	MaxGroup int

	// AheadMonths is how many months of check-in partitions after the
	// current one Open makes. Default 2.
	AheadMonths int

	// Location is the zone of the statistics' days and hours, as in the
	// embedded store. Default time.Local.
	Location *time.Location

	// KeyFile is the key ring that seals ID numbers and names (see
	// privacy.go and package keyring), mode 0600. Required: a database
	// has no path to put it beside. It is made when the database has no
	// key yet; losing it makes the stored ID numbers and names
	// unreadable, so Open refuses a database whose key file is missing or
	// another one. Every replica on one database needs a copy of it.
	KeyFile string
}

// Store is cloud.Store on PostgreSQL.
type Store struct {
	db     *sql.DB
	schema string
	lockNS int64 // advisory lock keys of this schema
	closed atomic.Bool
	loc    *time.Location
	opts   Options
	treeMu sync.RWMutex
	tree   treeBox

	parts   sync.Map // month key "2026-11" → true once its partition exists
	saves   chan *saveReq
	stop    chan struct{}
	writer  sync.WaitGroup
	closeMu sync.Mutex

	ring    *keyring.Ring // seals ID numbers and names
	hashKey []byte        // HMAC key of id_hash

	leadMu   sync.Mutex
	leadConn *sql.Conn // holds the leader's lock while this replica leads
}

var _ cloud.Leadership = (*Store)(nil)

//go:embed migrations/*.sql
var migrations embed.FS

// Open connects to the database at url (postgres://user@host:port/db?...),
// brings the schema up to date and starts the writer. Errors:
// EUNAVAILABLE (the server cannot be reached), EINVALID (a malformed URL,
// no KeyFile or synchronous_commit off), EINTERNAL (a migration failed,
// or the key file is missing, malformed or not the database's).
func Open(dsn string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Schema == "" {
		o.Schema = "public"
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 8
	}
	if o.MaxGroup <= 0 {
		o.MaxGroup = 2000
	}
	if o.Writers <= 0 {
		o.Writers = 3
	}
	if o.MaxConns < o.Writers+1 {
		o.MaxConns = o.Writers + 1
	}
	if o.AheadMonths <= 0 {
		o.AheadMonths = 2
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.KeyFile == "" {
		return nil, vetnet.Errorz(vetnet.EINVALID, "未指定个人信息密钥文件", "The store needs a key file (Options.KeyFile) to seal personal data.")
	}
	if !validIdent(o.Schema) {
		return nil, vetnet.Errorz(vetnet.EINVALID, "数据库模式名无效", "The database schema name is not valid.")
	}
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, vetnet.Errorz(vetnet.EINVALID, "数据库地址无效", "The database URL is not valid (postgres://...).")
	}
	q := u.Query()
	q.Set("search_path", o.Schema)
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		return nil, unavailable(err)
	}
	db.SetMaxOpenConns(o.MaxConns)
	db.SetMaxIdleConns(o.MaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	h := fnv.New64a()
	h.Write([]byte(o.Schema))
	s := &Store{db: db, schema: o.Schema, lockNS: int64(h.Sum64() >> 1), loc: o.Location, opts: o,
		saves: make(chan *saveReq, 1024), stop: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.setup(ctx); err != nil {
		db.Close()
		return nil, err
	}
	for i := 0; i < o.Writers; i++ {
		s.writer.Add(1)
		go s.writeLoop()
	}
	return s, nil
}

func (s *Store) setup(ctx context.Context) error {
	var sync string
	if err := s.db.QueryRowContext(ctx, `SHOW synchronous_commit`).Scan(&sync); err != nil {
		return unavailable(err)
	}
	if sync == "off" {
		return vetnet.Errorz(vetnet.EINVALID, "数据库未开启同步提交，确认前的数据可能丢失",
			"synchronous_commit is off: acknowledged check-ins could be lost.")
	}
	if _, err := s.db.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+quoteIdent(s.schema)); err != nil {
		// Another replica creating it at the same moment is fine.
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23505" {
			return translate(err)
		}
	}
	if err := s.migrate(ctx); err != nil {
		return err
	}
	if err := s.loadKeys(ctx, s.opts.KeyFile); err != nil {
		return err
	}
	if _, err := s.sealPlain(ctx); err != nil {
		return err
	}
	if err := s.loadTree(ctx); err != nil {
		return err
	}
	now := time.Now().UTC()
	for i := 0; i <= s.opts.AheadMonths; i++ {
		if err := s.ensurePartition(ctx, time.Date(now.Year(), now.Month()+time.Month(i), 1, 0, 0, 0, 0, time.UTC)); err != nil {
			return translate(err)
		}
	}
	return s.checkAggregates(ctx)
}

// validIdent accepts the schema names this store makes: letters, digits
// and underscores, not starting with a digit.
func validIdent(s string) bool {
	if s == "" || len(s) > 63 || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, r := range s {
		if !(r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Close stops the writer and closes the pool. Safe to call more than once.
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed.Swap(true) {
		return nil
	}
	close(s.stop)
	s.writer.Wait()
	s.resign()
	return translate(s.db.Close())
}

// DB returns the connection pool, for benchmarks and tools that load data
// directly (see RebuildAggregates).
func (s *Store) DB() *sql.DB { return s.db }

// Schema returns the store's schema.
func (s *Store) Schema() string { return s.schema }

// SchemaVersion returns the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	var v int
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v)
	return v, translate(err)
}

func (s *Store) migrate(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return unavailable(err)
	}
	defer conn.Close()
	// A session lock: replicas starting together wait for the first.
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, s.lockNS); err != nil {
		return translate(err)
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, s.lockNS)
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return translate(err)
	}
	entries, err := migrations.ReadDir("migrations")
	if err != nil {
		return vetnet.Wrap(vetnet.EINTERNAL, err, "数据库迁移文件缺失", "The database migrations are missing.")
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	var current int
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return translate(err)
	}
	for _, e := range entries {
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return vetnet.Wrap(vetnet.EINTERNAL, err, "数据库迁移文件命名错误", "A database migration is misnamed: "+e.Name())
		}
		if v <= current {
			continue
		}
		text, err := migrations.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return vetnet.Wrap(vetnet.EINTERNAL, err, "无法读取数据库迁移文件", "Cannot read a database migration.")
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return translate(err)
		}
		if _, err := tx.ExecContext(ctx, string(text)); err != nil {
			tx.Rollback()
			return vetnet.Wrap(vetnet.EINTERNAL, err, "数据库升级失败", fmt.Sprintf("Database migration %d failed.", v))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)`,
			v, e.Name(), time.Now().UnixNano()); err != nil {
			tx.Rollback()
			return translate(err)
		}
		if err := tx.Commit(); err != nil {
			return vetnet.Wrap(vetnet.EINTERNAL, err, "数据库升级失败", fmt.Sprintf("Database migration %d failed.", v))
		}
	}
	return nil
}

// check fails once the store is closed.
func (s *Store) check() error {
	if s.closed.Load() {
		return vetnet.Errorz(vetnet.EUNAVAILABLE, "数据库已关闭", "The database is closed.")
	}
	return nil
}

// rebind turns the ? placeholders of the shared query texts into $1, $2...
// (no query of this package has a literal ?).
func rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// queryer is what *sql.DB, *sql.Conn and *sql.Tx share.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inTx runs fn in a transaction and commits it; the after functions run
// once it committed.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error, after ...func()) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for _, f := range after {
		f()
	}
	return nil
}

// lockAggregates takes the transaction's lock on the running totals.
func (s *Store) lockAggregates(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, s.lockNS+1)
	return err
}

// Ping implements cloud.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := s.db.PingContext(ctx); err != nil {
		return vetnet.Wrap(vetnet.EUNAVAILABLE, err, "数据库无法访问", "The database cannot be reached.")
	}
	return nil
}

// UpsertStations implements cloud.Store.
func (s *Store) UpsertStations(ctx context.Context, stations []vetnet.Station) error {
	if err := s.check(); err != nil {
		return err
	}
	for _, st := range stations {
		if err := st.Validate(); err != nil {
			return err
		}
	}
	s.treeMu.Lock()
	defer s.treeMu.Unlock()
	next := s.tree.With(stations)
	changed := !next.Equal(s.tree.Get())
	if len(stations) == 0 {
		return nil
	}
	// The last of an ID wins, as with one statement per station.
	lastOf := map[string]int{}
	for i, st := range stations {
		lastOf[st.ID] = i
	}
	uniq := stations[:0:0]
	for i, st := range stations {
		if lastOf[st.ID] == i {
			uniq = append(uniq, st)
		}
	}
	stations = uniq
	ids := make([]string, len(stations))
	names, namesEN, levels, parents, svcs, addrs, contacts := make([]string, len(stations)), make([]string, len(stations)),
		make([]string, len(stations)), make([]string, len(stations)), make([]string, len(stations)), make([]string, len(stations)), make([]string, len(stations))
	for i, st := range stations {
		ss := make([]string, len(st.Services))
		for j, sv := range st.Services {
			ss[j] = string(sv)
		}
		ids[i], names[i], namesEN[i], levels[i], parents[i] = st.ID, st.Name, st.NameEN, string(st.Level), st.Parent
		svcs[i], addrs[i], contacts[i] = strings.Join(ss, ","), st.Address, st.Contact
	}
	return translate(s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO stations (id, name, name_en, level, parent, services, address, contact)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, level = excluded.level,
				parent = excluded.parent, services = excluded.services, address = excluded.address, contact = excluded.contact`,
			ids, names, namesEN, levels, parents, svcs, addrs, contacts); err != nil {
			return err
		}
		if changed {
			if err := s.lockAggregates(ctx, tx); err != nil {
				return err
			}
			return rebuildTreeAggregates(ctx, tx, next)
		}
		return nil
	}, func() {
		if changed {
			s.tree.Set(next)
		}
	}))
}

// Stations implements cloud.Store.
func (s *Store) Stations(ctx context.Context) ([]vetnet.Station, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, name_en, level, parent, services, address, contact FROM stations ORDER BY id`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []vetnet.Station
	for rows.Next() {
		var st vetnet.Station
		var level, svcs string
		if err := rows.Scan(&st.ID, &st.Name, &st.NameEN, &level, &st.Parent, &svcs, &st.Address, &st.Contact); err != nil {
			return nil, translate(err)
		}
		st.Level = vetnet.Level(level)
		if svcs != "" {
			for _, sv := range strings.Split(svcs, ",") {
				st.Services = append(st.Services, vetnet.Service(sv))
			}
		}
		out = append(out, st)
	}
	return out, translate(rows.Err())
}

// nanos converts a time to the stored integer. Times outside what int64
// nanoseconds hold (years 1678–2262) are refused rather than wrapped.
func nanos(t time.Time) (int64, bool) {
	if t.Year() < 1680 || t.Year() > 2260 {
		return 0, false
	}
	return t.UnixNano(), true
}

func nullNanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	n, ok := nanos(t)
	if !ok {
		return nil
	}
	return n
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func fromNull(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromNanos(n.Int64)
}

func clampNanos(t time.Time) int64 {
	switch {
	case t.Year() < 1680:
		return math.MinInt64
	case t.Year() > 2260:
		return math.MaxInt64
	}
	return t.UnixNano()
}

// reader is the stored JSON form of a cloud.Reader.
type reader struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
}

// SavePresence implements cloud.Store.
func (s *Store) SavePresence(ctx context.Context, ps []cloud.Presence) error {
	if err := s.check(); err != nil {
		return err
	}
	for _, p := range ps {
		if err := vetnet.ValidateStationID(p.Station); err != nil {
			return err
		}
		if !p.State.Valid() {
			return vetnet.Errorz(vetnet.EINVALID, "未知的在线状态", "Unknown presence state.")
		}
	}
	if len(ps) == 0 {
		return nil
	}
	// The last of a station wins, as with one statement per row.
	last := map[string]int{}
	for i, p := range ps {
		last[p.Station] = i
	}
	var (
		station, state, reason, agent, cfgv, readers []string
		since, seen, hb, conn, oldest                []*int64
		hbs, depth, rejected                         []int32
		uptime, lastSeq, skew, diskFree, diskFile    []int64
		diskLow                                      []bool
	)
	np := func(t time.Time) *int64 {
		v := nullNanos(t)
		if v == nil {
			return nil
		}
		n := v.(int64)
		return &n
	}
	for i, p := range ps {
		if last[p.Station] != i {
			continue
		}
		rs := make([]reader, len(p.Readers))
		for j, r := range p.Readers {
			rs[j] = reader(r)
		}
		js, err := json.Marshal(rs)
		if err != nil {
			return vetnet.Wrap(vetnet.EINTERNAL, err, "读卡器状态无法保存", "Reader states cannot be stored.")
		}
		station, state, reason, agent, cfgv, readers = append(station, p.Station), append(state, string(p.State)), append(reason, p.Reason),
			append(agent, p.Agent), append(cfgv, p.ConfigVersion), append(readers, string(js))
		since, seen, hb, conn, oldest = append(since, np(p.Since)), append(seen, np(p.LastSeen)), append(hb, np(p.LastHeartbeat)),
			append(conn, np(p.ConnectedAt)), append(oldest, np(p.Outbox.OldestAt))
		hbs, depth, rejected = append(hbs, int32(p.HeartbeatS)), append(depth, int32(p.Outbox.Depth)), append(rejected, int32(p.Outbox.Rejected))
		uptime, lastSeq, skew = append(uptime, p.UptimeS), append(lastSeq, int64(min(p.Outbox.LastSeq, math.MaxInt64))), append(skew, p.ClockSkew.Milliseconds())
		diskFree, diskFile, diskLow = append(diskFree, int64(min(p.Disk.FreeBytes, math.MaxInt64))), append(diskFile, p.Disk.FileBytes), append(diskLow, p.Disk.Low)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO presence
		(station_id, state, since, reason, last_seen, last_heartbeat, heartbeat_s, agent, config_version,
		 connected_at, uptime_s, outbox_depth, outbox_oldest, outbox_last_seq, outbox_rejected, readers, clock_skew_ms,
		 disk_free, disk_file, disk_low)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::int[], $8::text[], $9::text[],
			$10::bigint[], $11::bigint[], $12::int[], $13::bigint[], $14::bigint[], $15::int[], $16::text[], $17::bigint[],
			$18::bigint[], $19::bigint[], $20::bool[])
		ON CONFLICT (station_id) DO UPDATE SET state = excluded.state, since = excluded.since, reason = excluded.reason,
			last_seen = excluded.last_seen, last_heartbeat = excluded.last_heartbeat, heartbeat_s = excluded.heartbeat_s,
			agent = excluded.agent, config_version = excluded.config_version, connected_at = excluded.connected_at,
			uptime_s = excluded.uptime_s, outbox_depth = excluded.outbox_depth, outbox_oldest = excluded.outbox_oldest,
			outbox_last_seq = excluded.outbox_last_seq, outbox_rejected = excluded.outbox_rejected, readers = excluded.readers,
			clock_skew_ms = excluded.clock_skew_ms, disk_free = excluded.disk_free, disk_file = excluded.disk_file,
			disk_low = excluded.disk_low`,
		station, state, since, reason, seen, hb, hbs, agent, cfgv, conn, uptime, depth, oldest, lastSeq, rejected, readers, skew,
		diskFree, diskFile, diskLow)
	return translate(err)
}

// Presences implements cloud.Store.
func (s *Store) Presences(ctx context.Context) ([]cloud.Presence, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT station_id, state, since, reason, last_seen, last_heartbeat, heartbeat_s,
		agent, config_version, connected_at, uptime_s, outbox_depth, outbox_oldest, outbox_last_seq, outbox_rejected, readers,
		clock_skew_ms, disk_free, disk_file, disk_low FROM presence ORDER BY station_id`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []cloud.Presence
	for rows.Next() {
		var p cloud.Presence
		var state, readers string
		var since, seen, hb, conn, oldest sql.NullInt64
		var lastSeq, skewMS, diskFree int64
		if err := rows.Scan(&p.Station, &state, &since, &p.Reason, &seen, &hb, &p.HeartbeatS, &p.Agent, &p.ConfigVersion,
			&conn, &p.UptimeS, &p.Outbox.Depth, &oldest, &lastSeq, &p.Outbox.Rejected, &readers, &skewMS,
			&diskFree, &p.Disk.FileBytes, &p.Disk.Low); err != nil {
			return nil, translate(err)
		}
		p.Disk.FreeBytes = uint64(diskFree)
		p.ClockSkew = time.Duration(skewMS) * time.Millisecond
		p.State = cloud.PresenceState(state)
		p.Since, p.LastSeen, p.LastHeartbeat, p.ConnectedAt = fromNull(since), fromNull(seen), fromNull(hb), fromNull(conn)
		p.Outbox.OldestAt, p.Outbox.LastSeq = fromNull(oldest), uint64(lastSeq)
		var rs []reader
		if err := json.Unmarshal([]byte(readers), &rs); err != nil {
			return nil, vetnet.Wrap(vetnet.EINTERNAL, err, "数据库中的读卡器状态无法读取", "Stored reader states are unreadable.")
		}
		for _, r := range rs {
			p.Readers = append(p.Readers, cloud.Reader(r))
		}
		out = append(out, p)
	}
	return out, translate(rows.Err())
}

// translate turns a database error into a *vetnet.Error whose messages are
// safe to show; the driver's error (which may quote SQL) stays as the
// cause, for the log.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var ve *vetnet.Error
	if errors.As(err, &ve) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return vetnet.Wrap(vetnet.EUNAVAILABLE, err, "数据库操作超时或被取消", "The database operation timed out or was cancelled.")
	}
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, sql.ErrTxDone) {
		return vetnet.Wrap(vetnet.EUNAVAILABLE, err, "数据库连接已断开", "The database connection was lost.")
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "53100": // disk_full
			return vetnet.Wrap(vetnet.EFULL, err, "数据库磁盘空间已满", "The database disk is full.")
		case pe.Code == "40001" || pe.Code == "40P01" || pe.Code == "55P03" || strings.HasPrefix(pe.Code, "53") || strings.HasPrefix(pe.Code, "57") || strings.HasPrefix(pe.Code, "08"):
			return vetnet.Wrap(vetnet.EUNAVAILABLE, err, "数据库忙或不可用，请稍后重试", "The database is busy or unavailable; try again later.")
		case strings.HasPrefix(pe.Code, "23"):
			return vetnet.Wrap(vetnet.ECONFLICT, err, "数据与已有记录冲突", "The data conflicts with a stored record.")
		}
		return vetnet.Wrap(vetnet.EINTERNAL, err, "数据库内部错误", "Internal database error.")
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return vetnet.Wrap(vetnet.EUNAVAILABLE, err, "数据库无法访问", "The database cannot be reached.")
	}
	return vetnet.Wrap(vetnet.EINTERNAL, err, "数据库内部错误", "Internal database error.")
}

func unavailable(err error) error {
	return vetnet.Wrap(vetnet.EUNAVAILABLE, err, "无法连接数据库", "Cannot connect to the database.")
}

// rb runs the shared query texts, with ? placeholders, on a pool, a
// connection or a transaction.
type rb struct{ q queryer }

func (r rb) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return r.q.ExecContext(ctx, rebind(q), args...)
}

func (r rb) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return r.q.QueryContext(ctx, rebind(q), args...)
}

func (r rb) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return r.q.QueryRowContext(ctx, rebind(q), args...)
}
