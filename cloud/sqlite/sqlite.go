// Package sqlite is the hub's embedded store: cloud.Store on SQLite through
// modernc.org/sqlite (pure Go, no cgo), in one file in the data directory.
//
// The hub acknowledges check-ins to a station only after SaveCheckIns
// returns, and the station then deletes them from its outbox; so a commit
// must survive a power cut. The database runs in WAL mode with
// synchronous=FULL, which fsyncs the WAL at every commit (NORMAL would
// only fsync at checkpoints and could lose the last acknowledged commits).
//
// All writes go through one connection (SQLite allows one writer at a
// time; a pool of writers would only queue on the file lock and surface
// SQLITE_BUSY), with BEGIN IMMEDIATE so a transaction takes the write lock
// before it reads. Reads use a separate pool of read-only connections,
// which WAL lets run beside the writer.
//
// The schema is versioned: migrations/NNNN_name.sql are embedded and
// applied in order at Open, each in its own transaction, and recorded in
// schema_version.
//
// Errors are *vetnet.Error. SQL text and driver messages stay in the
// wrapped cause, for the log; people see only the translated message.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/internal/storekit"
	"github.com/vetnet/vetnet/internal/keyring"
)

var _ cloud.Store = (*Store)(nil)

// Options tune a Store. The zero value is usable.
type Options struct {
	// BusyTimeout is how long a statement waits for a lock held by another
	// process or connection before failing with EUNAVAILABLE. Default 5 s.
	BusyTimeout time.Duration

	// ReadConns is the number of read-only connections. Default 4.
	ReadConns int

	// KeyFile is the key ring that seals ID numbers and names (see
	// privacy.go and package keyring), mode 0600. Default the database's
	// path + ".key". It is made when the database has no key yet; losing
	// it makes the stored ID numbers and names unreadable, so Open refuses
	// a database whose key file is missing or another one.
	KeyFile string

	// Location is the zone of the statistics' days and hours. The
	// aggregates are rebuilt at Open when it differs from the zone they
	// were built in (a scan of every check-in). Default time.Local.
	Location *time.Location
}

// Store is cloud.Store on a SQLite file.
type Store struct {
	path   string
	w      *sql.DB // exactly one connection: the only writer
	r      *sql.DB // read-only connections
	closed atomic.Bool
	loc    *time.Location
	treeMu sync.RWMutex
	tree   treeBox // the stations' parents, for the subtree aggregates
	stmts  *stmtCache
	gen    atomic.Uint64 // counts committed saves, for memo
	memo   cumMemo

	ring    *keyring.Ring // seals ID numbers and names
	hashKey []byte        // HMAC key of id_hash
}

//go:embed migrations/*.sql
var migrations embed.FS

