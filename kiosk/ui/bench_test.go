package ui

import (
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
