package e2e_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud/web"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

// Known test identities: synthetic, valid ID numbers of the plan's
// district, and names no other test uses.
var scanIdentities = []vetnet.Visitor{
	{IDNumber: "320411195003070011", Name: "扫描王建国"},
	{IDNumber: "320411194812120029", Name: "扫描李秀英"},
	{IDNumber: "320411196209150038", Name: "欧阳扫描远"},
	{IDNumber: "320411197501010045", Name: "Scan Testperson"}, // typed in by staff
}

// leaks returns the identities whose full ID number or full name occurs
// in b: as text, or as a logger prints raw bytes (Go's %v of a []byte,
// decimal; hex).
func leaks(b []byte) []string {
	var out []string
	for _, v := range scanIdentities {
		for _, s := range []string{v.IDNumber, v.Name} {
			dec := strings.Trim(fmt.Sprint([]byte(s)), "[]")
			for _, form := range []string{s, dec, fmt.Sprintf("%x", s), fmt.Sprintf("% x", s)} {
				if bytes.Contains(b, []byte(form)) {
					out = append(out, s)
					break
				}
			}
		}
	}
	return out
}

// artefacts collects what the system showed or wrote, by where it came
// from.
type artefacts struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (a *artefacts) add(where string, b []byte) {
	a.mu.Lock()
	a.m[where] = append(a.m[where], b...)
	a.mu.Unlock()
}

func httpDo(t *testing.T, method, u, token string, body any, into *artefacts, where string) []byte {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 400 {
		t.Fatalf("%s %s: %d %s", method, u, res.StatusCode, b)
	}
	if into != nil {
		into.add(where, b)
	}
	return b
}

// stream copies an SSE stream into the artefacts until ctx ends.
func stream(ctx context.Context, t *testing.T, u, token string, into *artefacts, where string, lines chan<- string) {
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("stream %s: %v", u, err)
		return
	}
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			into.add(where, append(sc.Bytes(), '\n'))
			if lines != nil {
				select {
				case lines <- sc.Text():
				default:
				}
			}
		}
	}()
}

