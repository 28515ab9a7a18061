package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/vetnet/vetnet/kiosk/internal/fakeagent"
	"github.com/vetnet/vetnet/kiosk/ui"
)

// The soak run drives whole visits, ratings included, through the screens.
func TestSoak(t *testing.T) {
	a := fakeagent.New(fakeagent.DemoStatus())
	defer a.Close()
	app := test.NewApp()
	defer app.Quit()
	logs := &syncBuffer{}
	k := ui.LoadUI(app, ui.Config{Client: a.Client(), Retry: 10 * time.Millisecond, Logf: t.Logf})
	k.Start()
	defer k.Close()
	logf := func(f string, args ...any) { t.Logf(f, args...); logs.Write([]byte(f + "\n")) }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := soak(ctx, k, a.Client(), 3, logf); err != nil {
		t.Fatal(err)
	}
	if n := len(a.Ratings()); n != 3 {
		t.Fatalf("%d ratings after 3 visits", n)
	}
	if c := strings.Count(logs.String(), "soak: %d visits: RSS"); c != 2 {
		t.Errorf("%d memory lines, want 2 (0 and 3 visits)", c)
	}
}
