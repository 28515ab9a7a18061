package web

import (
	"net/http"
	"sort"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
)

// GET /api/v1/stats: check-ins by day, hour, service, station and level,
// and ratings by station and service, over days [from, to), from the
// store's aggregates.

type statsResponse struct {
	From      string          `json:"from"` // first day
	To        string          `json:"to"`   // last day (inclusive)
	Under     string          `json:"under"`
	Service   string          `json:"service"`
	Total     int64           `json:"total"`
	ByDay     []dayCount      `json:"by_day"`  // every day of the range, zeros included
	ByHour    []hourCount     `json:"by_hour"` // 0..23
	ByService []serviceCount  `json:"by_service"`
	ByStation []stationCount  `json:"by_station"` // descending
	ByLevel   []levelCount    `json:"by_level"`
	Ratings   ratingsResponse `json:"ratings"`
}

type dayCount struct {
	Day string `json:"day"`
	N   int64  `json:"n"`
}

type hourCount struct {
	Hour int   `json:"hour"`
	N    int64 `json:"n"`
}

type serviceCount struct {
	Service string `json:"service"`
	ZH      string `json:"zh"`
	EN      string `json:"en"`
	N       int64  `json:"n"`
}

type stationCount struct {
	Station string `json:"station"`
	Name    string `json:"name"`
	NameEN  string `json:"name_en"`
	Level   string `json:"level"`
	N       int64  `json:"n"`
}

type levelCount struct {
	Level    string `json:"level"`
	ZH       string `json:"zh"`
	EN       string `json:"en"`
	Stations int    `json:"stations"`
	N        int64  `json:"n"`
}

type ratingsResponse struct {
	ratingSummary
	ByStation []ratingGroup `json:"by_station"`
	ByService []ratingGroup `json:"by_service"`
}

type ratingSummary struct {
	N       int64    `json:"n"`
	Average float64  `json:"average"` // 0 when none
	Bad     int64    `json:"bad"`     // ratings of 1 or 2
	Dist    [5]int64 `json:"dist"`    // ratings of 1 .. 5
}

type ratingGroup struct {
	Key string `json:"key"` // station ID or service key
	ZH  string `json:"zh"`
	EN  string `json:"en"`
	ratingSummary
}

func (r *ratingSummary) add(rating vetnet.Rating, n int64) {
	if !rating.Valid() {
		return
	}
	r.Dist[rating-1] += n
	r.N += n
	if rating.Bad() {
		r.Bad += n
	}
}

func (r *ratingSummary) finish() {
	if r.N == 0 {
		return
	}
	var sum int64
	for i, n := range r.Dist {
		sum += int64(i+1) * n
	}
	r.Average = float64(sum) / float64(r.N)
}

