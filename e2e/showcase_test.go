package e2e_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/hub"
	"github.com/vetnet/vetnet/cloud/sqlite"
	"github.com/vetnet/vetnet/vetnettest"
	"github.com/vetnet/vetnet/wire"
)

// A realistic district for the browser tests and the screenshots: towns
// with their villages, veteran posts, two months of check-ins and
// ratings, two weeks of presence history, and today's troubles (stations
// offline, a stale one, a printer out of paper, a backlog, a full disk,
// bad ratings to follow up).

var cst = time.FixedZone("CST", 8*3600)

// showClock is the hub's clock in the showcase: the present, or a moment
// of the past while history is made.
type showClock struct {
	mu sync.Mutex
	at time.Time // zero: the real time
}

func (c *showClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() {
		return time.Now()
	}
	return c.at
}

func (c *showClock) set(t time.Time) { c.mu.Lock(); c.at = t; c.mu.Unlock() }

type showcase struct {
	h        *hub.Hub
	clock    *showClock
	stations []vetnet.Station
	district string
	towns    []string // town station IDs
	byID     map[string]vetnet.Station
	made     map[string]int    // check-ins stored per station
	seq      map[string]uint64 // last sequence number per station
}

func showStations(prefix string) []vetnet.Station {
	d := vetnet.Station{ID: prefix, Name: "武进区退役军人服务中心", NameEN: "Wujin District Centre", Level: vetnet.LevelDistrict,
		Address: "武进区人民东路 1 号", Contact: "0519-8631 0000"}
	out := []vetnet.Station{d}
	towns := []struct {
		id, zh, en string
		villages   []string
	}{
		{"hutang", "湖塘镇", "Hutang", []string{"城南村", "马杭村", "长虹社区", "花园社区", "人民村"}},
		{"niutang", "牛塘镇", "Niutang", []string{"卢西村", "高家村", "丫河社区", "延政社区"}},
		{"luoyang", "洛阳镇", "Luoyang", []string{"岑村", "永安村", "戴溪村", "洛阳社区", "汤庄村"}},
		{"yaoguan", "遥观镇", "Yaoguan", []string{"钱家塘村", "东方村", "今创社区", "剑湖村"}},
		{"nanxiashu", "南夏墅街道", "Nanxiashu", []string{"南夏墅社区", "王家村", "后村"}},
		{"xihu", "西湖街道", "Xihu", []string{"西湖社区", "鸣凰村", "夏城社区", "寨桥村"}},
	}
	for _, t := range towns {
		tid := prefix + "-" + t.id
		out = append(out, vetnet.Station{ID: tid, Name: t.zh + "退役军人服务站", NameEN: t.en + " Town Station", Level: vetnet.LevelTown, Parent: prefix,
			Address: t.zh + "政府便民服务中心", Contact: "0519-8640 1100"})
		for i, v := range t.villages {
			out = append(out, vetnet.Station{ID: fmt.Sprintf("%s-v%d", tid, i+1), Name: v + "退役军人服务站", Level: vetnet.LevelVillage, Parent: tid,
				Address: v + "党群服务中心"})
		}
	}
	posts := []struct{ id, zh, parent string }{{"post-rail", "常州南站退役军人驿站", ""}, {"post-park", "淹城公园退役军人驿站", ""}, {"hutang-post", "湖塘商圈退役军人驿站", "-hutang"}}
	for _, p := range posts {
		out = append(out, vetnet.Station{ID: prefix + "-" + p.id, Name: p.zh, Level: vetnet.LevelPost, Parent: prefix + p.parent,
			Services: []vetnet.Service{vetnet.ServicePostServices, vetnet.ServiceConsultation, vetnet.ServiceEmployment}})
	}
	return out
}

