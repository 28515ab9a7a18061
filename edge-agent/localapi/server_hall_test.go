package localapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

const goodCheckIn = "01KB1Q0V00ABCDEFGHJKMNPQRS"

// hall is a backend of the hall that records the requests it gets.
type hall struct {
	mu   sync.Mutex
	got  []any
	err  error
	from *fake
}

func (h *hall) note(v any) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, v)
	return h.err
}

func (h *hall) last() any {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.got) == 0 {
		return nil
	}
	return h.got[len(h.got)-1]
}

func (h *hall) backend() localapi.Backend {
	b := h.from.backend(false)
	ticket := localapi.Ticket{CheckInID: goodCheckIn, QueueNo: "B001", Service: "benefits", State: localapi.TicketCalled, MaskedName: "张*国"}
	b.Queue = func() (localapi.QueueStatus, error) {
		return localapi.QueueStatus{Day: "2026-11-26", Services: []localapi.QueueService{}, NowServing: []localapi.Ticket{}}, h.note("queue")
	}
	b.Call = func(ctx context.Context, r localapi.CallRequest) (localapi.Ticket, error) { return ticket, h.note(r) }
	b.Served = func(ctx context.Context, r localapi.TicketAction) (localapi.Ticket, error) { return ticket, h.note(r) }
	b.NoShow = func(ctx context.Context, r localapi.TicketAction) (localapi.Ticket, error) { return ticket, h.note(r) }
	b.Recall = func(ctx context.Context, r localapi.TicketAction) (localapi.Ticket, error) { return ticket, h.note(r) }
	b.Transfer = func(ctx context.Context, r localapi.TransferRequest) (localapi.Ticket, error) {
		return ticket, h.note(r)
	}
	b.Visitors = func(ctx context.Context, session, q string) (localapi.VisitorList, error) {
		return localapi.VisitorList{}, h.note([2]string{session, q})
	}
	b.Duty = func() (localapi.DutyStatus, error) { return localapi.DutyStatus{}, h.note("duty") }
	b.SetDuty = func(ctx context.Context, r localapi.DutyRequest) (localapi.DutyStatus, error) {
		return localapi.DutyStatus{OnDuty: []localapi.OnDuty{}}, h.note(r)
	}
	b.Print = func(ctx context.Context, r localapi.PrintRequest) error { return h.note(r) }
	return b
}

func serveHall(t *testing.T, h *hall) string {
	t.Helper()
	s := localapi.NewServer(h.backend(), localapi.ServerOptions{})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { s.Close(); ts.Close() })
	return ts.URL
}

func do(t *testing.T, method, u, body string) (*http.Response, localapi.ErrorBody) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var eb localapi.ErrorBody
	if resp.StatusCode >= 300 {
		if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil {
			t.Fatalf("error body: %v", err)
		}
	}
	return resp, eb
}

