package bolt_test

import (
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/bolt"
	"github.com/vetnet/vetnet/wire"
)

// TestFeedback: a rating is stored once per check-in, waits in the records
// outbox (counted in the depth), is cleared by its ack and purged with age.
func TestFeedback(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, cst)}
	s := MustOpen(t, func(o *bolt.Options) { o.Now = clk.Now; o.Retention = time.Hour })
	c, _ := mustCommit(t, s, draft(vetnet.ServiceBenefits))
	s.Ack([]string{c.ID})
	clk.Set(clk.Now().Add(time.Minute))
	f, err := s.CommitFeedback(bolt.FeedbackDraft{CheckInID: c.ID, Rating: vetnet.RatingDissatisfied,
		Reasons: []vetnet.Reason{vetnet.ReasonWaiting}})
	if err != nil {
		t.Fatal(err)
	}
	if f.Service != vetnet.ServiceBenefits || f.StationID != station || f.CheckInID != c.ID || !f.At.Equal(clk.Now()) {
		t.Fatalf("feedback %+v", f)
	}
	if _, err := s.CommitFeedback(bolt.FeedbackDraft{CheckInID: c.ID, Rating: 5}); vetnet.ErrorCode(err) != vetnet.ECONFLICT {
		t.Fatalf("second rating of one visit: %v", err)
	}
	if _, err := s.CommitFeedback(bolt.FeedbackDraft{CheckInID: "01ARYZ6S410000000000000000", Rating: 5}); vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		t.Fatalf("rating of an unknown visit: %v", err)
	}
	c2, _ := mustCommit(t, s, draft(vetnet.ServiceRecords))
	if _, err := s.CommitFeedback(bolt.FeedbackDraft{CheckInID: c2.ID, Rating: 7}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("rating 7: %v", err)
	}
	st, _ := s.OutboxStats()
	if st.Depth != 2 || st.OldestAt == nil || !st.OldestAt.Equal(c2.At.UTC()) && !st.OldestAt.Equal(f.At.UTC()) {
		t.Fatalf("outbox %+v", st)
	}
	rs, err := s.PendingRecordsAfter(0, 0)
	if err != nil || len(rs) != 1 || rs[0].Feedback.ID != f.ID || rs[0].Seq != 1 {
		t.Fatalf("pending records %+v, %v", rs, err)
	}
	if rs, _ := s.PendingRecordsAfter(1, 0); len(rs) != 0 {
		t.Fatal("PendingRecordsAfter(1)")
	}

	// Reopened, it is still there; the ack clears it.
	path := s.Path()
	s.Close()
	s = mustOpenAt(t, path, func(o *bolt.Options) { o.Now = clk.Now; o.Retention = time.Hour })
	if n, err := s.Ack([]string{f.ID, c2.ID}); err != nil || n != 2 {
		t.Fatalf("ack cleared %d, %v", n, err)
	}
	if st, _ := s.OutboxStats(); st.Depth != 0 {
		t.Fatalf("depth %d after ack", st.Depth)
	}
	clk.Set(clk.Now().Add(2 * time.Hour))
	if n, err := s.Purge(); err != nil || n != 3 {
		t.Fatalf("purged %d, %v; want 2 check-ins and 1 rating", n, err)
	}
	if rs, _ := s.PendingRecordsAfter(0, 0); len(rs) != 0 {
		t.Fatal("records after purge")
	}
}

func TestFeedbackRejected(t *testing.T) {
	s := MustOpen(t)
	c, _ := mustCommit(t, s, draft(vetnet.ServiceBenefits))
	f, err := s.CommitFeedback(bolt.FeedbackDraft{CheckInID: c.ID, Rating: 4})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Reject([]wire.Rejection{{ID: f.ID, Code: "invalid", Reason: "test"}})
	if err != nil || n != 1 {
		t.Fatalf("parked %d, %v", n, err)
	}
	st, _ := s.OutboxStats()
	if st.Depth != 1 || st.Rejected != 1 {
		t.Fatalf("outbox %+v: the check-in waits, the rating is parked", st)
	}
	if p, err := s.Parked(0); err != nil || len(p) != 0 {
		t.Fatalf("parked check-ins %v, %v", p, err)
	}
}
