// Package web is the hub's HTTP face: the dashboard page, the JSON API
// under /api/v1, live events as server-sent events, /healthz and
// /metrics. docs/api.md documents every endpoint.
//
// Personal data is masked here whatever the caller passes in: ID numbers
// and names go out only through vetnet.MaskIDNumber and vetnet.MaskName,
// in the API, the events and the page. The page and its assets are
// embedded (embed.FS) and load nothing from the internet.
//
// The package knows the hub only through the function fields of Options,
// so it is tested with plain values and a real store.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"strconv"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/auth"
	"github.com/vetnet/vetnet/cloud/metrics"
	"github.com/vetnet/vetnet/internal/httpstatus"
)

// Options give the server its data. Store, Stations and Presences are
// required.
type Options struct {
	Store     cloud.Store
	Stations  func() []vetnet.Station // the registry, in its order
	Presences func() []cloud.Presence // every registered station's presence

	// Gaps returns the sequence numbers the hub misses for a station
	// (below the highest it holds). Nil: none are reported.
	Gaps func(station string) Gaps

	// Subscribe returns live events and a cancel function; the channel is
	// closed when the hub stops. Nil: /api/v1/events answers 503.
	Subscribe func() (<-chan cloud.Event, func())

	// Health reports the broker and the database. Default: the store's
	// Ping, and no broker.
	Health func(ctx context.Context) Health

	// HeartbeatS is the interval the hub configures, used to tell whether
	// a station runs the current configuration. Default 15.
	HeartbeatS int

	// Metrics is served on /metrics; the server adds its own counters to
	// it. Default: a new registry.
	Metrics *metrics.Registry

	// Location is the time zone of "today" and of dates given without a
	// time. Default time.Local.
	Location *time.Location

	// KeepAlive is the interval of comment lines on an idle event stream,
	// which keep proxies from closing it. Default 15 s.
	KeepAlive time.Duration

	Now  func() time.Time                 // default time.Now
	Logf func(format string, args ...any) // default: discarded

	// SessionTTL is how long a sign-in lasts. Default 12 h.
	SessionTTL time.Duration

	// Alerts acknowledges and resolves alerts (the hub's rules engine
	// publishes the changes). Nil functions: those calls answer 503.
	Alerts AlertActions

	// StationLogPending returns a station's log entries the hub has not
	// stored yet, so that a station page is current. Optional.
	StationLogPending func(station string) []cloud.LogEntry

	// Meetings are the video conference's meetings and rosters. Zero:
	// the meeting calls answer 503.
	Meetings MeetingActions

	// MeetingGrace is the hub's grace for joining a meeting, shown on the
	// roster. Optional.
	MeetingGrace time.Duration

	// MeetingChanged tells the live dashboards that a meeting's roster
	// changed (a follow-up recorded). Optional.
	MeetingChanged func(id string)
}

// AlertActions change alerts.
type AlertActions struct {
	Ack     func(ctx context.Context, id int64, by, comment string) (cloud.Alert, error)
	Resolve func(ctx context.Context, id int64, by, comment string) (cloud.Alert, error)
}

// Health is the state of the hub's dependencies.
type Health struct {
	Broker Component `json:"broker"`
	DB     Component `json:"db"`
}

// Component is one dependency's state.
type Component struct {
	Up     bool   `json:"up"`
	Mode   string `json:"mode,omitempty"`   // broker: embedded, external or none
	Addr   string `json:"addr,omitempty"`   // broker: address or URL
	Detail string `json:"detail,omitempty"` // why it is down; safe to show
}

// Server serves the dashboard and the API.
type Server struct {
	o            Options
	mux          *http.ServeMux
	requests     *metrics.Counter
	badReqs      *metrics.Counter
	exports      *metrics.Counter
	throttleUser *auth.Throttle
	throttleAddr *auth.Throttle
	dummyHash    string // checked for unknown users, so timing tells nothing
}

//go:embed assets
var assets embed.FS

