package web

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/postgres"
	"github.com/vetnet/vetnet/vetnettest"
)

// BenchmarkDashboardAtScalePostgres is BenchmarkDashboardAtScale on the
// PostgreSQL store with 10,000,000 check-ins (VETNET_BENCH_ROWS) at the
// same 1,000 stations over a year, a third of them rated. The rows are
// made by PostgreSQL itself (generate_series), then the aggregates are
// built from them (Store.RebuildAggregates), as after a bulk import;
// kept in schema VETNET_BENCH_PG_SCHEMA (default bench_dashboard) and
// reused next time:
//
//	VETNET_BENCH_PG=postgres://postgres@127.0.0.1:5432/test go test -run '^$' \
//	  -bench DashboardAtScalePostgres -benchtime 1x -timeout 120m ./cloud/web/
func BenchmarkDashboardAtScalePostgres(b *testing.B) {
	url := os.Getenv("VETNET_BENCH_PG")
	if url == "" {
		b.Skip("set VETNET_BENCH_PG=postgres://...: builds 10,000,000 check-ins first (many minutes)")
	}
	n := 10_000_000
	if v, err := strconv.Atoi(os.Getenv("VETNET_BENCH_ROWS")); err == nil && v > 0 {
		n = v
	}
	schema := os.Getenv("VETNET_BENCH_PG_SCHEMA")
	if schema == "" {
		schema = "bench_dashboard"
	}
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 26, 15, 0, 0, 0, loc)
	stations := scaleStations()
	// The key file stays with the schema, which the benchmark keeps.
	st, err := postgres.Open(url, &postgres.Options{Schema: schema, Location: loc,
		KeyFile: filepath.Join(os.TempDir(), "vetnet-"+schema+".key")})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if err := st.UpsertStations(ctx, stations); err != nil {
		b.Fatal(err)
	}
	var rows, ratings int
	if err := st.DB().QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM checkin_ids), (SELECT COUNT(*) FROM feedback)`).Scan(&rows, &ratings); err != nil {
		b.Fatal(err)
	}
	counted, err := st.CountCheckIns(ctx, cloud.CheckInFilter{})
	if err != nil {
		b.Fatal(err)
	}
	if rows < n || ratings == 0 {
		start := time.Now()
		bulkLoad(b, st, stations, n, now)
		b.Logf("loaded %d check-ins in %v", n, time.Since(start).Round(time.Second))
	}
	if counted < n {
		start := time.Now()
		if err := st.RebuildAggregates(ctx); err != nil {
			b.Fatal(err)
		}
		b.Logf("aggregates built in %v", time.Since(start).Round(time.Second))
		if _, err := st.DB().ExecContext(ctx, `ANALYZE`); err != nil {
			b.Fatal(err)
		}
	}
	if got, err := st.CountCheckIns(ctx, cloud.CheckInFilter{}); err != nil || got < n {
		b.Fatalf("%d check-ins (%v)", got, err)
	}
	var size string
	st.DB().QueryRowContext(ctx, `SELECT pg_size_pretty(SUM(pg_total_relation_size(c.oid))) FROM pg_class c
		JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = $1 AND c.relkind IN ('r', 'p')`, schema).Scan(&size)
	b.Logf("schema %s: %s", schema, size)
	measureDashboard(b, st, stations, now, loc)
}

// bulkLoad makes n check-ins over the year before now in working hours,
// towns and the centre busier than villages (each station's share of a
// list of IDs follows its weight), a rating for one in three, with
// INSERT ... SELECT FROM generate_series: the server makes the rows.
func bulkLoad(b *testing.B, st *postgres.Store, stations []vetnet.Station, n int, now time.Time) {
	ctx := context.Background()
	var ids, svcs []string
	for _, s := range stations {
		w := map[vetnet.Level]int{vetnet.LevelDistrict: 40, vetnet.LevelTown: 12, vetnet.LevelVillage: 1, vetnet.LevelPost: 3}[s.Level]
		for i := 0; i < w; i++ {
			ids = append(ids, s.ID)
		}
	}
	for _, sv := range vetnet.Services {
		svcs = append(svcs, string(sv))
	}
	r := rand.New(rand.NewPCG(3, 3))
	var people, names []string
	for i := 0; i < 5000; i++ {
		v := vetnettest.Veteran(r)
		people, names = append(people, v.IDNumber), append(names, v.Name)
	}
	start := now.AddDate(-1, 0, 0)
	day0 := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, now.Location())
	// Partitions of every month of the year.
	for m := day0; !m.After(now.AddDate(0, 1, 0)); m = m.AddDate(0, 1, 0) {
		if err := st.EnsurePartition(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	db := st.DB()
	// Indexes built once after the load (a sort per partition) instead of
	// row by row: the usual way of a bulk load.
	indexes := map[string]string{
		"checkins_station_seq": "checkins (station_id, seq)",
		"checkins_at":          "checkins (at DESC, id DESC)",
		"checkins_station_at":  "checkins (station_id, at DESC, id DESC)",
	}
	for name := range indexes {
		if _, err := db.ExecContext(ctx, `DROP INDEX IF EXISTS `+name); err != nil {
			b.Fatal(err)
		}
	}
	const chunk = 1_000_000
	for lo := 0; lo < n; lo += chunk {
		hi := min(n, lo+chunk)
		// x is a pseudo-random spread of g; at is day0 + a day of the year
		// + 08:00..17:00 of that day.
		if _, err := db.ExecContext(ctx, `INSERT INTO checkins (id, station_id, seq, at, received_at, service, method, queue_no, id_number, name, doc, staff, detail)
			SELECT 'B' || lpad(g::text, 25, '0'), ids[1 + x % cardinality(ids)], g,
				$1::bigint + ((x / 7) % 365) * 86400000000000 + (28800 + (x / 13) % 32400) * 1000000000,
				$1::bigint + ((x / 7) % 365) * 86400000000000 + (28801 + (x / 13) % 32400) * 1000000000,
				svcs[1 + (x / 3) % cardinality(svcs)], 'card', 'A001', people[1 + x % 5000], names[1 + x % 5000], 'resident', '', ''
			FROM (SELECT g, (g * 2654435761) % 4294967291 AS x FROM generate_series($2::bigint, $3::bigint) g) s,
				(SELECT $4::text[] AS ids, $5::text[] AS svcs, $6::text[] AS people, $7::text[] AS names) p`,
			day0.UnixNano(), lo+1, hi, ids, svcs, people, names); err != nil {
			b.Fatal(err)
		}
		b.Logf("check-ins %d..%d", lo+1, hi)
	}
	for name, on := range indexes {
		if _, err := db.ExecContext(ctx, `CREATE INDEX `+name+` ON `+on); err != nil {
			b.Fatal(err)
		}
	}
	for _, q := range []string{
		`INSERT INTO checkin_ids (id, at) SELECT id, at FROM checkins ON CONFLICT DO NOTHING`,
		`INSERT INTO feedback (id, station_id, checkin_id, service, rating, reasons, comment, at, received_at)
			SELECT 'F' || substr(id, 2), station_id, id, service, 1 + (seq / 3) % 5, '', '', at + 60000000000, received_at + 60000000000
			FROM checkins WHERE seq % 3 = 0 ON CONFLICT DO NOTHING`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}
