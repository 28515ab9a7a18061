package agent_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet/edge-agent/agent"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

// fuzzPaths are the local API's routes that read a body (POST) or a
// query (GET).
var fuzzPaths = []struct{ method, path string }{
	{"POST", localapi.PathCheckIns},
	{"POST", localapi.PathFeedback},
	{"POST", localapi.PathSimTap},
	{"POST", localapi.PathStaffLogin},
	{"POST", localapi.PathStaffLogout},
	{"POST", localapi.PathQueueCall},
	{"POST", localapi.PathQueueServed},
	{"POST", localapi.PathQueueTransfer},
	{"POST", localapi.PathPrint},
	{"GET", localapi.PathVisitors + "?"},
	{"GET", localapi.PathQueue + "?"},
}

// FuzzLocalAPI sends any body or query to a running agent's local API
// (real store in a temporary directory, no uplink): no answer is a server
// error, every refusal is JSON, and nothing the agent logs holds the ID
// numbers the inputs carried.
func FuzzLocalAPI(f *testing.F) {
	l := &logs{}
	a, err := agent.New(agent.Config{StationID: "fuzz-station", DataDir: f.TempDir(), APIAddr: "127.0.0.1:0", SimReader: true,
		HeartbeatInterval: time.Hour, Version: "fuzz", Logf: l.logf})
	if err != nil {
		f.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { a.Close() })
	base := "http://" + a.APIAddr()
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range fuzzPaths {
		f.Add(uint8(i), `{"id_number":"320411195003070011","name":"王建国","service":"benefits","method":"manual"}`)
		f.Add(uint8(i), `{"checkin_id":"01KB1Q0V00ABCDEFGHJKMNPQRS","rating":5}`)
		f.Add(uint8(i), `q=王&staff_session=x`)
		f.Add(uint8(i), `{"pin":"1234","staff_id":"s1"}`)
	}
	f.Fuzz(func(t *testing.T, route uint8, input string) {
		p := fuzzPaths[int(route)%len(fuzzPaths)]
		var req *http.Request
		if p.method == "POST" {
			req, _ = http.NewRequest("POST", base+p.path, strings.NewReader(input))
			req.Header.Set("Content-Type", "application/json")
		} else {
			req, _ = http.NewRequest("GET", base+p.path, nil)
			// As a client sends it: bytes a request line cannot hold are
			// escaped (else Go's HTTP server refuses the line itself).
			req.URL.RawQuery = escapeQuery(input)
		}
		if req == nil {
			return
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", p.method, p.path, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 && res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%s %s %q: %d", p.method, p.path, input, res.StatusCode)
		}
		if res.StatusCode >= 400 && !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("%s %s: refusal %d is not JSON", p.method, p.path, res.StatusCode)
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, line := range l.lines {
			if strings.Contains(line, "320411195003070011") {
				t.Fatalf("log line holds an ID number: %q", line)
			}
		}
	})
}

// escapeQuery percent-encodes the bytes of s that may not appear raw in a
// request line.
func escapeQuery(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '#' || c == '%' && (i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2])) {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
