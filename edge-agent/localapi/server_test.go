package localapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

// fake is a backend that records what it was asked.
type fake struct {
	mu      sync.Mutex
	inputs  []localapi.CheckInInput
	taps    []*vetnet.Visitor
	err     error // returned by CheckIn when set
	station localapi.StationInfo
}

func (f *fake) backend(sim bool) localapi.Backend {
	b := localapi.Backend{
		Status: func() localapi.Status {
			return localapi.Status{Station: f.station, Agent: "test", Readers: []localapi.Reader{}, Now: time.Now()}
		},
		CheckIn: func(ctx context.Context, in localapi.CheckInInput) (localapi.CheckInResponse, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.inputs = append(f.inputs, in)
			if f.err != nil {
				return localapi.CheckInResponse{}, f.err
			}
			return localapi.CheckInResponse{ID: "01KB1Q0V00ABCDEFGHJKMNPQRS", Seq: uint64(len(f.inputs)), QueueNo: "B001",
				Service: string(in.Service), At: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC), MaskedName: "张*国"}, nil
		},
	}
	if sim {
		b.SimTap = func(v *vetnet.Visitor) error {
			f.mu.Lock()
			f.taps = append(f.taps, v)
			f.mu.Unlock()
			return nil
		}
	}
	return b
}

func newFake() *fake {
	return &fake{station: localapi.StationInfo{ID: "cz-xb-sanjing", Name: "三井", Level: "town",
		Services: []string{"employment", "benefits", "consultation"}}}
}

func serve(t *testing.T, f *fake, sim bool, opts localapi.ServerOptions) (*localapi.Server, *httptest.Server) {
	t.Helper()
	s := localapi.NewServer(f.backend(sim), opts)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		_ = s.Close()
		ts.Close()
	})
	return s, ts
}

const goodID = "11010519491231002X"

