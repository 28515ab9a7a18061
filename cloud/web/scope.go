package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
)

func itoa(n int) string { return strconv.Itoa(n) }

// stationSel is the filter of the station list: search, state, level,
// a subtree, problems only.
type stationSel struct {
	q        string
	state    string
	level    string
	under    map[string]bool
	problems bool
	names    map[string]vetnet.Station
}

func (sel stationSel) keep(v stationView) bool {
	if sel.state != "" && v.State != sel.state {
		return false
	}
	if sel.level != "" && v.Level != sel.level {
		return false
	}
	if sel.under != nil && !sel.under[v.ID] {
		return false
	}
	if sel.problems && v.State == string(cloud.StateOnline) && !v.hasFault() && v.AlertsOpen == 0 {
		return false
	}
	if sel.q != "" {
		hay := strings.ToLower(v.ID + " " + v.Name + " " + v.NameEN + " " + sel.names[v.ID].Address)
		if !strings.Contains(hay, sel.q) {
			return false
		}
	}
	return true
}

// stationFilter reads the filters of /api/v1/stations. An error with no
// param is a refusal (a subtree the person does not see).
func (s *Server) stationFilter(r *http.Request, a *reqAuth) (stationSel, string, error) {
	q := r.URL.Query()
	sel := stationSel{q: strings.ToLower(strings.TrimSpace(q.Get("q"))), names: map[string]vetnet.Station{}}
	for _, st := range s.o.Stations() {
		sel.names[st.ID] = st
	}
	if v := q.Get("state"); v != "" {
		if !cloud.PresenceState(v).Valid() {
			return sel, "state", vetnet.Errorz(vetnet.EINVALID, "参数 state 应为 online、stale、offline 或 never_seen",
				"Parameter state must be online, stale, offline or never_seen.")
		}
		sel.state = v
	}
	if v := q.Get("level"); v != "" {
		if !vetnet.Level(v).Valid() {
			return sel, "level", vetnet.Errorz(vetnet.EINVALID, "参数 level 应为 district、town、village 或 post",
				"Parameter level must be district, town, village or post.")
		}
		sel.level = v
	}
	if v := q.Get("under"); v != "" {
		if _, ok := sel.names[v]; !ok {
			return sel, "under", vetnet.Errorz(vetnet.EINVALID, "没有这个站点: "+v, "No such station: "+v)
		}
		if !a.Sees(v) {
			return sel, "", vetnet.Errorz(vetnet.EINVALID, "under "+v, "under "+v)
		}
		sel.under = map[string]bool{}
		for _, id := range cloud.Subtree(s.o.Stations(), v) {
			sel.under[id] = true
		}
	}
	switch q.Get("problems") {
	case "", "0", "false":
	case "1", "true":
		sel.problems = true
	default:
		return sel, "problems", vetnet.Errorz(vetnet.EINVALID, "参数 problems 应为 1 或 0", "Parameter problems must be 1 or 0.")
	}
	return sel, "", nil
}

// scopedFilter reads a check-in or rating filter and narrows it to what
// the person sees. A station outside the person's scope is refused (403,
// audited). It answers the request itself when it returns false.
func (s *Server) scopedFilter(w http.ResponseWriter, r *http.Request, a *reqAuth) (cloud.CheckInFilter, bool) {
	f, param, err := s.parseFilter(r)
	if err != nil {
		s.badReqs.Inc(param)
		writeError(w, http.StatusBadRequest, err, param)
		return f, false
	}
	if f.Station != "" && !a.Sees(f.Station) {
		s.deny(w, r, a, "station "+f.Station)
		return f, false
	}
	f.Stations = a.Stations()
	if v := r.URL.Query().Get("under"); v != "" {
		if err := vetnet.ValidateStationID(v); err != nil {
			s.badReqs.Inc("under")
			writeError(w, http.StatusBadRequest, err, "under")
			return f, false
		}
		if !a.Sees(v) {
			s.deny(w, r, a, "under "+v)
			return f, false
		}
		var keep []string
		for _, id := range cloud.Subtree(s.o.Stations(), v) {
			if a.Sees(id) {
				keep = append(keep, id)
			}
		}
		f.Stations = append([]string{}, keep...)
	}
	return f, true
}

// eventStation is the station an event belongs to.
func eventStation(e cloud.Event) string {
	switch e.Kind {
	case cloud.EventCheckIn:
		return e.CheckIn.StationID
	case cloud.EventPresence:
		return e.Presence.Station
	case cloud.EventFeedback:
		return e.Feedback.StationID
	case cloud.EventAlert:
		return e.Alert.Station
	}
	return ""
}

// activeAlerts returns the alerts not resolved of the stations a person
// sees.
func (s *Server) activeAlerts(ctx context.Context, a *reqAuth) ([]cloud.Alert, error) {
	f := cloud.AlertFilter{Stations: a.Stations(), States: []cloud.AlertState{cloud.AlertOpen, cloud.AlertAcknowledged}, Limit: cloud.MaxLimit}
	var out []cloud.Alert
	for {
		p, err := s.o.Store.Alerts(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Alerts...)
		if p.Next == "" || len(out) >= 5000 {
			return out, nil
		}
		f.Cursor = p.Next
	}
}
