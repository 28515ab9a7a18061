package agent_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/agent"
	"github.com/vetnet/vetnet/edge-agent/hw"
	"github.com/vetnet/vetnet/edge-agent/indicator"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/edge-agent/mqtt/mqtttest"
	"github.com/vetnet/vetnet/edge-agent/reader"
	"github.com/vetnet/vetnet/edge-agent/reader/sam/samtest"
	"github.com/vetnet/vetnet/firmware-config/profile"
	"github.com/vetnet/vetnet/wire"
)

// A station built from the demo's profile: the SAM driver reads the
// agent's own emulator through a pty. The demo button lays a card; a card
// left on the reader is one card event; pulling the reader's cable is a
// reader fault in the status and the heartbeat, healed by itself when it
// is plugged back.
func TestEmulatedSAMStation(t *testing.T) {
	p, err := profile.Load("../../firmware-config/profiles/demo-emulator.toml")
	if err != nil {
		t.Fatal(err)
	}
	p.IDCard.Port = filepath.Join(t.TempDir(), "ttySAM") // a stable link, like /dev/serial/by-id
	p.IDCard.Poll = 50 * time.Millisecond
	hws, err := hw.Build(p, hw.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hws.Close() })
	b := mqtttest.NewBroker(t)
	hub := mqtttest.NewHub(t, b.URL, mqtttest.HubOptions{})
	s := startStation(t, b.URL, func(c *agent.Config) {
		c.SimReader, c.Readers, c.SimTap = false, hws.Readers, hws.SimTap
	})
	var mu sync.Mutex
	var lastHB wire.Heartbeat
	hub.Subscribe(wire.Topic(s.id, wire.KindHeartbeat), func(_ string, p []byte) {
		if hb, err := wire.DecodeHeartbeat(s.id, p); err == nil {
			mu.Lock()
			lastHB = hb
			mu.Unlock()
		}
	})
	readerState := func(hb bool) string {
		if hb {
			mu.Lock()
			defer mu.Unlock()
			if len(lastHB.Readers) != 1 {
				return ""
			}
			return lastHB.Readers[0].Kind + ":" + lastHB.Readers[0].State
		}
		st := s.status(t)
		if len(st.Readers) != 1 {
			return ""
		}
		return st.Readers[0].Kind + ":" + st.Readers[0].State
	}
	eventually(t, "the SAM reader is up", func() bool { return readerState(false) == "idcard:ok" })
	if !s.status(t).SimTap {
		t.Fatal("status does not offer the demo tap")
	}
	next := s.events(t)

	// The kiosk's demo button.
	if err := s.api.SimTap(context.Background(), localapi.SimTapRequest{}); err != nil {
		t.Fatal(err)
	}
	c, err := next(localapi.EventCard).Card()
	if err != nil || c.Reader != "idcard0" || c.Token == "" {
		t.Fatalf("card %+v %v", c, err)
	}
	resp, err := s.api.CheckIn(context.Background(), localapi.CheckInRequest{Token: c.Token, Service: "benefits"})
	if err != nil || resp.Seq != 1 {
		t.Fatalf("check-in %+v %v", resp, err)
	}

	// A card left on the reader checks in once.
	v := veteran()
	s.logs.secret(v.IDNumber, v.Name)
	eventually(t, "the tapped card is taken away", func() bool { return !hws.Emulator.HasCard() })
	if err := hws.Emulator.Present(samtest.CardOf(v)); err != nil {
		t.Fatal(err)
	}
	c, _ = next(localapi.EventCard).Card()
	if c.MaskedID != vetnet.MaskIDNumber(v.IDNumber) {
		t.Fatalf("card %+v", c)
	}
	finds := hws.Emulator.Count("find")
	eventually(t, "the reader polls on", func() bool { return hws.Emulator.Count("find") > finds+20 })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	ch, _ := s.api.Events(ctx)
	for ev := range ch {
		if ev.Type == localapi.EventCard {
			t.Fatal("a second card event for a card left on the reader")
		}
	}
	cancel()
	hws.Emulator.Remove()

	// The cable is pulled.
	if err := hws.Emulator.Unplug(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "reader fault in the status", func() bool { return readerState(false) == "idcard:fault" })
	eventually(t, "reader fault in the heartbeat", func() bool { return readerState(true) == "idcard:fault" })
	if d := s.status(t).Readers[0].Detail; d == "" {
		t.Error("a fault without detail")
	}
	if err := hws.Emulator.Plug(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "reader healed", func() bool { return readerState(false) == "idcard:ok" })
	eventually(t, "heartbeat healed", func() bool { return readerState(true) == "idcard:ok" })
	if err := s.api.SimTap(context.Background(), localapi.SimTapRequest{}); err != nil {
		t.Fatal(err)
	}
	if c, _ := next(localapi.EventCard).Card(); c.Token == "" {
		t.Fatal("no card after the reader came back")
	}
	_ = hub
}