// statsQuery reads from, to, under and service and the person's scope.
func (s *Server) statsQuery(w http.ResponseWriter, r *http.Request, a *reqAuth) (cloud.StatsQuery, time.Time, time.Time, bool) {
	q := r.URL.Query()
	today := s.today()
	from, to := today.AddDate(0, 0, -29), today.AddDate(0, 0, 1)
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		d, err := time.ParseInLocation("2006-01-02", v, s.o.Location)
		if err != nil {
			s.badReqs.Inc(p.name)
			writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "参数 "+p.name+" 应为日期，如 2026-11-26",
				"Parameter "+p.name+" must be a date such as 2026-11-26."), p.name)
			return cloud.StatsQuery{}, from, to, false
		}
		*p.dst = d
	}
	if q.Get("to") != "" {
		to = to.AddDate(0, 0, 1) // the last day is included
	}
	if !from.Before(to) || to.Sub(from) > 3*366*24*time.Hour {
		s.badReqs.Inc("to")
		writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "日期范围无效(最长三年)",
			"The date range is not valid (at most three years)."), "to")
		return cloud.StatsQuery{}, from, to, false
	}
	roots, exact := a.StatsScope()
	sq := cloud.StatsQuery{Roots: roots, Exact: exact, From: from, To: to}
	if v := q.Get("under"); v != "" {
		if !a.Sees(v) {
			s.deny(w, r, a, "stats under "+v)
			return sq, from, to, false
		}
		sq.Roots = []string{v}
	}
	if v := q.Get("service"); v != "" {
		sv, err := vetnet.ParseService(v)
		if err != nil {
			s.badReqs.Inc("service")
			writeError(w, http.StatusBadRequest, err, "service")
			return sq, from, to, false
		}
		sq.Service = sv
	}
	return sq, from, to, true
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	sq, from, to, ok := s.statsQuery(w, r, a)
	if !ok {
		return
	}
	ctx := r.Context()
	group := func(dims ...cloud.Dim) cloud.StatsQuery { q := sq; q.GroupBy = dims; return q }
	out := statsResponse{From: from.Format("2006-01-02"), To: to.AddDate(0, 0, -1).Format("2006-01-02"),
		Under: r.URL.Query().Get("under"), Service: string(sq.Service), ByHour: make([]hourCount, 24)}
	// One query gives the days, the services and the total.
	byDaySvc, err := s.o.Store.CheckInStats(ctx, group(cloud.DimDay, cloud.DimService))
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	days := map[string]int64{}
	svcN := map[vetnet.Service]int64{}
	for _, row := range byDaySvc {
		days[row.Day.In(s.o.Location).Format("2006-01-02")] += row.N
		svcN[row.Service] += row.N
		out.Total += row.N
	}
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		k := d.Format("2006-01-02")
		out.ByDay = append(out.ByDay, dayCount{Day: k, N: days[k]})
	}
	byHour, err := s.o.Store.CheckInStats(ctx, group(cloud.DimHour))
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	for i := range out.ByHour {
		out.ByHour[i].Hour = i
	}
	for _, row := range byHour {
		if row.Hour >= 0 && row.Hour < 24 {
			out.ByHour[row.Hour].N = row.N
		}
	}
	for _, sv := range vetnet.Services {
		info, _ := sv.Info()
		out.ByService = append(out.ByService, serviceCount{Service: string(sv), ZH: info.ZH, EN: info.EN, N: svcN[sv]})
	}
	byStation, err := s.o.Store.CheckInStats(ctx, group(cloud.DimStation))
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	stN := map[string]int64{}
	for _, row := range byStation {
		stN[row.Station] = row.N
	}
	inScope := map[string]bool{}
	if sq.Roots != nil {
		for _, root := range sq.Roots {
			if sq.Exact {
				inScope[root] = true
				continue
			}
			for _, id := range cloud.Subtree(s.o.Stations(), root) {
				inScope[id] = true
			}
		}
	}
	levels := map[vetnet.Level]*levelCount{}
	for _, l := range []vetnet.Level{vetnet.LevelDistrict, vetnet.LevelTown, vetnet.LevelVillage, vetnet.LevelPost} {
		levels[l] = &levelCount{Level: string(l), ZH: l.Label("zh"), EN: l.Label("en")}
	}
	names := map[string]vetnet.Station{}
	for _, st := range s.o.Stations() {
		names[st.ID] = st
		if (sq.Roots != nil && !inScope[st.ID]) || !a.Sees(st.ID) {
			continue
		}
		out.ByStation = append(out.ByStation, stationCount{Station: st.ID, Name: st.Name, NameEN: st.NameEN, Level: string(st.Level), N: stN[st.ID]})
		if lc := levels[st.Level]; lc != nil {
			lc.Stations++
			lc.N += stN[st.ID]
		}
	}
	sort.SliceStable(out.ByStation, func(i, j int) bool { return out.ByStation[i].N > out.ByStation[j].N })
	for _, l := range []vetnet.Level{vetnet.LevelDistrict, vetnet.LevelTown, vetnet.LevelVillage, vetnet.LevelPost} {
		out.ByLevel = append(out.ByLevel, *levels[l])
	}

	// Ratings by station (running totals) and by service (scopes): two
	// small answers rather than every (station, service, rating).
	rs, err := s.o.Store.RatingStats(ctx, group(cloud.DimStation, cloud.DimRating))
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	perStation := map[string]*ratingGroup{}
	perService := map[vetnet.Service]*ratingGroup{}
	for _, row := range rs {
		if !a.Sees(row.Station) {
			continue
		}
		out.Ratings.add(row.Rating, row.N)
		g := perStation[row.Station]
		if g == nil {
			st := names[row.Station]
			g = &ratingGroup{Key: row.Station, ZH: st.Name, EN: st.NameEN}
			perStation[row.Station] = g
		}
		g.add(row.Rating, row.N)
	}
	rsv, err := s.o.Store.RatingStats(ctx, group(cloud.DimService, cloud.DimRating))
	if err != nil {
		writeError(w, statusOf(err), err, "")
		return
	}
	for _, row := range rsv {
		sg := perService[row.Service]
		if sg == nil {
			info, _ := row.Service.Info()
			sg = &ratingGroup{Key: string(row.Service), ZH: info.ZH, EN: info.EN}
			perService[row.Service] = sg
		}
		sg.add(row.Rating, row.N)
	}
	out.Ratings.finish()
	out.Ratings.ByStation, out.Ratings.ByService = []ratingGroup{}, []ratingGroup{}
	for _, g := range perStation {
		g.finish()
		out.Ratings.ByStation = append(out.Ratings.ByStation, *g)
	}
	for _, g := range perService {
		g.finish()
		out.Ratings.ByService = append(out.Ratings.ByService, *g)
	}
	// Worst first: what needs attention.
	worst := func(gs []ratingGroup) {
		sort.Slice(gs, func(i, j int) bool {
			if gs[i].Average != gs[j].Average {
				return gs[i].Average < gs[j].Average
			}
			return gs[i].Key < gs[j].Key
		})
	}
	worst(out.Ratings.ByStation)
	worst(out.Ratings.ByService)
	writeJSON(w, http.StatusOK, out)
}