// TestHallBadInput: every hall endpoint refuses malformed requests before
// the backend sees them, with the error body of the API.
func TestHallBadInput(t *testing.T) {
	h := &hall{from: newFake()}
	base := serveHall(t, h)
	long := strings.Repeat("窗", vetnet.MaxCounterLen+1)
	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{"queue: wrong method", "POST", localapi.PathQueue, `{}`, 405},
		{"call: unknown field", "POST", localapi.PathQueueCall, `{"staff_session":"s","service":"benefits","priority":1}`, 400},
		{"call: not JSON", "POST", localapi.PathQueueCall, `service=benefits`, 400},
		{"call: trailing data", "POST", localapi.PathQueueCall, `{"service":"benefits"}{}`, 400},
		{"call: wrong type", "POST", localapi.PathQueueCall, `{"service":7}`, 400},
		{"call: unknown service", "POST", localapi.PathQueueCall, `{"service":"golf"}`, 400},
		{"call: service not offered", "POST", localapi.PathQueueCall, `{"service":"legal_aid"}`, 400},
		{"call: no service", "POST", localapi.PathQueueCall, `{"staff_session":"s"}`, 400},
		{"call: long counter", "POST", localapi.PathQueueCall, `{"service":"benefits","counter":"` + long + `"}`, 400},
		{"call: counter with a newline", "POST", localapi.PathQueueCall, `{"service":"benefits","counter":"a\nb"}`, 400},
		{"call: long session", "POST", localapi.PathQueueCall, `{"service":"benefits","staff_session":"` + strings.Repeat("s", 200) + `"}`, 400},
		{"call: wrong method", "GET", localapi.PathQueueCall, ``, 405},
		{"served: bad check-in ID", "POST", localapi.PathQueueServed, `{"checkin_id":"B001"}`, 400},
		{"served: no check-in ID", "POST", localapi.PathQueueServed, `{}`, 400},
		{"no-show: unknown field", "POST", localapi.PathQueueNoShow, `{"checkin_id":"` + goodCheckIn + `","why":"x"}`, 400},
		{"recall: bad check-in ID", "POST", localapi.PathQueueRecall, `{"checkin_id":"` + strings.ToLower(goodCheckIn) + `"}`, 400},
		{"transfer: unknown service", "POST", localapi.PathQueueTransfer, `{"checkin_id":"` + goodCheckIn + `","service":"golf"}`, 400},
		{"transfer: not offered", "POST", localapi.PathQueueTransfer, `{"checkin_id":"` + goodCheckIn + `","service":"legal_aid"}`, 400},
		{"transfer: bad check-in ID", "POST", localapi.PathQueueTransfer, `{"checkin_id":"x","service":"employment"}`, 400},
		{"visitors: unknown parameter", "GET", localapi.PathVisitors + "?name=x", ``, 400},
		{"visitors: repeated parameter", "GET", localapi.PathVisitors + "?q=a&q=b", ``, 400},
		{"visitors: long query", "GET", localapi.PathVisitors + "?q=" + url.QueryEscape(strings.Repeat("张", localapi.MaxQueryLen+1)), ``, 400},
		{"visitors: control character", "GET", localapi.PathVisitors + "?q=%07", ``, 400},
		{"visitors: wrong method", "POST", localapi.PathVisitors, `{}`, 405},
		{"duty: wrong method", "PUT", localapi.PathDuty, `{}`, 405},
		{"duty: unknown field", "POST", localapi.PathDuty, `{"staff_session":"s","on":true,"staff_id":"a"}`, 400},
		{"duty: wrong type", "POST", localapi.PathDuty, `{"staff_session":"s","on":"yes"}`, 400},
		{"print: bad check-in ID", "POST", localapi.PathPrint, `{"checkin_id":"B001"}`, 400},
		{"print: unknown field", "POST", localapi.PathPrint, `{"checkin_id":"` + goodCheckIn + `","copies":2}`, 400},
		{"check-in: detail of another service", "POST", localapi.PathCheckIns, `{"token":"t","service":"benefits","detail":"plaque"}`, 400},
		{"check-in: unknown detail", "POST", localapi.PathCheckIns, `{"token":"t","service":"consultation","detail":"enquiry"}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.mu.Lock()
			h.got = nil
			h.mu.Unlock()
			resp, eb := do(t, tt.method, base+tt.path, tt.body)
			if resp.StatusCode != tt.status || eb.Error.Code != vetnet.EINVALID || eb.Error.Message == "" || eb.Error.MessageZH == "" {
				t.Fatalf("%d %+v, want %d invalid", resp.StatusCode, eb, tt.status)
			}
			if h.last() != nil {
				t.Fatalf("the backend was asked: %+v", h.last())
			}
		})
	}
}

// TestHallRequests: good requests reach the backend trimmed, answers come
// back as JSON, and backend errors keep their codes.
func TestHallRequests(t *testing.T) {
	h := &hall{from: newFake()}
	base := serveHall(t, h)
	c := localapi.NewClient(strings.TrimPrefix(base, "http://"))
	ctx := context.Background()

	if q, err := c.Queue(ctx); err != nil || q.Day != "2026-11-26" {
		t.Fatalf("queue %+v %v", q, err)
	}
	tk, err := c.Call(ctx, localapi.CallRequest{StaffSession: " s1 ", Service: "benefits", Counter: " 2号窗口 "})
	if err != nil || tk.QueueNo != "B001" {
		t.Fatalf("call %+v %v", tk, err)
	}
	if got := h.last().(localapi.CallRequest); got != (localapi.CallRequest{StaffSession: "s1", Service: "benefits", Counter: "2号窗口"}) {
		t.Fatalf("call reached the backend as %+v", got)
	}
	for _, step := range []func(context.Context, localapi.TicketAction) (localapi.Ticket, error){c.Served, c.NoShow, c.Recall} {
		if _, err := step(ctx, localapi.TicketAction{StaffSession: "s1", CheckInID: " " + goodCheckIn}); err != nil {
			t.Fatal(err)
		}
		if got := h.last().(localapi.TicketAction); got.CheckInID != goodCheckIn {
			t.Fatalf("step reached the backend as %+v", got)
		}
	}
	if _, err := c.Transfer(ctx, localapi.TransferRequest{StaffSession: "s1", CheckInID: goodCheckIn, Service: "employment"}); err != nil {
		t.Fatal(err)
	}
	l, err := c.Visitors(ctx, "s1", " 建国 ")
	if err != nil || l.Visitors == nil {
		t.Fatalf("visitors %+v %v", l, err)
	}
	if got := h.last().([2]string); got != [2]string{"s1", "建国"} {
		t.Fatalf("visitors asked as %v", got)
	}
	if d, err := c.Duty(ctx); err != nil || d.OnDuty == nil {
		t.Fatalf("duty %+v %v", d, err)
	}
	if _, err := c.SetDuty(ctx, localapi.DutyRequest{StaffSession: "s1", On: true}); err != nil {
		t.Fatal(err)
	}
	if err := c.Print(ctx, localapi.PrintRequest{CheckInID: goodCheckIn}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CheckIn(ctx, localapi.CheckInRequest{Token: "t", Service: "benefits", Detail: " application "}); err != nil {
		t.Fatal(err)
	}
	if in := h.from.inputs[len(h.from.inputs)-1]; in.Detail != "application" {
		t.Fatalf("detail reached the backend as %q", in.Detail)
	}

	for _, code := range []string{vetnet.EEXPIRED, vetnet.ENOTFOUND, vetnet.ECONFLICT, vetnet.EFULL, vetnet.EUNAVAILABLE} {
		h.mu.Lock()
		h.err = vetnet.Errorz(code, "错", "Wrong.")
		h.mu.Unlock()
		if _, err := c.Call(ctx, localapi.CallRequest{Service: "benefits"}); vetnet.ErrorCode(err) != code {
			t.Fatalf("call with backend error %s: %v", code, err)
		}
		if err := c.Print(ctx, localapi.PrintRequest{CheckInID: goodCheckIn}); vetnet.ErrorCode(err) != code {
			t.Fatalf("print with backend error %s: %v", code, err)
		}
	}
}

// TestHallWithoutBackend: an agent without the hall answers 404.
func TestHallWithoutBackend(t *testing.T) {
	_, ts := serve(t, newFake(), false, localapi.ServerOptions{})
	for _, r := range []struct{ method, path, body string }{
		{"GET", localapi.PathQueue, ""},
		{"POST", localapi.PathQueueCall, `{"service":"benefits"}`},
		{"POST", localapi.PathQueueServed, `{"checkin_id":"` + goodCheckIn + `"}`},
		{"POST", localapi.PathQueueTransfer, `{"checkin_id":"` + goodCheckIn + `","service":"benefits"}`},
		{"GET", localapi.PathVisitors, ""},
		{"GET", localapi.PathDuty, ""},
		{"POST", localapi.PathDuty, `{"on":true}`},
		{"POST", localapi.PathPrint, `{"checkin_id":"` + goodCheckIn + `"}`},
	} {
		resp, eb := do(t, r.method, ts.URL+r.path, r.body)
		if resp.StatusCode != 404 || eb.Error.Code != vetnet.ENOTFOUND {
			t.Errorf("%s %s: %d %+v", r.method, r.path, resp.StatusCode, eb)
		}
	}
}

// TestQueueEvent: a queue event on the stream decodes as a QueueStatus.
func TestQueueEvent(t *testing.T) {
	s, ts := serve(t, newFake(), false, localapi.ServerOptions{})
	c := localapi.NewClient(strings.TrimPrefix(ts.URL, "http://"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ch, err := c.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	<-ch // the status on connect
	s.Broadcast(localapi.EventQueue, localapi.QueueStatus{Day: "2026-11-26", NowServing: []localapi.Ticket{{QueueNo: "B001"}}})
	ev := <-ch
	q, err := ev.QueueStatus()
	if ev.Type != localapi.EventQueue || err != nil || q.NowServing[0].QueueNo != "B001" {
		t.Fatalf("event %+v %v", ev, err)
	}
}