// New returns a server for o.
func New(o Options) *Server {
	if o.HeartbeatS <= 0 {
		o.HeartbeatS = 15
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewRegistry()
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = 15 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.Health == nil {
		o.Health = func(ctx context.Context) Health {
			h := Health{Broker: Component{Mode: "none"}}
			if err := o.Store.Ping(ctx); err != nil {
				h.DB.Detail = vetnet.ErrorMessage(err, "en")
			} else {
				h.DB.Up = true
			}
			return h
		}
	}
	s := &Server{o: o, mux: http.NewServeMux(),
		throttleUser: auth.NewThrottle(5, 15*time.Minute), throttleAddr: auth.NewThrottle(20, 15*time.Minute)}
	s.dummyHash, _ = auth.HashPassword("no user has this password")
	s.requests = o.Metrics.Counter("vetnet_http_requests_total", "HTTP requests, by route and status code.", "route", "code")
	s.badReqs = o.Metrics.Counter("vetnet_http_bad_requests_total", "API requests refused for a bad query parameter, by parameter.", "param")
	s.exports = o.Metrics.Counter("vetnet_http_exports_total", "Exports, by kind and format.", "kind", "format")

	static, _ := fs.Sub(assets, "assets")
	s.handle("GET /{$}", "/", s.index)
	s.handle("GET /static/", "/static/", http.StripPrefix("/static/", http.FileServerFS(static)).ServeHTTP)
	s.handle("GET /healthz", "/healthz", s.healthz)
	s.handle("GET /metrics", "/metrics", s.metrics)
	s.handle("POST /api/v1/session", "/api/v1/session", s.signIn)
	s.handle("GET /api/v1/session", "/api/v1/session", s.authed(false, s.session))
	s.handle("DELETE /api/v1/session", "/api/v1/session", s.authed(false, s.signOut))
	s.handle("GET /api/v1/stations", "/api/v1/stations", s.authed(false, s.stations))
	s.handle("GET /api/v1/stations/{id}", "/api/v1/stations/{id}", s.authed(false, s.stationPage))
	s.handle("GET /api/v1/checkins", "/api/v1/checkins", s.authed(false, s.checkIns))
	s.handle("POST /api/v1/checkins/{id}/unmask", "/api/v1/checkins/{id}/unmask", s.authed(true, s.unmask))
	s.handle("GET /api/v1/feedback", "/api/v1/feedback", s.authed(false, s.feedback))
	s.handle("GET /api/v1/stats", "/api/v1/stats", s.authed(false, s.stats))
	s.handle("GET /api/v1/alerts", "/api/v1/alerts", s.authed(false, s.alerts))
	s.handle("POST /api/v1/alerts/{id}/ack", "/api/v1/alerts/{id}/ack", s.authed(true, s.alertAction))
	s.handle("POST /api/v1/alerts/{id}/resolve", "/api/v1/alerts/{id}/resolve", s.authed(true, s.alertAction))
	s.handle("GET /api/v1/audit", "/api/v1/audit", s.authed(false, s.auditLog))
	s.handle("GET /api/v1/users", "/api/v1/users", s.authed(false, s.users))
	s.handle("POST /api/v1/users", "/api/v1/users", s.authed(true, s.putUser))
	s.handle("POST /api/v1/people/export", "/api/v1/people/export", s.authed(true, s.personExport))
	s.handle("POST /api/v1/people/erase", "/api/v1/people/erase", s.authed(true, s.personErase))
	s.handle("GET /api/v1/export/{kind}", "/api/v1/export/{kind}", s.authed(false, s.export))
	s.handle("GET /api/v1/events", "/api/v1/events", s.authed(false, s.events))
	s.hallRoutes()
	s.meetingRoutes()
	s.handle("/", "other", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, vetnet.Errorz(vetnet.ENOTFOUND, "没有这个地址", "No such page."), "")
	})
	return s
}

func (s *Server) handle(pattern, route string, fn http.HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		sw := &httpstatus.Recorder{ResponseWriter: w}
		h := sw.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Frame-Options", "DENY")
		if r.TLS != nil {
			// Browsers that once reached the dashboard over HTTPS never
			// try plain HTTP again (a year; not subdomains, which may be
			// other services).
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		fn(sw, r)
		code := sw.Code
		if code == 0 {
			code = http.StatusOK
		}
		s.requests.Inc(route, strconv.Itoa(code))
	})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	b, err := assets.ReadFile("assets/index.html")
	if err != nil {
		writeError(w, http.StatusInternalServerError, err, "")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	h := s.o.Health(ctx)
	ok := h.DB.Up && (h.Broker.Up || h.Broker.Mode == "none")
	out := struct {
		Status string    `json:"status"`
		Broker Component `json:"broker"`
		DB     Component `json:"db"`
		Time   time.Time `json:"time"`
	}{"ok", h.Broker, h.DB, s.o.Now().UTC()}
	code := http.StatusOK
	if !ok {
		out.Status, code = "degraded", http.StatusServiceUnavailable
	}
	writeJSON(w, code, out)
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", metrics.ContentType)
	s.o.Metrics.WriteTo(w)
}

