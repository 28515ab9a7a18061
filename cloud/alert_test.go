package cloud

import (
	"testing"
	"time"

	"github.com/vetnet/vetnet"
)

func TestAlertCheckNew(t *testing.T) {
	ok := Alert{Key: "offline/st-a", Rule: "offline", Station: "st-a", OpenedAt: time.Unix(1, 0)}
	a, err := ok.CheckNew()
	if err != nil || a.State != AlertOpen {
		t.Fatalf("a good alert: %+v %v", a, err)
	}
	for name, bad := range map[string]Alert{
		"no key":   {Rule: "offline", Station: "st-a", OpenedAt: time.Unix(1, 0)},
		"no time":  {Key: "k", Rule: "offline", Station: "st-a"},
		"resolved": {Key: "k", Rule: "offline", Station: "st-a", OpenedAt: time.Unix(1, 0), State: AlertResolved},
		"unknown":  {Key: "k", Rule: "offline", Station: "st-a", OpenedAt: time.Unix(1, 0), State: "closed"},
	} {
		if _, err := bad.CheckNew(); vetnet.ErrorCode(err) != vetnet.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	if AlertState("closed").Valid() || !AlertAcknowledged.Valid() {
		t.Error("Valid")
	}
}
