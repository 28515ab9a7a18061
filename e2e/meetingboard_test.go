package e2e_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/hub"
)

// TestMeetingBoard drives the live roll-call board in headless Chromium:
// a meeting of five village stations under way, one online from the
// start, the others absent; a station joining late and a roll-call move
// the board without a reload; a follow-up of an absent station is
// recorded from the call-back list and audited. With
// VETNET_MEETING_SCREENSHOTS set to a directory (scripts/screenshots.sh
// sets docs/meetings) it saves the pages.
func TestMeetingBoard(t *testing.T) {
	stations, _ := rosterDistrict(t)
	t0 := time.Now().UTC().Truncate(time.Minute)
	clk := &rosterClock{at: t0}
	h, err := hub.New(hub.Config{
		DataDir: t.TempDir(), MQTTListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0", Stations: stations,
		HeartbeatS: 3600, Logf: t.Logf, AdminPassword: adminPassword, Now: clk.Now,
		VideoBaseURL: "https://meet.district.lan", MeetingGrace: 5 * time.Minute, MeetingsEvery: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	broker := "tcp://" + h.MQTTAddr()
	a := &rosterStation{st: stations[2], dir: t.TempDir()}
	b := &rosterStation{st: stations[3], dir: t.TempDir()}
	a.start(t, clk, broker)
	eventually(t, 20*time.Second, "a online", func() bool { p, _ := h.Presence(a.st.ID); return p.State == cloud.StateOnline })

	cl := api(t, h)
	ctx := context.Background()
	start, end := t0.Add(30*time.Minute), t0.Add(90*time.Minute)
	var created struct {
		Meetings []struct{ ID string } `json:"meetings"`
	}
	if err := cl.Post(ctx, "/api/v1/meetings", map[string]any{
		"title": "三季度就业政策培训", "kind": "training", "start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339),
		"invite": map[string]any{"levels": []string{"village"}, "under": stations[1].ID}, "roles": []string{"head"}, "veterans": true,
	}, &created); err != nil {
		t.Fatal(err)
	}
	mid := created.Meetings[0].ID
	eventually(t, 20*time.Second, "a knows the meeting", func() bool { return a.knows(mid, false) })
	clk.set(start.Add(10 * time.Minute))

	out := os.Getenv("VETNET_MEETING_SCREENSHOTS")
	bctx := browser(t)
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1500, 1000)); err != nil {
		t.Fatal(err)
	}
	shot := func(name string) {
		if out == "" {
			return
		}
		time.Sleep(300 * time.Millisecond)
		img, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, name+".png"), img, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base := "http://" + h.HTTPAddr()
	signIn(t, bctx, base, "admin", adminPassword)

	// The list, then the meeting's page.
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/#/meetings")); err != nil {
		t.Fatal(err)
	}
	waitText(t, bctx, "#view", "三季度就业政策培训", "进行中", "Live")
	shot("meetings")
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/#/meeting/"+mid)); err != nil {
		t.Fatal(err)
	}
	waitText(t, bctx, "#m-link", "https://meet.district.lan/vetnet-"+lower(mid))
	waitText(t, bctx, "#b-joined", "1 / 5")
	waitText(t, bctx, `#roster-table tr[data-station="`+a.st.ID+`"]`, "✓", "已入会", "Joined")
	waitText(t, bctx, `#roster-table tr[data-station="`+b.st.ID+`"]`, "✕", "缺席", "Absent")
	waitText(t, bctx, "#callback", b.st.Name, "0519-80001001")
	waitText(t, bctx, "#by-town", "测试镇退役军人服务站", "1 / 5")

	// b connects now: late, on the board without a reload; a's head
	// answers the roll-call: the staff count moves.
	b.start(t, clk, broker)
	waitText(t, bctx, `#roster-table tr[data-station="`+b.st.ID+`"]`, "◔", "迟到", "Late")
	waitText(t, bctx, "#b-joined", "2 / 5")
	a.staffRollCall(t, mid)
	waitText(t, bctx, `#roster-table tr[data-station="`+a.st.ID+`"] td:nth-child(5)`, "1")
	waitText(t, bctx, "#b-people", "1 + 0")
	shot("live-board")

	// A follow-up of an absent station, from the call-back list.
	c := stations[4].ID
	sel := `#callback tr[data-station="` + c + `"]`
	if err := chromedp.Do(bctx,
		chromedp.SetValue(sel+" select.fu-outcome", "no_answer"),
		chromedp.SetValue(sel+" input.fu-note", "电话无人接听，明日再打"),
		chromedp.Click(sel+` button[type="submit"]`),
	); err != nil {
		t.Fatal(err)
	}
	waitText(t, bctx, sel, "无人接听", "电话无人接听，明日再打", "admin")
	var audit struct {
		Entries []struct {
			Action string `json:"action"`
			Target string `json:"target"`
		} `json:"entries"`
	}
	if err := cl.Get(ctx, "/api/v1/audit?action=meeting_followup", &audit); err != nil {
		t.Fatal(err)
	}
	if len(audit.Entries) != 1 || audit.Entries[0].Target != "meeting "+mid+" station "+c {
		t.Fatalf("audit %+v", audit.Entries)
	}
	shot("meeting-page")

	// The form: a new weekly series.
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/#/meetings/new")); err != nil {
		t.Fatal(err)
	}
	waitText(t, bctx, "#meeting-form", "会议名称")
	if err := chromedp.Do(bctx,
		chromedp.SetValue("#m-title", "每周督查督办例会"),
		chromedp.SetValue("#m-kind", "supervision"),
		chromedp.SetValue("#m-freq", "weekly"),
		chromedp.SetValue("#m-count", "3"),
	); err != nil {
		t.Fatal(err)
	}
	shot("meeting-form")
	if err := chromedp.Do(bctx, chromedp.Click("#m-save")); err != nil {
		t.Fatal(err)
	}
	waitText(t, bctx, "#m-h", "每周督查督办例会")
	var list struct {
		Meetings []struct {
			Title    string `json:"title"`
			SeriesID string `json:"series_id"`
		} `json:"meetings"`
	}
	if err := cl.Get(ctx, "/api/v1/meetings", &list); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range list.Meetings {
		if m.Title == "每周督查督办例会" && m.SeriesID != "" {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d meetings of the series, want 3", n)
	}
}