func (s *Server) today() time.Time {
	now := s.o.Now().In(s.o.Location)
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, s.o.Location)
}

func (s *Server) stations(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	sel, param, err := s.stationFilter(r, a)
	if err != nil {
		if vetnet.ErrorCode(err) == vetnet.EINVALID && param == "" {
			s.deny(w, r, a, err.Error())
			return
		}
		s.badReqs.Inc(param)
		writeError(w, http.StatusBadRequest, err, param)
		return
	}
	today := s.today()
	stats, err := s.o.Store.StationStats(r.Context(), today)
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	pres := map[string]cloud.Presence{}
	for _, p := range s.o.Presences() {
		pres[p.Station] = p
	}
	open, err := s.activeAlerts(r.Context(), a)
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	perStation := map[string]int{}
	for _, x := range open {
		perStation[x.Station]++
	}
	out := stationsResponse{Stations: []stationView{}, GeneratedAt: s.o.Now().UTC(), TodayFrom: today}
	for _, st := range s.o.Stations() {
		if !a.Sees(st.ID) {
			continue
		}
		p, ok := pres[st.ID]
		if !ok {
			p = cloud.Presence{Station: st.ID, State: cloud.StateNeverSeen}
		}
		v := s.stationView(st, p, stats[st.ID])
		v.AlertsOpen = perStation[st.ID]
		out.Summary.add(v)
		if sel.keep(v) {
			out.Stations = append(out.Stations, v)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) checkIns(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	f, ok := s.scopedFilter(w, r, a)
	if !ok {
		return
	}
	page, err := s.o.Store.CheckIns(r.Context(), f)
	if err != nil {
		if vetnet.ErrorCode(err) == vetnet.EINVALID {
			s.badReqs.Inc("cursor")
			writeError(w, http.StatusBadRequest, err, "cursor")
			return
		}
		writeError(w, statusOf(err), err, "")
		return
	}
	total, err := s.o.Store.CountCheckIns(r.Context(), f)
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	names := map[string]vetnet.Station{}
	for _, st := range s.o.Stations() {
		names[st.ID] = st
	}
	out := checkInsResponse{CheckIns: []checkInView{}, Next: page.Next, Total: total}
	for _, c := range page.CheckIns {
		out.CheckIns = append(out.CheckIns, checkInViewOf(c, names[c.StationID]))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) feedback(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	f, ok := s.scopedFilter(w, r, a)
	if !ok {
		return
	}
	if f.Order != cloud.OrderAt {
		s.badReqs.Inc("order")
		writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "评价只能按时间排列", "Ratings are listed by time only."), "order")
		return
	}
	page, err := s.o.Store.Feedback(r.Context(), f)
	if err != nil {
		if vetnet.ErrorCode(err) == vetnet.EINVALID {
			s.badReqs.Inc("cursor")
			writeError(w, http.StatusBadRequest, err, "cursor")
			return
		}
		writeError(w, statusOf(err), err, "")
		return
	}
	names := map[string]vetnet.Station{}
	for _, st := range s.o.Stations() {
		names[st.ID] = st
	}
	out := feedbackResponse{Feedback: []feedbackView{}, Next: page.Next}
	for _, f := range page.Feedback {
		out.Feedback = append(out.Feedback, feedbackViewOf(f, names[f.StationID]))
	}
	writeJSON(w, http.StatusOK, out)
}

// parseFilter reads the query of /api/v1/checkins. On error it names the
// parameter at fault.
func (s *Server) parseFilter(r *http.Request) (cloud.CheckInFilter, string, error) {
	q := r.URL.Query()
	var f cloud.CheckInFilter
	for name, vs := range q {
		if len(vs) > 1 {
			return f, name, vetnet.Errorz(vetnet.EINVALID, "参数 "+name+" 重复", "Parameter "+name+" is repeated.")
		}
	}
	if v := q.Get("station"); v != "" {
		if err := vetnet.ValidateStationID(v); err != nil {
			return f, "station", err
		}
		f.Station = v
	}
	if v := q.Get("service"); v != "" {
		sv, err := vetnet.ParseService(v)
		if err != nil {
			return f, "service", err
		}
		f.Service = sv
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		t, err := s.parseTime(v)
		if err != nil {
			return f, p.name, vetnet.Errorz(vetnet.EINVALID,
				"参数 "+p.name+" 的时间格式无效(应为 RFC 3339，如 2026-11-26T09:00:00+08:00，或日期 2026-11-26)",
				"Parameter "+p.name+" is not a valid time (RFC 3339, e.g. 2026-11-26T09:00:00+08:00, or a date 2026-11-26).")
		}
		*p.dst = t
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, "to", vetnet.Errorz(vetnet.EINVALID, "结束时间必须晚于开始时间", "Parameter to must be after from.")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > cloud.MaxLimit {
			return f, "limit", vetnet.Errorz(vetnet.EINVALID,
				"参数 limit 应为 1 到 "+strconv.Itoa(cloud.MaxLimit)+" 之间的整数",
				"Parameter limit must be a whole number from 1 to "+strconv.Itoa(cloud.MaxLimit)+".")
		}
		f.Limit = n
	}
	switch v := q.Get("order"); v {
	case "", "at":
	case "seq":
		if f.Station == "" {
			return f, "order", vetnet.Errorz(vetnet.EINVALID, "按序号排列(order=seq)需要指定站点(station)",
				"Parameter order=seq needs a station.")
		}
		f.Order = cloud.OrderSeq
	default:
		return f, "order", vetnet.Errorz(vetnet.EINVALID, "参数 order 应为 at 或 seq", "Parameter order must be at or seq.")
	}
	if v := q.Get("cursor"); v != "" {
		if len(v) > 200 {
			return f, "cursor", vetnet.Errorz(vetnet.EINVALID, "分页游标无效", "The page cursor is not valid.")
		}
		f.Cursor = v
	}
	return f, "", nil
}

// parseTime accepts RFC 3339 (with a zone) or a date, which means its
// midnight in the hub's zone.
func (s *Server) parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-02", v, s.o.Location)
}

