package storetest

import (
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
)

// Zone is the zone the suite's stores must be opened in: statistics
// group by its days and hours.
var Zone = time.FixedZone("CST", 8*3600)

// dashboardTests are the suite's cases for the dashboard's methods.
var dashboardTests = []struct {
	name string
	fn   func(t *testing.T, s cloud.Store)
}{
	{"StatsExact", testStatsExact},
	{"StatsTreeChange", testStatsTreeChange},
	{"CountFromAggregates", testCountFromAggregates},
	{"ScopedCheckIns", testScopedCheckIns},
	{"CheckInByID", testCheckInByID},
	{"StationLog", testStationLog},
	{"Alerts", testAlerts},
	{"UsersSessions", testUsersSessions},
	{"Audit", testAudit},
	{"PersonData", testPersonData},
}

// seed stores a random month of check-ins and ratings over the suite's
// stations and returns them.
func seed(t *testing.T, s cloud.Store) ([]vetnet.CheckIn, []vetnet.Feedback) {
	t.Helper()
	if err := s.UpsertStations(ctx(t), Stations()); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	var cs []vetnet.CheckIn
	for i, st := range Stations() {
		// Odd steps spread check-ins over every hour of a month.
		cs = append(cs, NewCheckIns(t, r, st.ID, 1, 60+20*i, T0.Add(-20*24*time.Hour), 7*time.Hour+13*time.Minute)...)
	}
	cs = append(cs, NewCheckIns(t, r, "st-unregistered", 1, 9, T0, time.Hour)...)
	fs := NewFeedback(t, r, cs)
	// Batches in a shuffled order: a station's days arrive out of order,
	// as from a station back after an outage.
	var starts []int
	for i := 0; i < len(cs); i += 37 {
		starts = append(starts, i)
	}
	r.Shuffle(len(starts), func(i, j int) { starts[i], starts[j] = starts[j], starts[i] })
	for _, i := range starts {
		j := min(i+37, len(cs))
		if _, err := s.Save(ctx(t), cloud.Batch{CheckIns: cs[i:j], Feedback: fs[i:j]}); err != nil {
			t.Fatal(err)
		}
	}
	// Saving again changes nothing.
	if _, err := s.Save(ctx(t), cloud.Batch{CheckIns: cs[:50], Feedback: fs[:50]}); err != nil {
		t.Fatal(err)
	}
	return cs, fs
}

type statKey struct {
	day     string
	hour    int
	station string
	service vetnet.Service
	rating  vetnet.Rating
}

func keyOf(g []cloud.Dim, day time.Time, hour int, station string, sv vetnet.Service, rating vetnet.Rating) statKey {
	var k statKey
	for _, d := range g {
		switch d {
		case cloud.DimDay:
			k.day = day.In(Zone).Format("2006-01-02")
		case cloud.DimHour:
			k.hour = hour
		case cloud.DimStation:
			k.station = station
		case cloud.DimService:
			k.service = sv
		case cloud.DimRating:
			k.rating = rating
		}
	}
	return k
}

func rowsMap(g []cloud.Dim, rows []cloud.StatsRow) map[statKey]int64 {
	m := map[statKey]int64{}
	for _, r := range rows {
		m[keyOf(g, r.Day, r.Hour, r.Station, r.Service, r.Rating)] += r.N
	}
	return m
}

func under(roots []string, stations []vetnet.Station) map[string]bool {
	if roots == nil {
		return nil
	}
	parent := map[string]string{}
	for _, st := range stations {
		parent[st.ID] = st.Parent
	}
	in := map[string]bool{}
	for _, st := range stations {
		for p := st.ID; p != ""; p = parent[p] {
			for _, r := range roots {
				if p == r {
					in[st.ID] = true
				}
			}
		}
	}
	return in
}

