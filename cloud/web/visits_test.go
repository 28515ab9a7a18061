package web

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/storetest"
)

func TestVisitsAndDutyAPI(t *testing.T) {
	e := newEnv(t)
	r := rand.New(rand.NewPCG(41, 42))
	cs := storetest.NewCheckIns(t, r, "st-d-t1-v1", 1000, 6, storetest.T0, time.Minute)
	vs := storetest.NewVisits(t, r, cs, "xb-0107")
	ds := storetest.NewDuty(t, r, "st-d-t1-v1", "xb-0107", 3, storetest.T0)
	if _, err := e.store.Save(context.Background(), cloud.Batch{CheckIns: cs, Visits: vs, Duty: ds}); err != nil {
		t.Fatal(err)
	}
	seen, cursor := 0, ""
	for {
		q := "/api/v1/visits?station=st-d-t1-v1&limit=5"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		rec, body := get(t, e.srv, q)
		if rec.Code != 200 {
			t.Fatalf("status %d: %v", rec.Code, body)
		}
		for _, x := range body["visits"].([]any) {
			m := x.(map[string]any)
			seen++
			if m["action"] == "transferred" && (m["to_service"] == "" || m["to_queue_no"] == "" || m["action_zh"] != "转办") {
				t.Fatalf("transfer shown as %v", m)
			}
			if m["counter"] != "1号窗口" || m["staff"] != "xb-0107" || m["station_name"] == "" || m["service_zh"] == "" {
				t.Fatalf("visit shown as %v", m)
			}
		}
		cursor, _ = body["next"].(string)
		if cursor == "" {
			break
		}
	}
	if seen != len(vs) {
		t.Fatalf("%d visit events listed, want %d", seen, len(vs))
	}
	rec, body := get(t, e.srv, "/api/v1/duty?station=st-d-t1-v1")
	if rec.Code != 200 {
		t.Fatalf("duty: %d %v", rec.Code, body)
	}
	duty := body["duty"].([]any)
	if len(duty) != 3 || duty[0].(map[string]any)["on"] != true || duty[1].(map[string]any)["on"] != false {
		t.Fatalf("duty %v", duty)
	}
	for _, bad := range []string{"/api/v1/visits?order=seq&station=st-d-t1-v1", "/api/v1/visits?cursor=%25%25", "/api/v1/duty?limit=0",
		"/api/v1/duty?station=Bad", "/api/v1/visits?from=yesterday"} {
		if rec, body := get(t, e.srv, bad); rec.Code != 400 || body["error"] == nil {
			t.Errorf("%s: %d %v", bad, rec.Code, body)
		}
	}
	// A check-in's sub-choice shows with its labels.
	rec, body = get(t, e.srv, "/api/v1/checkins?station=st-d-t1-v1&limit=500")
	found := false
	for _, x := range body["checkins"].([]any) {
		m := x.(map[string]any)
		if m["detail"] != "" {
			found = true
			sv := vetnet.Service(m["service"].(string))
			if !sv.ValidDetail(m["detail"].(string)) || m["detail_zh"] == "" || m["detail_en"] == "" {
				t.Fatalf("detail shown as %v", m)
			}
		}
	}
	if rec.Code != 200 || !found {
		t.Fatalf("no check-in with a detail: %d", rec.Code)
	}
}