func statusOf(err error) int { return httpstatus.FromCode(vetnet.ErrorCode(err)) }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`    // English
		MessageZH string `json:"message_zh"` // Simplified Chinese
		Param     string `json:"param,omitempty"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, code int, err error, param string) {
	var b errorBody
	b.Error.Code = vetnet.ErrorCode(err)
	b.Error.Message = vetnet.ErrorMessage(err, "en")
	b.Error.MessageZH = vetnet.ErrorMessage(err, "zh")
	b.Error.Param = param
	writeJSON(w, code, b)
}

// events streams live events as server-sent events until the client goes
// away or the hub stops.
func (s *Server) events(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	if s.o.Subscribe == nil {
		writeError(w, http.StatusServiceUnavailable, vetnet.Errorz(vetnet.EUNAVAILABLE, "实时事件不可用", "Live events are not available."), "")
		return
	}
	rc := http.NewResponseController(w)
	ch, cancel := s.o.Subscribe()
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	// retry: how long a browser waits before reconnecting.
	if _, err := w.Write([]byte("retry: 3000\n: connected\n\n")); err != nil {
		return
	}
	rc.Flush()
	names := map[string]vetnet.Station{}
	for _, st := range s.o.Stations() {
		names[st.ID] = st
	}
	tick := time.NewTicker(s.o.KeepAlive)
	defer tick.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			_, err = w.Write([]byte(": keep-alive\n\n"))
		case e, ok := <-ch:
			if !ok {
				return
			}
			if e.Kind != cloud.EventMeeting && !a.Sees(eventStation(e)) {
				continue
			}
			var data any
			switch e.Kind {
			case cloud.EventMeeting:
				// Only the ID: the page reads the roster within its scope.
				data = struct {
					ID string `json:"id"`
				}{e.Meeting}
			case cloud.EventAlert:
				data = s.alertViewOf(e.Alert, names[e.Alert.Station])
			case cloud.EventCheckIn:
				data = checkInViewOf(e.CheckIn, names[e.CheckIn.StationID])
			case cloud.EventPresence:
				data = presenceEvent{presenceViewOf(e.Presence, s.currentConfig(names[e.Presence.Station])), e.Changed}
			case cloud.EventFeedback:
				data = feedbackViewOf(e.Feedback, names[e.Feedback.StationID])
			default:
				continue
			}
			b, merr := json.Marshal(data)
			if merr != nil {
				s.o.Logf("web: encode event: %v", merr)
				continue
			}
			_, err = w.Write([]byte("event: " + string(e.Kind) + "\ndata: " + string(b) + "\n\n"))
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				s.o.Logf("web: event stream ended: %v", err)
			}
			return
		}
	}
}