// roster returns a station of the given ID with two staff members, one
// with a badge and a PIN, one with a badge only.
func roster(t *testing.T, id string) *vetnet.Station {
	hash, err := vetnet.HashPIN("2468")
	if err != nil {
		t.Fatal(err)
	}
	return &vetnet.Station{ID: id, Name: "新桥社区退役军人服务站", Level: vetnet.LevelVillage, Parent: "cz-xb-sanjing",
		Staff: []vetnet.Staff{
			{ID: "xb-0107", Name: "王立新", Role: vetnet.RoleHead, BadgeUID: "04A22B1A5C8011", PINHash: hash},
			{ID: "xb-0112", Name: "陈红梅", Role: vetnet.RoleOfficer, BadgeUID: "DEADBEEF"},
		}}
}

func TestStaffAssistedCheckIn(t *testing.T) {
	b := mqtttest.NewBroker(t)
	hub := mqtttest.NewHub(t, b.URL, mqtttest.HubOptions{})
	fr := &fakeReader{events: make(chan reader.Event, 4)}
	fr.runs.Store(1) // no failing first run
	id := uniqueStation("staff")
	s := startStation(t, b.URL, func(c *agent.Config) {
		c.StationID, c.Station, c.Readers = id, roster(t, id), []reader.Reader{fr}
	})
	ctx := context.Background()
	st := s.status(t)
	if !st.Staff {
		t.Fatal("status does not say the station has staff")
	}
	l, err := s.api.Staff(ctx)
	if err != nil || len(l.Staff) != 2 || l.Staff[0].Name != "王立新" || !l.Staff[0].HasPIN || l.Staff[1].HasPIN {
		t.Fatalf("roster %+v %v", l, err)
	}
	raw, _ := json.Marshal(l)
	if strings.Contains(string(raw), "pbkdf2") || strings.Contains(string(raw), "DEADBEEF") {
		t.Fatalf("the roster shows secrets: %s", raw)
	}

	v := veteran()
	s.logs.secret(v.IDNumber, v.Name)
	typed := localapi.CheckInRequest{IDNumber: v.IDNumber, Service: "benefits"}
	if _, err := s.api.CheckIn(ctx, typed); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("typed without staff: %v", err)
	}

	// PIN sign-in: a wrong PIN, an unknown ID and a badge-only member are
	// the same refusal.
	for _, req := range []localapi.StaffLoginRequest{{StaffID: "xb-0107", PIN: "1111"}, {StaffID: "xb-9999", PIN: "2468"}, {StaffID: "xb-0112", PIN: "2468"}} {
		if _, err := s.api.StaffLogin(ctx, req); vetnet.ErrorCode(err) != vetnet.EINVALID || vetnet.ErrorMessage(err, "zh") != "工号或PIN码不正确" {
			t.Fatalf("login %+v: %v", req, err)
		}
	}
	sess, err := s.api.StaffLogin(ctx, localapi.StaffLoginRequest{StaffID: "xb-0107", PIN: "2468"})
	if err != nil || sess.Session == "" || sess.Staff.ID != "xb-0107" || sess.Via != "pin" {
		t.Fatalf("login: %+v %v", sess, err)
	}
	typed.StaffSession = sess.Session
	resp, err := s.api.CheckIn(ctx, typed)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the hub stores the check-in", func() bool { return len(hub.Stored(s.id)) == 1 })
	if got := hub.Stored(s.id)[0]; got.Staff != "xb-0107" || got.Method != "manual" || got.ID != resp.ID {
		t.Fatalf("stored %+v", got)
	}

	// A badge of the roster opens a session; an unknown badge is refused.
	next := s.events(t)
	fr.events <- reader.Event{Reader: "desk0", Badge: "de:ad:be:ef", At: time.Now()}
	se, err := next(localapi.EventStaff).StaffEvent()
	if err != nil || se.Staff.ID != "xb-0112" || se.Via != "badge" || se.Session == "" {
		t.Fatalf("staff event %+v %v", se, err)
	}
	fr.events <- reader.Event{Reader: "desk0", Badge: "01020304", At: time.Now()}
	if ce, _ := next(localapi.EventCardError).CardError(); ce.Code != vetnet.ENOTFOUND {
		t.Fatalf("unknown badge: %+v", ce)
	}
	typed.StaffSession = se.Session
	if _, err := s.api.CheckIn(ctx, typed); err != nil {
		t.Fatal(err)
	}

	// Signed out, the session no longer works.
	if err := s.api.StaffLogout(ctx, se.Session); err != nil {
		t.Fatal(err)
	}
	if _, err := s.api.CheckIn(ctx, typed); vetnet.ErrorCode(err) != vetnet.EEXPIRED {
		t.Fatalf("after logout: %v", err)
	}
	// A session may not go with a card token.
	if _, err := s.api.CheckIn(ctx, localapi.CheckInRequest{Token: "x", StaffSession: sess.Session, Service: "benefits"}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("token with session: %v", err)
	}
}

