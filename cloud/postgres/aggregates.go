package postgres

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud/internal/storekit"
)

// The aggregates: the tables and meaning of the embedded store's (see
// cloud/sqlite/aggregates.go and migrations/0001_init.sql). Each
// transaction collects its increments in maps and writes each table with
// one multi-row statement, keys sorted so that writers lock rows in the
// same order.

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
	part string // station, or scope "\x00" service
	day  int64
}

type cumInc struct {
	checkins int64
	r        [5]int64
}

// aggregates collects the increments of one transaction.
type aggregates struct {
	loc     *time.Location
	tree    tree
	ck      map[ckKey]int64
	sday    map[scopeDayKey]int64
	shour   map[scopeHourKey]int64
	sd      map[sdKey]int64
	rt      map[rtKey]int64
	rscope  map[rtScopeKey]int64
	cum     map[cumKey]*cumInc
	scum    map[cumKey]*cumInc
	noCum   bool // a rebuild computes the running totals at the end
	totals  map[string]total
	scopesB map[string][]string
}

func newAggregates(loc *time.Location, t tree) *aggregates {
	return &aggregates{loc: loc, tree: t, ck: map[ckKey]int64{}, sday: map[scopeDayKey]int64{}, shour: map[scopeHourKey]int64{},
		sd: map[sdKey]int64{}, rt: map[rtKey]int64{}, rscope: map[rtScopeKey]int64{}, cum: map[cumKey]*cumInc{},
		scum: map[cumKey]*cumInc{}, totals: map[string]total{}, scopesB: map[string][]string{}}
}

func (a *aggregates) empty() bool { return len(a.sd) == 0 && len(a.rt) == 0 && len(a.totals) == 0 }

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

// addCheckIn counts n check-ins of station at at (a rebuild adds a
// quarter hour's at once).
func (a *aggregates) addCheckIn(station string, at time.Time, sv vetnet.Service, seq uint64, n int64) {
	day := storekit.DayOf(at, a.loc)
	hour := at.In(a.loc).Hour()
	for _, sc := range a.scopesOf(station) {
		a.ck[ckKey{sc, day, hour, string(sv)}] += n
		a.sday[scopeDayKey{sc, day, string(sv)}] += n
		a.shour[scopeHourKey{sc, day, hour}] += n
		cumOf(a.scum, sc+"\x00"+string(sv), day).checkins += n
	}
	a.sd[sdKey{day, station, string(sv)}] += n
	cumOf(a.cum, station, day).checkins += n
	t := a.totals[station]
	t.n += n
	t.seq = max(t.seq, int64(seq))
	t.lastAt = max(t.lastAt, at.UnixNano())
	a.totals[station] = t
}

func (a *aggregates) addRating(station string, at time.Time, sv vetnet.Service, r vetnet.Rating, n int64) {
	if !r.Valid() {
		return
	}
	day := storekit.DayOf(at, a.loc)
	a.rt[rtKey{day, station, string(sv), int(r)}] += n
	for _, sc := range a.scopesOf(station) {
		a.rscope[rtScopeKey{sc, day, string(sv), int(r)}] += n
		cumOf(a.scum, sc+"\x00"+string(sv), day).r[r-1] += n
	}
	cumOf(a.cum, station, day).r[r-1] += n
}

