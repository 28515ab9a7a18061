package agent_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/agent"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/edge-agent/reader"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestCardCheckInOffline(t *testing.T) {
	s := startStation(t, "", nil) // no broker at all: the station works alone
	next := s.events(t)
	st, err := next(localapi.EventStatus).Status()
	if err != nil || st.Station.ID != s.id || st.Online || len(st.Readers) != 1 || st.Readers[0].Kind != "simulated" {
		t.Fatalf("first status %+v, %v", st, err)
	}
	ctx := context.Background()
	v := veteran()
	s.logs.secret(v.IDNumber, v.Name)

	tap := func() localapi.CardEvent {
		t.Helper()
		if err := s.api.SimTap(ctx, localapi.SimTapRequest{IDNumber: v.IDNumber, Name: v.Name}); err != nil {
			t.Fatal(err)
		}
		c, err := next(localapi.EventCard).Card()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := tap()
	if c.MaskedID != vetnet.MaskIDNumber(v.IDNumber) || c.MaskedName != vetnet.MaskName(v.Name) || c.Returning ||
		c.LastVisit != nil || c.Reader != "sim0" || c.Doc != "resident" || len(c.Token) < 32 {
		t.Fatalf("card event %+v", c)
	}
	resp, err := s.api.CheckIn(ctx, localapi.CheckInRequest{Token: c.Token, Service: "benefits"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Seq != 1 || resp.QueueNo != "B001" || resp.Waiting != 0 || resp.MaskedName != c.MaskedName {
		t.Fatalf("response %+v", resp)
	}
	// A token checks one visit in: a repeat (the kiosk lost the answer and
	// retries) gets the same answer, another service is refused.
	again, err := s.api.CheckIn(ctx, localapi.CheckInRequest{Token: c.Token, Service: "benefits"})
	if err != nil || again != resp {
		t.Fatalf("repeat with the same token: %+v, %v; want %+v", again, err, resp)
	}
	if _, err := s.api.CheckIn(ctx, localapi.CheckInRequest{Token: c.Token, Service: "employment"}); vetnet.ErrorCode(err) != vetnet.EEXPIRED {
		t.Fatalf("token used for a second service: %v", err)
	}
	if _, err := s.api.CheckIn(ctx, localapi.CheckInRequest{Token: "nonsense", Service: "benefits"}); vetnet.ErrorCode(err) != vetnet.EEXPIRED {
		t.Fatalf("unknown token: %v", err)
	}

	// The same visitor again is recognised.
	c2 := tap()
	if !c2.Returning || c2.LastVisit == nil || !c2.LastVisit.Equal(resp.At) {
		t.Fatalf("returning visitor %+v (checked in at %v)", c2, resp.At)
	}
	resp2, err := s.api.CheckIn(ctx, localapi.CheckInRequest{Token: c2.Token, Service: "benefits"})
	if err != nil || resp2.Seq != 2 || resp2.QueueNo != "B002" || resp2.Waiting != 1 {
		t.Fatalf("second check-in %+v, %v", resp2, err)
	}

	st = s.status(t)
	if st.Outbox.Depth != 2 || st.Outbox.LastSeq != 2 || st.Outbox.OldestAt == nil || st.Online {
		t.Fatalf("status %+v", st)
	}
	// The kiosk hears of the change.
	for {
		st, _ := next(localapi.EventStatus).Status()
		if st.Outbox.Depth == 2 {
			break
		}
	}
}

func TestTokenExpires(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	s := startStation(t, "", func(c *agent.Config) { c.Now = clk.Now })
	next := s.events(t)
	ctx := context.Background()
	if err := s.api.SimTap(ctx, localapi.SimTapRequest{}); err != nil {
		t.Fatal(err)
	}
	c, _ := next(localapi.EventCard).Card()
	if !c.ExpiresAt.Equal(clk.Now().Add(agent.TokenTTL)) {
		t.Fatalf("expires at %v", c.ExpiresAt)
	}
	clk.Add(agent.TokenTTL + time.Second)
	if _, err := s.api.CheckIn(ctx, localapi.CheckInRequest{Token: c.Token, Service: "benefits"}); vetnet.ErrorCode(err) != vetnet.EEXPIRED {
		t.Fatalf("expired token: %v", err)
	}
	if st := s.status(t); st.Outbox.LastSeq != 0 {
		t.Fatalf("an expired token checked someone in: %+v", st.Outbox)
	}
}

func TestManualAndServices(t *testing.T) {
	st := vetnet.Station{ID: uniqueStation("test"), Name: "花园社区退役军人服务站", Level: vetnet.LevelVillage, Parent: "cz-xb-sanjing",
		Services: []vetnet.Service{vetnet.ServiceBenefits, vetnet.ServiceRecords}}
	s := startStation(t, "", func(c *agent.Config) { c.StationID, c.Station, c.SimReader = st.ID, &st, false })
	status := s.status(t)
	if status.Station.Name != st.Name || len(status.Station.Services) != 2 || status.Station.Services[1] != "records" {
		t.Fatalf("station %+v", status.Station)
	}
	v, resp := s.manual(t, vetnet.ServiceRecords)
	if resp.QueueNo != "R001" {
		t.Fatalf("response %+v", resp)
	}
	_, err := s.api.CheckIn(context.Background(), localapi.CheckInRequest{IDNumber: v.IDNumber, Service: "employment"})
	if vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("service not offered: %v", err)
	}
	if err := s.api.SimTap(context.Background(), localapi.SimTapRequest{}); vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		t.Fatalf("sim tap without a simulated reader: %v", err)
	}
}

// fakeReader is a reader driven by the test; its first Run fails, as a
// device that is not ready yet would.
type fakeReader struct {
	events chan reader.Event
	runs   atomic.Int32
}

func (f *fakeReader) Name() string { return "desk0" }
func (f *fakeReader) Health() reader.Health {
	return reader.Health{Name: "desk0", Kind: reader.KindIDCard, State: reader.StateFault, Detail: "test"}
}
func (f *fakeReader) Run(ctx context.Context, out chan<- reader.Event) error {
	if f.runs.Add(1) == 1 {
		return vetnet.Errorz(vetnet.EUNAVAILABLE, "读卡器未连接", "The reader is not connected.")
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-f.events:
			select {
			case out <- ev:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

func TestReaderEvents(t *testing.T) {
	fr := &fakeReader{events: make(chan reader.Event, 4)}
	s := startStation(t, "", func(c *agent.Config) { c.Readers = []reader.Reader{fr} })
	next := s.events(t)
	bad := veteran()
	bad.IDNumber = bad.IDNumber[:17] + map[bool]string{true: "0", false: "1"}[bad.IDNumber[17] != '0']
	s.logs.secret(bad.IDNumber, bad.Name)
	fr.events <- reader.Event{Reader: "desk0", Err: vetnet.Errorz(vetnet.EINVALID, "读卡失败，请重新放置证件", "Cannot read the card; place it again."), At: time.Now()}
	fr.events <- reader.Event{Reader: "desk0", Visitor: &bad, Method: vetnet.MethodCard, At: time.Now()}
	good := veteran()
	s.logs.secret(good.IDNumber, good.Name)
	fr.events <- reader.Event{Reader: "desk0", Visitor: &good, Method: vetnet.MethodQR, At: time.Now()}

	ce, err := next(localapi.EventCardError).CardError()
	if err != nil || ce.Reader != "desk0" || ce.Code != vetnet.EINVALID || ce.MessageZH != "读卡失败，请重新放置证件" {
		t.Fatalf("card error %+v %v", ce, err)
	}
	ce, _ = next(localapi.EventCardError).CardError()
	if ce.Code != vetnet.EINVALID || ce.MessageEN == "" {
		t.Fatalf("invalid number: %+v", ce)
	}
	c, _ := next(localapi.EventCard).Card()
	if c.MaskedID != vetnet.MaskIDNumber(good.IDNumber) || c.Reader != "desk0" {
		t.Fatalf("card %+v", c)
	}
	if fr.runs.Load() < 2 {
		t.Fatal("the failed reader was not restarted")
	}
	var health []string
	for _, r := range s.status(t).Readers {
		health = append(health, r.Name+":"+r.State)
	}
	if len(health) != 2 || health[0] != "desk0:fault" || health[1] != "sim0:ok" {
		t.Fatalf("readers %v", health)
	}

	// The simulated reader reads by itself with an interval.
	s.restart(t, func(c *agent.Config) { c.Readers, c.SimInterval = nil, 20*time.Millisecond })
	next = s.events(t)
	if c, err := next(localapi.EventCard).Card(); err != nil || c.Token == "" || c.Reader != "sim0" {
		t.Fatalf("interval read: %+v %v", c, err)
	}
}

func TestNewRefuses(t *testing.T) {
	other := vetnet.Station{ID: "cz-xb-other", Name: "x", Level: vetnet.LevelDistrict}
	for name, cfg := range map[string]agent.Config{
		"no station":      {DataDir: t.TempDir()},
		"bad station":     {StationID: "Bad", DataDir: t.TempDir()},
		"no data dir":     {StationID: "cz-xb"},
		"other station":   {StationID: "cz-xb", DataDir: t.TempDir(), Station: &other},
		"invalid station": {StationID: "cz-xb", DataDir: t.TempDir(), Station: &vetnet.Station{ID: "cz-xb"}},
	} {
		if _, err := agent.New(cfg); vetnet.ErrorCode(err) != vetnet.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A second agent on the same directory cannot start.
	s := startStation(t, "", nil)
	cfg := s.cfg
	cfg.APIAddr = "127.0.0.1:0"
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); vetnet.ErrorCode(err) != vetnet.EUNAVAILABLE {
		t.Fatalf("second agent on one directory: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// The first still works.
	s.manual(t, vetnet.ServiceBenefits)
}
