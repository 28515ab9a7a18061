package web

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/auth"
	"github.com/vetnet/vetnet/cloud/sqlite"
	"github.com/vetnet/vetnet/vetnettest"
)

// BenchmarkDashboardAtScale measures what the dashboard asks for, on
// 1,000 stations and 1,000,000 check-ins (a year of a large district) in
// the embedded store, and reports each request's p50 and p95 (ms).
//
// Building the data takes a few minutes, so the benchmark runs only with
// VETNET_BENCH_SCALE=1 (docs/performance.md):
//
//	VETNET_BENCH_SCALE=1 go test -run '^$' -bench DashboardAtScale -benchtime 1x -timeout 60m ./cloud/web/
//
// VETNET_BENCH_DB=path keeps the database there and reuses it next time.
func BenchmarkDashboardAtScale(b *testing.B) {
	if os.Getenv("VETNET_BENCH_SCALE") == "" {
		b.Skip("set VETNET_BENCH_SCALE=1: builds 1,000,000 check-ins first (minutes)")
	}
	const nCheckIns = 1_000_000
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 26, 15, 0, 0, 0, loc)
	stations := scaleStations()
	path := os.Getenv("VETNET_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "hub.db")
	}
	_, statErr := os.Stat(path)
	st, err := sqlite.Open(path, &sqlite.Options{Location: loc})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if statErr != nil {
		start := time.Now()
		if err := st.UpsertStations(ctx, stations); err != nil {
			b.Fatal(err)
		}
		fillScale(b, st, stations, nCheckIns, now)
		b.Logf("built %d check-ins at %d stations in %v", nCheckIns, len(stations), time.Since(start).Round(time.Second))
	}
	if n, err := st.CountCheckIns(ctx, cloud.CheckInFilter{}); err != nil || n < nCheckIns {
		b.Fatalf("%d check-ins (%v)", n, err)
	}
	if fi, err := os.Stat(path); err == nil {
		b.Logf("database: %.0f MB", float64(fi.Size())/1e6)
	}
	measureDashboard(b, st, stations, now, loc)
}

