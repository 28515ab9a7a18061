package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud/hub"
	"github.com/vetnet/vetnet/edge-agent/agent"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

// rosterClock is the test's clock, shared by the hub and the stations, so
// that the meeting's hour passes in a few steps.
type rosterClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *rosterClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

func (c *rosterClock) set(t time.Time) { c.mu.Lock(); c.at = t; c.mu.Unlock() }

// rosterDistrict is a district, a town and five village stations, each
// with a station head who signs in by PIN 1357.
func rosterDistrict(t *testing.T) (stations []vetnet.Station, villages []string) {
	t.Helper()
	var r [3]byte
	_, _ = rand.Read(r[:])
	p := "rc-" + hex.EncodeToString(r[:])
	hash, err := vetnet.HashPIN("1357")
	if err != nil {
		t.Fatal(err)
	}
	stations = []vetnet.Station{
		{ID: p, Name: "测试区退役军人服务中心", Level: vetnet.LevelDistrict},
		{ID: p + "-town", Name: "测试镇退役军人服务站", Level: vetnet.LevelTown, Parent: p, Contact: "0519-80000000"},
	}
	for i, n := range []string{"a", "b", "c", "d", "e"} {
		id := p + "-v" + n
		stations = append(stations, vetnet.Station{ID: id, Name: fmt.Sprintf("测试%s村服务站", n), Level: vetnet.LevelVillage,
			Parent: p + "-town", Contact: fmt.Sprintf("0519-8000100%d", i),
			Staff: []vetnet.Staff{{ID: fmt.Sprintf("%s-h%d", n, i), Name: "站长" + n, Role: vetnet.RoleHead, PINHash: hash}}})
		villages = append(villages, id)
	}
	return stations, villages
}

type rosterStation struct {
	st  vetnet.Station
	dir string
	a   *agent.Agent
	c   *localapi.Client
}

