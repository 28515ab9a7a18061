package sqlite

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/storetest"
)

// MustOpen opens a store in a temporary directory and closes it when the
// test ends.
func MustOpen(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(filepath.Join(tb.TempDir(), "hub.db"), &Options{Location: storetest.Zone})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) cloud.Store { return MustOpen(t) })
}

// TestDurability checks the settings that make an ack safe: WAL with an
// fsync at every commit, and a single writer connection.
func TestDurability(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	var mode string
	var sync, timeout int
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := s.w.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		t.Fatal(err)
	}
	if err := s.w.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || sync != 2 || timeout != 5000 {
		t.Fatalf("journal_mode=%s synchronous=%d busy_timeout=%d; want wal, 2 (FULL), 5000", mode, sync, timeout)
	}
	if n := s.w.Stats().MaxOpenConnections; n != 1 {
		t.Fatalf("writer pool of %d connections, want 1", n)
	}
	// The read pool cannot write.
	if _, err := s.r.ExecContext(ctx, "DELETE FROM checkins"); err == nil {
		t.Fatal("the read-only pool wrote")
	}
}

// TestReopen checks that data and schema survive a restart and that
// migrations are not applied twice.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cs := storetest.NewCheckIns(t, rand.New(rand.NewPCG(1, 2)), "st-a", 1, 3, storetest.T0, time.Minute)
	if _, err := cloud.SaveCheckIns(ctx, s, cs); err != nil {
		t.Fatal(err)
	}
	if err := s.SavePresence(ctx, []cloud.Presence{{Station: "st-a", State: cloud.StateOnline, Since: storetest.T0}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.CountCheckIns(ctx, cloud.CheckInFilter{}); err != nil || n != 3 {
		t.Fatalf("after reopen: %d check-ins, %v", n, err)
	}
	if ps, err := s.Presences(ctx); err != nil || len(ps) != 1 || ps[0].State != cloud.StateOnline {
		t.Fatalf("after reopen: presences %+v, %v", ps, err)
	}
	files, _ := fs.Glob(migrations, "migrations/*.sql")
	v, err := s.SchemaVersion(ctx)
	if err != nil || v != len(files) {
		t.Fatalf("schema version %d, %v; want %d", v, err, len(files))
	}
	var rows int
	s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_version").Scan(&rows)
	if rows != len(files) {
		t.Fatalf("%d schema_version rows, want %d", rows, len(files))
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "not.db")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("this is not a database file ", 200)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		code string
	}{
		{"missing directory", filepath.Join(dir, "no", "such", "dir", "hub.db"), vetnet.EUNAVAILABLE},
		{"not a database", notDB, vetnet.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.path, nil)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if vetnet.ErrorCode(err) != tt.code {
				t.Fatalf("code %q (%v), want %q", vetnet.ErrorCode(err), err, tt.code)
			}
			for _, lang := range []string{"zh", "en"} {
				msg := vetnet.ErrorMessage(err, lang)
				if strings.Contains(strings.ToUpper(msg), "SELECT") || strings.Contains(strings.ToUpper(msg), "CREATE") || strings.Contains(msg, "SQLITE") {
					t.Fatalf("message for people leaks SQL: %q", msg)
				}
			}
		})
	}
}

func TestTranslateHidesSQL(t *testing.T) {
	s := MustOpen(t)
	_, err := s.r.ExecContext(context.Background(), "SELECT * FROM no_such_table")
	err = translate(err)
	if vetnet.ErrorCode(err) != vetnet.EINTERNAL {
		t.Fatalf("code %q", vetnet.ErrorCode(err))
	}
	if msg := vetnet.ErrorMessage(err, "en"); strings.Contains(msg, "no_such_table") {
		t.Fatalf("message leaks SQL: %q", msg)
	}
}

func BenchmarkSaveCheckIns(b *testing.B) {
	s := MustOpen(b)
	r := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		cs := storetest.NewCheckIns(b, r, "st-a", uint64(i*20+1), 20, storetest.T0.Add(time.Duration(i)*time.Hour), time.Second)
		b.StartTimer()
		if _, err := cloud.SaveCheckIns(ctx, s, cs); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAggregatesZone: the aggregates follow the zone the store is opened
// in; reopening in another zone rebuilds them.
func TestAggregatesZone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	s, err := Open(path, &Options{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	cs := storetest.NewCheckIns(t, r, "st-a", 1, 3, time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC), time.Minute)
	if _, err := cloud.SaveCheckIns(context.Background(), s, cs); err != nil {
		t.Fatal(err)
	}
	q := cloud.StatsQuery{GroupBy: []cloud.Dim{cloud.DimDay, cloud.DimHour}}
	rows, err := s.CheckInStats(context.Background(), q)
	if err != nil || len(rows) != 1 || rows[0].Hour != 20 || rows[0].Day.Format("2006-01-02") != "2026-11-26" || rows[0].N != 3 {
		t.Fatalf("UTC: %+v %v", rows, err)
	}
	s.Close()
	cst := time.FixedZone("CST", 8*3600)
	s, err = Open(path, &Options{Location: cst})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err = s.CheckInStats(context.Background(), q)
	if err != nil || len(rows) != 1 || rows[0].Hour != 4 || rows[0].Day.In(cst).Format("2006-01-02") != "2026-11-27" || rows[0].N != 3 {
		t.Fatalf("CST: %+v %v", rows, err)
	}
}

// TestRebuildAggregates: aggregates rebuilt from the rows (running totals
// by window functions) answer exactly as those kept by Save.
func TestRebuildAggregates(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	if err := s.UpsertStations(ctx, storetest.Stations()); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(8, 9))
	var cs []vetnet.CheckIn
	for i, st := range storetest.Stations() {
		cs = append(cs, storetest.NewCheckIns(t, r, st.ID, 1, 50+10*i, storetest.T0.Add(-15*24*time.Hour), 5*time.Hour+7*time.Minute)...)
	}
	fs := storetest.NewFeedback(t, r, cs)
	for i := len(cs) - 40; i >= 0; i -= 40 { // newest first: late days arrive last
		if _, err := s.Save(ctx, cloud.Batch{CheckIns: cs[i : i+40], Feedback: fs[i : i+40]}); err != nil {
			t.Fatal(err)
		}
	}
	queries := []cloud.StatsQuery{
		{GroupBy: []cloud.Dim{cloud.DimStation}}, {GroupBy: []cloud.Dim{cloud.DimService}},
		{Roots: []string{"st-d-t1"}, From: storetest.T0.Add(-7 * 24 * time.Hour), GroupBy: []cloud.Dim{cloud.DimService}},
		{From: storetest.T0.Add(-9 * 24 * time.Hour), To: storetest.T0.Add(-2 * 24 * time.Hour), GroupBy: []cloud.Dim{cloud.DimStation}},
	}
	answers := func() []string {
		var out []string
		for _, q := range queries {
			a, err := s.CheckInStats(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			rq := q
			rq.GroupBy = append(rq.GroupBy, cloud.DimRating)
			b, err := s.RatingStats(ctx, rq)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(a), fmt.Sprint(b))
		}
		return out
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
}
