package localapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/vetnet/vetnet"
)

// Client talks to the agent's local API.
type Client struct {
	BaseURL string       // e.g. http://127.0.0.1:7474
	HTTP    *http.Client // nil means a client with a 10 s timeout (not used for Events)
}

// NewClient returns a client for the agent at addr (host:port).
func NewClient(addr string) *Client {
	return &Client{BaseURL: "http://" + addr}
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// Status returns the agent's state. Errors: EUNAVAILABLE when the agent
// cannot be reached.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	err := c.do(ctx, http.MethodGet, PathStatus, nil, &s)
	return s, err
}

// CheckIn commits a check-in at the station. Errors: EINVALID (bad ID
// number or service), EEXPIRED (token expired or used), EFULL (the station
// cannot store more), EUNAVAILABLE (agent unreachable), EINTERNAL.
func (c *Client) CheckIn(ctx context.Context, req CheckInRequest) (CheckInResponse, error) {
	var r CheckInResponse
	err := c.do(ctx, http.MethodPost, PathCheckIns, req, &r)
	return r, err
}

// Feedback rates a visit. Errors: EINVALID (rating, reasons, comment),
// ENOTFOUND (no such check-in at this station), ECONFLICT (already rated),
// EFULL, EUNAVAILABLE (agent unreachable), EINTERNAL.
func (c *Client) Feedback(ctx context.Context, req FeedbackRequest) (FeedbackResponse, error) {
	var r FeedbackResponse
	err := c.do(ctx, http.MethodPost, PathFeedback, req, &r)
	return r, err
}

// SimTap makes the simulated reader read a card. Errors: ENOTFOUND when
// the agent has no simulated reader.
func (c *Client) SimTap(ctx context.Context, req SimTapRequest) error {
	return c.do(ctx, http.MethodPost, PathSimTap, req, nil)
}

// Staff returns the station's roster (empty without one).
func (c *Client) Staff(ctx context.Context) (StaffList, error) {
	var l StaffList
	err := c.do(ctx, http.MethodGet, PathStaff, nil, &l)
	return l, err
}

// StaffLogin signs a staff member in by PIN. Errors: EINVALID (wrong PIN
// or unknown staff ID, one message for both), EFULL (too many wrong PINs:
// locked for a while), ENOTFOUND (no roster), EUNAVAILABLE.
func (c *Client) StaffLogin(ctx context.Context, req StaffLoginRequest) (StaffSession, error) {
	var s StaffSession
	err := c.do(ctx, http.MethodPost, PathStaffLogin, req, &s)
	return s, err
}

// StaffLogout ends a staff session; an unknown session is not an error.
func (c *Client) StaffLogout(ctx context.Context, session string) error {
	return c.do(ctx, http.MethodPost, PathStaffLogout, StaffLogoutRequest{Session: session}, nil)
}

// StaffEvent decodes the data of an EventStaff.
func (e Event) StaffEvent() (StaffSession, error) {
	var v StaffSession
	err := json.Unmarshal(e.Data, &v)
	return v, err
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return vetnet.Wrap(vetnet.EINTERNAL, err, "请求编码失败", "Cannot encode the request.")
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return vetnet.Wrap(vetnet.EINTERNAL, err, "请求无效", "Bad request.")
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return unavailable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return decodeError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out); err != nil {
		return vetnet.Wrap(vetnet.EINTERNAL, err, "站点服务应答无效", "The station agent sent a bad answer.")
	}
	return nil
}

func unavailable(err error) error {
	return vetnet.Wrap(vetnet.EUNAVAILABLE, err, "无法连接本站服务程序，请联系工作人员", "Cannot reach the station agent; please ask staff.")
}

func decodeError(resp *http.Response) error {
	var eb ErrorBody
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&eb); err != nil || eb.Error.Code == "" {
		return vetnet.Wrap(vetnet.EINTERNAL, fmt.Errorf("HTTP %d", resp.StatusCode), "站点服务出错", "The station agent failed.")
	}
	return &vetnet.Error{Code: eb.Error.Code, Message: eb.Error.Message, MessageZH: eb.Error.MessageZH,
		Err: fmt.Errorf("HTTP %d", resp.StatusCode)}
}

// Event is one event of the stream; Data is the JSON of the type named by
// Type (CardEvent, CardErrorEvent or Status).
type Event struct {
	Type string
	Data json.RawMessage
}

// Card decodes the data of an EventCard.
func (e Event) Card() (CardEvent, error) {
	var v CardEvent
	err := json.Unmarshal(e.Data, &v)
	return v, err
}

// CardError decodes the data of an EventCardError.
func (e Event) CardError() (CardErrorEvent, error) {
	var v CardErrorEvent
	err := json.Unmarshal(e.Data, &v)
	return v, err
}

// Status decodes the data of an EventStatus.
func (e Event) Status() (Status, error) {
	var v Status
	err := json.Unmarshal(e.Data, &v)
	return v, err
}

// Events streams events until ctx is done or the connection drops; then
// the channel is closed. Callers reconnect (see Subscribe).
func (c *Client) Events(ctx context.Context) (<-chan Event, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+PathEvents, nil)
	if err != nil {
		return nil, vetnet.Wrap(vetnet.EINTERNAL, err, "请求无效", "Bad request.")
	}
	req.Header.Set("Accept", "text/event-stream")
	hc := http.Client{Transport: c.httpClient().Transport} // no timeout: the stream is long-lived
	resp, err := hc.Do(req)
	if err != nil {
		return nil, unavailable(err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, decodeError(resp)
	}
	ch := make(chan Event, 16)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		readSSE(resp.Body, func(ev Event) bool {
			select {
			case ch <- ev:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	return ch, nil
}

// Subscribe calls fn for every event, reconnecting with a delay of retry
// after the stream drops, until ctx is done. connected is called with true
// when a stream opens and false when it drops (nil to ignore).
func (c *Client) Subscribe(ctx context.Context, retry time.Duration, fn func(Event), connected func(bool)) {
	for ctx.Err() == nil {
		ch, err := c.Events(ctx)
		if err == nil {
			if connected != nil {
				connected(true)
			}
			for ev := range ch {
				fn(ev)
			}
			if connected != nil {
				connected(false)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
}

// readSSE parses a text/event-stream, calling emit for each event until
// emit returns false or the stream ends. Comments (": ping") are skipped.
func readSSE(r io.Reader, emit func(Event) bool) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var ev Event
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data.Len() > 0 {
				ev.Data = json.RawMessage(data.String())
				if ev.Type == "" {
					ev.Type = "message"
				}
				if !emit(ev) {
					return
				}
			}
			ev, data = Event{}, strings.Builder{}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event:"):
			ev.Type = strings.TrimSpace(line[len("event:"):])
		case strings.HasPrefix(line, "data:"):
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(strings.TrimPrefix(line[len("data:"):], " "))
		}
	}
}

// WriteSSE writes one event in text/event-stream form; the server uses it.
func WriteSSE(w io.Writer, typ string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", typ, b)
	return err
}