func TestErrors(t *testing.T) {
	f := newFake()
	s, ts := serve(t, f, false, localapi.ServerOptions{})
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		backendErr error
		status     int
		code       string
	}{
		{"unknown field", "POST", localapi.PathCheckIns, `{"token":"t","service":"benefits","vip":true}`, nil, 400, vetnet.EINVALID},
		{"not JSON", "POST", localapi.PathCheckIns, `token=t`, nil, 400, vetnet.EINVALID},
		{"trailing data", "POST", localapi.PathCheckIns, `{"token":"t","service":"benefits"} {}`, nil, 400, vetnet.EINVALID},
		{"too large", "POST", localapi.PathCheckIns, `{"token":"` + strings.Repeat("a", 20<<10) + `","service":"benefits"}`, nil, 400, vetnet.EINVALID},
		{"token and ID number", "POST", localapi.PathCheckIns, `{"token":"t","id_number":"` + goodID + `","service":"benefits"}`, nil, 400, vetnet.EINVALID},
		{"neither", "POST", localapi.PathCheckIns, `{"service":"benefits"}`, nil, 400, vetnet.EINVALID},
		{"unknown service", "POST", localapi.PathCheckIns, `{"token":"t","service":"golf"}`, nil, 400, vetnet.EINVALID},
		{"service not offered", "POST", localapi.PathCheckIns, `{"token":"t","service":"legal_aid"}`, nil, 400, vetnet.EINVALID},
		{"bad check character", "POST", localapi.PathCheckIns, `{"id_number":"110105194912310021","service":"benefits"}`, nil, 400, vetnet.EINVALID},
		{"name with a card", "POST", localapi.PathCheckIns, `{"token":"t","name":"张三","service":"benefits"}`, nil, 400, vetnet.EINVALID},
		{"expired token", "POST", localapi.PathCheckIns, `{"token":"t","service":"benefits"}`, vetnet.Errorz(vetnet.EEXPIRED, "请重新刷卡", "Please present the card again."), 410, vetnet.EEXPIRED},
		{"outbox full", "POST", localapi.PathCheckIns, `{"token":"t","service":"benefits"}`, vetnet.Errorz(vetnet.EFULL, "满", "Full."), 507, vetnet.EFULL},
		{"conflict", "POST", localapi.PathCheckIns, `{"token":"t","service":"benefits"}`, vetnet.Errorz(vetnet.ECONFLICT, "冲突", "Conflict."), 409, vetnet.ECONFLICT},
		{"unavailable", "POST", localapi.PathCheckIns, `{"token":"t","service":"benefits"}`, vetnet.Errorz(vetnet.EUNAVAILABLE, "不可用", "Unavailable."), 503, vetnet.EUNAVAILABLE},
		{"not found", "POST", localapi.PathCheckIns, `{"token":"t","service":"benefits"}`, vetnet.Errorz(vetnet.ENOTFOUND, "无", "None."), 404, vetnet.ENOTFOUND},
		{"internal cause hidden", "POST", localapi.PathCheckIns, `{"token":"t","service":"benefits"}`, errors.New("disk on fire at sector 7"), 500, vetnet.EINTERNAL},
		{"wrong method", "GET", localapi.PathCheckIns, ``, nil, 405, vetnet.EINVALID},
		{"unknown path", "GET", "/v1/secrets", ``, nil, 404, vetnet.ENOTFOUND},
		{"no simulated reader", "POST", localapi.PathSimTap, `{}`, nil, 404, vetnet.ENOTFOUND},
		{"staff session with a card", "POST", localapi.PathCheckIns, `{"token":"t","staff_session":"s","service":"benefits"}`, nil, 400, vetnet.EINVALID},
		{"no staff roster: login", "POST", localapi.PathStaffLogin, `{"staff_id":"a1","pin":"1234"}`, nil, 404, vetnet.ENOTFOUND},
		{"no staff roster: logout", "POST", localapi.PathStaffLogout, `{"session":"s"}`, nil, 404, vetnet.ENOTFOUND},
		{"staff list: wrong method", "POST", localapi.PathStaff, `{}`, nil, 405, vetnet.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.mu.Lock()
			f.err = tt.backendErr
			f.mu.Unlock()
			req, _ := http.NewRequest(tt.method, ts.URL+tt.path, strings.NewReader(tt.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, raw)
			}
			var eb localapi.ErrorBody
			if err := json.Unmarshal(raw, &eb); err != nil {
				t.Fatalf("body %s: %v", raw, err)
			}
			if eb.Error.Code != tt.code || eb.Error.Message == "" || eb.Error.MessageZH == "" {
				t.Fatalf("error body %+v", eb)
			}
			if strings.Contains(string(raw), "fire") || strings.Contains(string(raw), "11010519491231002") {
				t.Fatalf("body leaks: %s", raw)
			}
		})
	}
	var bad, failed int64
	for _, tt := range tests {
		if tt.status >= 500 {
			failed++
		} else {
			bad++
		}
	}
	if st := s.Stats(); st.BadRequests != bad || st.Failures != failed || st.Requests != bad+failed {
		t.Fatalf("stats %+v", st)
	}
}

