package ui

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/kiosk/internal/fakeagent"
	"github.com/vetnet/vetnet/kiosk/session"
)

// benchKiosk is a kiosk on Fyne's test driver (software painter) against
// the fake agent over loopback HTTP, with a channel of the states rendered.
func benchKiosk(b *testing.B) (*Kiosk, *fakeagent.Agent, chan session.State) {
	b.Helper()
	a := fakeagent.New(fakeagent.DemoStatus())
	b.Cleanup(a.Close)
	app := test.NewApp()
	rendered := make(chan session.State, 64)
	k := LoadUI(app, Config{Client: a.Client(), Retry: 10 * time.Millisecond, Logf: func(string, ...any) {},
		Rendered: func(s session.State) {
			select {
			case rendered <- s:
			default:
			}
		}})
	k.Start()
	b.Cleanup(func() { k.Close(); app.Quit() })
	waitState(b, rendered, session.Idle)
	return k, a, rendered
}

func waitState(b *testing.B, ch chan session.State, want session.State) {
	b.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case s := <-ch:
			if s == want {
				return
			}
		case <-timeout:
			b.Fatalf("no %v screen", want)
		}
	}
}

// BenchmarkCardToGreeting: from the reader's event at the agent (Tap sends
// it on the event stream) to the greeting built on screen: the SSE hop over
// loopback, decoding, the session, and the screen built afresh. The
// "painted" variant also paints the window with Fyne's software painter
// (a GPU paints faster). Target ≤ 100 ms.
func BenchmarkCardToGreeting(b *testing.B) {
	for _, paint := range []bool{false, true} {
		name := "built"
		if paint {
			name = "painted"
		}
		b.Run(name, func(b *testing.B) {
			k, a, rendered := benchKiosk(b)
			v := vetnet.Visitor{IDNumber: "11010519491231002X", Name: "张建国", DocType: vetnet.DocResident}
			b.ResetTimer()
			for range b.N {
				a.Tap(v)
				waitState(b, rendered, session.Greeting)
				if paint {
					k.mu.Lock()
					k.Window.Canvas().Capture()
					k.mu.Unlock()
				}
				b.StopTimer()
				k.Step(session.Cancel{})
				waitState(b, rendered, session.Idle)
				b.StartTimer()
			}
		})
	}
}

// rssKB is the process's resident set size (VmRSS) in KiB.
func rssKB(b *testing.B) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return n
		}
	}
	b.Skip("no VmRSS")
	return 0
}

// BenchmarkMemory1000Visits walks 1,000 visits through the screens as a
// person would (card, Continue, service, sub-choice, rating, thanks, back
// to idle) and reports the resident memory (RSS, whole test process: the
// kiosk, its test driver and the fake agent) after 0, 500 and 1,000
// visits, and the Go heap in use after a GC. Run with -benchtime=1x.
func BenchmarkMemory1000Visits(b *testing.B) {
	for range b.N {
		k, a, rendered := benchKiosk(b)
		tap := func(id string) {
			k.mu.Lock()
			bt := k.buttons[id]
			k.mu.Unlock()
			if bt == nil {
				b.Fatalf("no %s on %v", id, k.View().State)
			}
			test.Tap(bt)
		}
		heap := func() float64 {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			return float64(m.HeapInuse) / (1 << 20)
		}
		b.ReportMetric(rssKB(b)/1024, "MB-RSS-0")
		b.ReportMetric(heap(), "MB-heap-0")
		v := vetnet.Visitor{IDNumber: "11010519491231002X", Name: "张建国", DocType: vetnet.DocResident}
		for i := 1; i <= 1000; i++ {
			a.Tap(v)
			waitState(b, rendered, session.Greeting)
			tap("continue")
			tap("service:benefits")
			tap("detail:enquiry")
			waitState(b, rendered, session.Confirmed)
			tap("rate:5")
			waitState(b, rendered, session.Thanks)
			tap("done")
			waitState(b, rendered, session.Idle)
			if i == 500 {
				b.ReportMetric(rssKB(b)/1024, "MB-RSS-500")
				b.ReportMetric(heap(), "MB-heap-500")
			}
		}
		b.ReportMetric(rssKB(b)/1024, "MB-RSS-1000")
		b.ReportMetric(heap(), "MB-heap-1000")
		if n := len(a.Ratings()); n != 1000 {
			b.Fatalf("%d ratings", n)
		}
	}
}
