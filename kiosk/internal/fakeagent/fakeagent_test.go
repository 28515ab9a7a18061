package fakeagent

import (
	"context"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

// next waits for the next event of a type on ch.
func next(t *testing.T, ch <-chan localapi.Event, typ string) localapi.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("stream closed waiting for %s", typ)
			}
			if ev.Type == typ {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event", typ)
		}
	}
}

func TestContract(t *testing.T) {
	a := New(DemoStatus())
	defer a.Close()
	c := a.Client()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	st, err := c.Status(ctx)
	if err != nil || st.Station.ID != "cz-xb-sanjing-xinqiao" || st.Now.IsZero() {
		t.Fatalf("status %+v, %v", st, err)
	}
	ch, err := c.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next(t, ch, localapi.EventStatus) // on connect

	if err := c.SimTap(ctx, localapi.SimTapRequest{}); err != nil {
		t.Fatal(err)
	}
	card, err := next(t, ch, localapi.EventCard).Card()
	if err != nil || card.Token == "" || card.Returning {
		t.Fatalf("card %+v, %v", card, err)
	}

	tests := []struct {
		name     string
		req      localapi.CheckInRequest
		wantCode string
	}{
		{"token", localapi.CheckInRequest{Token: card.Token, Service: "benefits"}, ""},
		{"token is single use", localapi.CheckInRequest{Token: card.Token, Service: "benefits"}, vetnet.EEXPIRED},
		{"unknown token", localapi.CheckInRequest{Token: "nope", Service: "benefits"}, vetnet.EEXPIRED},
		{"service not offered", localapi.CheckInRequest{Token: card.Token, Service: "honours"}, vetnet.EINVALID},
		{"typed ID number", localapi.CheckInRequest{IDNumber: "11010519491231002X", Name: "王小明", Service: "benefits"}, ""},
		{"bad ID number", localapi.CheckInRequest{IDNumber: "110105194912310021", Service: "benefits"}, vetnet.EINVALID},
		{"neither", localapi.CheckInRequest{Service: "benefits"}, vetnet.EINVALID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CheckIn(ctx, tc.req)
			if got := vetnet.ErrorCode(err); got != tc.wantCode {
				t.Fatalf("code %q (%v), want %q", got, err, tc.wantCode)
			}
			if err != nil && vetnet.ErrorMessage(err, "zh") == vetnet.ErrorMessage(err, "en") {
				t.Errorf("message not in both languages: %v", err)
			}
		})
	}
	got := a.CheckIns()
	if len(got) != 2 || got[0].QueueNo != "B001" || got[1].QueueNo != "B002" || got[1].Waiting != 1 || got[1].MaskedName != "王*明" {
		t.Errorf("check-ins %+v", got)
	}

	// The same person again is a returning visitor.
	a.Tap(vetnet.Visitor{IDNumber: "11010519491231002X", Name: "王小明"})
	card, _ = next(t, ch, localapi.EventCard).Card()
	if !card.Returning || card.LastVisit == nil || card.MaskedName != "王*明" || card.MaskedID != "110105********002X" {
		t.Errorf("card %+v", card)
	}

	a.FailNext(vetnet.Errorz(vetnet.EFULL, "存储已满", "Storage is full."))
	if _, err := c.CheckIn(ctx, localapi.CheckInRequest{Token: card.Token, Service: "records"}); vetnet.ErrorCode(err) != vetnet.EFULL || vetnet.ErrorMessage(err, "zh") != "存储已满" {
		t.Errorf("injected failure: %v", err)
	}

	a.SetDown(true)
	if _, ok := <-ch; ok {
		// drain whatever was queued; the stream must end
		for range ch {
		}
	}
	if _, err := c.Status(ctx); vetnet.ErrorCode(err) != vetnet.EUNAVAILABLE {
		t.Errorf("down: %v", err)
	}
	a.SetDown(false)
	if _, err := c.Status(ctx); err != nil {
		t.Errorf("back: %v", err)
	}
}

func TestSimTapNeedsSimulatedReader(t *testing.T) {
	st := DemoStatus()
	st.Readers = []localapi.Reader{{Name: "sam0", Kind: "sam", State: "ok"}}
	a := New(st)
	defer a.Close()
	err := a.Client().SimTap(context.Background(), localapi.SimTapRequest{})
	if vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		t.Errorf("sim tap without a simulated reader: %v", err)
	}
}

func TestHold(t *testing.T) {
	a := New(DemoStatus())
	defer a.Close()
	card := a.Tap(vetnet.Visitor{})
	release := a.Hold()
	done := make(chan error, 1)
	go func() {
		_, err := a.Client().CheckIn(context.Background(), localapi.CheckInRequest{Token: card.Token, Service: "records"})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("check-in answered while held: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if n := len(a.CheckIns()); n != 0 {
		t.Fatalf("%d check-ins while held", n)
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