// testStatsExact compares every grouping of the aggregates with counts
// made from the rows themselves.
func testStatsExact(t *testing.T, s cloud.Store) {
	cs, fs := seed(t, s)
	from := time.Date(2026, 11, 10, 0, 0, 0, 0, Zone)
	to := time.Date(2026, 11, 20, 0, 0, 0, 0, Zone)
	groupings := [][]cloud.Dim{nil, {cloud.DimDay}, {cloud.DimHour}, {cloud.DimStation}, {cloud.DimService},
		{cloud.DimDay, cloud.DimService}, {cloud.DimStation, cloud.DimHour}, {cloud.DimStation, cloud.DimService}}
	queries := []struct {
		name string
		q    cloud.StatsQuery
	}{
		{"all", cloud.StatsQuery{}},
		{"town", cloud.StatsQuery{Roots: []string{"st-d-t1"}}},
		{"village", cloud.StatsQuery{Roots: []string{"st-d-t1-v2"}}},
		{"district and town", cloud.StatsQuery{Roots: []string{"st-d", "st-d-t1"}}},
		{"range", cloud.StatsQuery{From: from, To: to}},
		{"range and service", cloud.StatsQuery{Roots: []string{"st-d"}, From: from, To: to, Service: vetnet.ServiceBenefits}},
		{"nothing", cloud.StatsQuery{Roots: []string{}}},
		{"town alone", cloud.StatsQuery{Roots: []string{"st-d-t1"}, Exact: true}},
	}
	for _, tq := range queries {
		in := under(tq.q.Roots, Stations())
		if tq.q.Exact {
			in = map[string]bool{}
			for _, r := range tq.q.Roots {
				in[r] = true
			}
		}
		keep := func(station string, at time.Time, sv vetnet.Service) bool {
			if in != nil && !in[station] {
				return false
			}
			if !tq.q.From.IsZero() && at.Before(tq.q.From) || !tq.q.To.IsZero() && !at.Before(tq.q.To) {
				return false
			}
			return tq.q.Service == "" || sv == tq.q.Service
		}
		for _, g := range groupings {
			q := tq.q
			q.GroupBy = g
			rows, err := s.CheckInStats(ctx(t), q)
			if err != nil {
				t.Fatalf("%s %v: %v", tq.name, g, err)
			}
			want := map[statKey]int64{}
			for _, c := range cs {
				if keep(c.StationID, c.At, c.Service) {
					at := c.At.In(Zone)
					want[keyOf(g, at, at.Hour(), c.StationID, c.Service, 0)]++
				}
			}
			if got := rowsMap(g, rows); !equalCounts(got, want) {
				t.Errorf("check-ins %s by %v:\n got %v\nwant %v", tq.name, g, got, want)
			}
		}
		for _, g := range [][]cloud.Dim{nil, {cloud.DimStation}, {cloud.DimStation, cloud.DimRating}, {cloud.DimService, cloud.DimRating},
			{cloud.DimDay, cloud.DimRating}, {cloud.DimRating}, {cloud.DimStation, cloud.DimService, cloud.DimRating}} {
			q := tq.q
			q.GroupBy = g
			rows, err := s.RatingStats(ctx(t), q)
			if err != nil {
				t.Fatal(err)
			}
			want := map[statKey]int64{}
			for _, f := range fs {
				if keep(f.StationID, f.At, f.Service) {
					want[keyOf(g, f.At, 0, f.StationID, f.Service, f.Rating)]++
				}
			}
			if got := rowsMap(g, rows); !equalCounts(got, want) {
				t.Errorf("ratings %s by %v:\n got %v\nwant %v", tq.name, g, got, want)
			}
		}
	}
	if _, err := s.RatingStats(ctx(t), cloud.StatsQuery{GroupBy: []cloud.Dim{cloud.DimHour}}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Errorf("ratings by hour: %v, want EINVALID", err)
	}
}

func equalCounts(a, b map[statKey]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// testStatsTreeChange moves a village to another town: subtree counts
// follow the new tree.
func testStatsTreeChange(t *testing.T, s cloud.Store) {
	cs, _ := seed(t, s)
	t2 := vetnet.Station{ID: "st-d-t2", Name: "二号镇退役军人服务站", Level: vetnet.LevelTown, Parent: "st-d"}
	moved := Stations()[3] // st-d-t1-v2
	moved.Parent = t2.ID
	if err := s.UpsertStations(ctx(t), []vetnet.Station{t2, moved}); err != nil {
		t.Fatal(err)
	}
	count := func(station string) int64 {
		var n int64
		for _, c := range cs {
			if c.StationID == station {
				n++
			}
		}
		return n
	}
	for _, tt := range []struct {
		root string
		want int64
	}{
		{"st-d-t1", count("st-d-t1") + count("st-d-t1-v1")},
		{"st-d-t2", count("st-d-t1-v2")},
		{"st-d", int64(len(cs)) - count("st-unregistered")},
	} {
		rows, err := s.CheckInStats(ctx(t), cloud.StatsQuery{Roots: []string{tt.root}})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].N != tt.want {
			t.Errorf("under %s: %v, want %d", tt.root, rows, tt.want)
		}
	}
}