// newShowcase starts a hub (HTTP only; station messages go straight to
// HandleMessage) and fills it.
func newShowcase(t *testing.T, prefix string) *showcase {
	t.Helper()
	sc := &showcase{clock: &showClock{}, stations: showStations(prefix), district: prefix, byID: map[string]vetnet.Station{}, made: map[string]int{}}
	for _, st := range sc.stations {
		sc.byID[st.ID] = st
		if st.Level == vetnet.LevelTown {
			sc.towns = append(sc.towns, st.ID)
		}
	}
	dir := t.TempDir()
	// History goes straight into the store before the hub starts (as if
	// the hub had run for two months), so the hub starts from it.
	st, err := sqlite.Open(filepath.Join(dir, "hub.db"), &sqlite.Options{Location: cst})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.UpsertStations(context.Background(), sc.stations); err != nil {
		t.Fatal(err)
	}
	sc.seq = sc.history(t, st)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	rules := hub.DefaultRules()
	h, err := hub.New(hub.Config{DataDir: dir, HTTPListen: "127.0.0.1:0", Stations: sc.stations, HeartbeatS: 30,
		Location: cst, Now: sc.clock.Now, Logf: func(string, ...any) {}, AdminPassword: adminPassword, Rules: &rules,
		PresenceEvery: time.Hour}) // the test evaluates presence itself
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	sc.h = h
	sc.live(t)
	return sc
}

func today() time.Time {
	now := time.Now().In(cst)
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, cst)
}

// history stores two months of check-ins and ratings and two weeks of
// station log; it returns each station's last sequence number.
func (sc *showcase) history(t *testing.T, store cloud.Store) map[string]uint64 {
	t.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(2026, 11))
	now := time.Now()
	today := today()
	hours := []int{8, 9, 9, 9, 10, 10, 10, 10, 11, 11, 13, 14, 14, 14, 15, 15, 16, 16, 17}
	perDay := map[vetnet.Level][2]int{vetnet.LevelDistrict: {14, 30}, vetnet.LevelTown: {8, 22}, vetnet.LevelVillage: {1, 7}, vetnet.LevelPost: {3, 12}}
	seq := map[string]uint64{}
	var batch cloud.Batch
	flush := func() {
		if _, err := store.Save(ctx, batch); err != nil {
			t.Fatal(err)
		}
		batch = cloud.Batch{}
	}
	// Two months up to an hour ago; today's ones so far.
	for d := 60; d >= 0; d-- {
		date := today.AddDate(0, 0, -d)
		weekend := date.Weekday() == time.Saturday || date.Weekday() == time.Sunday
		for _, st := range sc.stations {
			span := perDay[st.Level]
			n := span[0] + r.IntN(span[1]-span[0]+1)
			if weekend && st.Level != vetnet.LevelPost {
				n /= 4
			}
			svcs := st.OfferedServices()
			for i := 0; i < n; i++ {
				at := date.Add(time.Duration(hours[r.IntN(len(hours))])*time.Hour + time.Duration(r.IntN(3600))*time.Second)
				if at.After(now.Add(-time.Hour)) {
					continue
				}
				seq[st.ID]++
				id, _ := vetnet.NewCheckInID(at, randSource{r})
				sv := svcs[r.IntN(len(svcs))]
				if r.IntN(3) == 0 {
					sv = svcs[0]
				}
				info, _ := sv.Info()
				c := vetnet.CheckIn{ID: id, StationID: st.ID, Seq: seq[st.ID], Visitor: vetnettest.Veteran(r), Service: sv, Method: vetnet.MethodCard,
					QueueNo: fmt.Sprintf("%c%03d", info.QueuePrefix, i+1), At: at, ReceivedAt: at.Add(2 * time.Second)}
				batch.CheckIns = append(batch.CheckIns, c)
				sc.made[st.ID]++
				if r.IntN(10) < 6 {
					rating := vetnet.Rating([]int{5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 2, 1}[r.IntN(25)])
					if st.ID == sc.district+"-luoyang-v3" && r.IntN(3) == 0 {
						rating = 2 // one village with an unhappy month
					}
					fid, _ := vetnet.NewCheckInID(at.Add(90*time.Second), randSource{r})
					f := vetnet.Feedback{ID: fid, StationID: st.ID, CheckInID: id, Service: sv, Rating: rating, At: at.Add(90 * time.Second), ReceivedAt: at.Add(95 * time.Second)}
					if rating.Bad() {
						f.Reasons = []vetnet.Reason{vetnet.Reasons[r.IntN(len(vetnet.Reasons))]}
					}
					batch.Feedback = append(batch.Feedback, f)
				}
				if len(batch.CheckIns) >= 500 {
					flush()
				}
			}
		}
	}
	flush()

	// Two weeks of presence history: most stations online through working
	// hours, villages off at night, a few outages and a printer fault.
	var log []cloud.LogEntry
	for _, st := range sc.stations {
		if st.ID == sc.district+"-xihu-v4" || st.ID == sc.district+"-yaoguan-v4" {
			continue // never seen
		}
		for d := 13; d >= 0; d-- {
			date := today.AddDate(0, 0, -d)
			on := date.Add(7*time.Hour + time.Duration(r.IntN(40))*time.Minute)
			log = append(log, cloud.LogEntry{Station: st.ID, At: on, Kind: cloud.LogPresence, State: "online", Detail: "connect"})
			if st.Level == vetnet.LevelVillage && d > 0 {
				off := date.Add(18*time.Hour + time.Duration(r.IntN(60))*time.Minute)
				log = append(log, cloud.LogEntry{Station: st.ID, At: off, Kind: cloud.LogPresence, State: "offline", Detail: "shutdown"})
			}
			if r.IntN(9) == 0 && d > 0 {
				at := date.Add(time.Duration(10+r.IntN(5)) * time.Hour)
				log = append(log, cloud.LogEntry{Station: st.ID, At: at, Kind: cloud.LogPresence, State: "stale", Detail: "heartbeat_missed"},
					cloud.LogEntry{Station: st.ID, At: at.Add(time.Duration(20+r.IntN(90)) * time.Minute), Kind: cloud.LogPresence, State: "online", Detail: "heartbeat"})
			}
		}
	}
	hut := sc.district + "-hutang"
	log = append(log,
		cloud.LogEntry{Station: hut, At: today.AddDate(0, 0, -5).Add(10 * time.Hour), Kind: cloud.LogReader, Subject: "printer0", State: "fault", Detail: "printer: 卡纸 paper jam"},
		cloud.LogEntry{Station: hut, At: today.AddDate(0, 0, -5).Add(15 * time.Hour), Kind: cloud.LogReader, Subject: "printer0", State: "ok", Detail: "printer"},
		cloud.LogEntry{Station: hut, At: today.AddDate(0, 0, -2).Add(9 * time.Hour), Kind: cloud.LogPresence, State: "offline", Detail: "will"},
		cloud.LogEntry{Station: hut, At: today.AddDate(0, 0, -2).Add(13 * time.Hour), Kind: cloud.LogPresence, State: "online", Detail: "connect"})
	if err := store.AppendLog(ctx, log); err != nil {
		t.Fatal(err)
	}
	return seq
}

