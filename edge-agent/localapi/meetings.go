package localapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/vetnet/vetnet"
)

// The station's meetings and their roll-call.
const (
	PathMeetings = "/v1/meetings"          // GET: Meetings (the last set the hub sent, kept across restarts)
	PathRollCall = "/v1/meetings/rollcall" // POST: RollCallRequest → RollCallResponse (a staff member present)
	// EventMeetings carries Meetings: sent on connect and whenever the
	// hub sends a new set.
	EventMeetings = "meetings"
)

// Meetings is the station's upcoming meetings as the hub last sent them.
type Meetings struct {
	Version  string    `json:"version"` // "" before the first set arrived
	Meetings []Meeting `json:"meetings"`
	Now      time.Time `json:"now"` // the agent's clock, for countdowns
}

// Meeting is one meeting of the station.
type Meeting struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Kind      string    `json:"kind"`
	KindZH    string    `json:"kind_zh"`
	KindEN    string    `json:"kind_en"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Link      string    `json:"link,omitempty"`
	Roles     []string  `json:"roles,omitempty"`
	Veterans  bool      `json:"veterans,omitempty"`
	Cancelled bool      `json:"cancelled,omitempty"`
}

// Next returns the first meeting not cancelled that has not ended at now.
func (m Meetings) Next(now time.Time) (Meeting, bool) {
	for _, x := range m.Meetings {
		if !x.Cancelled && now.Before(x.End) {
			return x, true
		}
	}
	return Meeting{}, false
}

// RollCallRequest records a signed-in staff member as present at a
// meeting (by the badge or PIN that opened their session).
type RollCallRequest struct {
	Meeting      string `json:"meeting"`
	StaffSession string `json:"staff_session"`
}

// RollCallResponse is returned once the roll-call is durable.
type RollCallResponse struct {
	ID      string    `json:"id"`
	Meeting string    `json:"meeting"`
	Staff   string    `json:"staff"`
	At      time.Time `json:"at"`
	// Already is true when this member had answered this meeting's
	// roll-call before (the earlier answer stands).
	Already bool `json:"already,omitempty"`
}

func (s *Server) meetingRoutes() {
	s.mux.HandleFunc(PathMeetings, s.method(http.MethodGet, s.meetings))
	s.mux.HandleFunc(PathRollCall, s.method(http.MethodPost, hallPost(s, func() func(context.Context, RollCallRequest) (RollCallResponse, error) {
		return s.b.RollCall
	}, checkRollCall)))
}

func checkRollCall(req *RollCallRequest) error {
	req.Meeting = strings.TrimSpace(req.Meeting)
	if vetnet.ValidateCheckInID(req.Meeting) != nil {
		return vetnet.Errorz(vetnet.EINVALID, "会议编号无效", "The meeting ID is not valid.")
	}
	if err := checkSession(&req.StaffSession); err != nil {
		return err
	}
	if req.StaffSession == "" {
		return vetnet.Errorz(vetnet.EEXPIRED, "请先刷工作证或输入密码登录", "Sign in with your badge or PIN first.")
	}
	return nil
}

func (s *Server) meetings(w http.ResponseWriter, r *http.Request) {
	if s.b.Meetings == nil {
		writeJSON(w, http.StatusOK, Meetings{Meetings: []Meeting{}, Now: s.opts.Now()})
		return
	}
	writeJSON(w, http.StatusOK, s.b.Meetings())
}

// Meetings reads the station's meetings.
func (c *Client) Meetings(ctx context.Context) (Meetings, error) {
	var m Meetings
	err := c.do(ctx, http.MethodGet, PathMeetings, nil, &m)
	return m, err
}

// RollCall records a staff member present at a meeting.
func (c *Client) RollCall(ctx context.Context, req RollCallRequest) (RollCallResponse, error) {
	var resp RollCallResponse
	err := c.do(ctx, http.MethodPost, PathRollCall, req, &resp)
	return resp, err
}

// Meetings decodes a meetings event.
func (e Event) Meetings() (Meetings, error) {
	var m Meetings
	err := json.Unmarshal(e.Data, &m)
	return m, err
}