func TestCheckIn(t *testing.T) {
	f := newFake()
	_, ts := serve(t, f, false, localapi.ServerOptions{})
	c := localapi.NewClient(strings.TrimPrefix(ts.URL, "http://"))
	ctx := context.Background()

	resp, err := c.CheckIn(ctx, localapi.CheckInRequest{Token: "tok", Service: "benefits"})
	if err != nil || resp.QueueNo != "B001" || resp.Service != "benefits" {
		t.Fatalf("by token: %+v, %v", resp, err)
	}
	// A typed number is normalised: spaces trimmed, x upper-cased.
	if _, err := c.CheckIn(ctx, localapi.CheckInRequest{IDNumber: " 11010519491231002x ", Name: " 张建国 ", Service: "consultation"}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CheckIn(ctx, localapi.CheckInRequest{IDNumber: "123", Service: "benefits"})
	if vetnet.ErrorCode(err) != vetnet.EINVALID || vetnet.ErrorMessage(err, "zh") == "" {
		t.Fatalf("short number: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	want := []localapi.CheckInInput{
		{Token: "tok", Service: vetnet.ServiceBenefits},
		{Visitor: &vetnet.Visitor{IDNumber: goodID, Name: "张建国", DocType: vetnet.DocResident}, Service: vetnet.ServiceConsultation},
	}
	if len(f.inputs) != 2 {
		t.Fatalf("backend got %d check-ins", len(f.inputs))
	}
	for i := range want {
		got := f.inputs[i]
		if got.Token != want[i].Token || got.Service != want[i].Service || (got.Visitor == nil) != (want[i].Visitor == nil) ||
			got.Visitor != nil && *got.Visitor != *want[i].Visitor {
			t.Fatalf("input %d: %+v, want %+v", i, got, want[i])
		}
	}
}

func TestSimTap(t *testing.T) {
	f := newFake()
	_, ts := serve(t, f, true, localapi.ServerOptions{})
	c := localapi.NewClient(strings.TrimPrefix(ts.URL, "http://"))
	ctx := context.Background()
	for _, req := range []localapi.SimTapRequest{{}, {IDNumber: goodID}, {Name: "李四"}} {
		if err := c.SimTap(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SimTap(ctx, localapi.SimTapRequest{IDNumber: "320411"}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("bad number: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.taps) != 3 || f.taps[0] != nil || f.taps[1].IDNumber != goodID || f.taps[2].Name != "李四" || f.taps[2].IDNumber != "" {
		t.Fatalf("taps %+v", f.taps)
	}
}

func TestEvents(t *testing.T) {
	f := newFake()
	s, ts := serve(t, f, false, localapi.ServerOptions{PingInterval: 20 * time.Millisecond})
	c := localapi.NewClient(strings.TrimPrefix(ts.URL, "http://"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := c.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next := func() localapi.Event {
		t.Helper()
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("stream closed")
			}
			return ev
		case <-time.After(10 * time.Second):
			t.Fatal("no event")
		}
		return localapi.Event{}
	}
	ev := next()
	st, err := ev.Status()
	if ev.Type != localapi.EventStatus || err != nil || st.Station.ID != "cz-xb-sanjing" {
		t.Fatalf("first event %s %s", ev.Type, ev.Data)
	}
	for deadline := time.Now().Add(10 * time.Second); s.Stats().Streams != 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("stream not registered")
		}
	}
	card := localapi.CardEvent{Token: "abc", ExpiresAt: time.Date(2026, 11, 26, 9, 2, 0, 0, time.UTC),
		MaskedName: "张*国", MaskedID: "110105********002X", Doc: "resident", Reader: "sim0"}
	time.Sleep(50 * time.Millisecond) // pings in between are skipped by the client
	s.Broadcast(localapi.EventCard, card)
	s.Broadcast(localapi.EventCardError, localapi.CardErrorEvent{Reader: "sim0", Code: "invalid", MessageZH: "读卡失败", MessageEN: "Cannot read the card."})
	ev = next()
	got, err := ev.Card()
	if ev.Type != localapi.EventCard || err != nil || got != card {
		t.Fatalf("card event %s %s", ev.Type, ev.Data)
	}
	ev = next()
	if ce, err := ev.CardError(); ev.Type != localapi.EventCardError || err != nil || ce.Code != "invalid" {
		t.Fatalf("card error event %s %s", ev.Type, ev.Data)
	}

	// Close ends the stream.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-ch:
		for ok {
			_, ok = <-ch
		}
	case <-time.After(10 * time.Second):
		t.Fatal("stream still open after Close")
	}
}

func TestPing(t *testing.T) {
	_, ts := serve(t, newFake(), false, localapi.ServerOptions{PingInterval: 10 * time.Millisecond})
	resp, err := http.Get(ts.URL + localapi.PathEvents)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() == ": ping" {
			return
		}
	}
	t.Fatalf("no ping: %v", sc.Err())
}

func TestOpen(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:0", true},
		{"localhost:0", true},
		{"0.0.0.0:0", false},
		{":0", false},
		{"192.0.2.1:7474", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			s := localapi.NewServer(newFake().backend(false), localapi.ServerOptions{Addr: tt.addr})
			err := s.Open()
			defer s.Close()
			if tt.ok != (err == nil) {
				t.Fatalf("Open(%s) = %v", tt.addr, err)
			}
			if !tt.ok {
				if vetnet.ErrorCode(err) != vetnet.EINVALID {
					t.Fatalf("code %s", vetnet.ErrorCode(err))
				}
				return
			}
			if strings.HasSuffix(s.Addr(), ":0") {
				t.Fatalf("Addr() = %s", s.Addr())
			}
			c := localapi.NewClient(s.Addr())
			st, err := c.Status(context.Background())
			if err != nil || st.Station.ID != "cz-xb-sanjing" {
				t.Fatalf("status %+v, %v", st, err)
			}
		})
	}
}

