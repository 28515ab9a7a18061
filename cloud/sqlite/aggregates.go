package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/internal/storekit"
)

// The aggregates: Save adds every newly stored check-in and rating to
// them in its own transaction, so statistics are exact and never scan the
// check-ins. See migrations/0007_dashboard.sql for the tables.

// tree and treeBox are the stations' parents, shared with the other store
// (storekit).
type (
	tree    = storekit.Tree
	treeBox = storekit.TreeBox
)

func (s *Store) loadTree(ctx context.Context) error {
	rows, err := s.w.QueryContext(ctx, `SELECT id, parent FROM stations`)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	t := tree{}
	for rows.Next() {
		var id, p string
		if err := rows.Scan(&id, &p); err != nil {
			return translate(err)
		}
		t[id] = p
	}
	if err := rows.Err(); err != nil {
		return translate(err)
	}
	s.tree.Set(t)
	return nil
}

type ckKey struct {
	scope   string
	day     int64
	hour    int
	service string
}

type sdKey struct {
	day     int64
	station string
	service string
}

type rtKey struct {
	day     int64
	station string
	service string
	rating  int
}

type total struct {
	n      int64
	seq    int64
	lastAt int64
}

type scopeDayKey struct {
	scope   string
	day     int64
	service string
}

type rtScopeKey struct {
	scope   string
	day     int64
	service string
	rating  int
}

type scopeHourKey struct {
	scope string
	day   int64
	hour  int
}

type cumKey struct {
	station string
	day     int64
}

// cumInc is what a transaction adds to a station's running totals from a
// day on: check-ins, and ratings 1..5.
type cumInc struct {
	checkins int64
	r        [5]int64
}

// aggregates collects the increments of one transaction.
type aggregates struct {
	// stmts holds statements prepared once on the writer connection;
	// preparing them in every transaction cost more than the statements.
	stmts  *stmtCache
	loc    *time.Location
	tree   tree
	ck     map[ckKey]int64
	sday   map[scopeDayKey]int64
	shour  map[scopeHourKey]int64
	sd     map[sdKey]int64
	rt     map[rtKey]int64
	rscope map[rtScopeKey]int64
	cum    map[cumKey]*cumInc // by station
	scum   map[cumKey]*cumInc // by scope and service ("scope\x00service")
	// noCum leaves the running totals alone: a full rebuild computes them
	// at the end (rebuildCums) instead of row by row.
	noCum   bool
	totals  map[string]total
	scopesB map[string][]string
}

func newAggregates(stmts *stmtCache, loc *time.Location, t tree) *aggregates {
	return &aggregates{stmts: stmts, loc: loc, tree: t, ck: map[ckKey]int64{}, sday: map[scopeDayKey]int64{}, shour: map[scopeHourKey]int64{}, sd: map[sdKey]int64{},
		rt: map[rtKey]int64{}, rscope: map[rtScopeKey]int64{}, cum: map[cumKey]*cumInc{}, scum: map[cumKey]*cumInc{},
		totals: map[string]total{}, scopesB: map[string][]string{}}
}

// The statements of the aggregates, prepared once (Store.prepareStmts).
const (
	qAgg1 = `INSERT INTO agg_checkins (scope, day, hour, service, n) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (scope, day, hour, service) DO UPDATE SET n = n + excluded.n`
	qAgg2 = `INSERT INTO agg_scope_day (scope, day, service, n) VALUES (?, ?, ?, ?)
			ON CONFLICT (scope, service, day) DO UPDATE SET n = n + excluded.n`
	qAgg3 = `INSERT INTO agg_scope_hour (scope, day, hour, n) VALUES (?, ?, ?, ?)
			ON CONFLICT (scope, day, hour) DO UPDATE SET n = n + excluded.n`
	qAgg4 = `INSERT INTO agg_rating_scope (scope, day, service, rating, n) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (scope, service, day, rating) DO UPDATE SET n = n + excluded.n`
	qAgg5 = `INSERT INTO agg_station_day (day, station_id, service, n) VALUES (?, ?, ?, ?)
			ON CONFLICT (day, station_id, service) DO UPDATE SET n = n + excluded.n`
	qAgg6 = `INSERT INTO station_totals (station_id, checkins, last_seq, last_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (station_id) DO UPDATE SET checkins = checkins + excluded.checkins,
				last_seq = MAX(last_seq, excluded.last_seq), last_at = MAX(last_at, excluded.last_at)`
	qAgg7 = `INSERT INTO agg_ratings (day, station_id, service, rating, n) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (day, station_id, service, rating) DO UPDATE SET n = n + excluded.n`
	qAgg8 = `SELECT day, checkins, r1, r2, r3, r4, r5 FROM station_cum
		WHERE station_id = ? AND day <= ? ORDER BY day DESC LIMIT 1`
	qAgg9  = `INSERT INTO station_cum (station_id, day, checkins, r1, r2, r3, r4, r5) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qAgg10 = `UPDATE station_cum SET checkins = checkins + ?, r1 = r1 + ?, r2 = r2 + ?, r3 = r3 + ?, r4 = r4 + ?, r5 = r5 + ?
		WHERE station_id = ? AND day >= ?`
)

const (
	qAgg11 = `SELECT day, checkins, r1, r2, r3, r4, r5 FROM scope_cum
		WHERE scope = ? AND service = ? AND day <= ? ORDER BY day DESC LIMIT 1`
	qAgg12 = `INSERT INTO scope_cum (scope, service, day, checkins, r1, r2, r3, r4, r5) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qAgg13 = `UPDATE scope_cum SET checkins = checkins + ?, r1 = r1 + ?, r2 = r2 + ?, r3 = r3 + ?, r4 = r4 + ?, r5 = r5 + ?
		WHERE scope = ? AND service = ? AND day >= ?`
)

