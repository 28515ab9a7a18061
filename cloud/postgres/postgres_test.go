package postgres

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/storetest"
)

// testURL returns the URL of the test database (VETNET_TEST_PG, default
// postgres://postgres@127.0.0.1:5432/test), or skips the test when no
// server listens there, unless VETNET_REQUIRE_POSTGRES=1.
func testURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("VETNET_TEST_PG")
	if u == "" {
		u = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	c, err := net.DialTimeout("tcp", "127.0.0.1:5432", time.Second)
	if err != nil {
		if os.Getenv("VETNET_REQUIRE_POSTGRES") == "1" {
			tb.Fatalf("PostgreSQL not reachable: %v", err)
		}
		tb.Skipf("PostgreSQL not reachable: %v", err)
	}
	c.Close()
	return u
}

// MustOpen opens a store in a new schema of the test database and drops
// the schema when the test ends.
func MustOpen(tb testing.TB, opts *Options) *Store {
	tb.Helper()
	u := testURL(tb)
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Schema == "" {
		o.Schema = NewSchemaName()
	}
	if o.Location == nil {
		o.Location = storetest.Zone
	}
	if o.MaxConns == 0 {
		o.MaxConns = 4
	}
	if o.KeyFile == "" {
		o.KeyFile = filepath.Join(tb.TempDir(), "hub.key")
	}
	s, err := Open(u, &o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		s.Close()
		DropSchema(tb, u, o.Schema)
	})
	return s
}

// NewSchemaName returns a fresh schema name for a test.
func NewSchemaName() string {
	b := make([]byte, 6)
	crand.Read(b)
	return "t_" + hex.EncodeToString(b)
}

// DropSchema drops a test's schema.
func DropSchema(tb testing.TB, url, schema string) {
	tb.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		tb.Logf("drop schema %s: %v", schema, err)
		return
	}
	defer db.Close()
	if _, err := db.Exec(`DROP SCHEMA IF EXISTS ` + quoteIdent(schema) + ` CASCADE`); err != nil {
		tb.Logf("drop schema %s: %v", schema, err)
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) cloud.Store { return MustOpen(t, nil) })
}

func TestMeetings(t *testing.T) {
	storetest.RunMeetings(t, func(t *testing.T) storetest.MeetingStore { return MustOpen(t, nil) })
}

