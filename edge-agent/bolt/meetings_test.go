package bolt_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/bolt"
	"github.com/vetnet/vetnet/wire"
)

const meetingID = "01KB1P0000MTNGABCDEFGHJKMN"

func TestMeetingsKeptAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "station.db")
	s := mustOpenAt(t, path)
	if _, ok := s.Meetings(); ok {
		t.Fatal("meetings before any arrived")
	}
	t0 := time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC)
	m := wire.NewMeetings(station, []vetnet.Meeting{{ID: meetingID, Title: "培训", Kind: vetnet.MeetingTraining, Start: t0, End: t0.Add(time.Hour)}},
		func(vetnet.Meeting) string { return "" }, t0)
	if err := s.SaveMeetings(m); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpenAt(t, path)
	got, ok := s.Meetings()
	if !ok || got.Version != m.Version || len(got.Meetings) != 1 || got.Meetings[0].ID != meetingID {
		t.Fatalf("after reopen: %+v %v", got, ok)
	}
}

func TestRollCall(t *testing.T) {
	s := MustOpen(t)
	d := bolt.RollCallDraft{Meeting: meetingID, Staff: "xb-0107", Role: vetnet.RoleHead, Method: vetnet.RollCallBadge}
	rc, already, err := s.CommitRollCall(d)
	if err != nil || already {
		t.Fatalf("first: %v %v", err, already)
	}
	again, already, err := s.CommitRollCall(bolt.RollCallDraft{Meeting: meetingID, Staff: "xb-0107", Role: vetnet.RoleHead, Method: vetnet.RollCallPIN})
	if err != nil || !already || again.ID != rc.ID || again.Method != vetnet.RollCallBadge {
		t.Fatalf("second: %+v %v %v", again, already, err)
	}
	if _, _, err := s.CommitRollCall(bolt.RollCallDraft{Meeting: "lunch", Staff: "xb-0107", Method: vetnet.RollCallPIN}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("bad meeting: %v", err)
	}
	// A veteran's roll-call check-in: numbered, pending, not queued.
	dr := draft(vetnet.ServiceTraining)
	dr.Meeting = meetingID
	c, _ := mustCommit(t, s, dr)
	if c.Meeting != meetingID {
		t.Fatalf("check-in %+v", c)
	}
	pending, err := s.Pending(0)
	if err != nil || len(pending) != 1 || pending[0].Meeting != meetingID {
		t.Fatalf("pending %+v %v", pending, err)
	}
	_, tickets, err := s.Queue()
	if err != nil || len(tickets) != 0 {
		t.Fatalf("queued %+v %v", tickets, err)
	}
	rs, err := s.PendingRecordsAfter(0, 0)
	if err != nil || len(rs) != 1 || rs[0].Kind != bolt.KindRollCall || rs[0].RollCall.Staff != "xb-0107" || rs[0].ID() != rc.ID {
		t.Fatalf("records %+v %v", rs, err)
	}
	if n, err := s.Ack([]string{rc.ID, c.ID}); err != nil || n != 2 {
		t.Fatalf("ack: %d %v", n, err)
	}
	// Acknowledged, the member's answer still stands.
	if _, already, err := s.CommitRollCall(d); err != nil || !already {
		t.Fatalf("after ack: %v %v", already, err)
	}
}