// testCountFromAggregates: counts with day-aligned or no times agree with
// a scan (odd times).
func testCountFromAggregates(t *testing.T, s cloud.Store) {
	cs, _ := seed(t, s)
	day := time.Date(2026, 11, 12, 0, 0, 0, 0, Zone)
	for _, f := range []cloud.CheckInFilter{
		{}, {Station: "st-d-t1"}, {Stations: []string{"st-d-t1-v1", "st-d-post"}}, {Service: vetnet.ServiceBenefits},
		{From: day}, {From: day, To: day.Add(48 * time.Hour), Stations: []string{"st-d-t1-v2"}},
		{From: day.Add(time.Second), To: day.Add(48 * time.Hour)}, {Stations: []string{}},
	} {
		want := 0
		set := map[string]bool{}
		for _, id := range f.Stations {
			set[id] = true
		}
		for _, c := range cs {
			if (f.Station == "" || c.StationID == f.Station) && (f.Stations == nil || set[c.StationID]) &&
				(f.Service == "" || c.Service == f.Service) && (f.From.IsZero() || !c.At.Before(f.From)) && (f.To.IsZero() || c.At.Before(f.To)) {
				want++
			}
		}
		got, err := s.CountCheckIns(ctx(t), f)
		if err != nil || got != want {
			t.Errorf("count %+v = %d, %v; want %d", f, got, err, want)
		}
	}
	stats, err := s.StationStats(ctx(t), day)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range Stations() {
		n := 0
		var last uint64
		for _, c := range cs {
			if c.StationID == st.ID {
				last = max(last, c.Seq)
				if !c.At.Before(day) {
					n++
				}
			}
		}
		if got := stats[st.ID]; got.CheckInsSince != n || got.LastSeq != last {
			t.Errorf("stats of %s: %+v, want %d since, seq %d", st.ID, got, n, last)
		}
	}
}