// Open opens or creates the database file at path and brings its schema up
// to date. Errors: EUNAVAILABLE (the file cannot be opened or is locked),
// EINTERNAL (a migration failed or the file is not a database).
func Open(path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.ReadConns <= 0 {
		o.ReadConns = 4
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.KeyFile == "" {
		o.KeyFile = path + ".key"
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath()
	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(on)", o.BusyTimeout.Milliseconds())
	w, err := sql.Open("sqlite", base+"?"+common+"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=secure_delete(on)&_pragma=cache_size(-65536)&_txlock=immediate")
	if err != nil {
		return nil, unavailable(err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{path: path, w: w, loc: o.Location}
	if err := s.migrate(context.Background()); err != nil {
		w.Close()
		return nil, err
	}
	if err := s.loadKeys(context.Background(), o.KeyFile); err != nil {
		w.Close()
		return nil, err
	}
	if _, err := s.sealPlain(context.Background()); err != nil {
		w.Close()
		return nil, err
	}
	if err := s.loadTree(context.Background()); err != nil {
		w.Close()
		return nil, err
	}
	if err := s.checkAggregates(context.Background()); err != nil {
		w.Close()
		return nil, err
	}
	if err := s.prepareStmts(context.Background()); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", base+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, unavailable(err)
	}
	r.SetMaxOpenConns(o.ReadConns)
	r.SetMaxIdleConns(o.ReadConns)
	s.r = r
	return s, nil
}

// Close closes the database. It is safe to call more than once.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if s.stmts != nil {
		s.stmts.closeAll()
	}
	err := s.r.Close()
	if werr := s.w.Close(); werr != nil {
		err = werr
	}
	if err != nil {
		return translate(err)
	}
	return nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// SchemaVersion returns the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	var v int
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v)
	return v, translate(err)
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		return translate(err)
	}
	entries, err := migrations.ReadDir("migrations")
	if err != nil {
		return vetnet.Wrap(vetnet.EINTERNAL, err, "数据库迁移文件缺失", "The database migrations are missing.")
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	var current int
	if err := s.w.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
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
		if err := s.inTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(text)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)`,
				v, e.Name(), time.Now().UnixNano())
			return err
		}); err != nil {
			return vetnet.Wrap(vetnet.EINTERNAL, err, "数据库升级失败", fmt.Sprintf("Database migration %d failed.", v))
		}
	}
	return nil
}

// check fails once the store is closed: database/sql's own error for that
// is not exported, so it could not be translated reliably.
func (s *Store) check() error {
	if s.closed.Load() {
		return vetnet.Errorz(vetnet.EUNAVAILABLE, "数据库已关闭", "The database is closed.")
	}
	return nil
}

// inTx runs fn in a write transaction and commits it. Any error rolls the
// whole transaction back. The after functions run once it committed.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error, after ...func()) error {
	tx, err := s.w.BeginTx(ctx, nil)
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

// Ping implements cloud.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	var one int
	if err := s.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
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
	// Saves read the tree while they write; the lock keeps a save from
	// aggregating by a tree that a concurrent change is replacing.
	s.treeMu.Lock()
	defer s.treeMu.Unlock()
	next := s.tree.With(stations)
	changed := !next.Equal(s.tree.Get())
	return translate(s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO stations (id, name, name_en, level, parent, services, address, contact)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, level = excluded.level,
				parent = excluded.parent, services = excluded.services, address = excluded.address, contact = excluded.contact`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, st := range stations {
			svcs := make([]string, len(st.Services))
			for i, sv := range st.Services {
				svcs[i] = string(sv)
			}
			if _, err := stmt.ExecContext(ctx, st.ID, st.Name, st.NameEN, string(st.Level), st.Parent,
				strings.Join(svcs, ","), st.Address, st.Contact); err != nil {
				return err
			}
		}
		if changed {
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
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, name_en, level, parent, services, address, contact FROM stations ORDER BY id`)
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

const (
	qInsertCheckIn = `INSERT INTO checkins
		(id, station_id, seq, at, received_at, service, method, queue_no, id_number, name, doc, staff, detail, id_hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`
	qInsertFeedback = `INSERT INTO feedback
		(id, station_id, checkin_id, service, rating, reasons, comment, at, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`
)

// Save implements cloud.Store.
func (s *Store) Save(ctx context.Context, b cloud.Batch) (cloud.Saved, error) {
	if err := s.check(); err != nil {
		return cloud.Saved{}, err
	}
	for _, c := range b.CheckIns {
		if c.ID == "" || c.StationID == "" {
			return cloud.Saved{}, vetnet.Errorz(vetnet.EINVALID, "签到缺少编号或站点", "A check-in lacks its ID or station.")
		}
		if _, ok := nanos(c.At); !ok || c.At.IsZero() {
			return cloud.Saved{}, vetnet.Errorz(vetnet.EINVALID, "签到时间缺失或超出范围", "A check-in's time is missing or out of range.")
		}
		if _, ok := nanos(c.ReceivedAt); !ok || c.ReceivedAt.IsZero() {
			return cloud.Saved{}, vetnet.Errorz(vetnet.EINVALID, "签到接收时间缺失", "A check-in's receive time is missing.")
		}
		if c.Seq > math.MaxInt64 {
			return cloud.Saved{}, vetnet.Errorz(vetnet.EINVALID, "签到序号超出范围", "A check-in's sequence number is out of range.")
		}
	}
	for _, f := range b.Feedback {
		if f.ID == "" || f.StationID == "" || f.CheckInID == "" {
			return cloud.Saved{}, vetnet.Errorz(vetnet.EINVALID, "评价缺少编号、站点或签到", "A rating lacks its ID, station or check-in.")
		}
		_, okAt := nanos(f.At)
		_, okRecv := nanos(f.ReceivedAt)
		if !okAt || !okRecv || f.At.IsZero() || f.ReceivedAt.IsZero() {
			return cloud.Saved{}, vetnet.Errorz(vetnet.EINVALID, "评价时间缺失或超出范围", "A rating's time is missing or out of range.")
		}
	}
	if err := checkEvents(b); err != nil {
		return cloud.Saved{}, err
	}
	if err := checkRollCalls(b); err != nil {
		return cloud.Saved{}, err
	}
	if len(b.CheckIns) == 0 && len(b.Feedback) == 0 && len(b.Visits) == 0 && len(b.Duty) == 0 && len(b.RollCalls) == 0 {
		return cloud.Saved{}, nil
	}
	var saved cloud.Saved
	s.treeMu.RLock()
	defer s.treeMu.RUnlock()
	tr := s.tree.Get()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		saved = cloud.Saved{}
		agg := newAggregates(s.stmts, s.loc, tr)
		if len(b.CheckIns) > 0 {
			stmt, err := agg.prep(ctx, tx, qInsertCheckIn)
			if err != nil {
				return err
			}
			defer stmt.Close()
			for _, c := range b.CheckIns {
				idn, name, hash, err := s.sealVisitor(c.ID, c.Visitor)
				if err != nil {
					return err
				}
				res, err := stmt.ExecContext(ctx, c.ID, c.StationID, int64(c.Seq), c.At.UnixNano(), c.ReceivedAt.UnixNano(),
					string(c.Service), string(c.Method), c.QueueNo, idn, name, string(c.Visitor.DocType), c.Staff, c.Detail, hash)
				if err != nil {
					return err
				}
				if n, err := res.RowsAffected(); err != nil {
					return err
				} else if n == 1 {
					saved.CheckIns = append(saved.CheckIns, c.ID)
					agg.addCheckIn(c.StationID, c.At, c.Service, c.Seq)
				}
			}
		}
		if len(b.Feedback) > 0 {
			stmt, err := agg.prep(ctx, tx, qInsertFeedback)
			if err != nil {
				return err
			}
			defer stmt.Close()
			for _, f := range b.Feedback {
				reasons := make([]string, len(f.Reasons))
				for i, r := range f.Reasons {
					reasons[i] = string(r)
				}
				res, err := stmt.ExecContext(ctx, f.ID, f.StationID, f.CheckInID, string(f.Service), int(f.Rating),
					strings.Join(reasons, ","), f.Comment, f.At.UnixNano(), f.ReceivedAt.UnixNano())
				if err != nil {
					return err
				}
				if n, err := res.RowsAffected(); err != nil {
					return err
				} else if n == 1 {
					saved.Feedback = append(saved.Feedback, f.ID)
					agg.addRating(f.StationID, f.At, f.Service, f.Rating)
				}
			}
		}
		if err := saveEvents(ctx, tx, b, &saved); err != nil {
			return err
		}
		if err := saveAttendance(ctx, tx, b, saved.CheckIns, &saved); err != nil {
			return err
		}
		return agg.write(ctx, tx)
	})
	if err != nil {
		return cloud.Saved{}, translate(err)
	}
	s.gen.Add(1)
	return saved, nil
}

// Feedback implements cloud.Store.
func (s *Store) Feedback(ctx context.Context, f cloud.CheckInFilter) (cloud.FeedbackPage, error) {
	if err := s.check(); err != nil {
		return cloud.FeedbackPage{}, err
	}
	cond, args := where(f)
	if f.Cursor != "" {
		at, id, err := decodeCursor(cloud.OrderAt, f.Cursor)
		if err != nil {
			return cloud.FeedbackPage{}, err
		}
		if cond != "" {
			cond += " AND "
		}
		cond += "(at < ? OR (at = ? AND id < ?))"
		args = append(args, at, at, id)
	}
	q := `SELECT id, station_id, checkin_id, service, rating, reasons, comment, at, received_at FROM feedback`
	if cond != "" {
		q += " WHERE " + cond
	}
	limit := f.PageLimit()
	q += " ORDER BY at DESC, id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return cloud.FeedbackPage{}, translate(err)
	}
	defer rows.Close()
	var p cloud.FeedbackPage
	var lastAt int64
	for rows.Next() {
		var fb vetnet.Feedback
		var service, reasons string
		var rating int
		var at, recv int64
		if err := rows.Scan(&fb.ID, &fb.StationID, &fb.CheckInID, &service, &rating, &reasons, &fb.Comment, &at, &recv); err != nil {
			return cloud.FeedbackPage{}, translate(err)
		}
		if len(p.Feedback) == limit {
			p.Next = encodeCursor(cloud.OrderAt, lastAt, p.Feedback[limit-1].ID)
			break
		}
		fb.Service, fb.Rating, fb.At, fb.ReceivedAt = vetnet.Service(service), vetnet.Rating(rating), fromNanos(at), fromNanos(recv)
		if reasons != "" {
			for _, r := range strings.Split(reasons, ",") {
				fb.Reasons = append(fb.Reasons, vetnet.Reason(r))
			}
		}
		p.Feedback = append(p.Feedback, fb)
		lastAt = at
	}
	return p, translate(rows.Err())
}

// where builds the WHERE clause of a filter, without the cursor.
func where(f cloud.CheckInFilter) (string, []any) {
	var conds []string
	var args []any
	switch set := stationSet(f); {
	case set == nil:
	case len(set) == 1:
		conds = append(conds, "station_id = ?")
		args = append(args, set[0])
	default:
		conds = append(conds, "station_id IN (SELECT value FROM json_each(?))")
		args = append(args, jsonList(set))
	}
	if f.Service != "" {
		conds = append(conds, "service = ?")
		args = append(args, string(f.Service))
	}
	if !f.From.IsZero() {
		conds = append(conds, "at >= ?")
		args = append(args, clampNanos(f.From))
	}
	if !f.To.IsZero() {
		conds = append(conds, "at < ?")
		args = append(args, clampNanos(f.To))
	}
	return strings.Join(conds, " AND "), args
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

// A cursor is the (at, id) of the last row of a page, or (seq, id) in
// sequence order, so the next page starts strictly after it. Sequence
// cursors start with "s", so that a cursor is never read in the wrong
// order.
func encodeCursor(o cloud.Order, num int64, id string) string {
	prefix := ""
	if o == cloud.OrderSeq {
		prefix = "s"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(prefix + strconv.FormatInt(num, 10) + ":" + id))
}

func decodeCursor(o cloud.Order, c string) (int64, string, error) {
	bad := vetnet.Errorz(vetnet.EINVALID, "分页游标无效", "The page cursor is not valid.")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", bad
	}
	text := string(b)
	if o == cloud.OrderSeq {
		var ok bool
		if text, ok = strings.CutPrefix(text, "s"); !ok {
			return 0, "", bad
		}
	} else if strings.HasPrefix(text, "s") {
		return 0, "", bad
	}
	num, id, ok := strings.Cut(text, ":")
	if !ok || id == "" || len(id) > 64 {
		return 0, "", bad
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, "", bad
	}
	return n, id, nil
}

// CheckIns implements cloud.Store.
func (s *Store) CheckIns(ctx context.Context, f cloud.CheckInFilter) (cloud.Page, error) {
	if err := s.check(); err != nil {
		return cloud.Page{}, err
	}
	switch f.Order {
	case cloud.OrderAt:
	case cloud.OrderSeq:
		if f.Station == "" {
			return cloud.Page{}, vetnet.Errorz(vetnet.EINVALID, "按序号排列需要指定站点", "Sequence order needs a station.")
		}
	default:
		return cloud.Page{}, vetnet.Errorz(vetnet.EINVALID, "未知的排序方式", "Unknown order.")
	}
	cond, args := where(f)
	if f.Cursor != "" {
		num, id, err := decodeCursor(f.Order, f.Cursor)
		if err != nil {
			return cloud.Page{}, err
		}
		if cond != "" {
			cond += " AND "
		}
		if f.Order == cloud.OrderSeq {
			cond += "(seq > ? OR (seq = ? AND id > ?))"
		} else {
			cond += "(at < ? OR (at = ? AND id < ?))"
		}
		args = append(args, num, num, id)
	}
	q := `SELECT id, station_id, seq, at, received_at, service, method, queue_no, id_number, name, doc, staff, detail FROM checkins`
	if cond != "" {
		q += " WHERE " + cond
	}
	limit := f.PageLimit()
	// One row more than the page tells whether another page follows, so
	// the last page never carries a cursor to an empty one.
	if f.Order == cloud.OrderSeq {
		q += " ORDER BY seq ASC, id ASC LIMIT ?"
	} else {
		q += " ORDER BY at DESC, id DESC LIMIT ?"
	}
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return cloud.Page{}, translate(err)
	}
	defer rows.Close()
	var p cloud.Page
	var lastKey int64
	for rows.Next() {
		var c vetnet.CheckIn
		var seq, at, recv int64
		var service, method, doc string
		if err := rows.Scan(&c.ID, &c.StationID, &seq, &at, &recv, &service, &method, &c.QueueNo,
			&c.Visitor.IDNumber, &c.Visitor.Name, &doc, &c.Staff, &c.Detail); err != nil {
			return cloud.Page{}, translate(err)
		}
		if len(p.CheckIns) == limit {
			p.Next = encodeCursor(f.Order, lastKey, p.CheckIns[limit-1].ID)
			break
		}
		if err := s.openVisitor(c.ID, &c.Visitor); err != nil {
			return cloud.Page{}, err
		}
		c.Seq, c.At, c.ReceivedAt = uint64(seq), fromNanos(at), fromNanos(recv)
		c.Service, c.Method, c.Visitor.DocType = vetnet.Service(service), vetnet.Method(method), vetnet.DocType(doc)
		p.CheckIns = append(p.CheckIns, c)
		lastKey = at
		if f.Order == cloud.OrderSeq {
			lastKey = seq
		}
	}
	return p, translate(rows.Err())
}

// CountCheckIns implements cloud.Store.
func (s *Store) CountCheckIns(ctx context.Context, f cloud.CheckInFilter) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	if n, ok, err := s.countFromAggregates(ctx, f); ok {
		return n, err
	}
	cond, args := where(f)
	q := `SELECT COUNT(*) FROM checkins`
	if cond != "" {
		q += " WHERE " + cond
	}
	var n int
	err := s.r.QueryRowContext(ctx, q, args...).Scan(&n)
	return n, translate(err)
}

// StationStats implements cloud.Store.
func (s *Store) StationStats(ctx context.Context, since time.Time) (map[string]cloud.StationStats, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if storekit.IsMidnight(since, s.loc) {
		return s.stationStatsFromAggregates(ctx, since)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT station_id, MAX(seq), MAX(at), SUM(at >= ?) FROM checkins GROUP BY station_id`,
		clampNanos(since))
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := map[string]cloud.StationStats{}
	for rows.Next() {
		var id string
		var seq, at, today int64
		if err := rows.Scan(&id, &seq, &at, &today); err != nil {
			return nil, translate(err)
		}
		out[id] = cloud.StationStats{CheckInsSince: int(today), LastSeq: uint64(seq), LastAt: fromNanos(at)}
	}
	return out, translate(rows.Err())
}

// reader is the stored JSON form of a cloud.Reader.
type reader struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
}

