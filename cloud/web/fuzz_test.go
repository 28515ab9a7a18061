package web

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// fuzzRoutes are the requests FuzzAPI sends its input to: a body for the
// POST routes, a query string for the GET routes.
var fuzzRoutes = []struct {
	method, path string
	unmasks      bool // the answer may hold full personal data (audited)
}{
	{"POST", "/api/v1/session", false},
	{"POST", "/api/v1/checkins/{id}/unmask", true},
	{"POST", "/api/v1/users", false},
	{"POST", "/api/v1/people/export", true},
	{"POST", "/api/v1/alerts/1/ack", false},
	{"GET", "/api/v1/checkins?", false},
	{"GET", "/api/v1/stats?", false},
	{"GET", "/api/v1/feedback?", false},
	{"GET", "/api/v1/audit?", false},
	{"GET", "/api/v1/export/checkins?format=csv&", false},
	{"GET", "/api/v1/stations/st-d-t1-v1?", false},
}

// FuzzAPI sends any body or query to the hub's API as the district
// administrator: no answer is a server error (5xx) or a panic, every
// refusal is JSON, and no answer but an audited unmasking or a person's
// export shows a full ID number.
func FuzzAPI(f *testing.F) {
	e := newEnv(f)
	for i := range fuzzRoutes {
		f.Add(uint8(i), `{"reason":"x"}`)
		f.Add(uint8(i), `{"id_number":"`+e.cs[0].Visitor.IDNumber+`","reason":"x"}`)
		f.Add(uint8(i), "from=2026-11-01&to=2026-11-30&group=day,service&limit=5&station=st-d-t1-v1")
		f.Add(uint8(i), `{"user":"admin","password":"`+testPassword+`"}`)
	}
	f.Fuzz(func(t *testing.T, route uint8, input string) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		path := strings.Replace(rt.path, "{id}", e.cs[0].ID, 1)
		var r = httptest.NewRequest(rt.method, "/", nil)
		if rt.method == "POST" {
			r = httptest.NewRequest("POST", path, strings.NewReader(input))
		} else {
			r = httptest.NewRequest("GET", "/", nil)
			r.URL.Path, r.URL.RawQuery = strings.Split(path, "?")[0], strings.TrimPrefix(path[strings.Index(path, "?")+1:]+input, "&")
		}
		r.Header.Set("Authorization", "Bearer "+e.token)
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, r)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", rt.method, path, input, rec.Code, rec.Body)
		}
		if rec.Code >= 400 && !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("%s %s: refusal %d is not JSON", rt.method, path, rec.Code)
		}
		if !rt.unmasks {
			body := rec.Body.String()
			for _, c := range e.cs {
				if strings.Contains(body, c.Visitor.IDNumber) {
					t.Fatalf("%s %s %q: a full ID number in the answer", rt.method, path, input)
				}
			}
		}
	})
}