// measureDashboard times the dashboard's requests on a filled store
// (BenchmarkDashboardAtScale, BenchmarkDashboardAtScalePostgres).
func measureDashboard(b *testing.B, st cloud.Store, stations []vetnet.Station, now time.Time, loc *time.Location) {
	ctx := context.Background()
	presences := make([]cloud.Presence, len(stations))
	for i, s := range stations {
		presences[i] = cloud.Presence{Station: s.ID, State: cloud.StateOnline, Since: now.Add(-time.Hour), LastSeen: now, LastHeartbeat: now,
			HeartbeatS: 30, Agent: "0.3.2", Outbox: cloud.Backlog{Depth: i % 3, OldestAt: now.Add(-time.Minute)},
			Readers: []cloud.Reader{{Name: "idcard0", Kind: "idcard", State: "ok"}, {Name: "printer0", Kind: "printer", State: "ok"}}}
	}
	// Some open alerts, as on a bad day.
	for i := 0; i < 40; i++ {
		s := stations[i*20]
		if _, _, err := st.OpenAlert(ctx, cloud.Alert{Rule: cloud.RuleOffline, Key: "offline/" + s.ID, Station: s.ID, MessageZH: "离线", MessageEN: "offline", OpenedAt: now}); err != nil {
			b.Fatal(err)
		}
	}
	srv := New(Options{Store: st, Stations: func() []vetnet.Station { return stations }, Presences: func() []cloud.Presence { return presences },
		Location: loc, Now: func() time.Time { return now }})
	hash, _ := auth.HashPassword(testPassword)
	for _, u := range []cloud.User{{Name: "admin", Role: cloud.RoleDistrictAdmin, PasswordHash: hash}, {Name: "town", Role: cloud.RoleTownAdmin, Station: "wj-t07", PasswordHash: hash}} {
		if err := st.PutUser(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
	admin := benchSignIn(b, srv, "admin")
	town := benchSignIn(b, srv, "town")

	requests := []struct{ name, token, path string }{
		{"overview: stations (1,000)", admin, "/api/v1/stations"},
		{"overview: open alerts", admin, "/api/v1/alerts?state=active&limit=500"},
		{"overview: latest check-ins", admin, "/api/v1/checkins?limit=30"},
		{"statistics: 30 days, district", admin, "/api/v1/stats"},
		{"statistics: 365 days, district", admin, "/api/v1/stats?from=2025-11-27&to=2026-11-26"},
		{"statistics: 30 days, one town", town, "/api/v1/stats"},
		{"statistics: 30 days, one service", admin, "/api/v1/stats?service=benefits"},
		{"station page (14 days)", admin, "/api/v1/stations/wj-t07-v03"},
		{"check-ins: town, one day", town, "/api/v1/checkins?from=2026-11-20&to=2026-11-21&limit=50"},
	}
	// Before each request one new check-in is stored, as live traffic
	// does: nothing the store remembers between requests helps.
	lr := rand.New(rand.NewPCG(7, 7))
	seqs := map[string]uint64{}
	live := func() {
		x := stations[lr.IntN(len(stations))]
		seqs[x.ID]++
		at := now.Add(-time.Duration(lr.IntN(3600)) * time.Second)
		id, _ := vetnet.NewCheckInID(at, randBytes{lr})
		c := vetnet.CheckIn{ID: id, StationID: x.ID, Seq: 1_000_000 + seqs[x.ID], Visitor: vetnettest.Veteran(lr), Service: x.OfferedServices()[0],
			Method: vetnet.MethodCard, QueueNo: "Z001", At: at, ReceivedAt: now}
		if _, err := cloud.SaveCheckIns(ctx, st, []vetnet.CheckIn{c}); err != nil {
			b.Fatal(err)
		}
	}
	rounds := 100
	if v, err := strconv.Atoi(os.Getenv("VETNET_BENCH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	b.ResetTimer()
	for range b.N {
		var lines []string
		for _, rq := range requests {
			ds := make([]time.Duration, 0, rounds)
			for i := 0; i < rounds+5; i++ {
				live()
				req := httptest.NewRequest("GET", rq.path, nil)
				req.Header.Set("Authorization", "Bearer "+rq.token)
				rec := httptest.NewRecorder()
				t0 := time.Now()
				srv.ServeHTTP(rec, req)
				d := time.Since(t0)
				if rec.Code != 200 {
					b.Fatalf("%s: %d %s", rq.path, rec.Code, rec.Body)
				}
				if i >= 5 { // warm-up
					ds = append(ds, d)
				}
			}
			sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
			p50, p95 := ds[len(ds)/2], ds[len(ds)*95/100]
			fmt.Fprintf(os.Stderr, "%s: p50 %.1f ms, p95 %.1f ms\n", rq.name, ms(p50), ms(p95))
			lines = append(lines, fmt.Sprintf("| %s | `%s` | %.1f | %.1f | %.1f |", rq.name, rq.path, ms(p50), ms(p95), ms(ds[len(ds)-1])))
			b.ReportMetric(ms(p95), "p95-ms/"+strings.Fields(rq.name)[0]+fmt.Sprint(len(lines)))
		}
		b.Logf("\n| request | path | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|\n%s", strings.Join(lines, "\n"))
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func benchSignIn(b *testing.B, srv *Server, user string) string {
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/session", strings.NewReader(`{"user":"`+user+`","password":"`+testPassword+`"}`)))
	var body struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Token == "" {
		b.Fatalf("sign in %s: %d", user, rec.Code)
	}
	return body.Token
}

// scaleStations is a district of 1,000 stations: the centre, 30 towns of
// 30 villages each, and 69 veteran posts.
func scaleStations() []vetnet.Station {
	out := []vetnet.Station{{ID: "wj", Name: "区退役军人服务中心", Level: vetnet.LevelDistrict}}
	for t := 1; t <= 30; t++ {
		tid := fmt.Sprintf("wj-t%02d", t)
		out = append(out, vetnet.Station{ID: tid, Name: fmt.Sprintf("第%d镇退役军人服务站", t), Level: vetnet.LevelTown, Parent: "wj"})
		for v := 1; v <= 30; v++ {
			out = append(out, vetnet.Station{ID: fmt.Sprintf("%s-v%02d", tid, v), Name: fmt.Sprintf("第%d镇%d村服务站", t, v), Level: vetnet.LevelVillage, Parent: tid})
		}
	}
	for p := 1; len(out) < 1000; p++ {
		parent := "wj"
		if p%2 == 0 {
			parent = fmt.Sprintf("wj-t%02d", p%30+1)
		}
		out = append(out, vetnet.Station{ID: fmt.Sprintf("wj-p%02d", p), Name: fmt.Sprintf("第%d驿站", p), Level: vetnet.LevelPost, Parent: parent})
	}
	return out
}

// fillScale stores n check-ins over the year before now, towns and the
// centre busier than villages, in working hours, with a rating for one
// in three; through Save in batches of 5,000, as the hub would.
func fillScale(b *testing.B, st cloud.Store, stations []vetnet.Station, n int, now time.Time) {
	r := rand.New(rand.NewPCG(1000, 1000000))
	weights := make([]int, len(stations))
	total := 0
	for i, s := range stations {
		w := map[vetnet.Level]int{vetnet.LevelDistrict: 40, vetnet.LevelTown: 12, vetnet.LevelVillage: 1, vetnet.LevelPost: 3}[s.Level]
		weights[i], total = w, total+w
	}
	pick := func() int {
		x := r.IntN(total)
		for i, w := range weights {
			if x < w {
				return i
			}
			x -= w
		}
		return 0
	}
	seq := make([]uint64, len(stations))
	people := make([]vetnet.Visitor, 5000)
	for i := range people {
		people[i] = vetnettest.Veteran(r)
	}
	start := now.AddDate(-1, 0, 0)
	span := now.Sub(start)
	var batch cloud.Batch
	for i := 0; i < n; i++ {
		k := pick()
		s := stations[k]
		day := start.Add(time.Duration(r.Int64N(int64(span)))).In(now.Location())
		at := time.Date(day.Year(), day.Month(), day.Day(), 8+r.IntN(9), r.IntN(60), r.IntN(60), 0, now.Location())
		id, err := vetnet.NewCheckInID(at, randBytes{r})
		if err != nil {
			b.Fatal(err)
		}
		seq[k]++
		svcs := s.OfferedServices()
		c := vetnet.CheckIn{ID: id, StationID: s.ID, Seq: seq[k], Visitor: people[r.IntN(len(people))], Service: svcs[r.IntN(len(svcs))],
			Method: vetnet.MethodCard, QueueNo: "A001", At: at, ReceivedAt: at.Add(time.Second)}
		batch.CheckIns = append(batch.CheckIns, c)
		if r.IntN(3) == 0 {
			fid, _ := vetnet.NewCheckInID(at.Add(time.Minute), randBytes{r})
			batch.Feedback = append(batch.Feedback, vetnet.Feedback{ID: fid, StationID: s.ID, CheckInID: id, Service: c.Service,
				Rating: vetnet.Rating(1 + r.IntN(5)), At: at.Add(time.Minute), ReceivedAt: at.Add(time.Minute)})
		}
		if len(batch.CheckIns) == 5000 || i == n-1 {
			if _, err := st.Save(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = cloud.Batch{}
		}
	}
}

type randBytes struct{ r *rand.Rand }

func (rb randBytes) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(rb.r.Uint32())
	}
	return len(p), nil
}