func testScopedCheckIns(t *testing.T, s cloud.Store) {
	cs, fs := seed(t, s)
	f := cloud.CheckInFilter{Stations: []string{"st-d-t1-v1", "st-d-post"}, Service: vetnet.ServiceEmployment, Limit: 7}
	got := all(t, s, f, 7)
	var want []vetnet.CheckIn
	for _, c := range cs {
		if (c.StationID == "st-d-t1-v1" || c.StationID == "st-d-post") && c.Service == vetnet.ServiceEmployment {
			want = append(want, c)
		}
	}
	sameOrder(t, got, newestFirst(want))
	if p, err := s.CheckIns(ctx(t), cloud.CheckInFilter{Stations: []string{}}); err != nil || len(p.CheckIns) != 0 {
		t.Errorf("an empty scope shows %d check-ins (%v)", len(p.CheckIns), err)
	}
	fp, err := s.Feedback(ctx(t), cloud.CheckInFilter{Stations: []string{"st-d-t1"}, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range fs {
		if f.StationID == "st-d-t1" {
			n++
		}
	}
	if len(fp.Feedback) != n {
		t.Errorf("%d ratings of st-d-t1, want %d", len(fp.Feedback), n)
	}
}

func testCheckInByID(t *testing.T, s cloud.Store) {
	cs, _ := seed(t, s)
	got, err := s.CheckIn(ctx(t), cs[3].ID)
	if err != nil || !equalCheckIn(got, cs[3]) {
		t.Errorf("CheckIn: %+v, %v", got, err)
	}
	if _, err := s.CheckIn(ctx(t), "nope"); vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		t.Errorf("unknown ID: %v", err)
	}
}

func testStationLog(t *testing.T, s cloud.Store) {
	at := func(h int) time.Time { return T0.Add(time.Duration(h) * time.Hour) }
	entries := []cloud.LogEntry{
		{Station: "st-a", At: at(0), Kind: cloud.LogPresence, State: "online"},
		{Station: "st-a", At: at(1), Kind: cloud.LogReader, Subject: "printer0", State: "fault", Detail: "printer: paper out"},
		{Station: "st-b", At: at(2), Kind: cloud.LogPresence, State: "offline"},
		{Station: "st-a", At: at(3), Kind: cloud.LogPresence, State: "offline"},
		{Station: "st-a", At: at(5), Kind: cloud.LogPresence, State: "online"},
		{Station: "st-a", At: at(6), Kind: cloud.LogReader, Subject: "printer0", State: "ok"},
		{Station: "st-a", At: at(9), Kind: cloud.LogDisk, State: "low"},
	}
	if err := s.AppendLog(ctx(t), entries); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendLog(ctx(t), []cloud.LogEntry{{Station: "st-a"}}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Errorf("an empty entry: %v", err)
	}
	got, err := s.StationLog(ctx(t), "st-a", at(4), at(9))
	if err != nil {
		t.Fatal(err)
	}
	// Before the period: presence offline (3) and printer fault (1).
	want := []cloud.LogEntry{entries[1], entries[3], entries[4], entries[5]}
	if len(got) != len(want) {
		t.Fatalf("log: %+v", got)
	}
	for i := range want {
		if !got[i].At.Equal(want[i].At) || got[i].State != want[i].State || got[i].Kind != want[i].Kind ||
			got[i].Subject != want[i].Subject || got[i].Detail != want[i].Detail || got[i].Station != "st-a" {
			t.Errorf("entry %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func testAlerts(t *testing.T, s cloud.Store) {
	a := cloud.Alert{Rule: cloud.RuleOffline, Key: "offline/st-a", Station: "st-a", MessageZH: "离线", MessageEN: "offline", OpenedAt: T0}
	first, isNew, err := s.OpenAlert(ctx(t), a)
	if err != nil || !isNew || first.ID == 0 || first.State != cloud.AlertOpen {
		t.Fatalf("open: %+v %v %v", first, isNew, err)
	}
	again, isNew, err := s.OpenAlert(ctx(t), a)
	if err != nil || isNew || again.ID != first.ID {
		t.Fatalf("open again: %+v %v %v", again, isNew, err)
	}
	first.State, first.AckAt, first.AckBy, first.AckComment = cloud.AlertAcknowledged, T0.Add(time.Minute), "alice", "在处理"
	if err := s.UpdateAlert(ctx(t), first); err != nil {
		t.Fatal(err)
	}
	first.State, first.ResolvedAt, first.ResolvedBy, first.ResolvedComment, first.ClearedAt = cloud.AlertResolved, T0.Add(time.Hour), "system", "恢复", T0.Add(time.Hour)
	if err := s.UpdateAlert(ctx(t), first); err != nil {
		t.Fatal(err)
	}
	got, err := s.Alert(ctx(t), first.ID)
	if err != nil || got.AckBy != "alice" || got.State != cloud.AlertResolved || !got.ResolvedAt.Equal(T0.Add(time.Hour)) || got.AckComment != "在处理" {
		t.Fatalf("stored: %+v %v", got, err)
	}
	// Resolved: the same condition opens a new alert.
	second, isNew, err := s.OpenAlert(ctx(t), a)
	if err != nil || !isNew || second.ID == first.ID {
		t.Fatalf("reopen: %+v %v %v", second, isNew, err)
	}
	task := cloud.Alert{Rule: cloud.RuleBadRating, Key: "bad_rating/f1", Station: "st-b", Subject: "f1", MessageZH: "差评", MessageEN: "bad",
		OpenedAt: T0.Add(2 * time.Hour), Due: T0.Add(21 * 24 * time.Hour)}
	task, _, err = s.OpenAlert(ctx(t), task)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		f    cloud.AlertFilter
		want []int64
	}{
		{"all", cloud.AlertFilter{}, []int64{task.ID, second.ID, first.ID}},
		{"open", cloud.AlertFilter{States: []cloud.AlertState{cloud.AlertOpen, cloud.AlertAcknowledged}}, []int64{task.ID, second.ID}},
		{"station", cloud.AlertFilter{Stations: []string{"st-b"}}, []int64{task.ID}},
		{"rule", cloud.AlertFilter{Rule: cloud.RuleOffline}, []int64{second.ID, first.ID}},
		{"paged", cloud.AlertFilter{Limit: 1}, []int64{task.ID, second.ID, first.ID}},
	} {
		var ids []int64
		f := tt.f
		for {
			p, err := s.Alerts(ctx(t), f)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range p.Alerts {
				ids = append(ids, a.ID)
			}
			if p.Next == "" {
				break
			}
			f.Cursor = p.Next
		}
		if len(ids) != len(tt.want) || (len(ids) > 0 && !equalIDs(ids, tt.want)) {
			t.Errorf("%s: %v, want %v", tt.name, ids, tt.want)
		}
	}
	if got, _ := s.Alert(ctx(t), task.ID); !got.Due.Equal(task.Due) {
		t.Errorf("due %v, want %v", got.Due, task.Due)
	}
	if err := s.UpdateAlert(ctx(t), cloud.Alert{ID: 999, State: cloud.AlertOpen}); vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		t.Errorf("update unknown: %v", err)
	}
}

func equalIDs(a, b []int64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testUsersSessions(t *testing.T, s cloud.Store) {
	users := []cloud.User{
		{Name: "zhang", DisplayName: "张管理", Role: cloud.RoleTownAdmin, Station: "st-d-t1", PasswordHash: "$argon2id$x", CreatedAt: T0},
		{Name: "admin", Role: cloud.RoleDistrictAdmin, PasswordHash: "$argon2id$y", CreatedAt: T0},
	}
	for _, u := range users {
		if err := s.PutUser(ctx(t), u); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutUser(ctx(t), cloud.User{Name: "x", Role: cloud.RoleStationStaff, PasswordHash: "h"}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Errorf("staff without a station: %v", err)
	}
	users[0].Disabled = true
	if err := s.PutUser(ctx(t), users[0]); err != nil {
		t.Fatal(err)
	}
	got, err := s.User(ctx(t), "zhang")
	if err != nil || !got.Disabled || got.Station != "st-d-t1" || got.DisplayName != "张管理" || !got.CreatedAt.Equal(T0) {
		t.Errorf("user: %+v %v", got, err)
	}
	all, err := s.Users(ctx(t))
	if err != nil || len(all) != 2 || all[0].Name != "admin" {
		t.Errorf("users: %+v %v", all, err)
	}
	if _, err := s.User(ctx(t), "nobody"); vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		t.Errorf("unknown user: %v", err)
	}
	se := cloud.Session{TokenHash: "abc", User: "admin", CSRF: "c", CreatedAt: T0, ExpiresAt: T0.Add(time.Hour), Addr: "127.0.0.1"}
	old := cloud.Session{TokenHash: "old", User: "admin", CSRF: "c", CreatedAt: T0, ExpiresAt: T0.Add(-time.Hour)}
	for _, x := range []cloud.Session{se, old} {
		if err := s.CreateSession(ctx(t), x); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateSession(ctx(t), se); vetnet.ErrorCode(err) != vetnet.ECONFLICT {
		t.Errorf("same token twice: %v", err)
	}
	if got, err := s.Session(ctx(t), "abc"); err != nil || got != se {
		t.Errorf("session: %+v %v", got, err)
	}
	if err := s.DeleteSessions(ctx(t), "", T0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx(t), "old"); vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		t.Errorf("expired session kept: %v", err)
	}
	if err := s.DeleteSessions(ctx(t), "abc", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx(t), "abc"); vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		t.Errorf("signed-out session kept: %v", err)
	}
}

func testAudit(t *testing.T, s cloud.Store) {
	var ids []int64
	for i, a := range []cloud.AuditAction{cloud.AuditSignIn, cloud.AuditUnmask, cloud.AuditExport, cloud.AuditUnmask} {
		id, err := s.AppendAudit(ctx(t), cloud.AuditEntry{At: T0.Add(time.Duration(i) * time.Minute), User: "admin",
			Role: cloud.RoleDistrictAdmin, Action: a, Target: "checkin 01X", Reason: "核对身份", Addr: "127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	p, err := s.Audit(ctx(t), cloud.AuditFilter{Action: cloud.AuditUnmask})
	if err != nil || len(p.Entries) != 2 || p.Entries[0].ID != ids[3] || p.Entries[0].Reason != "核对身份" || p.Entries[0].Role != cloud.RoleDistrictAdmin {
		t.Errorf("unmask entries: %+v %v", p, err)
	}
	var seen []int64
	f := cloud.AuditFilter{Limit: 3}
	for {
		p, err := s.Audit(ctx(t), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Entries {
			seen = append(seen, e.ID)
		}
		if p.Next == "" {
			break
		}
		f.Cursor = p.Next
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] > ids[j] })
	if !equalIDs(seen, ids) || len(seen) != 4 {
		t.Errorf("paged audit: %v, want %v", seen, ids)
	}
	if _, err := s.AppendAudit(ctx(t), cloud.AuditEntry{User: "x"}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Errorf("an entry without an action: %v", err)
	}
}