// TestNoPersonalDataLeaks runs a hall with known identities (card
// check-ins at the kiosk, a staff-assisted check-in, a rating, the queue)
// through the hub, then scans everything the system produced for a full
// ID number or name: the kiosk's API answers and event stream, the hub's
// API answers, its live events, the dashboard's CSV and XLSX exports, the
// hub's metrics, and every log line of every end-to-end test so far (the
// capture file of TestMain). Only the audited unmasking and the audited
// unmasked export may show them, and they do (the scan's control).
func TestNoPersonalDataLeaks(t *testing.T) {
	stations, village, _ := district(t)
	hash, err := vetnet.HashPIN("1357")
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]vetnet.Station{}
	for i := range stations {
		if stations[i].ID == village {
			stations[i].Staff = []vetnet.Staff{{ID: "scan-01", Name: "工作人员", Role: vetnet.RoleOfficer, PINHash: hash}}
		}
		byID[stations[i].ID] = stations[i]
	}
	addr := freeAddr(t)
	h := startHub(t, hubOpts{dir: t.TempDir(), mqttListen: addr, stations: stations})
	defer h.Close()
	ag, _ := startAgent(t, byID[village], "tcp://"+addr)
	agentURL := "http://" + ag.APIAddr()
	hubURL := "http://" + h.HTTPAddr()
	admin := api(t, h)
	got := &artefacts{m: map[string][]byte{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kioskEvents := make(chan string, 64)
	stream(ctx, t, agentURL+localapi.PathEvents, "", got, "kiosk event stream", kioskEvents)
	stream(ctx, t, hubURL+"/api/v1/events", admin.Token, got, "dashboard live events", nil)
	time.Sleep(200 * time.Millisecond)

	// Card check-ins at the kiosk, as the kiosk does them.
	var checkIns []string
	for _, v := range scanIdentities[:3] {
		httpDo(t, "POST", agentURL+localapi.PathSimTap, "", localapi.SimTapRequest{IDNumber: v.IDNumber, Name: v.Name}, got, "kiosk answers")
		var token string
		deadline := time.After(20 * time.Second)
		for token == "" {
			select {
			case line := <-kioskEvents:
				if data, ok := strings.CutPrefix(line, "data: "); ok && strings.Contains(data, `"token"`) {
					var card localapi.CardEvent
					if json.Unmarshal([]byte(data), &card) == nil {
						token = card.Token
					}
				}
			case <-deadline:
				t.Fatal("no card event")
			}
		}
		b := httpDo(t, "POST", agentURL+localapi.PathCheckIns, "", localapi.CheckInRequest{Token: token, Service: "benefits", Detail: "application"}, got, "kiosk answers")
		var r localapi.CheckInResponse
		json.Unmarshal(b, &r)
		checkIns = append(checkIns, r.ID)
	}
	// A rating of the first visit.
	httpDo(t, "POST", agentURL+localapi.PathFeedback, "", map[string]any{"checkin_id": checkIns[0], "rating": 2, "reasons": []string{"waiting"}}, got, "kiosk answers")
	// Staff sign in, type an ID number for a visitor without a card, and
	// work the queue.
	var sess localapi.StaffSession
	json.Unmarshal(httpDo(t, "POST", agentURL+localapi.PathStaffLogin, "", localapi.StaffLoginRequest{StaffID: "scan-01", PIN: "1357"}, got, "kiosk answers"), &sess)
	manual := scanIdentities[3]
	httpDo(t, "POST", agentURL+localapi.PathCheckIns, "", localapi.CheckInRequest{IDNumber: manual.IDNumber, Name: manual.Name, Service: "consultation", StaffSession: sess.Session}, got, "kiosk answers")
	httpDo(t, "POST", agentURL+localapi.PathQueueCall, "", localapi.CallRequest{StaffSession: sess.Session, Service: "benefits", Counter: "1"}, got, "kiosk answers")
	for _, p := range []string{localapi.PathStatus, localapi.PathQueue, localapi.PathDuty, localapi.PathStaff,
		localapi.PathVisitors + "?" + url.Values{"staff_session": {sess.Session}}.Encode(),
		localapi.PathVisitors + "?" + url.Values{"staff_session": {sess.Session}, "q": {"扫描"}}.Encode()} {
		httpDo(t, "GET", agentURL+p, "", nil, got, "kiosk answers")
	}
	eventually(t, 30*time.Second, "the hub acknowledged everything", func() bool {
		st := ag.Status()
		return st.Outbox.Depth == 0
	})
	time.Sleep(300 * time.Millisecond)

	// The dashboard's API and exports, as the district administrator.
	for _, p := range []string{"/api/v1/checkins?limit=50", "/api/v1/checkins?station=" + village, "/api/v1/stations", "/api/v1/stations/" + village,
		"/api/v1/feedback", "/api/v1/visits", "/api/v1/duty", "/api/v1/stats?group=service", "/api/v1/alerts", "/api/v1/audit", "/healthz"} {
		httpDo(t, "GET", hubURL+p, admin.Token, nil, got, "dashboard API "+p)
	}
	for _, kind := range []string{"checkins", "feedback"} {
		httpDo(t, "GET", hubURL+"/api/v1/export/"+kind+"?format=csv", admin.Token, nil, got, "CSV export")
		x := httpDo(t, "GET", hubURL+"/api/v1/export/"+kind+"?format=xlsx", admin.Token, nil, nil, "")
		got.add("XLSX export", unzipAll(t, x))
	}
	httpDo(t, "GET", hubURL+"/metrics", admin.Token, nil, got, "hub metrics")

	// The control: an audited unmasking and an audited unmasked export
	// show the full data, and the scan finds it there.
	one := httpDo(t, "POST", hubURL+"/api/v1/checkins/"+checkIns[0]+"/unmask", admin.Token, map[string]string{"reason": "扫描测试 scan test"}, nil, "")
	full := httpDo(t, "GET", hubURL+"/api/v1/export/checkins?format=csv&unmasked=1&reason="+url.QueryEscape("scan test"), admin.Token, nil, nil, "")
	if len(leaks(one)) == 0 || len(leaks(full)) < 2*len(scanIdentities) {
		t.Fatalf("the control failed: unmasking shows %v, the unmasked export %v", leaks(one), leaks(full))
	}

	cancel()
	ag.Close()
	h.Close()
	time.Sleep(100 * time.Millisecond)
	got.add("logs (all e2e tests so far)", capturedLogs(t))

	scanned := 0
	for where, b := range got.m {
		scanned += len(b)
		if l := leaks(b); len(l) > 0 {
			t.Errorf("%s shows %d unmasked identities (%s…)", where, len(l), vetnet.MaskName(l[0]))
		}
		if ids := fullIDNumbers(b); len(ids) > 0 {
			t.Errorf("%s shows %d full ID numbers (%s…)", where, len(ids), vetnet.MaskIDNumber(ids[0]))
		}
	}
	if ids := fullIDNumbers(full); len(ids) == 0 {
		t.Error("the ID number pattern finds nothing in the unmasked export (the control)")
	}
	for _, must := range []string{"kiosk event stream", "kiosk answers", "CSV export", "XLSX export", "hub metrics", "logs (all e2e tests so far)", "dashboard live events"} {
		if len(got.m[must]) == 0 {
			t.Errorf("nothing captured from %s", must)
		}
	}
	// The masked forms are there: the scan looked at real pages.
	all := bytes.Join(func() [][]byte {
		var bs [][]byte
		for _, b := range got.m {
			bs = append(bs, b)
		}
		return bs
	}(), nil)
	if !bytes.Contains(all, []byte(vetnet.MaskIDNumber(scanIdentities[0].IDNumber))) || !bytes.Contains(all, []byte(vetnet.MaskName(scanIdentities[0].Name))) {
		t.Error("the masked identities do not appear anywhere: the scan saw no data")
	}
	t.Logf("scanned %d bytes from %d sources; logs in %s", scanned, len(got.m), capture.path)
	_ = web.SessionCookie
}

// unzipAll returns the concatenated contents of every file in a zip (an
// XLSX workbook: its strings and sheets).
func unzipAll(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("XLSX: %v", err)
	}
	var out bytes.Buffer
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(&out, rc)
		rc.Close()
	}
	return out.Bytes()
}
