package e2e_test

import (
	"context"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/vetnettest"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts headless Chromium (Debian's package) for one test.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("Chromium is not installed at %s (scripts/setup.sh installs it): %v", chromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-gpu", true), chromedp.UserDataDir(t.TempDir()),
		// As a browser in the district would be: China's time and language.
		chromedp.Env("TZ=Asia/Shanghai"), chromedp.Flag("lang", "zh-CN"))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelC := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelC(); cancelB(); cancelA() })
	return ctx
}

// TestDashboardLive drives the dashboard in a real browser against a hub
// with two stations that run real agents: sign in, live masked
// check-ins without a reload, a station going offline and coming back,
// filters, exports, and a town administrator refused another town's data.
func TestDashboardLive(t *testing.T) {
	stations, a, b := district(t)
	p := stations[0].ID
	// A second town: what the first town's administrator must not see.
	stations = append(stations,
		vetnet.Station{ID: p + "-town2", Name: "另一镇退役军人服务站", Level: vetnet.LevelTown, Parent: p},
		vetnet.Station{ID: p + "-town2-v", Name: "另一村退役军人服务站", Level: vetnet.LevelVillage, Parent: p + "-town2"})
	h := startHub(t, hubOpts{dir: t.TempDir(), mqttListen: "127.0.0.1:0", stations: stations})
	defer h.Close()
	byID := map[string]vetnet.Station{}
	for _, s := range stations {
		byID[s.ID] = s
	}
	base := "http://" + h.HTTPAddr()
	admin := api(t, h)
	if err := admin.Post(context.Background(), "/api/v1/users", map[string]any{"name": "town1", "role": "town_admin",
		"station": p + "-town", "password": adminPassword}, nil); err != nil {
		t.Fatal(err)
	}
	dirA := t.TempDir()
	agA, cA := startAgentIn(t, byID[a], "tcp://"+h.MQTTAddr(), dirA)
	_, cB := startAgent(t, byID[b], "tcp://"+h.MQTTAddr())
	kA, kB := newKiosk(t, cA, vetnet.ServiceBenefits), newKiosk(t, cB, vetnet.ServicePostServices)

	ctx := browser(t)
	signIn(t, ctx, base, "admin", adminPassword)
	if _, err := chromedp.Run(ctx, chromedp.WaitVisible("#st-"+a)); err != nil {
		t.Fatal(err)
	}
	// A marker that a reload would wipe.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.__noReload = 7`)); err != nil {
		t.Fatal(err)
	}
	noReload := func() {
		t.Helper()
		marker, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.__noReload || 0`))
		if err != nil || marker != 7 {
			t.Fatalf("the page reloaded (marker %d, %v)", marker, err)
		}
	}
	for _, st := range []string{a, b} {
		waitText(t, ctx, "#st-"+st, "在线", "Online")
	}

	// Live check-ins, masked.
	r := rand.New(rand.NewPCG(11, 12))
	var people []vetnet.Visitor
	for i := 0; i < 3; i++ {
		for _, k := range []*kiosk{kA, kB} {
			v := vetnettest.Veteran(r)
			people = append(people, v)
			k.tap(localapi.SimTapRequest{IDNumber: v.IDNumber, Name: v.Name})
		}
	}
	rows := func() int {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#checkins tr[data-id]').length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for rows() < len(people) {
		if time.Now().After(deadline) {
			t.Fatalf("the page shows %d of %d check-ins", rows(), len(people))
		}
		time.Sleep(200 * time.Millisecond)
	}
	noReload()
	table := waitText(t, ctx, "#checkins", byID[a].Name, byID[b].Name)
	page, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range people {
		if !strings.Contains(table, vetnet.MaskIDNumber(p.IDNumber)) {
			t.Errorf("masked ID %s not on the page", vetnet.MaskIDNumber(p.IDNumber))
		}
		if strings.Contains(page, p.IDNumber) || (len([]rune(p.Name)) > 1 && strings.Contains(page, p.Name)) {
			t.Errorf("the page shows personal data unmasked")
		}
	}

	// Station A goes offline (its agent stops) and comes back.
	if err := agA.Close(); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#st-"+a, "离线", "Offline")
	waitText(t, ctx, "#sum-offline", "1")
	_, cA = startAgentIn(t, byID[a], "tcp://"+h.MQTTAddr(), dirA)
	waitText(t, ctx, "#st-"+a, "在线", "Online")
	noReload()

	// Filters: a search, then a state.
	visible := func() []string {
		ids, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#tree .station')].map(e => e.dataset.id)`))
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const q = document.getElementById('f-q'); q.value = '驿站'; q.dispatchEvent(new Event('input')); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	if ids := visible(); len(ids) != 1 || ids[0] != b {
		t.Fatalf("search 驿站 shows %v", ids)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const q = document.getElementById('f-q'); q.value = ''; q.dispatchEvent(new Event('input'));
		const s = document.getElementById('f-state'); s.value = 'never_seen'; s.dispatchEvent(new Event('change')); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	if ids := visible(); len(ids) != 4 { // district, town, town2, town2-v
		t.Fatalf("never seen: %v", ids)
	}

	// Exports of the check-ins of A, as on the check-ins page.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/checkins?station="+a), chromedp.WaitVisible("#checkin-list")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#checkins-total", "共 3 条")
	csv, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch('/api/v1/export/checkins?format=csv&station=`+a+`').then(r => r.text())`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	// (text() drops the byte order mark: it is read from the bytes below.)
	if strings.Count(csv, "\n") != 4 || !strings.Contains(csv, "********") || !strings.HasPrefix(csv, "签到时间 At,") {
		t.Fatalf("CSV export:\n%s", csv)
	}
	bom, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`fetch('/api/v1/export/checkins?format=csv&station=`+a+`').then(r => r.arrayBuffer()).then(b => [...new Uint8Array(b).slice(0, 3)])`,
		chromedp.EvalAwaitPromise))
	if err != nil || len(bom) != 3 || bom[0] != 0xEF || bom[1] != 0xBB || bom[2] != 0xBF {
		t.Fatalf("the CSV starts with %v, not a UTF-8 byte order mark (%v)", bom, err)
	}
	for _, p := range people {
		if strings.Contains(csv, p.IDNumber) {
			t.Fatal("the export shows an ID number unmasked")
		}
	}
	magic, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch('/api/v1/export/checkins?format=xlsx&station=`+a+`').then(r => r.arrayBuffer()).then(b => String.fromCharCode(...new Uint8Array(b).slice(0, 2)))`,
		chromedp.EvalAwaitPromise))
	if err != nil || magic != "PK" {
		t.Fatalf("XLSX export starts with %q (%v)", magic, err)
	}
	var audit struct {
		Entries []struct{ Target string } `json:"entries"`
	}
	if err := admin.Get(context.Background(), "/api/v1/audit?action=export", &audit); err != nil || len(audit.Entries) != 3 {
		t.Fatalf("audited exports: %+v %v", audit, err)
	}

	// The town administrator sees the town, not the post nor the other town.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/"), chromedp.WaitVisible("#signout"), chromedp.Click("#signout"), chromedp.WaitVisible("#signin-user")); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, base, "town1", adminPassword)
	if _, err := chromedp.Run(ctx, chromedp.WaitVisible("#st-"+a)); err != nil {
		t.Fatal(err)
	}
	if ids := visible(); len(ids) != 2 {
		t.Fatalf("the town administrator sees %v", ids)
	}
	code, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch('/api/v1/checkins?station=`+b+`').then(r => r.status)`,
		chromedp.EvalAwaitPromise))
	if err != nil || code != 403 {
		t.Fatalf("another station's check-ins: HTTP %d (%v)", code, err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/station/"+p+"-town2"), chromedp.WaitVisible("#view .bad")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#view", "无权访问")
	// Live: a check-in at the post does not reach the town's screen.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/"), chromedp.WaitVisible("#checkins")); err != nil {
		t.Fatal(err)
	}
	kA = newKiosk(t, cA, vetnet.ServiceBenefits)
	before := rows()
	kB.checkIn()
	last := kA.checkIn()
	waitText(t, ctx, "#checkins", last.QueueNo)
	if got := rows(); got != before+1 {
		t.Fatalf("the town's screen got %d new check-ins, want 1 (its own)", got-before)
	}
}