// TestReopen: data and schema survive a reopen, migrations are applied
// once, and two stores opening one schema at once migrate it once.
func TestReopen(t *testing.T) {
	u := testURL(t)
	schema := NewSchemaName()
	t.Cleanup(func() { DropSchema(t, u, schema) })
	key := filepath.Join(t.TempDir(), "hub.key")
	var wg sync.WaitGroup
	stores := make([]*Store, 3)
	errs := make([]error, 3)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(u, &Options{Schema: schema, MaxConns: 2, Location: storetest.Zone, KeyFile: key})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
	}
	ctx := context.Background()
	cs := storetest.NewCheckIns(t, rand.New(rand.NewPCG(1, 2)), "st-a", 1, 3, storetest.T0, time.Minute)
	if _, err := cloud.SaveCheckIns(ctx, stores[0], cs); err != nil {
		t.Fatal(err)
	}
	for _, s := range stores {
		s.Close()
	}
	s, err := Open(u, &Options{Schema: schema, Location: storetest.Zone, KeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.CountCheckIns(ctx, cloud.CheckInFilter{}); err != nil || n != 3 {
		t.Fatalf("after reopen: %d check-ins, %v", n, err)
	}
	files, _ := fs.Glob(migrations, "migrations/*.sql")
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(files) {
		t.Fatalf("schema version %d, %v; want %d", v, err, len(files))
	}
	var rows int
	s.db.QueryRow(`SELECT COUNT(*) FROM schema_version`).Scan(&rows)
	if rows != len(files) {
		t.Fatalf("%d schema_version rows, want %d", rows, len(files))
	}
}

// TestPartitions: check-ins land in their month's partition, made on
// demand, also for a station whose clock is years off; the months ahead
// exist from Open.
func TestPartitions(t *testing.T) {
	s := MustOpen(t, &Options{AheadMonths: 2})
	ctx := context.Background()
	now := time.Now().UTC()
	parts, err := s.Partitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i <= 2; i++ {
		want := partitionName(time.Date(now.Year(), now.Month()+time.Month(i), 1, 0, 0, 0, 0, time.UTC))
		if !contains(parts, want) {
			t.Fatalf("partition %s missing from %v", want, parts)
		}
	}
	r := rand.New(rand.NewPCG(3, 3))
	old := storetest.NewCheckIns(t, r, "st-a", 1, 2, time.Date(2019, 3, 31, 23, 59, 0, 0, time.UTC), time.Minute)
	if _, err := cloud.SaveCheckIns(ctx, s, old); err != nil {
		t.Fatal(err)
	}
	parts, _ = s.Partitions(ctx)
	for _, want := range []string{"checkins_p201903", "checkins_p201904"} {
		if !contains(parts, want) {
			t.Fatalf("partition %s missing from %v", want, parts)
		}
	}
	for _, c := range old {
		var table string
		if err := s.db.QueryRow(`SELECT tableoid::regclass::text FROM checkins WHERE id = $1`, c.ID).Scan(&table); err != nil {
			t.Fatal(err)
		}
		want := partitionName(c.At)
		if !strings.HasSuffix(table, want) {
			t.Fatalf("check-in at %v in %s, want %s", c.At, table, want)
		}
		got, err := s.CheckIn(ctx, c.ID)
		if err != nil || got.ID != c.ID {
			t.Fatalf("CheckIn: %+v %v", got, err)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestGroupCommit: many concurrent Saves, with IDs repeated across them,
// store every check-in once, each Save names exactly the IDs it stored
// first, and the aggregates count each once.
func TestGroupCommit(t *testing.T) {
	s := MustOpen(t, nil)
	ctx := context.Background()
	if err := s.UpsertStations(ctx, storetest.Stations()); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(4, 4))
	var all []vetnet.CheckIn
	for _, st := range storetest.Stations() {
		all = append(all, storetest.NewCheckIns(t, r, st.ID, 1, 200, storetest.T0, time.Minute)...)
	}
	// Batches of 10, each sent twice by different goroutines.
	var mu sync.Mutex
	claimed := map[string]int{}
	var wg sync.WaitGroup
	for rep := 0; rep < 2; rep++ {
		for i := 0; i < len(all); i += 10 {
			wg.Add(1)
			go func(b []vetnet.CheckIn) {
				defer wg.Done()
				ids, err := cloud.SaveCheckIns(ctx, s, b)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, id := range ids {
					claimed[id]++
				}
				mu.Unlock()
			}(all[i : i+10])
		}
	}
	wg.Wait()
	if len(claimed) != len(all) {
		t.Fatalf("%d IDs reported new, want %d", len(claimed), len(all))
	}
	for id, n := range claimed {
		if n != 1 {
			t.Fatalf("%s reported new %d times", id, n)
		}
	}
	if n, err := s.CountCheckIns(ctx, cloud.CheckInFilter{}); err != nil || n != len(all) {
		t.Fatalf("count %d %v, want %d", n, err, len(all))
	}
	var rows int
	s.db.QueryRow(`SELECT COUNT(*) FROM checkins`).Scan(&rows)
	if rows != len(all) {
		t.Fatalf("%d rows, want %d", rows, len(all))
	}
}

// TestTwoStoresOneSchema: two stores (two hub replicas) saving
// overlapping batches into one schema keep the aggregates exact.
func TestTwoStoresOneSchema(t *testing.T) {
	a := MustOpen(t, nil)
	b, err := Open(testURL(t), &Options{Schema: a.Schema(), MaxConns: 4, Location: storetest.Zone, KeyFile: a.opts.KeyFile})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	if err := a.UpsertStations(ctx, storetest.Stations()); err != nil {
		t.Fatal(err)
	}
	if err := b.UpsertStations(ctx, storetest.Stations()); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 5))
	var all []vetnet.CheckIn
	for _, st := range storetest.Stations() {
		all = append(all, storetest.NewCheckIns(t, r, st.ID, 1, 300, storetest.T0.Add(-72*time.Hour), 13*time.Minute)...)
	}
	fb := storetest.NewFeedback(t, r, all)
	var wg sync.WaitGroup
	for i, s := range []*Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := i * 5; j < len(all); j += 20 {
				end := min(j+20, len(all))
				if _, err := s.Save(ctx, cloud.Batch{CheckIns: all[j:end], Feedback: fb[j:end]}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	// Fill what neither covered (the first 5 of the range).
	if _, err := a.Save(ctx, cloud.Batch{CheckIns: all, Feedback: fb}); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	for _, c := range all {
		want[c.StationID]++
	}
	rows, err := b.CheckInStats(ctx, cloud.StatsQuery{GroupBy: []cloud.Dim{cloud.DimStation}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range rows {
		got[r.Station] = r.N
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("per station %v, want %v", got, want)
	}
	before, err := a.CheckInStats(ctx, cloud.StatsQuery{Roots: []string{"st-d-t1"}, GroupBy: []cloud.Dim{cloud.DimDay, cloud.DimService}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.RebuildAggregates(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := a.CheckInStats(ctx, cloud.StatsQuery{Roots: []string{"st-d-t1"}, GroupBy: []cloud.Dim{cloud.DimDay, cloud.DimService}})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("aggregates kept by two writers differ from rebuilt ones:\n%v\n%v", before, after)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name, url string
		opts      *Options
		code      string
	}{
		{"not a postgres URL", "mysql://x", &Options{KeyFile: "k"}, vetnet.EINVALID},
		{"bad schema", "postgres://postgres@127.0.0.1:5432/test", &Options{Schema: "a;b", KeyFile: "k"}, vetnet.EINVALID},
		{"no key file", "postgres://postgres@127.0.0.1:5432/test", nil, vetnet.EINVALID},
		{"nobody listening", "postgres://postgres@127.0.0.1:1/test?connect_timeout=2", &Options{KeyFile: "k"}, vetnet.EUNAVAILABLE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.url, tt.opts)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if vetnet.ErrorCode(err) != tt.code {
				t.Fatalf("code %q (%v), want %q", vetnet.ErrorCode(err), err, tt.code)
			}
			if msg := vetnet.ErrorMessage(err, "en"); strings.Contains(strings.ToUpper(msg), "SELECT") {
				t.Fatalf("message leaks SQL: %q", msg)
			}
		})
	}
}

func TestTranslateHidesSQL(t *testing.T) {
	s := MustOpen(t, nil)
	_, err := s.db.Exec("SELECT * FROM no_such_table")
	err = translate(err)
	if vetnet.ErrorCode(err) != vetnet.EINTERNAL {
		t.Fatalf("code %q", vetnet.ErrorCode(err))
	}
	if msg := vetnet.ErrorMessage(err, "en"); strings.Contains(msg, "no_such_table") {
		t.Fatalf("message leaks SQL: %q", msg)
	}
}

// TestLead: of two stores on one schema one leads; when it closes, the
// other takes over.
func TestLead(t *testing.T) {
	a := MustOpen(t, nil)
	b, err := Open(testURL(t), &Options{Schema: a.Schema(), MaxConns: 2, Location: storetest.Zone, KeyFile: a.opts.KeyFile})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	la, err := a.Lead(ctx)
	if err != nil || !la {
		t.Fatalf("first: %v %v, want to lead", la, err)
	}
	if lb, err := b.Lead(ctx); err != nil || lb {
		t.Fatalf("second: %v %v, want not to lead", lb, err)
	}
	if la, err := a.Lead(ctx); err != nil || !la {
		t.Fatalf("first again: %v %v, want to lead still", la, err)
	}
	a.Close()
	if lb, err := b.Lead(ctx); err != nil || !lb {
		t.Fatalf("second after the first closed: %v %v, want to lead", lb, err)
	}
}

// TestRebuildAggregates: aggregates rebuilt from the rows answer exactly
// as those kept by Save: by the server for a zone of one offset, by the
// store for a zone with daylight saving time.
func TestRebuildAggregates(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no zone data:", err)
	}
	for _, loc := range []*time.Location{storetest.Zone, ny} {
		t.Run(loc.String(), func(t *testing.T) {
			s := MustOpen(t, &Options{Location: loc})
			ctx := context.Background()
			if err := s.UpsertStations(ctx, storetest.Stations()); err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(8, 9))
			var cs []vetnet.CheckIn
			for i, st := range storetest.Stations() {
				// Over the spring change of clocks.
				cs = append(cs, storetest.NewCheckIns(t, r, st.ID, 1, 50+10*i, time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC), 5*time.Hour+7*time.Minute)...)
			}
			cs = append(cs, storetest.NewCheckIns(t, r, "st-unknown", 1, 7, time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC), time.Hour)...)
			fs := storetest.NewFeedback(t, r, cs)
			for i := 0; i < len(cs); i += 40 {
				end := min(i+40, len(cs))
				if _, err := s.Save(ctx, cloud.Batch{CheckIns: cs[i:end], Feedback: fs[i:end]}); err != nil {
					t.Fatal(err)
				}
			}
			from, to := time.Date(2026, 3, 5, 0, 0, 0, 0, loc), time.Date(2026, 3, 12, 0, 0, 0, 0, loc)
			queries := []cloud.StatsQuery{
				{GroupBy: []cloud.Dim{cloud.DimStation}}, {GroupBy: []cloud.Dim{cloud.DimService}},
				{GroupBy: []cloud.Dim{cloud.DimDay, cloud.DimHour}},
				{Roots: []string{"st-d-t1"}, From: from, GroupBy: []cloud.Dim{cloud.DimService}},
				{From: from, To: to, GroupBy: []cloud.Dim{cloud.DimStation, cloud.DimDay}},
			}
			answers := func() []string {
				var out []string
				for _, q := range queries {
					a, err := s.CheckInStats(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, fmt.Sprint(a))
					if q.GroupBy[len(q.GroupBy)-1] != cloud.DimHour {
						rq := q
						rq.GroupBy = append(rq.GroupBy, cloud.DimRating)
						b, err := s.RatingStats(ctx, rq)
						if err != nil {
							t.Fatal(err)
						}
						out = append(out, fmt.Sprint(b))
					}
				}
				st, err := s.StationStats(ctx, from)
				if err != nil {
					t.Fatal(err)
				}
				return append(out, fmt.Sprint(st))
			}
			before := answers()
			if err := s.RebuildAggregates(ctx); err != nil {
				t.Fatal(err)
			}
			after := answers()
			for i := range before {
				if before[i] != after[i] {
					t.Errorf("answer %d changed by the rebuild:\n%s\n%s", i, before[i], after[i])
				}
			}
		})
	}
}
