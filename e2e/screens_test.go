package e2e_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vetnet/vetnet/cloud/web"
)

// signIn signs user in through the page's form and waits for the
// navigation.
func signIn(t *testing.T, ctx context.Context, base, user, password string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible("#signin-user"),
		chromedp.SetValue("#signin-user", user),
		chromedp.SetValue("#signin-password", password),
		chromedp.Click(`#signin-form button[type="submit"]`),
		chromedp.WaitVisible("#nav"),
	); err != nil {
		t.Fatalf("sign in as %s: %v", user, err)
	}
}

// waitText waits until the element's text contains all of want.
func waitText(t *testing.T, ctx context.Context, sel string, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		txt, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const e = document.querySelector(`+jsString(sel)+`); return e ? e.innerText : ""; })()`))
		if err != nil {
			t.Fatal(err)
		}
		ok := true
		for _, w := range want {
			if !strings.Contains(txt, w) {
				ok = false
			}
		}
		if ok {
			return txt
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not show %q: %q", sel, want, txt)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// TestDashboardPages opens every page of the dashboard on a district with
// two months of data, as a district administrator, and checks what each
// shows. With VETNET_SCREENSHOTS set to a directory (scripts/screenshots.sh
// sets docs/dashboard) it saves a screenshot of each.
func TestDashboardPages(t *testing.T) {
	sc := newShowcase(t, "show")
	base := "http://" + sc.h.HTTPAddr()
	out := os.Getenv("VETNET_SCREENSHOTS")
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1600, 1000)); err != nil {
		t.Fatal(err)
	}
	shot := func(name string, full bool) {
		if out == "" {
			return
		}
		time.Sleep(300 * time.Millisecond) // fonts and the last render
		act := chromedp.CaptureScreenshot()
		if full {
			act = chromedp.FullScreenshot(100)
		}
		b, err := chromedp.Run(ctx, act)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, name+".png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	signIn(t, ctx, base, "admin", adminPassword)

	// Some history for the audit log: an unmasking, an export, a refusal.
	api := api(t, sc.h)
	var page struct {
		CheckIns []struct{ ID string } `json:"checkins"`
	}
	if err := api.Get(context.Background(), "/api/v1/checkins?limit=1&station="+sc.district+"-hutang", &page); err != nil || len(page.CheckIns) != 1 {
		t.Fatalf("check-ins: %v", err)
	}
	if err := api.Post(context.Background(), "/api/v1/checkins/"+page.CheckIns[0].ID+"/unmask", map[string]string{"reason": "核对优抚对象身份 verify identity for a pension claim"}, nil); err != nil {
		t.Fatal(err)
	}
	if resp, err := api.Raw(context.Background(), "/api/v1/export/feedback?format=xlsx&under="+sc.district+"-luoyang"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("export: %v", err)
	} else {
		resp.Body.Close()
	}
	if resp, err := api.Raw(context.Background(), "/api/v1/export/checkins?format=csv&unmasked=1&station="+sc.district+"-niutang-v1&from=2026-11-01&reason="+
		url.QueryEscape("民政局核对优待证发放名单 benefit card list for the civil affairs bureau")); err != nil || resp.StatusCode != 200 {
		t.Fatalf("unmasked export: %v", err)
	} else {
		resp.Body.Close()
	}
	// A town administrator who looks beyond the town, and a mistyped
	// password.
	if err := api.Post(context.Background(), "/api/v1/users", map[string]any{"name": "hutang", "display_name": "湖塘镇 王主任", "role": "town_admin",
		"station": sc.district + "-hutang", "password": adminPassword}, nil); err != nil {
		t.Fatal(err)
	}
	town, err := web.SignIn(context.Background(), base, "hutang", adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := town.Get(context.Background(), "/api/v1/checkins?station="+sc.district+"-luoyang", nil); err == nil {
		t.Fatal("a town administrator reads another town's check-ins")
	}
	if _, err := web.SignIn(context.Background(), base, "hutang", "wrong-password"); err == nil {
		t.Fatal("a wrong password signs in")
	}
	// Alerts handled: one acknowledged, one resolved.
	var alerts struct {
		Alerts []struct {
			ID      int64  `json:"id"`
			Rule    string `json:"rule"`
			Station string `json:"station"`
		} `json:"alerts"`
	}
	if err := api.Get(context.Background(), "/api/v1/alerts?state=active", &alerts); err != nil {
		t.Fatal(err)
	}
	acked, resolved := false, false
	for _, a := range alerts.Alerts {
		switch {
		case a.Rule == "bad_rating" && !resolved:
			resolved = true
			if err := town.Post(context.Background(), fmt.Sprintf("/api/v1/alerts/%d/resolve", a.ID), map[string]string{"comment": "x"}, nil); a.Station != sc.district+"-hutang-v2" && err == nil {
				t.Fatal("a town administrator resolved another town's alert")
			}
			if err := api.Post(context.Background(), fmt.Sprintf("/api/v1/alerts/%d/resolve", a.ID),
				map[string]string{"comment": "已电话回访,老人对补办流程已了解,表示满意 called back; the visitor is satisfied"}, nil); err != nil {
				t.Fatal(err)
			}
		case a.Rule == "offline" && !acked:
			acked = true
			if err := api.Post(context.Background(), fmt.Sprintf("/api/v1/alerts/%d/ack", a.ID),
				map[string]string{"comment": "已联系村委会,网络运营商在抢修 village office called; the ISP is repairing the line"}, nil); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Overview: the tree, the summary, the open alerts.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/"), chromedp.WaitVisible("#st-"+sc.district+"-hutang")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#summary", "在线", "Online")
	waitText(t, ctx, "#alert-panel", "站点离线", "设备故障", "差评回访", "待上传积压")
	waitText(t, ctx, "#st-"+sc.district+"-luoyang-v5", "离线", "Offline")
	waitText(t, ctx, "#st-"+sc.district+"-yaoguan-v2", "心跳超时", "Stale")
	waitText(t, ctx, "#st-"+sc.district+"-hutang", "故障")
	shot("overview", false)

	// A station page with its history.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/station/"+sc.district+"-hutang"), chromedp.WaitVisible("#station-name")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#view", "湖塘镇退役军人服务站", "每日在线情况", "故障时间线", "paper out", "printer0")
	shot("station", true)

	// Statistics.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/stats"), chromedp.WaitVisible("#stat-total")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#stats-body", "每日签到", "繁忙时段", "按服务", "满意度")
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#stats-body svg rect").length`))
	if err != nil || n < 50 {
		t.Fatalf("the statistics draw %d bars (%v)", n, err)
	}
	shot("statistics", true)

	// Alerts.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/alerts"), chromedp.WaitVisible("#alerts-body .alert-row")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#alerts-body", "回访期限", "站点离线", "已确认")
	shot("alerts", false)

	// Audit log.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/audit"), chromedp.WaitVisible("#audit-table")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#audit-table", "查看完整信息", "核对优抚对象身份", "导出", "登录", "拒绝访问", "登录失败", "解决告警", "确认告警", "unmasked")
	shot("audit", false)

	// At 1366x768 the overview still lays out (no horizontal scroll).
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768), chromedp.Navigate(base+"/#/"), chromedp.WaitVisible("#st-"+sc.district)); err != nil {
		t.Fatal(err)
	}
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil || wide {
		t.Errorf("the overview scrolls sideways at 1366x768 (%v)", err)
	}
	if out != "" {
		b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err == nil {
			err = os.WriteFile(filepath.Join(out, "overview-1366x768.png"), b, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
