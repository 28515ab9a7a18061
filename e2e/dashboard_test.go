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
		chromedp.Flag("disable-gpu", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelC := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelC(); cancelB(); cancelA() })
	return ctx
}

// TestDashboardLive opens the dashboard in a real browser, then makes
// check-ins at two stations: they appear on the page without a reload,
// masked, and the stations show online.
func TestDashboardLive(t *testing.T) {
	stations, a, b := district(t)
	h := startHub(t, hubOpts{dir: t.TempDir(), mqttListen: "127.0.0.1:0", stations: stations})
	defer h.Close()
	byID := map[string]vetnet.Station{}
	for _, s := range stations {
		byID[s.ID] = s
	}
	_, cA := startAgent(t, byID[a], "tcp://"+h.MQTTAddr())
	_, cB := startAgent(t, byID[b], "tcp://"+h.MQTTAddr())
	kA, kB := newKiosk(t, cA, vetnet.ServiceBenefits), newKiosk(t, cB, vetnet.ServicePostServices)

	ctx := browser(t)
	if _, err := chromedp.Run(ctx, chromedp.Navigate("http://"+h.HTTPAddr()+"/")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.WaitVisible("#st-"+a)); err != nil {
		t.Fatal(err)
	}
	// A marker that a reload would wipe.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.__noReload = 7`)); err != nil {
		t.Fatal(err)
	}

	r := rand.New(rand.NewPCG(11, 12))
	var people []vetnet.Visitor
	for i := 0; i < 3; i++ {
		for _, k := range []*kiosk{kA, kB} {
			v := vetnettest.Veteran(r)
			people = append(people, v)
			k.tap(localapi.SimTapRequest{IDNumber: v.IDNumber, Name: v.Name})
		}
	}

	rows := 0
	deadline := time.Now().Add(30 * time.Second)
	for rows < len(people) {
		if time.Now().After(deadline) {
			t.Fatalf("the page shows %d of %d check-ins", rows, len(people))
		}
		time.Sleep(200 * time.Millisecond)
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#checkins tr[data-id]').length`))
		if err != nil {
			t.Fatal(err)
		}
		rows = n
	}
	marker, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.__noReload || 0`))
	if err != nil || marker != 7 {
		t.Fatalf("the page reloaded (marker %d, %v)", marker, err)
	}

	table, err := chromedp.Run(ctx, chromedp.Text("#checkins"))
	if err != nil {
		t.Fatal(err)
	}
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
	for _, st := range []string{a, b} {
		if !strings.Contains(table, byID[st].Name) {
			t.Errorf("no check-in of %s on the page", st)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			txt, err := chromedp.Run(ctx, chromedp.Text("#st-"+st))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(txt, "在线") && strings.Contains(txt, "Online") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("station %s not shown online: %q", st, txt)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}
