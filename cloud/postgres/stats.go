package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/internal/storekit"
)

// rebuildCums computes running totals from the per-day tables with
// window functions: the scope totals of scopes matching like, and with
// stations also every station's.
func rebuildCums(ctx context.Context, tx *sql.Tx, like string, stations bool) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM scope_cum WHERE scope LIKE $1`, like); err != nil {
		return err
	}
	const sums = `SUM(c) OVER w, SUM(r1) OVER w, SUM(r2) OVER w, SUM(r3) OVER w, SUM(r4) OVER w, SUM(r5) OVER w`
	const ratings = `0, (rating = 1)::int * n, (rating = 2)::int * n, (rating = 3)::int * n, (rating = 4)::int * n, (rating = 5)::int * n`
	const perDay = `SUM(c) AS c, SUM(r1) AS r1, SUM(r2) AS r2, SUM(r3) AS r3, SUM(r4) AS r4, SUM(r5) AS r5`
	if _, err := tx.ExecContext(ctx, `INSERT INTO scope_cum (scope, service, day, checkins, r1, r2, r3, r4, r5)
		SELECT scope, service, day, `+sums+` FROM (
			SELECT scope, service, day, `+perDay+` FROM (
				SELECT scope, service, day, n AS c, 0 AS r1, 0 AS r2, 0 AS r3, 0 AS r4, 0 AS r5 FROM agg_scope_day WHERE scope LIKE $1
				UNION ALL
				SELECT scope, service, day, `+ratings+` FROM agg_rating_scope WHERE scope LIKE $1) u
			GROUP BY scope, service, day) d
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
				SELECT station_id, day, `+ratings+` FROM agg_ratings) u
			GROUP BY station_id, day) d
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
// stations' own rows (S:) after the tree changed: one statement per
// table, from the (ancestor, station) pairs of the tree.
func rebuildTreeAggregates(ctx context.Context, tx *sql.Tx, t tree) error {
	var anc, own []string
	ids := make([]string, 0, len(t))
	for id := range t {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		for _, p := range t.Ancestors(id) {
			anc, own = append(anc, "T:"+p), append(own, "S:"+id)
		}
	}
	for _, st := range scopeTables {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+st.table+` WHERE scope LIKE 'T:%'`); err != nil {
			return err
		}
		if len(anc) == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+st.table+` (scope, `+st.cols+`, n)
			SELECT p.anc, `+st.cols+`, SUM(n) FROM `+st.table+` a
			JOIN unnest($1::text[], $2::text[]) AS p(anc, own) ON a.scope = p.own
			GROUP BY p.anc, `+st.cols, anc, own); err != nil {
			return err
		}
	}
	return rebuildCums(ctx, tx, "T:%", false)
}