var aggQueries = []string{qAgg1, qAgg2, qAgg3, qAgg4, qAgg5, qAgg6, qAgg7, qAgg8, qAgg9, qAgg10, qAgg11, qAgg12, qAgg13}

// prep returns the statement q bound to tx, from the cache when it is
// there.
func (a *aggregates) prep(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	if a.stmts != nil {
		if st := a.stmts.get(q); st != nil {
			return tx.StmtContext(ctx, st), nil
		}
	}
	return tx.PrepareContext(ctx, q)
}

// stmtCache holds statements prepared on the writer connection. They are
// prepared while no transaction runs (the writer has one connection, so
// preparing during a transaction would wait for it); see Store.cacheStmt.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func (c *stmtCache) get(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[q]
}

func (c *stmtCache) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// scopesOf returns the scopes a station's rows count in: its own (S:) and
// each station's above it (T:).
func (a *aggregates) scopesOf(station string) []string {
	sc, ok := a.scopesB[station]
	if !ok {
		sc = []string{"S:" + station}
		for _, p := range a.tree.Ancestors(station) {
			sc = append(sc, "T:"+p)
		}
		a.scopesB[station] = sc
	}
	return sc
}

func cumOf(m map[cumKey]*cumInc, part string, day int64) *cumInc {
	k := cumKey{part, day}
	c := m[k]
	if c == nil {
		c = &cumInc{}
		m[k] = c
	}
	return c
}

func (a *aggregates) addCheckIn(station string, at time.Time, sv vetnet.Service, seq uint64) {
	day := storekit.DayOf(at, a.loc)
	hour := at.In(a.loc).Hour()
	for _, sc := range a.scopesOf(station) {
		a.ck[ckKey{sc, day, hour, string(sv)}]++
		a.sday[scopeDayKey{sc, day, string(sv)}]++
		a.shour[scopeHourKey{sc, day, hour}]++
		cumOf(a.scum, sc+"\x00"+string(sv), day).checkins++
	}
	a.sd[sdKey{day, station, string(sv)}]++
	cumOf(a.cum, station, day).checkins++
	t := a.totals[station]
	t.n++
	t.seq = max(t.seq, int64(seq))
	t.lastAt = max(t.lastAt, at.UnixNano())
	a.totals[station] = t
}

func (a *aggregates) addRating(station string, at time.Time, sv vetnet.Service, r vetnet.Rating) {
	if !r.Valid() {
		return
	}
	day := storekit.DayOf(at, a.loc)
	a.rt[rtKey{day, station, string(sv), int(r)}]++
	for _, sc := range a.scopesOf(station) {
		a.rscope[rtScopeKey{sc, day, string(sv), int(r)}]++
		cumOf(a.scum, sc+"\x00"+string(sv), day).r[r-1]++
	}
	cumOf(a.cum, station, day).r[r-1]++
}