// SeqRuns implements cloud.Store: "gaps and islands" over the (station,
// seq) index; consecutive numbers share seq - row_number().
func (s *Store) SeqRuns(ctx context.Context) (map[string][]cloud.SeqRun, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT station_id, MIN(seq), MAX(seq) FROM (
			SELECT station_id, seq, seq - ROW_NUMBER() OVER (PARTITION BY station_id ORDER BY seq) AS grp
			FROM (SELECT DISTINCT station_id, seq FROM checkins))
		GROUP BY station_id, grp ORDER BY station_id, 2`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := map[string][]cloud.SeqRun{}
	for rows.Next() {
		var st string
		var first, last int64
		if err := rows.Scan(&st, &first, &last); err != nil {
			return nil, translate(err)
		}
		out[st] = append(out[st], cloud.SeqRun{First: uint64(first), Last: uint64(last)})
	}
	return out, translate(rows.Err())
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
	return translate(s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO presence
			(station_id, state, since, reason, last_seen, last_heartbeat, heartbeat_s, agent, config_version,
			 connected_at, uptime_s, outbox_depth, outbox_oldest, outbox_last_seq, outbox_rejected, readers, clock_skew_ms,
			 disk_free, disk_file, disk_low)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, p := range ps {
			rs := make([]reader, len(p.Readers))
			for i, r := range p.Readers {
				rs[i] = reader(r)
			}
			js, err := json.Marshal(rs)
			if err != nil {
				return err
			}
			if _, err := stmt.ExecContext(ctx, p.Station, string(p.State), nullNanos(p.Since), p.Reason,
				nullNanos(p.LastSeen), nullNanos(p.LastHeartbeat), p.HeartbeatS, p.Agent, p.ConfigVersion,
				nullNanos(p.ConnectedAt), p.UptimeS, p.Outbox.Depth, nullNanos(p.Outbox.OldestAt),
				int64(min(p.Outbox.LastSeq, math.MaxInt64)), p.Outbox.Rejected, string(js), p.ClockSkew.Milliseconds(),
				int64(min(p.Disk.FreeBytes, math.MaxInt64)), p.Disk.FileBytes, p.Disk.Low); err != nil {
				return err
			}
		}
		return nil
	}))
}

// Presences implements cloud.Store.
func (s *Store) Presences(ctx context.Context) ([]cloud.Presence, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT station_id, state, since, reason, last_seen, last_heartbeat, heartbeat_s,
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
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return vetnet.Wrap(vetnet.EUNAVAILABLE, err, "数据库忙，请稍后重试", "The database is busy; try again later.")
		case sqlite3.SQLITE_FULL:
			return vetnet.Wrap(vetnet.EFULL, err, "磁盘空间已满", "The disk is full.")
		case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM:
			return vetnet.Wrap(vetnet.EUNAVAILABLE, err, "数据库文件无法读写", "The database file cannot be read or written.")
		case sqlite3.SQLITE_CONSTRAINT:
			return vetnet.Wrap(vetnet.ECONFLICT, err, "数据与已有记录冲突", "The data conflicts with a stored record.")
		}
	}
	return vetnet.Wrap(vetnet.EINTERNAL, err, "数据库内部错误", "Internal database error.")
}

func unavailable(err error) error {
	return vetnet.Wrap(vetnet.EUNAVAILABLE, err, "无法打开数据库", "Cannot open the database.")
}