// write adds the collected increments to the tables: one statement per
// table.
func (a *aggregates) write(ctx context.Context, tx *sql.Tx) error {
	if len(a.ck) > 0 {
		keys := sortedKeys(a.ck, func(x, y ckKey) bool {
			if x.scope != y.scope {
				return x.scope < y.scope
			}
			if x.day != y.day {
				return x.day < y.day
			}
			if x.hour != y.hour {
				return x.hour < y.hour
			}
			return x.service < y.service
		})
		sc, day, hour, sv, n := make([]string, len(keys)), make([]int64, len(keys)), make([]int32, len(keys)), make([]string, len(keys)), make([]int64, len(keys))
		for i, k := range keys {
			sc[i], day[i], hour[i], sv[i], n[i] = k.scope, k.day, int32(k.hour), k.service, a.ck[k]
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO agg_checkins AS t (scope, day, hour, service, n)
			SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::text[], $5::bigint[])
			ON CONFLICT (scope, day, hour, service) DO UPDATE SET n = t.n + excluded.n`, sc, day, hour, sv, n); err != nil {
			return err
		}
	}
	if len(a.sday) > 0 {
		keys := sortedKeys(a.sday, func(x, y scopeDayKey) bool {
			if x.scope != y.scope {
				return x.scope < y.scope
			}
			if x.service != y.service {
				return x.service < y.service
			}
			return x.day < y.day
		})
		sc, sv, day, n := make([]string, len(keys)), make([]string, len(keys)), make([]int64, len(keys)), make([]int64, len(keys))
		for i, k := range keys {
			sc[i], sv[i], day[i], n[i] = k.scope, k.service, k.day, a.sday[k]
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO agg_scope_day AS t (scope, service, day, n)
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])
			ON CONFLICT (scope, service, day) DO UPDATE SET n = t.n + excluded.n`, sc, sv, day, n); err != nil {
			return err
		}
	}
	if len(a.shour) > 0 {
		keys := sortedKeys(a.shour, func(x, y scopeHourKey) bool {
			if x.scope != y.scope {
				return x.scope < y.scope
			}
			if x.day != y.day {
				return x.day < y.day
			}
			return x.hour < y.hour
		})
		sc, day, hour, n := make([]string, len(keys)), make([]int64, len(keys)), make([]int32, len(keys)), make([]int64, len(keys))
		for i, k := range keys {
			sc[i], day[i], hour[i], n[i] = k.scope, k.day, int32(k.hour), a.shour[k]
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO agg_scope_hour AS t (scope, day, hour, n)
			SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::bigint[])
			ON CONFLICT (scope, day, hour) DO UPDATE SET n = t.n + excluded.n`, sc, day, hour, n); err != nil {
			return err
		}
	}
	if len(a.rscope) > 0 {
		keys := sortedKeys(a.rscope, func(x, y rtScopeKey) bool {
			if x.scope != y.scope {
				return x.scope < y.scope
			}
			if x.service != y.service {
				return x.service < y.service
			}
			if x.day != y.day {
				return x.day < y.day
			}
			return x.rating < y.rating
		})
		sc, sv, day, rating, n := make([]string, len(keys)), make([]string, len(keys)), make([]int64, len(keys)), make([]int32, len(keys)), make([]int64, len(keys))
		for i, k := range keys {
			sc[i], sv[i], day[i], rating[i], n[i] = k.scope, k.service, k.day, int32(k.rating), a.rscope[k]
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO agg_rating_scope AS t (scope, service, day, rating, n)
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[], $5::bigint[])
			ON CONFLICT (scope, service, day, rating) DO UPDATE SET n = t.n + excluded.n`, sc, sv, day, rating, n); err != nil {
			return err
		}
	}
	if err := a.writeCum(ctx, tx); err != nil {
		return err
	}
	if len(a.sd) > 0 {
		keys := sortedKeys(a.sd, func(x, y sdKey) bool {
			if x.day != y.day {
				return x.day < y.day
			}
			if x.station != y.station {
				return x.station < y.station
			}
			return x.service < y.service
		})
		day, st, sv, n := make([]int64, len(keys)), make([]string, len(keys)), make([]string, len(keys)), make([]int64, len(keys))
		for i, k := range keys {
			day[i], st[i], sv[i], n[i] = k.day, k.station, k.service, a.sd[k]
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO agg_station_day AS t (day, station_id, service, n)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[])
			ON CONFLICT (day, station_id, service) DO UPDATE SET n = t.n + excluded.n`, day, st, sv, n); err != nil {
			return err
		}
	}
	if len(a.totals) > 0 {
		keys := sortedKeys(a.totals, func(x, y string) bool { return x < y })
		st, n, seq, last := make([]string, len(keys)), make([]int64, len(keys)), make([]int64, len(keys)), make([]int64, len(keys))
		for i, k := range keys {
			t := a.totals[k]
			st[i], n[i], seq[i], last[i] = k, t.n, t.seq, t.lastAt
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO station_totals AS t (station_id, checkins, last_seq, last_at)
			SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[])
			ON CONFLICT (station_id) DO UPDATE SET checkins = t.checkins + excluded.checkins,
				last_seq = GREATEST(t.last_seq, excluded.last_seq), last_at = GREATEST(t.last_at, excluded.last_at)`, st, n, seq, last); err != nil {
			return err
		}
	}
	if len(a.rt) > 0 {
		keys := sortedKeys(a.rt, func(x, y rtKey) bool {
			if x.day != y.day {
				return x.day < y.day
			}
			if x.station != y.station {
				return x.station < y.station
			}
			if x.service != y.service {
				return x.service < y.service
			}
			return x.rating < y.rating
		})
		day, st, sv, rating, n := make([]int64, len(keys)), make([]string, len(keys)), make([]string, len(keys)), make([]int32, len(keys)), make([]int64, len(keys))
		for i, k := range keys {
			day[i], st[i], sv[i], rating[i], n[i] = k.day, k.station, k.service, int32(k.rating), a.rt[k]
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO agg_ratings AS t (day, station_id, service, rating, n)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::bigint[])
			ON CONFLICT (day, station_id, service, rating) DO UPDATE SET n = t.n + excluded.n`, day, st, sv, rating, n); err != nil {
			return err
		}
	}
	return nil
}

// writeCum adds the increments to the running totals in two statements
// per table: first every missing (key, day) row is made as a copy of the
// key's row before that day (or zeros), then every row at or after an
// increment's day grows by the increments up to it. The rows made first
// all copy totals from before this transaction's increments, so a key
// with increments on several new days is right too.
func (a *aggregates) writeCum(ctx context.Context, tx *sql.Tx) error {
	if a.noCum {
		return nil
	}
	if len(a.cum) > 0 {
		keys, day, inc := cumArrays(a.cum)
		if _, err := tx.ExecContext(ctx, `INSERT INTO station_cum (station_id, day, checkins, r1, r2, r3, r4, r5)
			SELECT k.station_id, k.day, COALESCE(p.checkins, 0), COALESCE(p.r1, 0), COALESCE(p.r2, 0), COALESCE(p.r3, 0), COALESCE(p.r4, 0), COALESCE(p.r5, 0)
			FROM unnest($1::text[], $2::bigint[]) AS k(station_id, day)
			-- Most keys are today's, whose row exists: only missing ones look back.
			JOIN LATERAL (SELECT NOT EXISTS (SELECT 1 FROM station_cum x WHERE x.station_id = k.station_id AND x.day = k.day) AS missing) m ON m.missing
			LEFT JOIN LATERAL (SELECT checkins, r1, r2, r3, r4, r5 FROM station_cum c
				WHERE c.station_id = k.station_id AND c.day < k.day ORDER BY c.day DESC LIMIT 1) p ON true
			ON CONFLICT (station_id, day) DO NOTHING`, keys, day); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE station_cum c SET checkins = c.checkins + d.c, r1 = c.r1 + d.r1, r2 = c.r2 + d.r2,
				r3 = c.r3 + d.r3, r4 = c.r4 + d.r4, r5 = c.r5 + d.r5
			FROM (SELECT c2.station_id, c2.day, SUM(k.c) AS c, SUM(k.r1) AS r1, SUM(k.r2) AS r2, SUM(k.r3) AS r3, SUM(k.r4) AS r4, SUM(k.r5) AS r5
				FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[])
					AS k(station_id, day, c, r1, r2, r3, r4, r5)
				JOIN station_cum c2 ON c2.station_id = k.station_id AND c2.day >= k.day
				GROUP BY c2.station_id, c2.day) d
			WHERE c.station_id = d.station_id AND c.day = d.day`,
			keys, day, inc[0], inc[1], inc[2], inc[3], inc[4], inc[5]); err != nil {
			return err
		}
	}
	if len(a.scum) > 0 {
		parts, day, inc := cumArrays(a.scum)
		scopes, services := make([]string, len(parts)), make([]string, len(parts))
		for i, p := range parts {
			scopes[i], services[i], _ = strings.Cut(p, "\x00")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO scope_cum (scope, service, day, checkins, r1, r2, r3, r4, r5)
			SELECT k.scope, k.service, k.day, COALESCE(p.checkins, 0), COALESCE(p.r1, 0), COALESCE(p.r2, 0), COALESCE(p.r3, 0), COALESCE(p.r4, 0), COALESCE(p.r5, 0)
			FROM unnest($1::text[], $2::text[], $3::bigint[]) AS k(scope, service, day)
			JOIN LATERAL (SELECT NOT EXISTS (SELECT 1 FROM scope_cum x WHERE x.scope = k.scope AND x.service = k.service AND x.day = k.day) AS missing) m ON m.missing
			LEFT JOIN LATERAL (SELECT checkins, r1, r2, r3, r4, r5 FROM scope_cum c
				WHERE c.scope = k.scope AND c.service = k.service AND c.day < k.day ORDER BY c.day DESC LIMIT 1) p ON true
			ON CONFLICT (scope, service, day) DO NOTHING`, scopes, services, day); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE scope_cum c SET checkins = c.checkins + d.c, r1 = c.r1 + d.r1, r2 = c.r2 + d.r2,
				r3 = c.r3 + d.r3, r4 = c.r4 + d.r4, r5 = c.r5 + d.r5
			FROM (SELECT c2.scope, c2.service, c2.day, SUM(k.c) AS c, SUM(k.r1) AS r1, SUM(k.r2) AS r2, SUM(k.r3) AS r3, SUM(k.r4) AS r4, SUM(k.r5) AS r5
				FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
					AS k(scope, service, day, c, r1, r2, r3, r4, r5)
				JOIN scope_cum c2 ON c2.scope = k.scope AND c2.service = k.service AND c2.day >= k.day
				GROUP BY c2.scope, c2.service, c2.day) d
			WHERE c.scope = d.scope AND c.service = d.service AND c.day = d.day`,
			scopes, services, day, inc[0], inc[1], inc[2], inc[3], inc[4], inc[5]); err != nil {
			return err
		}
	}
	return nil
}

// cumArrays returns the increments of a running-totals map as columns,
// sorted by key part and day.
func cumArrays(m map[cumKey]*cumInc) ([]string, []int64, [6][]int64) {
	keys := sortedKeys(m, func(x, y cumKey) bool {
		if x.part != y.part {
			return x.part < y.part
		}
		return x.day < y.day
	})
	parts, days := make([]string, len(keys)), make([]int64, len(keys))
	var inc [6][]int64
	for i := range inc {
		inc[i] = make([]int64, len(keys))
	}
	for i, k := range keys {
		c := m[k]
		parts[i], days[i] = k.part, k.day
		inc[0][i] = c.checkins
		for r := 0; r < 5; r++ {
			inc[r+1][i] = c.r[r]
		}
	}
	return parts, days, inc
}
