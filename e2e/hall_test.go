package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/hub"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

// allVisits reads every visit and duty event the hub holds for station.
func allVisits(t *testing.T, h *hub.Hub, station string) ([]vetnet.VisitEvent, []vetnet.DutyEvent) {
	t.Helper()
	ctx := context.Background()
	var vs []vetnet.VisitEvent
	f := cloud.CheckInFilter{Station: station, Limit: cloud.MaxLimit}
	for {
		p, err := h.Store().VisitEvents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, p.Visits...)
		if p.Next == "" {
			break
		}
		f.Cursor = p.Next
	}
	dp, err := h.Store().DutyEvents(ctx, cloud.CheckInFilter{Station: station, Limit: cloud.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return vs, dp.Duty
}

// TestHallWhileHubDown: visitors check in at a station; while the hub is
// down, staff sign on duty, call the next number, mark it served, mark a
// no-show and transfer a visitor, and more visitors check in. When the hub
// is back, every check-in (with its sub-choice), every step of the queue
// and the duty change reach it exactly once.
func TestHallWhileHubDown(t *testing.T) {
	stations, village, _ := district(t)
	hash, err := vetnet.HashPIN("2468")
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]vetnet.Station{}
	for i := range stations {
		if stations[i].ID == village {
			stations[i].Staff = []vetnet.Staff{{ID: "xb-0107", Name: "王立新", Role: vetnet.RoleHead, PINHash: hash}}
		}
		byID[stations[i].ID] = stations[i]
	}
	dir, addr := t.TempDir(), freeAddr(t)
	h := startHub(t, hubOpts{dir: dir, mqttListen: addr, stations: stations})
	ag, c := startAgent(t, byID[village], "tcp://"+addr)
	ctx := context.Background()
	k := newKiosk(t, c, vetnet.ServiceBenefits)
	var ids []string
	checkIn := func(detail string) localapi.CheckInResponse {
		t.Helper()
		k.detail = detail
		r := k.checkIn()
		ids = append(ids, r.ID)
		return r
	}
	for i := 0; i < 3; i++ {
		checkIn("application")
	}
	eventually(t, 30*time.Second, "the first check-ins acknowledged", func() bool { return outboxEmpty(ag) })
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}

	// The hub is down: the hall works on.
	sess, err := c.StaffLogin(ctx, localapi.StaffLoginRequest{StaffID: "xb-0107", PIN: "2468"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetDuty(ctx, localapi.DutyRequest{StaffSession: sess.Session, On: true}); err != nil {
		t.Fatal(err)
	}
	call := func() localapi.Ticket {
		t.Helper()
		tk, err := c.Call(ctx, localapi.CallRequest{StaffSession: sess.Session, Service: "benefits", Counter: "1号窗口"})
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	first := call()
	if first.CheckInID != ids[0] || first.QueueNo != "B001" {
		t.Fatalf("first call %+v", first)
	}
	if _, err := c.Served(ctx, localapi.TicketAction{StaffSession: sess.Session, CheckInID: first.CheckInID}); err != nil {
		t.Fatal(err)
	}
	second := call()
	if _, err := c.NoShow(ctx, localapi.TicketAction{StaffSession: sess.Session, CheckInID: second.CheckInID}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Transfer(ctx, localapi.TransferRequest{StaffSession: sess.Session, CheckInID: ids[2], Service: "legal_aid"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		checkIn("")
	}
	// 2 check-ins, 5 queue steps and 1 duty change wait for the hub.
	if d := ag.Status().Outbox.Depth; d != 8 {
		t.Fatalf("outbox depth during the outage = %d, want 8", d)
	}
	if l, err := c.Visitors(ctx, sess.Session, ""); err != nil || len(l.Visitors) != 5 {
		t.Fatalf("today's visitors offline: %d, %v", len(l.Visitors), err)
	}

	h = startHub(t, hubOpts{dir: dir, mqttListen: addr, stations: stations})
	defer h.Close()
	eventually(t, 60*time.Second, "the outbox to drain after the outage", func() bool { return outboxEmpty(ag) })
	exactlyOnce(t, h, village, ids)
	vs, ds := allVisits(t, h, village)
	actions := map[vetnet.VisitAction]int{}
	seen := map[string]bool{}
	for _, v := range vs {
		if seen[v.ID] {
			t.Fatalf("visit event %s stored twice", v.ID)
		}
		seen[v.ID] = true
		actions[v.Action]++
		if v.Staff != "xb-0107" {
			t.Fatalf("visit event without its staff member: %+v", v)
		}
	}
	if len(vs) != 5 || actions[vetnet.VisitCalled] != 2 || actions[vetnet.VisitServed] != 1 || actions[vetnet.VisitNoShow] != 1 ||
		actions[vetnet.VisitTransferred] != 1 {
		t.Fatalf("visit events at the hub: %v", actions)
	}
	if len(ds) != 1 || !ds[0].On || ds[0].Staff != "xb-0107" {
		t.Fatalf("duty at the hub: %+v", ds)
	}
	page, err := h.Store().CheckIns(ctx, cloud.CheckInFilter{Station: village, Order: cloud.OrderSeq})
	if err != nil || len(page.CheckIns) != 5 || page.CheckIns[0].Detail != "application" || page.CheckIns[4].Detail != "" {
		t.Fatalf("check-ins at the hub: %+v %v", page.CheckIns, err)
	}
}
