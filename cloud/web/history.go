package web

import (
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
)

// GET /api/v1/stations/{id}?days=14: one station, its history (uptime and
// check-ins per day, fault timeline, transitions) and its recent alerts.

type stationPageResponse struct {
	Station  stationView    `json:"station"`
	Address  string         `json:"address"`
	Contact  string         `json:"contact"`
	Services []serviceCount `json:"services"` // offered; n = check-ins in the period
	Days     []historyDay   `json:"days"`     // oldest first
	Faults   []faultView    `json:"faults"`   // newest first
	Log      []logView      `json:"log"`      // newest first
	Alerts   []alertView    `json:"alerts"`   // newest first, up to 20
	Uptime   float64        `json:"uptime"`   // share of the period online, 0..1 (hours before the first sign of life excluded)
	Children []string       `json:"children"` // stations directly under it that the person sees
}

type historyDay struct {
	Day      string  `json:"day"`
	OnlineS  int64   `json:"online_s"`
	StaleS   int64   `json:"stale_s"`
	OfflineS int64   `json:"offline_s"`
	UnknownS int64   `json:"unknown_s"` // never seen yet, or the future
	Uptime   float64 `json:"uptime"`    // online / (online + stale + offline); 0 with none
	CheckIns int64   `json:"checkins"`
}

type faultView struct {
	Kind    string     `json:"kind"` // presence (stale or offline), reader, disk
	Subject string     `json:"subject"`
	State   string     `json:"state"` // stale, offline, fault, absent, low
	From    time.Time  `json:"from"`
	To      *time.Time `json:"to"` // null: still going on
	Detail  string     `json:"detail"`
}

type logView struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Subject string    `json:"subject"`
	State   string    `json:"state"`
	Detail  string    `json:"detail"`
}