// live brings today's state: connections, heartbeats, troubles, bad
// ratings through the hub.
func (sc *showcase) live(t *testing.T) {
	t.Helper()
	r := rand.New(rand.NewPCG(11, 2026))
	now := time.Now()
	seq := sc.seq

	// Bad ratings arrive through the hub, which opens follow-up tasks.
	for i, id := range []string{"-luoyang-v3", "-hutang-v2", "-niutang"} {
		st := sc.byID[sc.district+id]
		at := now.Add(-time.Duration(30+20*i) * time.Minute)
		seq[st.ID]++
		cid, _ := vetnet.NewCheckInID(at, randSource{r})
		c := vetnet.CheckIn{ID: cid, StationID: st.ID, Seq: seq[st.ID], Visitor: vetnettest.Veteran(r), Service: st.OfferedServices()[0],
			Method: vetnet.MethodCard, QueueNo: "A901", At: at}
		fid, _ := vetnet.NewCheckInID(at.Add(time.Minute), randSource{r})
		f := vetnet.Feedback{ID: fid, StationID: st.ID, CheckInID: cid, Service: c.Service, Rating: vetnet.Rating(1 + i%2),
			Reasons: []vetnet.Reason{vetnet.Reasons[i%len(vetnet.Reasons)]}, Comment: "等候时间太长", At: at.Add(time.Minute)}
		b := wire.NewCheckInBatch(st.ID, "show", now, []vetnet.CheckIn{c})
		b.Records = append(b.Records, wire.FeedbackToWire(f))
		payload, err := b.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if ack := sc.h.HandleMessage(wire.Topic(st.ID, wire.KindCheckIns), payload); ack == nil || len(ack.Rejected) > 0 || ack.Error != nil {
			t.Fatalf("showcase batch: %+v", ack)
		}
		sc.made[st.ID]++
	}

	// The live state: every station that is not "never seen" connected
	// three hours ago and sends heartbeats.
	start := now.Add(-3 * time.Hour)
	sc.clock.set(start)
	for _, st := range sc.stations {
		if st.ID == sc.district+"-xihu-v4" || st.ID == sc.district+"-yaoguan-v4" {
			continue
		}
		sc.status(t, st.ID, wire.StateOnline, "connect", start)
	}
	// Trouble began two hours ago at three villages (offline) and one
	// went quiet (stale).
	sc.clock.set(now.Add(-2 * time.Hour))
	for _, id := range []string{"-luoyang-v5", "-niutang-v2", "-nanxiashu-v3"} {
		sc.status(t, sc.district+id, wire.StateOffline, "will", start)
	}
	sc.clock.set(now.Add(-50 * time.Minute))
	sc.heartbeat(t, sc.district+"-yaoguan-v2", 0, time.Time{}, nil, false)
	sc.clock.set(time.Time{})
	for _, st := range sc.stations {
		switch st.ID[len(sc.district):] {
		case "-xihu-v4", "-yaoguan-v4", "-luoyang-v5", "-niutang-v2", "-nanxiashu-v3", "-yaoguan-v2":
			continue
		case "-hutang":
			sc.heartbeat(t, st.ID, 0, time.Time{}, []wire.ReaderV1{{Name: "printer0", Kind: "printer", State: "fault", Detail: "缺纸 paper out"}}, false)
		case "-luoyang":
			sc.heartbeat(t, st.ID, 164, now.Add(-95*time.Minute), nil, false)
		case "-post-rail":
			sc.heartbeat(t, st.ID, 0, time.Time{}, nil, true)
		default:
			sc.heartbeat(t, st.ID, r.IntN(2), now.Add(-20*time.Second), nil, false)
		}
	}
	sc.h.CheckPresence()

}