// write adds the collected increments to the tables.
func (a *aggregates) write(ctx context.Context, tx *sql.Tx) error {
	if len(a.ck) > 0 {
		stmt, err := a.prep(ctx, tx, qAgg1)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for k, n := range a.ck {
			if _, err := stmt.ExecContext(ctx, k.scope, k.day, k.hour, k.service, n); err != nil {
				return err
			}
		}
	}
	if len(a.sday) > 0 {
		stmt, err := a.prep(ctx, tx, qAgg2)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for k, n := range a.sday {
			if _, err := stmt.ExecContext(ctx, k.scope, k.day, k.service, n); err != nil {
				return err
			}
		}
	}
	if len(a.shour) > 0 {
		stmt, err := a.prep(ctx, tx, qAgg3)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for k, n := range a.shour {
			if _, err := stmt.ExecContext(ctx, k.scope, k.day, k.hour, n); err != nil {
				return err
			}
		}
	}
	if len(a.rscope) > 0 {
		stmt, err := a.prep(ctx, tx, qAgg4)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for k, n := range a.rscope {
			if _, err := stmt.ExecContext(ctx, k.scope, k.day, k.service, k.rating, n); err != nil {
				return err
			}
		}
	}
	if err := a.writeCum(ctx, tx); err != nil {
		return err
	}
	if len(a.sd) > 0 {
		stmt, err := a.prep(ctx, tx, qAgg5)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for k, n := range a.sd {
			if _, err := stmt.ExecContext(ctx, k.day, k.station, k.service, n); err != nil {
				return err
			}
		}
	}
	if len(a.totals) > 0 {
		stmt, err := a.prep(ctx, tx, qAgg6)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for st, t := range a.totals {
			if _, err := stmt.ExecContext(ctx, st, t.n, t.seq, t.lastAt); err != nil {
				return err
			}
		}
	}
	if len(a.rt) > 0 {
		stmt, err := a.prep(ctx, tx, qAgg7)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for k, n := range a.rt {
			if _, err := stmt.ExecContext(ctx, k.day, k.station, k.service, k.rating, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeCum adds the transaction's increments to the stations' running
// totals: for each (station, day), in day order, a row for the day is made
// from the one before it if missing, then that row and every later one
// grow. Late check-ins (a station back after days) touch the few rows
// after their day; live ones only today's.
func (a *aggregates) writeCum(ctx context.Context, tx *sql.Tx) error {
	if a.noCum {
		return nil
	}
	station := func(part string) []any { return []any{part} }
	scopeService := func(part string) []any {
		scope, service, _ := strings.Cut(part, "\x00")
		return []any{scope, service}
	}
	if err := a.writeCumTable(ctx, tx, a.cum, qAgg8, qAgg9, qAgg10, station); err != nil {
		return err
	}
	return a.writeCumTable(ctx, tx, a.scum, qAgg11, qAgg12, qAgg13, scopeService)
}

// writeCumTable applies increments to one running-totals table; keyArgs
// turns a key's part into the table's key columns.
func (a *aggregates) writeCumTable(ctx context.Context, tx *sql.Tx, m map[cumKey]*cumInc, prevQ, insQ, updQ string, keyArgs func(string) []any) error {
	if len(m) == 0 {
		return nil
	}
	keys := make([]cumKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].station != keys[j].station {
			return keys[i].station < keys[j].station
		}
		return keys[i].day < keys[j].day
	})
	prev, err := a.prep(ctx, tx, prevQ)
	if err != nil {
		return err
	}
	defer prev.Close()
	ins, err := a.prep(ctx, tx, insQ)
	if err != nil {
		return err
	}
	defer ins.Close()
	upd, err := a.prep(ctx, tx, updQ)
	if err != nil {
		return err
	}
	defer upd.Close()
	for _, k := range keys {
		ka := keyArgs(k.station)
		var day int64
		var c [6]int64
		err := prev.QueryRowContext(ctx, append(ka, k.day)...).Scan(&day, &c[0], &c[1], &c[2], &c[3], &c[4], &c[5])
		switch {
		case err == sql.ErrNoRows:
			c, day = [6]int64{}, k.day-1
		case err != nil:
			return err
		}
		if day != k.day {
			if _, err := ins.ExecContext(ctx, append(ka, k.day, c[0], c[1], c[2], c[3], c[4], c[5])...); err != nil {
				return err
			}
		}
		inc := m[k]
		if _, err := upd.ExecContext(ctx, append([]any{inc.checkins, inc.r[0], inc.r[1], inc.r[2], inc.r[3], inc.r[4]}, append(ka, k.day)...)...); err != nil {
			return err
		}
	}
	return nil
}

// rebuildCums computes running totals from the per-day tables with
// window functions: the scope totals of scopes matching like, and with
// stations also every station's.
func rebuildCums(ctx context.Context, tx *sql.Tx, like string, stations bool) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM scope_cum WHERE scope LIKE ?`, like); err != nil {
		return err
	}
	const sums = `SUM(c) OVER w, SUM(r1) OVER w, SUM(r2) OVER w, SUM(r3) OVER w, SUM(r4) OVER w, SUM(r5) OVER w`
	const ratings = `0, (rating = 1) * n, (rating = 2) * n, (rating = 3) * n, (rating = 4) * n, (rating = 5) * n`
	const perDay = `SUM(c) AS c, SUM(r1) AS r1, SUM(r2) AS r2, SUM(r3) AS r3, SUM(r4) AS r4, SUM(r5) AS r5`
	if _, err := tx.ExecContext(ctx, `INSERT INTO scope_cum (scope, service, day, checkins, r1, r2, r3, r4, r5)
		SELECT scope, service, day, `+sums+` FROM (
			SELECT scope, service, day, `+perDay+` FROM (
				SELECT scope, service, day, n AS c, 0 AS r1, 0 AS r2, 0 AS r3, 0 AS r4, 0 AS r5 FROM agg_scope_day WHERE scope LIKE ?1
				UNION ALL
				SELECT scope, service, day, `+ratings+` FROM agg_rating_scope WHERE scope LIKE ?1)
			GROUP BY scope, service, day)
		WINDOW w AS (PARTITION BY scope, service ORDER BY day ROWS UNBOUNDED PRECEDING)`, like); err != nil {
		return err
	}
	if !stations {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM station_cum`); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO station_cum (station_id, day, checkins, r1, r2, r3, r4, r5)
		SELECT station_id, day, `+sums+` FROM (
			SELECT station_id, day, `+perDay+` FROM (
				SELECT station_id, day, n AS c, 0 AS r1, 0 AS r2, 0 AS r3, 0 AS r4, 0 AS r5 FROM agg_station_day
				UNION ALL
				SELECT station_id, day, `+ratings+` FROM agg_ratings)
			GROUP BY station_id, day)
		WINDOW w AS (PARTITION BY station_id ORDER BY day ROWS UNBOUNDED PRECEDING)`)
	return err
}

// scopeTables are the tables with subtree rows, and their columns after
// scope and before n.
var scopeTables = []struct{ table, cols string }{
	{"agg_checkins", "day, hour, service"},
	{"agg_scope_day", "service, day"},
	{"agg_scope_hour", "day, hour"},
	{"agg_rating_scope", "service, day, rating"},
}

// rebuildTreeAggregates recomputes the subtree rows (T:) from the
// stations' own rows (S:) after the tree changed.
func rebuildTreeAggregates(ctx context.Context, tx *sql.Tx, t tree) error {
	ids := make([]string, 0, len(t))
	for id := range t {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, st := range scopeTables {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+st.table+` WHERE scope >= 'T:' AND scope < 'T;'`); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO `+st.table+` (scope, `+st.cols+`, n)
			SELECT ?, `+st.cols+`, n FROM `+st.table+` WHERE scope = ?
			ON CONFLICT (scope, `+st.cols+`) DO UPDATE SET n = n + excluded.n`)
		if err != nil {
			return err
		}
		for _, id := range ids {
			for _, p := range t.Ancestors(id) {
				if _, err := stmt.ExecContext(ctx, "T:"+p, "S:"+id); err != nil {
					stmt.Close()
					return err
				}
			}
		}
		stmt.Close()
	}
	return rebuildCums(ctx, tx, "T:%", false)
}