// checkAggregates rebuilds every aggregate from the stored rows when they
// were built in another zone or never built.
func (s *Store) checkAggregates(ctx context.Context) error {
	var zone string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'agg_zone'`).Scan(&zone)
	if err != nil && !isNoRows(err) {
		return translate(err)
	}
	if err == nil && zone == s.loc.String() {
		return nil
	}
	return translate(s.RebuildAggregates(ctx))
}

func isNoRows(err error) bool { return err == sql.ErrNoRows }

// RebuildAggregates recomputes every aggregate from the stored check-ins
// and ratings, in one transaction. Open calls it when the zone changed;
// it is also the repair for aggregates suspected wrong, and what a bulk
// load (COPY) runs afterwards. PostgreSQL counts the rows per station,
// service and quarter hour (UTC; every zone's hours are whole quarter
// hours), and the store files each quarter's count under its day and
// hour of the zone: the rows are read once, by the server.
func (s *Store) RebuildAggregates(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	s.treeMu.Lock()
	defer s.treeMu.Unlock()
	t := s.tree.Get()
	return translate(s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockAggregates(ctx, tx); err != nil {
			return err
		}
		for _, q := range []string{`TRUNCATE agg_checkins, agg_scope_day, agg_scope_hour, agg_station_day, agg_ratings,
			agg_rating_scope, station_cum, scope_cum, station_totals`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		if off, ok, err := s.fixedOffset(ctx, tx); err != nil {
			return err
		} else if ok {
			if err := rebuildInSQL(ctx, tx, t, off); err != nil {
				return err
			}
			if err := rebuildCums(ctx, tx, "%", true); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('agg_zone', $1)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value`, s.loc.String())
			return err
		}
		const quarter = int64(15 * time.Minute)
		newAgg := func() *aggregates {
			a := newAggregates(s.loc, t)
			a.noCum = true
			return a
		}
		// A cursor, so that each chunk is written before the next is read
		// (a transaction's connection runs one statement at a time); the
		// chunks' rows add up (ON CONFLICT ... n + excluded.n).
		if _, err := tx.ExecContext(ctx, `DECLARE agg_rows NO SCROLL CURSOR FOR
			SELECT station_id, service, (at / $1 - CASE WHEN at % $1 < 0 THEN 1 ELSE 0 END) AS q, COUNT(*) FROM checkins GROUP BY 1, 2, 3`, quarter); err != nil {
			return err
		}
		for {
			agg := newAgg()
			rows, err := tx.QueryContext(ctx, `FETCH 100000 FROM agg_rows`)
			if err != nil {
				return err
			}
			got := 0
			for rows.Next() {
				var st, sv string
				var q, cnt int64
				if err := rows.Scan(&st, &sv, &q, &cnt); err != nil {
					rows.Close()
					return err
				}
				got++
				agg.addCheckIn(st, fromNanos(q*quarter), vetnet.Service(sv), 0, cnt)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if got == 0 {
				break
			}
			agg.totals = map[string]total{}
			if err := agg.write(ctx, tx); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `CLOSE agg_rows`); err != nil {
			return err
		}
		agg := newAgg()
		var rows *sql.Rows
		var err error
		rows, err = tx.QueryContext(ctx, `SELECT station_id, service, rating, (at / $1 - CASE WHEN at % $1 < 0 THEN 1 ELSE 0 END) AS q, COUNT(*) FROM feedback
			GROUP BY 1, 2, 3, 4`, quarter)
		if err != nil {
			return err
		}
		for rows.Next() {
			var st, sv string
			var r int
			var q, cnt int64
			if err := rows.Scan(&st, &sv, &r, &q, &cnt); err != nil {
				rows.Close()
				return err
			}
			agg.addRating(st, fromNanos(q*quarter), vetnet.Service(sv), vetnet.Rating(r), cnt)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// The quarter's time stands for its rows in counts only: the
		// totals' last seq and time come from the rows themselves.
		agg.totals = map[string]total{}
		if err := agg.write(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO station_totals (station_id, checkins, last_seq, last_at)
			SELECT station_id, COUNT(*), MAX(seq), MAX(at) FROM checkins GROUP BY station_id`); err != nil {
			return err
		}
		if err := rebuildCums(ctx, tx, "%", true); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('agg_zone', $1)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, s.loc.String())
		return err
	}))
}

// fixedOffset reports whether the store's zone has one UTC offset over
// every year the check-ins and ratings span (UTC+8 in China since 1991),
// and which: then the server can file rows under their days and hours
// itself. It samples January and July of each year.
func (s *Store) fixedOffset(ctx context.Context, tx *sql.Tx) (int64, bool, error) {
	var lo, hi sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT LEAST((SELECT MIN(at) FROM checkins), (SELECT MIN(at) FROM feedback)),
		GREATEST((SELECT MAX(at) FROM checkins), (SELECT MAX(at) FROM feedback))`).Scan(&lo, &hi); err != nil {
		return 0, false, err
	}
	if !lo.Valid {
		return 0, true, nil // nothing to file
	}
	_, off := fromNanos(lo.Int64).In(s.loc).Zone()
	for y := fromNanos(lo.Int64).Year(); y <= fromNanos(hi.Int64).Year(); y++ {
		for _, m := range []time.Month{time.January, time.July} {
			if _, o := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).In(s.loc).Zone(); o != off {
				return 0, false, nil
			}
		}
	}
	return int64(off), true, nil
}

