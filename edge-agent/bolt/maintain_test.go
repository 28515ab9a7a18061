package bolt_test

import (
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/bolt"
)

// TestDiskNearlyFull: below MinFree the store takes no new check-in, says
// so in both languages, keeps everything it has, and takes check-ins again
// when space comes back.
func TestDiskNearlyFull(t *testing.T) {
	var free atomic.Uint64
	free.Store(1 << 30)
	s := MustOpen(t, func(o *bolt.Options) {
		o.MinFree = 100 << 20
		o.FreeSpace = func(string) (uint64, error) { return free.Load(), nil }
		o.SpaceCheckEvery = time.Nanosecond
	})
	c1, _ := mustCommit(t, s, draft(vetnet.ServiceBenefits))
	free.Store(50 << 20)
	_, _, err := s.Commit(draft(vetnet.ServiceBenefits))
	if vetnet.ErrorCode(err) != vetnet.EFULL {
		t.Fatalf("commit on a nearly full disk: %v", err)
	}
	if zh := vetnet.ErrorMessage(err, "zh"); zh == "" || zh == vetnet.ErrorMessage(err, "en") {
		t.Fatalf("message %q", zh)
	}
	if st := s.Storage(); !st.Low || st.FreeBytes != 50<<20 {
		t.Fatalf("storage %+v", st)
	}
	if p, _ := s.Pending(0); len(p) != 1 || p[0].ID != c1.ID {
		t.Fatal("a stored check-in was lost")
	}
	free.Store(1 << 30)
	if _, _, err := s.Commit(draft(vetnet.ServiceBenefits)); err != nil {
		t.Fatalf("commit after space came back: %v", err)
	}
}

func TestDiskFreeUnknown(t *testing.T) {
	s := MustOpen(t, func(o *bolt.Options) {
		o.FreeSpace = func(string) (uint64, error) { return 0, errors.New("statfs: not supported") }
	})
	if _, _, err := s.Commit(draft(vetnet.ServiceBenefits)); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

// TestPurge removes only check-ins acknowledged more than Retention ago.
func TestPurge(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 1, 9, 0, 0, 0, cst)}
	s := MustOpen(t, func(o *bolt.Options) { o.Now = clk.Now; o.Retention = 7 * 24 * time.Hour })
	var old, recent, pending []vetnet.CheckIn
	for i := 0; i < 1500; i++ { // more than one purge transaction
		c, _ := mustCommit(t, s, draft(vetnet.ServiceRecords))
		old = append(old, c)
	}
	if n, err := s.Ack(ids(old)); err != nil || n != len(old) {
		t.Fatal(n, err)
	}
	clk.Set(clk.Now().Add(5 * 24 * time.Hour))
	for i := 0; i < 3; i++ {
		c, _ := mustCommit(t, s, draft(vetnet.ServiceRecords))
		recent = append(recent, c)
	}
	s.Ack(ids(recent))
	c, _ := mustCommit(t, s, draft(vetnet.ServiceRecords))
	pending = append(pending, c)

	clk.Set(clk.Now().Add(3 * 24 * time.Hour)) // old: acked 8 days ago; recent: 3 days
	removed, err := s.Purge()
	if err != nil || removed != len(old) {
		t.Fatalf("purged %d, %v; want %d", removed, err, len(old))
	}
	if _, err := s.Get(old[0].ID); vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		t.Fatalf("a purged check-in is still there: %v", err)
	}
	for _, c := range append(recent, pending...) {
		if _, err := s.Get(c.ID); err != nil {
			t.Fatalf("%s purged too early: %v", c.ID, err)
		}
	}
	if st, _ := s.OutboxStats(); st.Depth != 1 || st.LastSeq != uint64(len(old)+4) {
		t.Fatalf("outbox %+v", st)
	}
	// Numbering goes on after a purge.
	if c, _ := mustCommit(t, s, draft(vetnet.ServiceRecords)); c.Seq != uint64(len(old)+5) {
		t.Fatalf("seq %d after purge", c.Seq)
	}
	if n, _ := s.Purge(); n != 0 {
		t.Fatalf("second purge removed %d", n)
	}
}