func (s *Server) stationPage(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	id := r.PathValue("id")
	var st vetnet.Station
	found := false
	for _, x := range s.o.Stations() {
		if x.ID == id {
			st, found = x, true
		}
	}
	if !found {
		writeError(w, http.StatusNotFound, vetnet.Errorz(vetnet.ENOTFOUND, "没有这个站点", "No such station."), "")
		return
	}
	if !a.Sees(id) {
		s.deny(w, r, a, "station "+id)
		return
	}
	days := 14
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 366 {
			s.badReqs.Inc("days")
			writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "参数 days 应为 1 到 366", "Parameter days must be 1 to 366."), "days")
			return
		}
		days = n
	}
	ctx := r.Context()
	now := s.o.Now()
	today := s.today()
	from, to := today.AddDate(0, 0, -(days-1)), today.AddDate(0, 0, 1)

	stats, err := s.o.Store.StationStats(ctx, today)
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	var p cloud.Presence
	p.Station, p.State = id, cloud.StateNeverSeen
	for _, x := range s.o.Presences() {
		if x.Station == id {
			p = x
		}
	}
	out := stationPageResponse{Station: s.stationView(st, p, stats[id]), Address: st.Address, Contact: st.Contact,
		Days: []historyDay{}, Faults: []faultView{}, Log: []logView{}, Alerts: []alertView{}, Children: []string{}}
	for _, x := range s.o.Stations() {
		if x.Parent == id && a.Sees(x.ID) {
			out.Children = append(out.Children, x.ID)
		}
	}

	counts, err := s.o.Store.CheckInStats(ctx, cloud.StatsQuery{Roots: []string{id}, Exact: true, From: from, To: to,
		GroupBy: []cloud.Dim{cloud.DimDay}})
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	perDay := map[string]int64{}
	for _, c := range counts {
		perDay[c.Day.In(s.o.Location).Format("2006-01-02")] = c.N
	}
	bySvc, err := s.o.Store.CheckInStats(ctx, cloud.StatsQuery{Roots: []string{id}, Exact: true, From: from, To: to,
		GroupBy: []cloud.Dim{cloud.DimService}})
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	svcN := map[vetnet.Service]int64{}
	for _, c := range bySvc {
		svcN[c.Service] = c.N
	}
	for _, sv := range st.OfferedServices() {
		info, _ := sv.Info()
		out.Services = append(out.Services, serviceCount{Service: string(sv), ZH: info.ZH, EN: info.EN, N: svcN[sv]})
	}

	log, err := s.o.Store.StationLog(ctx, id, from, to)
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	if s.o.StationLogPending != nil {
		log = append(log, s.o.StationLogPending(id)...)
	}
	sort.SliceStable(log, func(i, j int) bool { return log[i].At.Before(log[j].At) })

	// Uptime per day from the presence transitions: walk the periods
	// between them and add each to the days it covers.
	type span struct {
		from, to time.Time
		state    string
	}
	var spans []span
	state, since := "", from
	for _, e := range log {
		if e.Kind != cloud.LogPresence {
			continue
		}
		at := e.At
		if at.Before(from) {
			at = from
		}
		if state != "" && at.After(since) {
			spans = append(spans, span{since, at, state})
		}
		state, since = e.State, at
	}
	end := now
	if end.After(to) {
		end = to
	}
	if state != "" && end.After(since) {
		spans = append(spans, span{since, end, state})
	}
	var totalOnline, totalKnown int64
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		dEnd := d.AddDate(0, 0, 1)
		hd := historyDay{Day: d.Format("2006-01-02"), CheckIns: perDay[d.Format("2006-01-02")]}
		var known int64
		for _, sp := range spans {
			a0, a1 := maxTime(sp.from, d), minTime(sp.to, dEnd)
			if !a1.After(a0) {
				continue
			}
			sec := int64(a1.Sub(a0) / time.Second)
			switch cloud.PresenceState(sp.state) {
			case cloud.StateOnline:
				hd.OnlineS += sec
			case cloud.StateStale:
				hd.StaleS += sec
			case cloud.StateOffline:
				hd.OfflineS += sec
			default:
				continue
			}
			known += sec
		}
		hd.UnknownS = int64(dEnd.Sub(d)/time.Second) - known
		if known > 0 {
			hd.Uptime = float64(hd.OnlineS) / float64(known)
		}
		totalOnline += hd.OnlineS
		totalKnown += known
		out.Days = append(out.Days, hd)
	}
	if totalKnown > 0 {
		out.Uptime = float64(totalOnline) / float64(totalKnown)
	}

	// Faults: stale or offline periods, reader faults, a full disk.
	type openFault struct {
		f   faultView
		set bool
	}
	open := map[string]*openFault{}
	closeF := func(key string, at time.Time) {
		if o := open[key]; o != nil && o.set {
			t := at.UTC()
			o.f.To = &t
			out.Faults = append(out.Faults, o.f)
			delete(open, key)
		}
	}
	for _, e := range log {
		key := string(e.Kind) + "/" + e.Subject
		bad := false
		switch e.Kind {
		case cloud.LogPresence:
			bad = e.State == string(cloud.StateStale) || e.State == string(cloud.StateOffline)
		case cloud.LogReader:
			bad = e.State == "fault"
		case cloud.LogDisk, cloud.LogBacklog:
			bad = e.State == "low" || e.State == "high"
		}
		if o := open[key]; o != nil && o.f.State == e.State {
			continue // the same fault goes on
		}
		closeF(key, e.At)
		if bad {
			from := e.At
			open[key] = &openFault{f: faultView{Kind: string(e.Kind), Subject: e.Subject, State: e.State, From: from.UTC(), Detail: e.Detail}, set: true}
		}
	}
	for _, o := range open {
		out.Faults = append(out.Faults, o.f)
	}
	sort.Slice(out.Faults, func(i, j int) bool { return out.Faults[i].From.After(out.Faults[j].From) })
	for i := len(log) - 1; i >= 0 && len(out.Log) < 100; i-- {
		e := log[i]
		out.Log = append(out.Log, logView{At: e.At.UTC(), Kind: string(e.Kind), Subject: e.Subject, State: e.State, Detail: e.Detail})
	}

	ap, err := s.o.Store.Alerts(ctx, cloud.AlertFilter{Stations: []string{id}, Limit: 20})
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	for _, x := range ap.Alerts {
		out.Alerts = append(out.Alerts, s.alertViewOf(x, st))
		if x.State != cloud.AlertResolved {
			out.Station.AlertsOpen++
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
