package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/kiosk/session"
	"github.com/vetnet/vetnet/kiosk/ui"
)

// soak drives n visits through the screens of a running kiosk, as a person
// would (a simulated card, Continue, a service, its first sub-choice, a
// "very satisfied" rating, Done), and logs the resident memory after 0,
// every 50 and n visits: the kiosk's memory benchmark. It needs an agent
// with a simulated reader (the demo's, or the fake agent's).
func soak(ctx context.Context, k *ui.Kiosk, c *localapi.Client, n int, logf func(string, ...any)) error {
	wait := func(st session.State) error {
		// Generous: under a loaded software GL a frame can take seconds,
		// and the main loop runs these checks between frames.
		deadline := time.Now().Add(2 * time.Minute)
		for {
			var got session.State
			fyne.DoAndWait(func() { got = k.View().State })
			if got == st {
				return nil
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("soak: waited for %v, the kiosk shows %v", st, got)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	tap := func(id string) error {
		ok := false
		fyne.DoAndWait(func() { ok = k.Tap(id) })
		if !ok {
			return fmt.Errorf("soak: no %q button", id)
		}
		return nil
	}
	if err := wait(session.Idle); err != nil {
		return err
	}
	var svc, detail string
	fyne.DoAndWait(func() {
		for _, s := range k.View().Services {
			if info, _ := s.Info(); len(info.Options) > 0 {
				svc, detail = string(s), info.Options[0].Key
				break
			}
		}
	})
	if svc == "" {
		return fmt.Errorf("soak: the station offers no service with sub-choices")
	}
	logRSS(logf, 0)
	for i := 1; i <= n; i++ {
		if err := c.SimTap(ctx, localapi.SimTapRequest{}); err != nil {
			return fmt.Errorf("soak: simulated card: %w", err)
		}
		steps := []struct {
			tap  string
			then session.State
		}{{"", session.Greeting}, {"service:" + svc, session.ChooseDetail},
			{"detail:" + detail, session.Confirmed}, {"rate:5", session.Thanks}}
		for j, s := range steps {
			if j == 1 {
				// The greeting turns into the menu by itself after 4 s;
				// tap Continue if it is still there.
				fyne.DoAndWait(func() {
					if k.View().State == session.Greeting {
						k.Tap("continue")
					}
				})
				if err := wait(session.ChooseService); err != nil {
					return err
				}
			}
			if s.tap != "" {
				if err := tap(s.tap); err != nil {
					return err
				}
			}
			if err := wait(s.then); err != nil {
				return err
			}
		}
		// The thanks goes by itself after a few seconds; tap Done if it
		// is still there.
		fyne.DoAndWait(func() {
			if k.View().State == session.Thanks {
				k.Tap("done")
			}
		})
		if err := wait(session.Idle); err != nil {
			return err
		}
		if i%50 == 0 || i == n {
			logRSS(logf, i)
		}
	}
	return nil
}

// logRSS logs the process's resident memory and Go heap after a GC.
func logRSS(logf func(string, ...any), visits int) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	logf("kiosk: soak: %d visits: RSS %.1f MB, Go heap %.1f MB", visits, float64(rssKB())/1024, float64(m.HeapInuse)/(1<<20))
}

// rssKB is VmRSS from /proc/self/status in KiB (0 when unknown).
func rssKB() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return n
		}
	}
	return 0
}