// The staff endpoints pass typed requests to the backend and answer in the
// documented shapes; a malformed staff ID never reaches it.
func TestStaffEndpoints(t *testing.T) {
	f := newFake()
	b := f.backend(false)
	var logins []localapi.StaffLoginRequest
	var logouts []string
	b.Staff = func() localapi.StaffList {
		return localapi.StaffList{Staff: []localapi.StaffMember{{ID: "xb-0107", Name: "王立新", Role: "head", HasPIN: true}}}
	}
	b.StaffLogin = func(_ context.Context, req localapi.StaffLoginRequest) (localapi.StaffSession, error) {
		logins = append(logins, req)
		if req.PIN != "2468" {
			return localapi.StaffSession{}, vetnet.Errorz(vetnet.EINVALID, "工号或PIN码不正确", "Wrong.")
		}
		return localapi.StaffSession{Session: "s1", Staff: localapi.StaffMember{ID: req.StaffID}, Via: "pin"}, nil
	}
	b.StaffLogout = func(s string) error { logouts = append(logouts, s); return nil }
	s := localapi.NewServer(b, localapi.ServerOptions{})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	c := localapi.NewClient(strings.TrimPrefix(ts.URL, "http://"))
	ctx := context.Background()
	l, err := c.Staff(ctx)
	if err != nil || len(l.Staff) != 1 || l.Staff[0].Name != "王立新" {
		t.Fatalf("%+v %v", l, err)
	}
	if _, err := c.StaffLogin(ctx, localapi.StaffLoginRequest{StaffID: "xb-0107", PIN: "1111"}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatal(err)
	}
	if _, err := c.StaffLogin(ctx, localapi.StaffLoginRequest{StaffID: "bad id!", PIN: "2468"}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatal(err)
	}
	sess, err := c.StaffLogin(ctx, localapi.StaffLoginRequest{StaffID: " xb-0107 ", PIN: "2468"})
	if err != nil || sess.Session != "s1" || sess.Staff.ID != "xb-0107" {
		t.Fatalf("%+v %v", sess, err)
	}
	if len(logins) != 2 {
		t.Errorf("the backend saw %d logins, want 2 (the malformed ID is refused before)", len(logins))
	}
	if err := c.StaffLogout(ctx, "s1"); err != nil || len(logouts) != 1 || logouts[0] != "s1" {
		t.Fatalf("%v %v", err, logouts)
	}
	// A typed number goes with its staff session.
	if _, err := c.CheckIn(ctx, localapi.CheckInRequest{IDNumber: goodID, Service: "benefits", StaffSession: "s1"}); err != nil {
		t.Fatal(err)
	}
	if in := f.inputs[len(f.inputs)-1]; in.StaffSession != "s1" || in.Visitor == nil || in.Visitor.IDNumber != goodID {
		t.Fatalf("%+v", in)
	}
	// Without a roster the list is empty, not an error.
	s2 := localapi.NewServer(f.backend(false), localapi.ServerOptions{})
	ts2 := httptest.NewServer(s2.Handler())
	defer ts2.Close()
	if l, err := localapi.NewClient(strings.TrimPrefix(ts2.URL, "http://")).Staff(ctx); err != nil || l.Staff == nil || len(l.Staff) != 0 {
		t.Fatalf("%+v %v", l, err)
	}
}
