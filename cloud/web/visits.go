package web

import (
	"net/http"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
)

// What the stations' halls produce: the steps of queue tickets (visit
// events) and staff signing on and off duty. Both list newest first with
// the filters and cursors of /api/v1/feedback.

func (s *Server) hallRoutes() {
	s.handle("GET /api/v1/visits", "/api/v1/visits", s.authed(false, s.visits))
	s.handle("GET /api/v1/duty", "/api/v1/duty", s.authed(false, s.duty))
}

type visitsResponse struct {
	Visits []visitView `json:"visits"`
	Next   string      `json:"next"` // cursor of the next page; "" on the last
}

type visitView struct {
	ID            string    `json:"id"`
	Station       string    `json:"station"`
	StationName   string    `json:"station_name"`
	StationNameEN string    `json:"station_name_en"`
	CheckInID     string    `json:"checkin_id"`
	Action        string    `json:"action"` // called, recalled, served, no_show, transferred
	ActionZH      string    `json:"action_zh"`
	ActionEN      string    `json:"action_en"`
	Service       string    `json:"service"`
	ServiceZH     string    `json:"service_zh"`
	ServiceEN     string    `json:"service_en"`
	QueueNo       string    `json:"queue_no"`
	Staff         string    `json:"staff"`      // "" at a station without a roster
	StaffName     string    `json:"staff_name"` // from the station's roster; "" if unknown
	Counter       string    `json:"counter"`
	ToService     string    `json:"to_service"`  // transferred only
	ToQueueNo     string    `json:"to_queue_no"` // transferred only
	At            time.Time `json:"at"`          // station clock
	ReceivedAt    time.Time `json:"received_at"` // hub clock
}

type dutyResponse struct {
	Duty []dutyView `json:"duty"`
	Next string     `json:"next"`
}

type dutyView struct {
	ID            string    `json:"id"`
	Station       string    `json:"station"`
	StationName   string    `json:"station_name"`
	StationNameEN string    `json:"station_name_en"`
	Staff         string    `json:"staff"`
	StaffName     string    `json:"staff_name"`
	On            bool      `json:"on"` // true: signed on duty at At; false: signed off
	At            time.Time `json:"at"`
	ReceivedAt    time.Time `json:"received_at"`
}

// optionLabel names a service's sub-choice in lang; "" for none.
func optionLabel(info vetnet.ServiceInfo, key, lang string) string {
	for _, o := range info.Options {
		if o.Key == key {
			if lang == "zh" {
				return o.ZH
			}
			return o.EN
		}
	}
	return ""
}

// eventFilter reads the query as /api/v1/feedback does (no seq order).
// eventFilter reads the query of a list of station events, limited to
// the stations the person sees.
func (s *Server) eventFilter(w http.ResponseWriter, r *http.Request, a *reqAuth) (cloud.CheckInFilter, bool) {
	f, ok := s.scopedFilter(w, r, a)
	if !ok {
		return f, false
	}
	if f.Order != cloud.OrderAt {
		s.badReqs.Inc("order")
		writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "只能按时间排列", "Listed by time only."), "order")
		return f, false
	}
	return f, true
}

func (s *Server) storeError(w http.ResponseWriter, err error) {
	if vetnet.ErrorCode(err) == vetnet.EINVALID {
		s.badReqs.Inc("cursor")
		writeError(w, http.StatusBadRequest, err, "cursor")
		return
	}
	writeError(w, statusOf(err), err, "")
}

func (s *Server) stationsByID() map[string]vetnet.Station {
	names := map[string]vetnet.Station{}
	for _, st := range s.o.Stations() {
		names[st.ID] = st
	}
	return names
}

func (s *Server) visits(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	f, ok := s.eventFilter(w, r, a)
	if !ok {
		return
	}
	page, err := s.o.Store.VisitEvents(r.Context(), f)
	if err != nil {
		s.storeError(w, err)
		return
	}
	names := s.stationsByID()
	out := visitsResponse{Visits: []visitView{}, Next: page.Next}
	for _, e := range page.Visits {
		st := names[e.StationID]
		info, _ := e.Service.Info()
		out.Visits = append(out.Visits, visitView{ID: e.ID, Station: e.StationID, StationName: st.Name, StationNameEN: st.NameEN,
			CheckInID: e.CheckInID, Action: string(e.Action), ActionZH: e.Action.Label("zh"), ActionEN: e.Action.Label("en"),
			Service: string(e.Service), ServiceZH: info.ZH, ServiceEN: info.EN, QueueNo: e.QueueNo, Staff: e.Staff,
			StaffName: staffName(st, e.Staff), Counter: e.Counter, ToService: string(e.ToService), ToQueueNo: e.ToQueueNo,
			At: e.At.UTC(), ReceivedAt: e.ReceivedAt.UTC()})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) duty(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	f, ok := s.eventFilter(w, r, a)
	if !ok {
		return
	}
	page, err := s.o.Store.DutyEvents(r.Context(), f)
	if err != nil {
		s.storeError(w, err)
		return
	}
	names := s.stationsByID()
	out := dutyResponse{Duty: []dutyView{}, Next: page.Next}
	for _, d := range page.Duty {
		st := names[d.StationID]
		out.Duty = append(out.Duty, dutyView{ID: d.ID, Station: d.StationID, StationName: st.Name, StationNameEN: st.NameEN,
			Staff: d.Staff, StaffName: staffName(st, d.Staff), On: d.On, At: d.At.UTC(), ReceivedAt: d.ReceivedAt.UTC()})
	}
	writeJSON(w, http.StatusOK, out)
}