func TestPINLockout(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.Local)}
	id := uniqueStation("lock")
	s := startStation(t, "", func(c *agent.Config) { c.StationID, c.Station, c.Now = id, roster(t, id), clock.Now })
	ctx := context.Background()
	for i := 0; i < agent.MaxPINFailures; i++ {
		if _, err := s.api.StaffLogin(ctx, localapi.StaffLoginRequest{StaffID: "xb-0107", PIN: "0000"}); vetnet.ErrorCode(err) != vetnet.EINVALID {
			t.Fatalf("try %d: %v", i, err)
		}
	}
	if _, err := s.api.StaffLogin(ctx, localapi.StaffLoginRequest{StaffID: "xb-0107", PIN: "2468"}); vetnet.ErrorCode(err) != vetnet.EFULL {
		t.Fatalf("locked: %v", err)
	}
	clock.Add(agent.PINLockout)
	if _, err := s.api.StaffLogin(ctx, localapi.StaffLoginRequest{StaffID: "xb-0107", PIN: "2468"}); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
	// A session expires without use.
	sess, _ := s.api.StaffLogin(ctx, localapi.StaffLoginRequest{StaffID: "xb-0107", PIN: "2468"})
	clock.Add(agent.StaffSessionTTL)
	v := veteran()
	s.logs.secret(v.IDNumber, v.Name)
	if _, err := s.api.CheckIn(ctx, localapi.CheckInRequest{IDNumber: v.IDNumber, Service: "benefits", StaffSession: sess.Session}); vetnet.ErrorCode(err) != vetnet.EEXPIRED {
		t.Fatalf("expired session: %v", err)
	}
}

// A scanned code without a lookup is refused for people; with one it is a
// card event of method qr.
func TestScannedCodes(t *testing.T) {
	fr := &fakeReader{events: make(chan reader.Event, 4)}
	fr.runs.Store(1)
	v := veteran()
	s := startStation(t, "", func(c *agent.Config) {
		c.Readers = []reader.Reader{fr}
		c.LookupToken = func(_ context.Context, token string) (vetnet.Visitor, error) {
			if token == "VS-OK" {
				return v, nil
			}
			return vetnet.Visitor{}, vetnet.Errorz(vetnet.ENOTFOUND, "未找到", "Not found.")
		}
	})
	s.logs.secret(v.IDNumber, v.Name)
	next := s.events(t)
	fr.events <- reader.Event{Reader: "qr0", Token: "VS-NO", Method: vetnet.MethodQR, At: time.Now()}
	if ce, _ := next(localapi.EventCardError).CardError(); ce.Code != vetnet.ENOTFOUND || ce.Reader != "qr0" {
		t.Fatalf("%+v", ce)
	}
	fr.events <- reader.Event{Reader: "qr0", Token: "VS-OK", Method: vetnet.MethodQR, At: time.Now()}
	c, _ := next(localapi.EventCard).Card()
	resp, err := s.api.CheckIn(context.Background(), localapi.CheckInRequest{Token: c.Token, Service: "benefits"})
	if err != nil || resp.MaskedName != vetnet.MaskName(v.Name) {
		t.Fatalf("%+v %v", resp, err)
	}
}

// The LED shows ready, then reading after a read with a beep, then ready.
func TestIndicators(t *testing.T) {
	led, buzzer := &gpiotest.Pin{N: "LED"}, &gpiotest.Pin{N: "BUZZER"}
	in := indicator.New(indicator.Options{LED: led, Buzzer: buzzer})
	fr := &fakeReader{events: make(chan reader.Event, 4)}
	fr.runs.Store(1)
	s := startStation(t, "", func(c *agent.Config) { c.Indicator, c.Readers, c.SimReader = in, []reader.Reader{fr}, false })
	_ = s
	level := func(p *gpiotest.Pin) gpio.Level { p.Lock(); defer p.Unlock(); return p.L }
	// fakeReader reports a fault: the LED shows it.
	eventually(t, "fault shown", func() bool { return in.State() == indicator.Fault })
	fr.events <- reader.Event{Reader: "desk0", Badge: "01020304", At: time.Now()}
	eventually(t, "reading shown", func() bool { return in.State() == indicator.Reading })
	eventually(t, "error beep", func() bool { return level(buzzer) == gpio.High })
	eventually(t, "back to fault", func() bool { return in.State() == indicator.Fault })
	_ = level(led)
}