// rebuildInSQL fills the per-day and per-scope tables from the rows with
// set-based statements, for a zone of one offset (seconds east of UTC):
// the rows are grouped by station, service, day and hour once, and each
// table is a GROUP BY of that, joined to the (station, scope) pairs of
// the tree. Bulk loads of tens of millions of rows take minutes, not
// hours.
func rebuildInSQL(ctx context.Context, tx *sql.Tx, t tree, off int64) error {
	var st, sc []string
	for id := range t {
		st, sc = append(st, id), append(sc, "S:"+id)
		for _, p := range t.Ancestors(id) {
			st, sc = append(st, id), append(sc, "T:"+p)
		}
	}
	const local = `(floor(at::numeric / 1000000000)::bigint + $1)`
	const day = `floor(` + local + ` / 86400.0)::bigint`
	const hour = `((` + local + ` - floor(` + local + ` / 86400.0)::bigint * 86400) / 3600)::int`
	for _, q := range []string{
		`CREATE TEMP TABLE rb_ck ON COMMIT DROP AS SELECT station_id, service, ` + day + ` AS day, ` + hour + ` AS hour, COUNT(*) AS n
			FROM checkins GROUP BY 1, 2, 3, 4`,
		`CREATE TEMP TABLE rb_rt ON COMMIT DROP AS SELECT station_id, service, ` + day + ` AS day, rating, COUNT(*) AS n
			FROM feedback WHERE rating BETWEEN 1 AND 5 GROUP BY 1, 2, 3, 4`,
	} {
		if _, err := tx.ExecContext(ctx, q, off); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE rb_anc ON COMMIT DROP AS
		SELECT * FROM unnest($1::text[], $2::text[]) AS a(station_id, scope)`, st, sc); err != nil {
		return err
	}
	for _, q := range []string{
		// Stations with rows that the tree does not know count for themselves.
		`INSERT INTO rb_anc SELECT DISTINCT x.station_id, 'S:' || x.station_id FROM (SELECT station_id FROM rb_ck UNION SELECT station_id FROM rb_rt) x
			WHERE NOT EXISTS (SELECT 1 FROM rb_anc a WHERE a.station_id = x.station_id)`,
		`INSERT INTO agg_checkins (scope, day, hour, service, n)
			SELECT a.scope, c.day, c.hour, c.service, SUM(c.n) FROM rb_ck c JOIN rb_anc a USING (station_id) GROUP BY 1, 2, 3, 4`,
		`INSERT INTO agg_scope_day (scope, service, day, n)
			SELECT a.scope, c.service, c.day, SUM(c.n) FROM rb_ck c JOIN rb_anc a USING (station_id) GROUP BY 1, 2, 3`,
		`INSERT INTO agg_scope_hour (scope, day, hour, n)
			SELECT a.scope, c.day, c.hour, SUM(c.n) FROM rb_ck c JOIN rb_anc a USING (station_id) GROUP BY 1, 2, 3`,
		`INSERT INTO agg_station_day (day, station_id, service, n) SELECT day, station_id, service, SUM(n) FROM rb_ck GROUP BY 1, 2, 3`,
		`INSERT INTO agg_ratings (day, station_id, service, rating, n) SELECT day, station_id, service, rating, SUM(n) FROM rb_rt GROUP BY 1, 2, 3, 4`,
		`INSERT INTO agg_rating_scope (scope, service, day, rating, n)
			SELECT a.scope, r.service, r.day, r.rating, SUM(r.n) FROM rb_rt r JOIN rb_anc a USING (station_id) GROUP BY 1, 2, 3, 4`,
		`INSERT INTO station_totals (station_id, checkins, last_seq, last_at)
			SELECT station_id, COUNT(*), MAX(seq), MAX(at) FROM checkins GROUP BY station_id`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
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
		rows, err := s.db.QueryContext(ctx, `SELECT station_id FROM station_totals`)
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
		conds = append(conds, "scope = ANY(?::text[])")
		args = append(args, sc)
	case g[cloud.DimStation] && g[cloud.DimHour]:
		// The stations' own rows of agg_checkins hold the hour.
		table, stationCol = "agg_checkins", "substr(scope, 3)"
		if sel := s.selection(q.Roots, q.Exact); sel != nil {
			sc := make([]string, len(sel))
			for i, id := range sel {
				sc[i] = "S:" + id
			}
			conds = append(conds, "scope = ANY(?::text[])")
			args = append(args, sc)
		} else {
			conds = append(conds, "scope >= 'S:' AND scope < 'S;'")
		}
	case g[cloud.DimStation]:
		table, stationCol = "agg_station_day", "station_id"
		if sel := s.selection(q.Roots, q.Exact); sel != nil {
			conds = append(conds, "station_id = ANY(?::text[])")
			args = append(args, sel)
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
		conds = append(conds, "scope = ANY(?::text[])")
		args = append(args, sc)
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
		conds = append(conds, "scope = ANY(?::text[])")
		args = append(args, sc)
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
		conds = append(conds, "scope = ANY(?::text[])")
		args = append(args, sc)
	default:
		if sel := s.selection(q.Roots, q.Exact); sel != nil {
			conds = append(conds, "station_id = ANY(?::text[])")
			args = append(args, sel)
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
			cols = append(cols, stationCol)
		case cloud.DimService:
			cols = append(cols, "service")
		case cloud.DimRating:
			cols = append(cols, ratingCol)
		}
	}
	q := "SELECT " + strings.Join(append(append([]string{}, cols...), "SUM(n)::bigint"), ", ") + " FROM " + table
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
	rows, err := s.db.QueryContext(ctx, rebind(q), args...)
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
	rows, err := s.db.QueryContext(ctx, `SELECT station_id, last_seq, last_at FROM station_totals`)
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
	rows, err = s.db.QueryContext(ctx, `SELECT station_id, SUM(n)::bigint FROM agg_station_day WHERE day >= $1 GROUP BY station_id`, storekit.DayOf(storekit.ClampTime(since), s.loc))
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

// cumDiff is one station's check-ins and ratings 1..5 over a period.
type cumDiff struct {
	station string
	d       [6]int64
}

// cumDiffs returns each selected station's totals over [from, to) days:
// one descending seek per station and bound, the six totals in one value.
// (The embedded store keeps a memo of the last answer, valid until its
// next save; with several replicas writing, no replica knows that, so
// this store asks every time.)
func (s *Store) cumDiffs(ctx context.Context, sel []string, from, to int64) ([]cumDiff, error) {
	const last = `(SELECT checkins || ',' || r1 || ',' || r2 || ',' || r3 || ',' || r4 || ',' || r5 FROM station_cum
		WHERE station_id = s.value AND day < $%d ORDER BY day DESC LIMIT 1)`
	rows, err := s.db.QueryContext(ctx, `SELECT s.value, `+fmt.Sprintf(last, 1)+`, `+fmt.Sprintf(last, 2)+
		` FROM unnest($3::text[]) AS s(value) ORDER BY 1`, to, from, sel)
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
	return out, translate(rows.Err())
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
	rows, err := s.db.QueryContext(ctx, `SELECT station_id FROM station_totals`)
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
		WHERE scope = sc.value AND service = sv.value AND day < $%d ORDER BY day DESC LIMIT 1)`
	rows, err := s.db.QueryContext(ctx, `SELECT sv.value, `+fmt.Sprintf(last, 1)+`, `+fmt.Sprintf(last, 2)+
		` FROM unnest($3::text[]) AS sc(value), unnest($4::text[]) AS sv(value)`, to, from, sc, svcs)
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