// checkAggregates rebuilds every aggregate from the stored rows when they
// were built in another zone or never built (a database from before
// migration 0007).
func (s *Store) checkAggregates(ctx context.Context) error {
	var zone string
	err := s.w.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'agg_zone'`).Scan(&zone)
	if err != nil && err != sql.ErrNoRows {
		return translate(err)
	}
	if err == nil && zone == s.loc.String() {
		return nil
	}
	return translate(s.RebuildAggregates(ctx))
}

// RebuildAggregates recomputes every aggregate from the stored check-ins
// and ratings, one station at a time, in one transaction. Open calls it
// when the zone changed; it is also the repair for aggregates suspected
// wrong. It reads every row: minutes for millions.
func (s *Store) RebuildAggregates(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	s.treeMu.Lock()
	defer s.treeMu.Unlock()
	t := s.tree.Get()
	return translate(s.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM agg_checkins`, `DELETE FROM agg_scope_day`, `DELETE FROM agg_scope_hour`, `DELETE FROM agg_station_day`, `DELETE FROM agg_ratings`,
			`DELETE FROM agg_rating_scope`, `DELETE FROM station_cum`, `DELETE FROM scope_cum`, `DELETE FROM station_totals`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		var stations []string
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT station_id FROM checkins UNION SELECT DISTINCT station_id FROM feedback`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			stations = append(stations, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, st := range stations {
			agg := newAggregates(s.stmts, s.loc, t)
			agg.noCum = true
			rows, err := tx.QueryContext(ctx, `SELECT at, service, seq FROM checkins WHERE station_id = ?`, st)
			if err != nil {
				return err
			}
			for rows.Next() {
				var at, seq int64
				var sv string
				if err := rows.Scan(&at, &sv, &seq); err != nil {
					rows.Close()
					return err
				}
				agg.addCheckIn(st, fromNanos(at), vetnet.Service(sv), uint64(seq))
			}
			rows.Close()
			rows, err = tx.QueryContext(ctx, `SELECT at, service, rating FROM feedback WHERE station_id = ?`, st)
			if err != nil {
				return err
			}
			for rows.Next() {
				var at int64
				var sv string
				var r int
				if err := rows.Scan(&at, &sv, &r); err != nil {
					rows.Close()
					return err
				}
				agg.addRating(st, fromNanos(at), vetnet.Service(sv), vetnet.Rating(r))
			}
			rows.Close()
			if err := agg.write(ctx, tx); err != nil {
				return err
			}
		}
		if err := rebuildCums(ctx, tx, "%", true); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('agg_zone', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, s.loc.String())
		return err
	}, func() { s.gen.Add(1) }))
}

func jsonList(ids []string) string {
	if ids == nil {
		ids = []string{}
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

// dayRange returns the day-number condition of a query on column col.
func (s *Store) dayRange(col string, from, to time.Time) (string, []any) {
	var conds []string
	var args []any
	if !from.IsZero() {
		conds = append(conds, col+" >= ?")
		args = append(args, storekit.DayOf(storekit.ClampTime(from), s.loc))
	}
	if !to.IsZero() {
		d := storekit.DayOf(storekit.ClampTime(to), s.loc)
		if !storekit.IsMidnight(to, s.loc) {
			d++ // a time inside a day counts that day
		}
		conds = append(conds, col+" < ?")
		args = append(args, d)
	}
	return strings.Join(conds, " AND "), args
}

// selection returns the stations a query counts: every station of the
// roots' subtrees (the roots alone when exact); nil (no filter) when roots
// is nil.
func (s *Store) selection(roots []string, exact bool) []string {
	return s.tree.Get().Selection(roots, exact)
}

// scopes returns the agg_checkins scopes whose sum is the roots'
// subtrees: S:r and T:r of each root that is not itself under another
// root. With roots nil: every top station, and every station with
// check-ins the tree does not know.
func (s *Store) scopes(ctx context.Context, roots []string) ([]string, error) {
	t := s.tree.Get()
	var top []string
	if roots == nil {
		for id, p := range t {
			if _, known := t[p]; p == "" || !known {
				top = append(top, id)
			}
		}
		rows, err := s.r.QueryContext(ctx, `SELECT station_id FROM station_totals`)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			if _, known := t[id]; !known {
				top = append(top, id)
			}
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	} else {
		in := map[string]bool{}
		for _, r := range roots {
			in[r] = true
		}
		for _, r := range roots {
			covered := false
			for _, a := range t.Ancestors(r) {
				if in[a] {
					covered = true
					break
				}
			}
			if !covered {
				top = append(top, r)
			}
		}
	}
	sort.Strings(top)
	top = storekit.CompactStrings(top)
	out := make([]string, 0, 2*len(top))
	for _, id := range top {
		out = append(out, "S:"+id, "T:"+id)
	}
	return out, nil
}

// CheckInStats implements cloud.Store.
func (s *Store) CheckInStats(ctx context.Context, q cloud.StatsQuery) ([]cloud.StatsRow, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	g, err := storekit.Dims(q, cloud.DimDay, cloud.DimHour, cloud.DimStation, cloud.DimService)
	if err != nil {
		return nil, err
	}
	var table, stationCol string
	var conds []string
	var args []any
	switch {
	case !g[cloud.DimStation] && !g[cloud.DimDay] && !g[cloud.DimHour]:
		return s.scopeCumStats(ctx, q, false, false, g[cloud.DimService])
	case g[cloud.DimStation] && len(g) == 1 && q.Service == "":
		return s.cumStats(ctx, q, false, false)
	case g[cloud.DimStation] && !g[cloud.DimHour]:
		// Each station's own rows of one service are one range each.
		table, stationCol = "agg_scope_day", "substr(scope, 3)"
		sel := s.selection(q.Roots, q.Exact)
		if sel == nil {
			if sel, err = s.allStations(ctx); err != nil {
				return nil, err
			}
		}
		sc := make([]string, len(sel))
		for i, id := range sel {
			sc[i] = "S:" + id
		}
		conds = append(conds, "scope IN (SELECT value FROM json_each(?))")
		args = append(args, jsonList(sc))
	case g[cloud.DimStation] && g[cloud.DimHour]:
		// The stations' own rows of agg_checkins hold the hour.
		table, stationCol = "agg_checkins", "substr(scope, 3)"
		if sel := s.selection(q.Roots, q.Exact); sel != nil {
			sc := make([]string, len(sel))
			for i, id := range sel {
				sc[i] = "S:" + id
			}
			conds = append(conds, "scope IN (SELECT value FROM json_each(?))")
			args = append(args, jsonList(sc))
		} else {
			conds = append(conds, "scope >= 'S:' AND scope < 'S;'")
		}
	case g[cloud.DimStation]:
		table, stationCol = "agg_station_day", "station_id"
		if sel := s.selection(q.Roots, q.Exact); sel != nil {
			conds = append(conds, "station_id IN (SELECT value FROM json_each(?))")
			args = append(args, jsonList(sel))
		}
	default:
		// The narrowest table that holds the dimensions.
		switch {
		case !g[cloud.DimHour]:
			table = "agg_scope_day"
		case !g[cloud.DimService] && q.Service == "":
			table = "agg_scope_hour"
		default:
			table = "agg_checkins"
		}
		sc, err := s.scopes(ctx, q.Roots)
		if err != nil {
			return nil, translate(err)
		}
		if q.Exact && q.Roots != nil {
			sc = sc[:0]
			for _, r := range q.Roots {
				sc = append(sc, "S:"+r)
			}
		}
		conds = append(conds, "scope IN (SELECT value FROM json_each(?))")
		args = append(args, jsonList(sc))
	}
	if c, a := s.dayRange("day", q.From, q.To); c != "" {
		conds = append(conds, c)
		args = append(args, a...)
	}
	if q.Service != "" {
		conds = append(conds, "service = ?")
		args = append(args, string(q.Service))
	}
	return s.statsQuery(ctx, table, stationCol, "", g, conds, args)
}

// RatingStats implements cloud.Store.
func (s *Store) RatingStats(ctx context.Context, q cloud.StatsQuery) ([]cloud.StatsRow, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	g, err := storekit.Dims(q, cloud.DimDay, cloud.DimStation, cloud.DimService, cloud.DimRating)
	if err != nil {
		return nil, err
	}
	var conds []string
	var args []any
	table, stationCol := "agg_ratings", "station_id"
	switch {
	case g[cloud.DimStation] && !g[cloud.DimDay] && !g[cloud.DimService] && q.Service == "":
		return s.cumStats(ctx, q, true, g[cloud.DimRating])
	case !g[cloud.DimStation] && !g[cloud.DimDay]:
		return s.scopeCumStats(ctx, q, true, g[cloud.DimRating], g[cloud.DimService])
	case g[cloud.DimStation] && !g[cloud.DimDay]:
		// Each station's own rows of one service are one range each.
		table = "agg_rating_scope"
		sel := s.selection(q.Roots, q.Exact)
		if sel == nil {
			if sel, err = s.allStations(ctx); err != nil {
				return nil, err
			}
		}
		sc := make([]string, len(sel))
		for i, id := range sel {
			sc[i] = "S:" + id
		}
		conds = append(conds, "scope IN (SELECT value FROM json_each(?))")
		args = append(args, jsonList(sc))
		stationCol = "substr(scope, 3)"
	case !g[cloud.DimStation]:
		table = "agg_rating_scope"
		sc, err := s.scopes(ctx, q.Roots)
		if err != nil {
			return nil, translate(err)
		}
		if q.Exact && q.Roots != nil {
			sc = sc[:0]
			for _, r := range q.Roots {
				sc = append(sc, "S:"+r)
			}
		}
		conds = append(conds, "scope IN (SELECT value FROM json_each(?))")
		args = append(args, jsonList(sc))
	default:
		if sel := s.selection(q.Roots, q.Exact); sel != nil {
			conds = append(conds, "station_id IN (SELECT value FROM json_each(?))")
			args = append(args, jsonList(sel))
		}
	}
	if c, a := s.dayRange("day", q.From, q.To); c != "" {
		conds = append(conds, c)
		args = append(args, a...)
	}
	if q.Service != "" {
		conds = append(conds, "service = ?")
		args = append(args, string(q.Service))
	}
	return s.statsQuery(ctx, table, stationCol, "rating", g, conds, args)
}

func (s *Store) statsQuery(ctx context.Context, table, stationCol, ratingCol string, g map[cloud.Dim]bool, conds []string, args []any) ([]cloud.StatsRow, error) {
	var cols []string
	order := []cloud.Dim{cloud.DimDay, cloud.DimHour, cloud.DimStation, cloud.DimService, cloud.DimRating}
	var used []cloud.Dim
	for _, d := range order {
		if !g[d] {
			continue
		}
		used = append(used, d)
		switch d {
		case cloud.DimDay:
			cols = append(cols, "day")
		case cloud.DimHour:
			cols = append(cols, "hour")
		case cloud.DimStation:
			// "+": see stationStatsFromAggregates (the day range first).
			cols = append(cols, "+"+stationCol)
		case cloud.DimService:
			cols = append(cols, "service")
		case cloud.DimRating:
			cols = append(cols, ratingCol)
		}
	}
	q := "SELECT " + strings.Join(append(append([]string{}, cols...), "SUM(n)"), ", ") + " FROM " + table
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	if len(cols) > 0 {
		idx := make([]string, len(cols))
		for i := range cols {
			idx[i] = strconv.Itoa(i + 1)
		}
		q += " GROUP BY " + strings.Join(idx, ", ") + " ORDER BY " + strings.Join(idx, ", ")
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []cloud.StatsRow{}
	for rows.Next() {
		var r cloud.StatsRow
		var day int64
		var n sql.NullInt64
		var station, service string
		var rating int
		dst := make([]any, 0, len(used)+1)
		for _, d := range used {
			switch d {
			case cloud.DimDay:
				dst = append(dst, &day)
			case cloud.DimHour:
				dst = append(dst, &r.Hour)
			case cloud.DimStation:
				dst = append(dst, &station)
			case cloud.DimService:
				dst = append(dst, &service)
			case cloud.DimRating:
				dst = append(dst, &rating)
			}
		}
		dst = append(dst, &n)
		if err := rows.Scan(dst...); err != nil {
			return nil, translate(err)
		}
		if !n.Valid {
			continue // SUM over no rows
		}
		if g[cloud.DimDay] {
			r.Day = storekit.DayStart(day, s.loc)
		}
		r.Station, r.Service, r.Rating, r.N = station, vetnet.Service(service), vetnet.Rating(rating), n.Int64
		out = append(out, r)
	}
	return out, translate(rows.Err())
}

// stationSet returns the stations a check-in filter keeps: nil for all,
// else the intersection of Station and Stations.
func stationSet(f cloud.CheckInFilter) []string {
	switch {
	case f.Station == "" && f.Stations == nil:
		return nil
	case f.Station == "":
		return f.Stations
	case f.Stations == nil:
		return []string{f.Station}
	}
	for _, id := range f.Stations {
		if id == f.Station {
			return []string{f.Station}
		}
	}
	return []string{}
}

// countFromAggregates counts check-ins from the aggregates when the
// filter's times are midnights (or absent); ok is false otherwise. Every
// station: the top scopes by day and service. Some stations: their
// running totals, or with a service their own scope rows.
func (s *Store) countFromAggregates(ctx context.Context, f cloud.CheckInFilter) (n int, ok bool, err error) {
	if (!f.From.IsZero() && !storekit.IsMidnight(f.From, s.loc)) || (!f.To.IsZero() && !storekit.IsMidnight(f.To, s.loc)) {
		return 0, false, nil
	}
	set := stationSet(f)
	if set != nil && len(set) == 0 {
		return 0, true, nil
	}
	if set != nil && f.Service == "" {
		rows, err := s.cumStats(ctx, cloud.StatsQuery{Roots: set, Exact: true, From: f.From, To: f.To}, false, false)
		for _, r := range rows {
			n += int(r.N)
		}
		return n, true, err
	}
	q := cloud.StatsQuery{Service: f.Service, From: f.From, To: f.To}
	if set != nil {
		q.Roots, q.Exact = set, true
	}
	rows, err := s.CheckInStats(ctx, q)
	for _, r := range rows {
		n += int(r.N)
	}
	return n, true, err
}

// stationStatsFromAggregates is StationStats for a since at midnight.
func (s *Store) stationStatsFromAggregates(ctx context.Context, since time.Time) (map[string]cloud.StationStats, error) {
	out := map[string]cloud.StationStats{}
	rows, err := s.r.QueryContext(ctx, `SELECT station_id, last_seq, last_at FROM station_totals`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var seq, at int64
		if err := rows.Scan(&id, &seq, &at); err != nil {
			return nil, translate(err)
		}
		out[id] = cloud.StationStats{LastSeq: uint64(seq), LastAt: fromNanos(at)}
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	rows.Close()
	// "+station_id": group with a temporary b-tree over the day range of
	// the primary key; left alone, SQLite walks the (station_id, day)
	// index to avoid the sort, which reads every day of every station.
	rows, err = s.r.QueryContext(ctx, `SELECT station_id, SUM(n) FROM agg_station_day WHERE day >= ? GROUP BY +station_id`, storekit.DayOf(storekit.ClampTime(since), s.loc))
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, translate(err)
		}
		st := out[id]
		st.CheckInsSince = int(n)
		out[id] = st
	}
	return out, translate(rows.Err())
}

// cumStats answers per-station counts (check-ins, or ratings with
// byRating by rating) over a day range from the running totals: for each
// station, the totals before the end minus those before the start.
func (s *Store) cumStats(ctx context.Context, q cloud.StatsQuery, ratings, byRating bool) ([]cloud.StatsRow, error) {
	sel := s.selection(q.Roots, q.Exact)
	if sel == nil {
		var err error
		if sel, err = s.allStations(ctx); err != nil {
			return nil, err
		}
	}
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.From.IsZero() {
		from = storekit.DayOf(storekit.ClampTime(q.From), s.loc)
	}
	if !q.To.IsZero() {
		to = storekit.DayOf(storekit.ClampTime(q.To), s.loc)
		if !storekit.IsMidnight(q.To, s.loc) {
			to++
		}
	}
	diffs, err := s.cumDiffs(ctx, sel, from, to)
	if err != nil {
		return nil, err
	}
	out := []cloud.StatsRow{}
	for _, x := range diffs {
		d := x.d
		switch {
		case !ratings:
			if d[0] > 0 {
				out = append(out, cloud.StatsRow{Station: x.station, N: d[0]})
			}
		case byRating:
			for r := 1; r <= 5; r++ {
				if d[r] > 0 {
					out = append(out, cloud.StatsRow{Station: x.station, Rating: vetnet.Rating(r), N: d[r]})
				}
			}
		default:
			if n := d[1] + d[2] + d[3] + d[4] + d[5]; n > 0 {
				out = append(out, cloud.StatsRow{Station: x.station, N: n})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Station != out[j].Station {
			return out[i].Station < out[j].Station
		}
		return out[i].Rating < out[j].Rating
	})
	return out, nil
}

// prepareStmts prepares the aggregates' statements on the writer
// connection, before any transaction.
func (s *Store) prepareStmts(ctx context.Context) error {
	c := &stmtCache{m: map[string]*sql.Stmt{}}
	for _, q := range append(aggQueries, qInsertCheckIn, qInsertFeedback) {
		st, err := s.w.PrepareContext(ctx, q)
		if err != nil {
			c.closeAll()
			return translate(err)
		}
		c.m[q] = st
	}
	s.stmts = c
	return nil
}

// cumDiff is one station's check-ins and ratings 1..5 over a period.
type cumDiff struct {
	station string
	d       [6]int64
}

// cumMemo keeps the last answer of cumDiffs: a statistics page asks for
// the stations' check-ins and then their ratings, which are the same
// rows. It is valid while no Save committed since (gen).
type cumMemo struct {
	mu    sync.Mutex
	key   string
	gen   uint64
	diffs []cumDiff
}

func (s *Store) cumDiffs(ctx context.Context, sel []string, from, to int64) ([]cumDiff, error) {
	key := strconv.FormatInt(from, 10) + "/" + strconv.FormatInt(to, 10) + "/" + jsonList(sel)
	gen := s.gen.Load()
	s.memo.mu.Lock()
	if s.memo.key == key && s.memo.gen == gen {
		d := s.memo.diffs
		s.memo.mu.Unlock()
		return d, nil
	}
	s.memo.mu.Unlock()
	// One descending seek per station and bound, the six totals in one
	// value: two index lookups per station.
	const last = `(SELECT checkins || ',' || r1 || ',' || r2 || ',' || r3 || ',' || r4 || ',' || r5 FROM station_cum
		WHERE station_id = s.value AND day < ? ORDER BY day DESC LIMIT 1)`
	rows, err := s.r.QueryContext(ctx, `SELECT s.value, `+last+`, `+last+` FROM json_each(?) s`, to, from, jsonList(sel))
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []cumDiff
	for rows.Next() {
		var x cumDiff
		var a, b sql.NullString
		if err := rows.Scan(&x.station, &a, &b); err != nil {
			return nil, translate(err)
		}
		av, bv := parseCum(a.String), parseCum(b.String)
		for i := range x.d {
			x.d[i] = av[i] - bv[i]
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	s.memo.mu.Lock()
	s.memo.key, s.memo.gen, s.memo.diffs = key, gen, out
	s.memo.mu.Unlock()
	return out, nil
}

// parseCum reads "checkins,r1,r2,r3,r4,r5"; "" is all zeros.
func parseCum(v string) [6]int64 {
	var out [6]int64
	for i := 0; i < 6 && v != ""; i++ {
		f, rest, _ := strings.Cut(v, ",")
		out[i], _ = strconv.ParseInt(f, 10, 64)
		v = rest
	}
	return out
}

// allStations returns every station of the tree and every station with
// check-ins, sorted.
func (s *Store) allStations(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	for id := range s.tree.Get() {
		seen[id] = true
	}
	rows, err := s.r.QueryContext(ctx, `SELECT station_id FROM station_totals`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, translate(err)
		}
		seen[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out) // a stable key for the memo
	return out, nil
}

// scopeCumStats answers totals by service (check-ins, or ratings with
// byRating by rating) over a day range from the scopes' running totals:
// two lookups per scope and service, whatever the period.
func (s *Store) scopeCumStats(ctx context.Context, q cloud.StatsQuery, ratings, byRating, byService bool) ([]cloud.StatsRow, error) {
	sc, err := s.scopes(ctx, q.Roots)
	if err != nil {
		return nil, translate(err)
	}
	if q.Exact && q.Roots != nil {
		sc = sc[:0]
		for _, r := range q.Roots {
			sc = append(sc, "S:"+r)
		}
	}
	svcs := []string{string(q.Service)}
	if q.Service == "" {
		svcs = svcs[:0]
		for _, sv := range vetnet.Services {
			svcs = append(svcs, string(sv))
		}
	}
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.From.IsZero() {
		from = storekit.DayOf(storekit.ClampTime(q.From), s.loc)
	}
	if !q.To.IsZero() {
		to = storekit.DayOf(storekit.ClampTime(q.To), s.loc)
		if !storekit.IsMidnight(q.To, s.loc) {
			to++
		}
	}
	const last = `(SELECT checkins || ',' || r1 || ',' || r2 || ',' || r3 || ',' || r4 || ',' || r5 FROM scope_cum
		WHERE scope = sc.value AND service = sv.value AND day < ? ORDER BY day DESC LIMIT 1)`
	rows, err := s.r.QueryContext(ctx, `SELECT sv.value, `+last+`, `+last+` FROM json_each(?) sc, json_each(?) sv`,
		to, from, jsonList(sc), jsonList(svcs))
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	type key struct {
		service string
		rating  int
	}
	sums := map[key]int64{}
	for rows.Next() {
		var sv string
		var a, b sql.NullString
		if err := rows.Scan(&sv, &a, &b); err != nil {
			return nil, translate(err)
		}
		av, bv := parseCum(a.String), parseCum(b.String)
		if !byService {
			sv = ""
		}
		if !ratings {
			sums[key{sv, 0}] += av[0] - bv[0]
			continue
		}
		for r := 1; r <= 5; r++ {
			k := key{sv, 0}
			if byRating {
				k.rating = r
			}
			sums[k] += av[r] - bv[r]
		}
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	out := []cloud.StatsRow{}
	for k, n := range sums {
		if n > 0 {
			out = append(out, cloud.StatsRow{Service: vetnet.Service(k.service), Rating: vetnet.Rating(k.rating), N: n})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Rating < out[j].Rating
	})
	return out, nil
}