// TestCompact: after a large backlog is acknowledged and purged, Compact
// gives the disk back and keeps every check-in still held.
func TestCompact(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 1, 9, 0, 0, 0, cst)}
	s := MustOpen(t, func(o *bolt.Options) { o.Now = clk.Now; o.Retention = time.Hour })
	var all []vetnet.CheckIn
	for i := 0; i < 4000; i++ {
		c, _ := mustCommit(t, s, draft(vetnet.ServiceEmployment))
		all = append(all, c)
	}
	s.Ack(ids(all[:3990]))
	// The next day: the day's queue of 4000 tickets goes too.
	clk.Set(clk.Now().Add(26 * time.Hour))
	if n, err := s.Purge(); err != nil || n != 3990 {
		t.Fatal(n, err)
	}
	if !s.CompactWorth(1 << 20) {
		t.Fatalf("a file mostly free should be worth compacting: %+v", s.Storage())
	}
	before, after, err := s.Compact()
	if err != nil {
		t.Fatal(err)
	}
	if after*2 > before {
		t.Fatalf("compaction from %d to %d bytes", before, after)
	}
	t.Logf("compacted %d → %d bytes", before, after)
	if _, err := os.Stat(s.Path() + ".compact"); !os.IsNotExist(err) {
		t.Fatal("the copy was left behind")
	}
	p, err := s.Pending(0)
	if err != nil || len(p) != 10 || p[0].ID != all[3990].ID {
		t.Fatalf("pending after compaction: %d, %v", len(p), err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	// The store works on: commit, ack, visitors.
	c, tk := mustCommit(t, s, draft(vetnet.ServiceEmployment))
	if c.Seq != 4001 || tk.QueueNo == "" {
		t.Fatalf("after compaction: seq %d ticket %+v", c.Seq, tk)
	}
	if s.CompactWorth(1 << 20) {
		t.Fatal("a compacted file is not worth compacting again")
	}
}

// TestCompactLeftover: a copy left by a power cut during compaction is
// removed at the next open.
func TestCompactLeftover(t *testing.T) {
	s := MustOpen(t)
	path := s.Path()
	mustCommit(t, s, draft(vetnet.ServiceEmployment))
	if err := os.WriteFile(path+".compact", []byte("half a copy"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2 := mustOpenAt(t, path)
	if _, err := os.Stat(path + ".compact"); !os.IsNotExist(err) {
		t.Fatal("leftover copy still there")
	}
	if p, _ := s2.Pending(0); len(p) != 1 {
		t.Fatal("data lost")
	}
}

// TestPurgeForgetsVisitors: a visitor not seen for VisitorRetention is no
// longer a returning visitor; one seen since is.
func TestPurgeForgetsVisitors(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 5, 9, 0, 0, 0, cst)}
	s := MustOpen(t, func(o *bolt.Options) { o.Now = clk.Now; o.VisitorRetention = 90 * 24 * time.Hour })
	old, recent := draft(vetnet.ServiceBenefits), draft(vetnet.ServiceBenefits)
	mustCommit(t, s, old)
	clk.Set(clk.t.Add(80 * 24 * time.Hour))
	mustCommit(t, s, recent)
	clk.Set(clk.t.Add(20 * 24 * time.Hour))
	if _, err := s.Purge(); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.LastVisit(old.Visitor.IDNumber); ok || err != nil {
		t.Fatalf("a visitor of 100 days ago is remembered: %v %v", ok, err)
	}
	if _, ok, err := s.LastVisit(recent.Visitor.IDNumber); !ok || err != nil {
		t.Fatalf("a visitor of 20 days ago is forgotten: %v %v", ok, err)
	}
}
