// Package autopilot is a kiosk without a screen, for demo stations: it
// follows the agent's events through the same session state machine as
// the touchscreen, and when a card is read it "chooses" one of the offered
// services at random after a short, human-like pause and checks the visitor
// in through the same local API. Each visit is logged with masked data only:
//
//	checked in 张*国 → 优抚待遇 B007 (2 waiting)
//
// With TapEvery set and a simulated reader at the agent, it also taps
// synthetic cards itself, so a station runs a whole demo on its own.
package autopilot

import (
	"context"
	"log"
	"math/rand/v2"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/kiosk/session"
)

// Autopilot drives a session from the agent's events. Set Client and call Run.
type Autopilot struct {
	// Client is the agent's local API. Required.
	Client *localapi.Client
	// Logf logs a line per visit and per change of the agent. Nil means log.Printf.
	Logf func(format string, args ...any)
	// Rand chooses services and pauses. Nil means a randomly seeded source.
	Rand *rand.Rand
	// MinThink and MaxThink bound the pause between a card and the choice
	// of a service. Zero means 1 s and 4 s; the pause is at least 1 ms.
	MinThink, MaxThink time.Duration
	// Reconnect is the pause before reconnecting to the agent's event
	// stream. Zero means 2 s.
	Reconnect time.Duration
	// TapEvery, when positive, taps a synthetic card this often while the
	// kiosk is idle and the agent has a simulated reader. Zero means never.
	TapEvery time.Duration
	// Session holds the timeouts; nil means the defaults.
	Session *session.Session
}

// internal events of the loop, beside the session's.
type (
	choose struct{ visit int } // the pause after visit's card is over
	tapped struct{ err error } // a sim tap returned
)

// Run drives the kiosk until ctx is done; it returns nil then.
func (p *Autopilot) Run(ctx context.Context) error {
	logf := p.Logf
	if logf == nil {
		logf = log.Printf
	}
	rnd := p.Rand
	if rnd == nil {
		rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	s := p.Session
	if s == nil {
		s = &session.Session{}
	}
	reconnect := p.Reconnect
	if reconnect <= 0 {
		reconnect = 2 * time.Second
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in := make(chan any, 64)
	send := func(v any) {
		select {
		case in <- v:
		case <-ctx.Done():
		}
	}
	go p.Client.Subscribe(ctx, reconnect, func(ev localapi.Event) {
		sev, err := session.FromAPI(ev)
		if err != nil {
			logf("autopilot: %v", err)
			return
		}
		if sev != nil {
			send(sev)
		}
	}, func(up bool) {
		if !up {
			send(session.AgentDown{})
		}
	})
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var tapC <-chan time.Time
	if p.TapEvery > 0 {
		t := time.NewTicker(p.TapEvery)
		defer t.Stop()
		tapC = t.C
	}

	visit := 0 // counts cards, so that a stale pause is ignored
	tapping := false
	prev := s.View()
	for {
		var ev any
		select {
		case <-ctx.Done():
			return nil
		case now := <-tick.C:
			ev = session.Tick{Now: now}
		case <-tapC:
			if v := s.View(); v.State == session.Idle && v.SimReader && !tapping {
				tapping = true
				go func() {
					tctx, c := context.WithTimeout(ctx, 10*time.Second)
					defer c()
					send(tapped{p.Client.SimTap(tctx, localapi.SimTapRequest{})})
				}()
			}
			continue
		case ev = <-in:
		}

		switch e := ev.(type) {
		case tapped:
			tapping = false
			if e.err != nil {
				logf("autopilot: simulated tap failed: %s", vetnet.ErrorMessage(e.err, "en"))
			}
			continue
		case choose:
			v := s.View()
			if e.visit != visit || (v.State != session.Greeting && v.State != session.ChooseService) || len(v.Services) == 0 {
				continue
			}
			svc := v.Services[rnd.IntN(len(v.Services))]
			var detail string
			if info, _ := svc.Info(); len(info.Options) > 0 {
				detail = info.Options[rnd.IntN(len(info.Options))].Key
			}
			ev = session.ServiceChosen{Service: svc, Detail: detail}
		case session.StaffSignedIn:
			continue // a staff badge: there is no screen for staff here
		case session.CardRead:
			visit++
			n := visit
			think := p.think(rnd)
			time.AfterFunc(think, func() { send(choose{n}) })
		}

		sev := ev.(session.Event)
		if sub := s.Step(sev); sub != nil {
			go func(sub session.Submission) {
				cctx, c := context.WithDeadline(ctx, sub.Deadline)
				defer c()
				resp, err := p.Client.CheckIn(cctx, sub.Request)
				if err != nil {
					send(session.CheckInFailed{Attempt: sub.Attempt, Err: err})
					return
				}
				send(session.CheckInDone{Attempt: sub.Attempt, Response: resp})
			}(*sub)
		}
		v := s.View()
		p.report(logf, prev, v, sev)
		switch v.State {
		case session.Confirmed:
			s.Step(session.Done{}) // nobody reads the screen
		case session.Failed, session.Notice:
			s.Step(session.Cancel{})
		}
		prev = s.View()
	}
}

func (p *Autopilot) think(rnd *rand.Rand) time.Duration {
	lo, hi := p.MinThink, p.MaxThink
	if lo <= 0 && hi <= 0 {
		lo, hi = time.Second, 4*time.Second
	}
	if hi < lo {
		hi = lo
	}
	d := lo
	if hi > lo {
		d += time.Duration(rnd.Int64N(int64(hi - lo)))
	}
	return max(d, time.Millisecond)
}

// report logs what changed, with masked data only.
func (p *Autopilot) report(logf func(string, ...any), prev, v session.View, ev session.Event) {
	if !prev.Connected && v.Connected {
		logf("agent up: %s (%s), %d services", v.Station.Name, v.Station.ID, len(v.Services))
	}
	if prev.Connected && !v.Connected {
		logf("agent down: waiting for it")
	}
	if prev.State == v.State {
		return
	}
	switch v.State {
	case session.Confirmed:
		logf("checked in %s → %s %s (%d waiting)", v.Visit.Name, v.Visit.Service.Label("zh"), v.Visit.QueueNo, v.Visit.Waiting)
	case session.Failed:
		logf("check-in failed for %s → %s: %s (%s)", v.Visit.Name, v.Visit.Service.Label("zh"), v.Visit.Error.EN, v.Visit.Error.Code)
	case session.Notice:
		if _, ok := ev.(session.CardFailed); ok {
			logf("card not read: %s", v.Notice.EN)
		} else {
			logf("visit ended: %s", v.Notice.EN)
		}
	case session.Greeting:
		logf("card read: %s", v.Visit.Name)
	}
}