func (rs *rosterStation) start(t *testing.T, clk *rosterClock, broker string) {
	t.Helper()
	st := rs.st
	a, err := agent.New(agent.Config{
		StationID: st.ID, DataDir: rs.dir, BrokerURL: broker, APIAddr: "127.0.0.1:0", Station: &st,
		HeartbeatInterval: time.Hour, SimReader: true, AckTimeout: 2 * time.Second, MaxBackoff: 4 * time.Second,
		ReconnectInterval: time.Second, Version: "e2e", Logf: t.Logf, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	rs.a, rs.c = a, localapi.NewClient(a.APIAddr())
	t.Cleanup(func() { _ = a.Close() })
}

func (rs *rosterStation) stop(t *testing.T) {
	t.Helper()
	if err := rs.a.Close(); err != nil {
		t.Fatal(err)
	}
}

// staffRollCall signs the station head in by PIN and answers the roll-call.
func (rs *rosterStation) staffRollCall(t *testing.T, meeting string) {
	t.Helper()
	ctx := context.Background()
	se, err := rs.c.StaffLogin(ctx, localapi.StaffLoginRequest{StaffID: rs.st.Staff[0].ID, PIN: "1357"})
	if err != nil {
		t.Fatalf("%s: staff login: %v", rs.st.ID, err)
	}
	if _, err := rs.c.RollCall(ctx, localapi.RollCallRequest{Meeting: meeting, StaffSession: se.Session}); err != nil {
		t.Fatalf("%s: roll-call: %v", rs.st.ID, err)
	}
	// Twice: the same member answers once.
	if r, err := rs.c.RollCall(ctx, localapi.RollCallRequest{Meeting: meeting, StaffSession: se.Session}); err != nil || !r.Already {
		t.Fatalf("%s: second roll-call: %+v %v", rs.st.ID, r, err)
	}
}

// veteranRollCall lays a veteran's card and checks them in to the meeting.
func (rs *rosterStation) veteranRollCall(t *testing.T, meeting string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ev, err := rs.c.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.c.SimTap(ctx, localapi.SimTapRequest{}); err != nil {
		t.Fatal(err)
	}
	for e := range ev {
		if e.Type != localapi.EventCard {
			continue
		}
		card, err := e.Card()
		if err != nil {
			t.Fatal(err)
		}
		resp, err := rs.c.CheckIn(ctx, localapi.CheckInRequest{Token: card.Token, Meeting: meeting})
		if err != nil {
			t.Fatalf("%s: roll-call check-in: %v", rs.st.ID, err)
		}
		if resp.Service != string(vetnet.ServiceTraining) || resp.Meeting != meeting {
			t.Fatalf("%s: roll-call check-in answered %+v", rs.st.ID, resp)
		}
		return
	}
	t.Fatalf("%s: no card event", rs.st.ID)
}

func (rs *rosterStation) knows(meeting string, cancelled bool) bool {
	m, err := rs.c.Meetings(context.Background())
	if err != nil {
		return false
	}
	for _, x := range m.Meetings {
		if x.ID == meeting && x.Cancelled == cancelled {
			return true
		}
	}
	return false
}

type rosterResp struct {
	Phase string `json:"phase"`
	Total struct {
		Expected  int `json:"expected"`
		Joined    int `json:"joined"`
		OnTime    int `json:"on_time"`
		Late      int `json:"late"`
		LeftEarly int `json:"left_early"`
		Absent    int `json:"absent"`
		Staff     int `json:"staff"`
		Persons   int `json:"persons"`
	} `json:"total"`
	ByTown []struct {
		Key      string `json:"key"`
		Expected int    `json:"expected"`
		Joined   int    `json:"joined"`
	} `json:"by_town"`
	Stations []struct {
		ID           string     `json:"id"`
		Status       string     `json:"status"`
		JoinedAt     *time.Time `json:"joined_at"`
		LeftAt       *time.Time `json:"left_at"`
		Source       string     `json:"source"`
		ReportedLate bool       `json:"reported_late"`
		Staff        int        `json:"staff"`
		Persons      int        `json:"persons"`
		Contact      string     `json:"contact"`
		People       []struct {
			Kind     string `json:"kind"`
			IDNumber string `json:"id_number"`
		} `json:"people"`
	} `json:"stations"`
	CallBack []string `json:"callback"`
}

// TestMeetingRoster schedules a meeting for five village stations and
// plays it out on a shared clock: a is online throughout and answers the
// roll-call (its head before the start, a veteran during); b connects 20
// minutes late; c never comes; d goes offline before the start, takes its
// roll-call offline and comes back after the end; e leaves half-way. The
// final roster must say exactly that.
func TestMeetingRoster(t *testing.T) {
	stations, v := rosterDistrict(t)
	t0 := time.Now().UTC().Truncate(time.Minute)
	clk := &rosterClock{at: t0}
	h, err := hub.New(hub.Config{
		DataDir: t.TempDir(), MQTTListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0", Stations: stations,
		HeartbeatS: 3600, Logf: t.Logf, AdminPassword: adminPassword, Now: clk.Now,
		VideoBaseURL: "https://meet.district.lan", MeetingGrace: 5 * time.Minute, MeetingsEvery: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	broker := "tcp://" + h.MQTTAddr()
	st := map[string]*rosterStation{}
	for i, id := range v {
		st[id] = &rosterStation{st: stations[2+i], dir: t.TempDir()}
	}
	a, b, c, d, e := st[v[0]], st[v[1]], st[v[2]], st[v[3]], st[v[4]]
	_ = c // never started: never seen
	for _, s := range []*rosterStation{a, d, e} {
		s.start(t, clk, broker)
	}
	online := func(ids ...string) func() bool {
		return func() bool {
			for _, id := range ids {
				if p, _ := h.Presence(id); p.State != "online" {
					return false
				}
			}
			return true
		}
	}
	eventually(t, 20*time.Second, "a, d, e online", online(a.st.ID, d.st.ID, e.st.ID))

	// The meeting: every village station of the town.
	cl := api(t, h)
	ctx := context.Background()
	start, end := t0.Add(30*time.Minute), t0.Add(90*time.Minute)
	var created struct {
		Meetings []struct {
			ID       string   `json:"id"`
			Link     string   `json:"link"`
			Stations []string `json:"stations"`
		} `json:"meetings"`
	}
	if err := cl.Post(ctx, "/api/v1/meetings", map[string]any{
		"title": "三季度就业政策培训", "kind": "training", "start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339),
		"invite": map[string]any{"levels": []string{"village"}, "under": stations[1].ID}, "roles": []string{"head"}, "veterans": true,
	}, &created); err != nil {
		t.Fatal(err)
	}
	if len(created.Meetings) != 1 || len(created.Meetings[0].Stations) != 5 {
		t.Fatalf("created %+v", created)
	}
	mid := created.Meetings[0].ID
	if want := "https://meet.district.lan/vetnet-" + lower(mid); created.Meetings[0].Link != want {
		t.Fatalf("link %q, want %q", created.Meetings[0].Link, want)
	}
	eventually(t, 20*time.Second, "the stations know the meeting", func() bool { return a.knows(mid, false) && d.knows(mid, false) && e.knows(mid, false) })

	// d goes offline before the start; restarted without a broker, it
	// still knows the meeting from its own file.
	d.stop(t)
	eventually(t, 10*time.Second, "d offline", func() bool { p, _ := h.Presence(d.st.ID); return p.State == "offline" })
	d.start(t, clk, "")
	if !d.knows(mid, false) {
		t.Fatal("d forgot its meetings across a restart")
	}

	// Another meeting, cancelled: the change reaches the stations.
	var other struct {
		Meetings []struct {
			ID string `json:"id"`
		} `json:"meetings"`
	}
	if err := cl.Post(ctx, "/api/v1/meetings", map[string]any{"title": "督查督办例会", "kind": "supervision",
		"start": t0.Add(48 * time.Hour).Format(time.RFC3339), "end": t0.Add(49 * time.Hour).Format(time.RFC3339),
		"invite": map[string]any{"stations": []string{a.st.ID}}}, &other); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "a knows the second meeting", func() bool { return a.knows(other.Meetings[0].ID, false) })
	if err := cl.Post(ctx, "/api/v1/meetings/"+other.Meetings[0].ID+"/cancel", map[string]any{"reason": "改期"}, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "a sees the cancellation", func() bool { return a.knows(other.Meetings[0].ID, true) })

	// Five minutes before the start: a's head answers.
	clk.set(start.Add(-5 * time.Minute))
	a.staffRollCall(t, mid)
	// During the meeting: a veteran at a; d's head and a veteran at d,
	// offline; e's head.
	clk.set(start.Add(time.Minute))
	a.veteranRollCall(t, mid)
	d.staffRollCall(t, mid)
	d.veteranRollCall(t, mid)
	e.staffRollCall(t, mid)

	// b connects 20 minutes in: late.
	clk.set(start.Add(20 * time.Minute))
	b.start(t, clk, broker)
	eventually(t, 20*time.Second, "b online", online(b.st.ID))
	eventually(t, 20*time.Second, "b knows the meeting", func() bool { return b.knows(mid, false) })
	b.staffRollCall(t, mid)

	// e leaves half-way.
	clk.set(start.Add(30 * time.Minute))
	eventually(t, 20*time.Second, "a, b, e delivered", func() bool {
		return outboxEmpty(a.a) && outboxEmpty(b.a) && outboxEmpty(e.a)
	})
	e.stop(t)
	eventually(t, 10*time.Second, "e offline", func() bool { p, _ := h.Presence(e.st.ID); return p.State == "offline" })

	// While the meeting runs, c (never seen) and d (offline, its
	// roll-call not delivered) are absent: the call-back list.
	clk.set(start.Add(40 * time.Minute))
	var live rosterResp
	if err := cl.Get(ctx, "/api/v1/meetings/"+mid+"/roster", &live); err != nil {
		t.Fatal(err)
	}
	if live.Phase != "live" || fmt.Sprint(live.CallBack) != fmt.Sprint([]string{c.st.ID, d.st.ID}) {
		t.Fatalf("live roster: phase %s, call-back %v", live.Phase, live.CallBack)
	}
	if err := cl.Post(ctx, "/api/v1/meetings/"+mid+"/followups", map[string]any{"station": c.st.ID, "outcome": "no_answer", "note": "电话无人接听"}, nil); err != nil {
		t.Fatal(err)
	}

	// After the end, d comes back and reports its roll-call.
	clk.set(end.Add(10 * time.Minute))
	d.stop(t)
	d.start(t, clk, broker)
	eventually(t, 30*time.Second, "d delivered", func() bool { return outboxEmpty(d.a) })
	eventually(t, 10*time.Second, "d online", online(d.st.ID))

	check := func() {
		t.Helper()
		var r rosterResp
		if err := cl.Get(ctx, "/api/v1/meetings/"+mid+"/roster", &r); err != nil {
			t.Fatal(err)
		}
		if r.Phase != "ended" {
			t.Errorf("phase %s", r.Phase)
		}
		type line struct {
			status, source string
			joined, left   time.Time
			late           bool
			staff, persons int
		}
		want := map[string]line{
			a.st.ID: {status: "joined", source: "both", joined: start, staff: 1, persons: 1},
			b.st.ID: {status: "late", source: "both", joined: start.Add(20 * time.Minute), staff: 1},
			c.st.ID: {status: "absent"},
			d.st.ID: {status: "joined", source: "rollcall", joined: start.Add(time.Minute), late: true, staff: 1, persons: 1},
			e.st.ID: {status: "left_early", source: "both", joined: start, left: start.Add(30 * time.Minute), staff: 1},
		}
		if len(r.Stations) != 5 {
			t.Fatalf("%d stations in the roster", len(r.Stations))
		}
		for _, s := range r.Stations {
			w := want[s.ID]
			got := line{status: s.Status, source: s.Source, late: s.ReportedLate, staff: s.Staff, persons: s.Persons}
			if s.JoinedAt != nil {
				got.joined = s.JoinedAt.UTC()
			}
			if s.LeftAt != nil {
				got.left = s.LeftAt.UTC()
			}
			if got != w {
				t.Errorf("%s: %+v, want %+v", s.ID, got, w)
			}
			for _, p := range s.People {
				if p.Kind == "person" && (len(p.IDNumber) != 18 || p.IDNumber[6:14] != "********") {
					t.Errorf("%s: ID number not masked: %q", s.ID, p.IDNumber)
				}
			}
		}
		tt := r.Total
		if tt.Expected != 5 || tt.Joined != 4 || tt.OnTime != 2 || tt.Late != 1 || tt.LeftEarly != 1 || tt.Absent != 1 || tt.Staff != 4 || tt.Persons != 2 {
			t.Errorf("total %+v", tt)
		}
		if fmt.Sprint(r.CallBack) != fmt.Sprint([]string{c.st.ID}) {
			t.Errorf("call-back %v", r.CallBack)
		}
		if len(r.ByTown) != 1 || r.ByTown[0].Key != stations[1].ID || r.ByTown[0].Expected != 5 || r.ByTown[0].Joined != 4 {
			t.Errorf("by town %+v", r.ByTown)
		}
	}
	check()

	// d restarts once more and everything it sent is sent again or not:
	// the roster does not change.
	d.stop(t)
	d.start(t, clk, broker)
	eventually(t, 20*time.Second, "d online again", online(d.st.ID))
	check()

	// The attendance export of the meeting has a line per station.
	resp, err := cl.Raw(ctx, "/api/v1/export/attendance?meeting="+mid)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("export: %s", resp.Status)
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