func (sc *showcase) status(t *testing.T, station string, state wire.State, reason string, since time.Time) {
	t.Helper()
	b, err := wire.Status{V: 1, Station: station, State: state, Reason: reason, Since: since, Agent: "0.3.2", HeartbeatS: 30}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	sc.h.HandleMessage(wire.Topic(station, wire.KindStatus), b)
}

func (sc *showcase) heartbeat(t *testing.T, station string, depth int, oldest time.Time, readers []wire.ReaderV1, diskLow bool) {
	t.Helper()
	now := sc.clock.Now()
	st := sc.byID[station]
	rs := []wire.ReaderV1{{Name: "idcard0", Kind: "idcard", State: "ok"}, {Name: "qr0", Kind: "qr", State: "ok"}}
	if st.Level != vetnet.LevelPost {
		rs = append(rs, wire.ReaderV1{Name: "printer0", Kind: "printer", State: "ok"})
	}
	for _, x := range readers {
		for i := range rs {
			if rs[i].Name == x.Name {
				rs[i] = x
			}
		}
	}
	hb := wire.Heartbeat{V: 1, Station: station, At: now, Seq: 100, UptimeS: 10800, IntervalS: 30,
		Outbox: wire.OutboxV1{Depth: depth, LastSeq: uint64(sc.made[station] + depth)}, Readers: rs, Agent: "0.3.2",
		ConfigVersion: wire.NewConfig(st, 30, now).Version,
		Storage:       wire.StorageV1{FreeBytes: 12 << 30, FileBytes: 3 << 20, Low: diskLow}}
	if diskLow {
		hb.Storage.FreeBytes = 80 << 20
	}
	if depth > 0 && !oldest.IsZero() {
		hb.Outbox.OldestAt = &oldest
	}
	b, err := hb.Encode()
	if err != nil {
		t.Fatal(err)
	}
	sc.h.HandleMessage(wire.Topic(station, wire.KindHeartbeat), b)
}

type randSource struct{ r *rand.Rand }

func (rs randSource) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(rs.r.Uint32())
	}
	return len(p), nil
}
