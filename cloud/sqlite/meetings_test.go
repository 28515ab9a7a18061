package sqlite

import (
	"testing"

	"github.com/vetnet/vetnet/cloud/storetest"
)

func TestMeetings(t *testing.T) {
	storetest.RunMeetings(t, func(t *testing.T) storetest.MeetingStore { return MustOpen(t) })
}
