package bolt_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/bolt"
	"github.com/vetnet/vetnet/vetnettest"
	"github.com/vetnet/vetnet/wire"
)

const station = "cz-xb-sanjing"

// cst is the stations' time zone, fixed so tests do not depend on the
// machine's.
var cst = time.FixedZone("CST", 8*3600)

// MustOpen opens a store in a temporary directory. On cleanup it closes the
// store and runs bbolt's consistency check on the file.
func MustOpen(tb testing.TB, edit ...func(*bolt.Options)) *bolt.Store {
	tb.Helper()
	return mustOpenAt(tb, filepath.Join(tb.TempDir(), "station.db"), edit...)
}

func mustOpenAt(tb testing.TB, path string, edit ...func(*bolt.Options)) *bolt.Store {
	tb.Helper()
	opts := bolt.Options{StationID: station, Location: cst}
	for _, e := range edit {
		e(&opts)
	}
	s, err := bolt.Open(path, opts)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
		if err := bolt.CheckFile(path); err != nil {
			tb.Errorf("consistency check: %v", err)
		}
	})
	return s
}

// clock is a fake clock safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

var rng = rand.New(rand.NewPCG(1, 2))
var rngMu sync.Mutex

func draft(sv vetnet.Service) bolt.Draft {
	rngMu.Lock()
	v := vetnettest.Veteran(rng)
	rngMu.Unlock()
	return bolt.Draft{Visitor: v, Service: sv, Method: vetnet.MethodCard}
}

func mustCommit(t *testing.T, s *bolt.Store, d bolt.Draft) (vetnet.CheckIn, bolt.Ticket) {
	t.Helper()
	c, tk, err := s.Commit(d)
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	return c, tk
}

func ids(cs []vetnet.CheckIn) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func TestCommitSequenceConcurrent(t *testing.T) {
	s := MustOpen(t)
	const workers, each = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, _, err := s.Commit(draft(vetnet.ServiceBenefits)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	pending, err := s.Pending(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != workers*each {
		t.Fatalf("pending %d, want %d", len(pending), workers*each)
	}
	queue := map[string]bool{}
	for i, c := range pending {
		if c.Seq != uint64(i+1) {
			t.Fatalf("pending[%d].Seq = %d: gap or disorder", i, c.Seq)
		}
		if err := c.Validate(time.Now()); err != nil {
			t.Fatalf("stored check-in invalid: %v", err)
		}
		if queue[c.QueueNo] {
			t.Fatalf("queue number %s given twice", c.QueueNo)
		}
		queue[c.QueueNo] = true
	}
	st, err := s.OutboxStats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Depth != workers*each || st.LastSeq != workers*each || st.OldestAt == nil || !st.OldestAt.Equal(pending[0].At) {
		t.Fatalf("stats %+v", st)
	}
	if got, _ := s.Pending(7); len(got) != 7 || got[6].Seq != 7 {
		t.Fatalf("Pending(7) = %d entries", len(got))
	}
}

func TestDurableAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "station.db")
	s, err := bolt.Open(path, bolt.Options{StationID: station, Location: cst})
	if err != nil {
		t.Fatal(err)
	}
	var want []vetnet.CheckIn
	for _, sv := range []vetnet.Service{vetnet.ServiceBenefits, vetnet.ServiceEmployment, vetnet.ServiceBenefits} {
		c, _ := mustCommit(t, s, draft(sv))
		want = append(want, c)
	}
	cfg := wire.NewConfig(vetnet.Station{ID: station, Name: "三井", Level: vetnet.LevelTown, Parent: "cz-xb"}, 15, time.Now())
	if err := s.SaveConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pending(0); vetnet.ErrorCode(err) != vetnet.EUNAVAILABLE {
		t.Fatalf("Pending on a closed store: %v", err)
	}

	s2 := mustOpenAt(t, path)
	got, err := s2.Pending(0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after reopen\n%+v\nwant\n%+v", got, want)
	}
	c, err := s2.Get(want[1].ID)
	if err != nil || !reflect.DeepEqual(c, want[1]) {
		t.Fatalf("Get = %+v, %v", c, err)
	}
	gotCfg, ok := s2.Config()
	if !ok || !reflect.DeepEqual(gotCfg, cfg) {
		t.Fatalf("config after reopen %+v %v", gotCfg, ok)
	}
	c4, _ := mustCommit(t, s2, draft(vetnet.ServiceBenefits))
	if c4.Seq != 4 || c4.QueueNo != "B003" {
		t.Fatalf("commit after reopen: seq %d queue %s", c4.Seq, c4.QueueNo)
	}
}

func TestAckIdempotent(t *testing.T) {
	s := MustOpen(t)
	var cs []vetnet.CheckIn
	for i := 0; i < 3; i++ {
		c, _ := mustCommit(t, s, draft(vetnet.ServiceConsultation))
		cs = append(cs, c)
	}
	tests := []struct {
		name    string
		ids     []string
		cleared int
		left    []string
	}{
		{"two and an unknown", []string{cs[0].ID, cs[1].ID, "01KB1Q0V00ABCDEFGHJKMNPQRS"}, 2, []string{cs[2].ID}},
		{"the same again", []string{cs[0].ID, cs[1].ID}, 0, []string{cs[2].ID}},
		{"none", nil, 0, []string{cs[2].ID}},
		{"the last twice in one ack", []string{cs[2].ID, cs[2].ID}, 1, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := s.Ack(tt.ids)
			if err != nil || n != tt.cleared {
				t.Fatalf("Ack = %d, %v; want %d", n, err, tt.cleared)
			}
			p, _ := s.Pending(0)
			if got := ids(p); !reflect.DeepEqual(got, tt.left) {
				t.Fatalf("pending %v, want %v", got, tt.left)
			}
			st, _ := s.OutboxStats()
			if st.Depth != len(tt.left) {
				t.Fatalf("depth %d, want %d", st.Depth, len(tt.left))
			}
		})
	}
	st, _ := s.OutboxStats()
	if st.OldestAt != nil || st.LastSeq != 3 {
		t.Fatalf("empty outbox stats %+v", st)
	}
	// Acknowledged check-ins stay in the store.
	if _, err := s.Get(cs[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("01KB1Q0V00ABCDEFGHJKMNPQRS"); vetnet.ErrorCode(err) != vetnet.ENOTFOUND {
		t.Fatalf("Get unknown: %v", err)
	}
}

func TestReject(t *testing.T) {
	s := MustOpen(t)
	var cs []vetnet.CheckIn
	for i := 0; i < 3; i++ {
		c, _ := mustCommit(t, s, draft(vetnet.ServiceBenefits))
		cs = append(cs, c)
	}
	rej := []wire.Rejection{{ID: cs[1].ID, Seq: cs[1].Seq, Code: vetnet.EINVALID, Reason: "bad check character"}}
	if n, err := s.Reject(rej); err != nil || n != 1 {
		t.Fatalf("Reject = %d, %v", n, err)
	}
	if n, err := s.Reject(rej); err != nil || n != 0 {
		t.Fatalf("Reject again = %d, %v", n, err)
	}
	if n, _ := s.Ack([]string{cs[1].ID}); n != 0 {
		t.Fatal("ack cleared a parked check-in")
	}
	p, _ := s.Pending(0)
	if got := ids(p); !reflect.DeepEqual(got, []string{cs[0].ID, cs[2].ID}) {
		t.Fatalf("pending %v", got)
	}
	st, _ := s.OutboxStats()
	if st.Depth != 2 || st.Rejected != 1 {
		t.Fatalf("stats %+v", st)
	}
	parked, err := s.Parked(0)
	if err != nil || len(parked) != 1 || parked[0].CheckIn.ID != cs[1].ID || parked[0].Code != vetnet.EINVALID || parked[0].Reason != "bad check character" {
		t.Fatalf("parked %+v, %v", parked, err)
	}
}

func TestFull(t *testing.T) {
	s := MustOpen(t, func(o *bolt.Options) { o.MaxOutbox = 3 })
	var first vetnet.CheckIn
	for i := 0; i < 3; i++ {
		c, _ := mustCommit(t, s, draft(vetnet.ServiceBenefits))
		if i == 0 {
			first = c
		}
	}
	_, _, err := s.Commit(draft(vetnet.ServiceBenefits))
	if vetnet.ErrorCode(err) != vetnet.EFULL {
		t.Fatalf("commit beyond MaxOutbox: %v", err)
	}
	if vetnet.ErrorMessage(err, "zh") == "" {
		t.Fatal("no message for people")
	}
	st, _ := s.OutboxStats()
	if st.LastSeq != 3 {
		t.Fatalf("a refused commit used a sequence number: %+v", st)
	}
	if _, err := s.Ack([]string{first.ID}); err != nil {
		t.Fatal(err)
	}
	if c, _ := mustCommit(t, s, draft(vetnet.ServiceBenefits)); c.Seq != 4 {
		t.Fatalf("seq %d after ack", c.Seq)
	}
}

func TestQueueNumbersPerDay(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 26, 23, 58, 0, 0, cst)}
	s := MustOpen(t, func(o *bolt.Options) { o.Now = clk.Now })
	steps := []struct {
		name    string
		at      time.Time
		service vetnet.Service
		queue   string
		waiting int
	}{
		{"first benefits", clk.t, vetnet.ServiceBenefits, "B001", 0},
		{"second benefits", clk.t.Add(time.Second), vetnet.ServiceBenefits, "B002", 1},
		{"first jobs", clk.t.Add(2 * time.Second), vetnet.ServiceEmployment, "A001", 0},
		{"third benefits", clk.t.Add(time.Minute), vetnet.ServiceBenefits, "B003", 2},
		// 00:00 in China is 16:00 UTC: the local day decides.
		{"next local day", time.Date(2026, 11, 27, 0, 0, 1, 0, cst), vetnet.ServiceBenefits, "B001", 0},
		{"next day jobs", time.Date(2026, 11, 27, 8, 0, 0, 0, cst), vetnet.ServiceEmployment, "A001", 0},
		{"training", time.Date(2026, 11, 27, 9, 0, 0, 0, cst), vetnet.ServiceTraining, "T001", 0},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clk.Set(st.at)
			c, tk := mustCommit(t, s, draft(st.service))
			if tk.QueueNo != st.queue || c.QueueNo != st.queue || tk.Waiting != st.waiting {
				t.Fatalf("ticket %+v, check-in queue %s; want %s waiting %d", tk, c.QueueNo, st.queue, st.waiting)
			}
			if !c.At.Equal(st.at) {
				t.Fatalf("At %v, want %v", c.At, st.at)
			}
		})
	}
}

func TestReturningVisitor(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, cst)}
	s := MustOpen(t, func(o *bolt.Options) { o.Now = clk.Now })
	d := draft(vetnet.ServiceBenefits)
	if _, ok, err := s.LastVisit(d.Visitor.IDNumber); ok || err != nil {
		t.Fatalf("LastVisit before any visit: %v %v", ok, err)
	}
	first, tk := mustCommit(t, s, d)
	if tk.LastVisit != nil {
		t.Fatalf("first visit has a last visit %v", tk.LastVisit)
	}
	clk.Set(clk.t.Add(24 * time.Hour))
	_, tk = mustCommit(t, s, d)
	if tk.LastVisit == nil || !tk.LastVisit.Equal(first.At) {
		t.Fatalf("returning visitor: last visit %v, want %v", tk.LastVisit, first.At)
	}
	last, ok, err := s.LastVisit(d.Visitor.IDNumber)
	if err != nil || !ok || !last.Equal(clk.t) {
		t.Fatalf("LastVisit = %v %v %v", last, ok, err)
	}
	if _, ok, _ := s.LastVisit(draft(vetnet.ServiceBenefits).Visitor.IDNumber); ok {
		t.Fatal("a stranger is returning")
	}

	// The file holds neither the ID number, nor the name, nor a plain
	// hash of the ID number.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(d.Visitor.IDNumber))
	for what, needle := range map[string][]byte{
		"ID number":      []byte(d.Visitor.IDNumber),
		"name":           []byte(d.Visitor.Name),
		"SHA-256":        sum[:],
		"SHA-256 in hex": []byte(hex.EncodeToString(sum[:])),
	} {
		if bytes.Contains(raw, needle) {
			t.Errorf("the data file contains the visitor's %s", what)
		}
	}
	fi, err := os.Stat(s.Path() + ".key")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
}

func TestCommitRefusesInvalid(t *testing.T) {
	s := MustOpen(t)
	good := draft(vetnet.ServiceBenefits)
	badCheck := good
	badCheck.Visitor.IDNumber = good.Visitor.IDNumber[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", good.Visitor.IDNumber[17])+1)%11])
	tests := []struct {
		name string
		d    bolt.Draft
	}{
		{"unknown service", bolt.Draft{Visitor: good.Visitor, Service: "golf", Method: vetnet.MethodCard}},
		{"unknown method", bolt.Draft{Visitor: good.Visitor, Service: vetnet.ServiceBenefits, Method: "telepathy"}},
		{"bad check character", badCheck},
		{"short ID number", bolt.Draft{Visitor: vetnet.Visitor{IDNumber: "3204"}, Service: vetnet.ServiceBenefits, Method: vetnet.MethodManual}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := s.Commit(tt.d); vetnet.ErrorCode(err) != vetnet.EINVALID {
				t.Fatalf("Commit = %v, want invalid", err)
			}
		})
	}
	if c, _ := mustCommit(t, s, good); c.Seq != 1 || c.Visitor.DocType != vetnet.DocResident {
		t.Fatalf("refused commits used sequence numbers: %d", c.Seq)
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "station.db")
	s, err := bolt.Open(path, bolt.Options{StationID: station})
	if err != nil {
		t.Fatal(err)
	}
	mustCommit(t, s, draft(vetnet.ServiceBenefits))

	if _, err := bolt.Open(path, bolt.Options{StationID: station, Timeout: 50 * time.Millisecond}); vetnet.ErrorCode(err) != vetnet.EUNAVAILABLE {
		t.Fatalf("second open while locked: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := bolt.Open(path, bolt.Options{StationID: "cz-xb-other"}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("open as another station: %v", err)
	}
	if _, err := bolt.Open(path, bolt.Options{}); vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("open without station: %v", err)
	}
	key, _ := os.ReadFile(path + ".key")
	if err := os.Remove(path + ".key"); err != nil {
		t.Fatal(err)
	}
	if _, err := bolt.Open(path, bolt.Options{StationID: station}); vetnet.ErrorCode(err) != vetnet.EINTERNAL {
		t.Fatalf("open without the key: %v", err)
	}
	if _, err := os.Stat(path + ".key"); err == nil {
		t.Fatal("a new key was made for an existing database")
	}
	other := append([]byte(nil), key...)
	other[0] ^= 1
	if err := os.WriteFile(path+".key", other, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := bolt.Open(path, bolt.Options{StationID: station}); vetnet.ErrorCode(err) != vetnet.EINTERNAL {
		t.Fatalf("open with a wrong key: %v", err)
	}
	if err := os.WriteFile(path+".key", key, 0o600); err != nil {
		t.Fatal(err)
	}
	s = mustOpenAt(t, path)
	if p, err := s.Pending(0); err != nil || len(p) != 1 {
		t.Fatalf("with the key back: %d, %v", len(p), err)
	}
}

// childEnv names the data file a re-executed test binary commits to until
// it is killed.
const childEnv = "VETNET_BOLT_CRASH_CHILD"

// TestKillDuringCommits kills a process in a tight commit loop with
// SIGKILL and checks that every commit it reported as done is in the file,
// and that the sequence has no gaps.
func TestKillDuringCommits(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		crashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	path := filepath.Join(t.TempDir(), "station.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringCommits$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := map[uint64]string{}
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		seq, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			continue
		}
		done[seq] = f[1]
		// Kill at a point that varies from run to run, mid-commit most of
		// the time.
		if !killed && len(done) >= 40+int(time.Now().UnixNano()%40) {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatalf("the child ended on its own after %d commits", len(done))
	}

	s := mustOpenAt(t, path)
	st, err := s.OutboxStats()
	if err != nil {
		t.Fatal(err)
	}
	if st.LastSeq < uint64(len(done)) {
		t.Fatalf("last seq %d, but the child reported %d commits", st.LastSeq, len(done))
	}
	for seq, id := range done {
		c, err := s.Get(id)
		if err != nil {
			t.Fatalf("reported commit seq %d lost: %v", seq, err)
		}
		if c.Seq != seq {
			t.Fatalf("check-in %s has seq %d, reported %d", id, c.Seq, seq)
		}
	}
	pending, err := s.Pending(0)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(pending)) != st.LastSeq || st.Depth != len(pending) {
		t.Fatalf("pending %d, depth %d, last seq %d", len(pending), st.Depth, st.LastSeq)
	}
	seqs := make([]int, len(pending))
	for i, c := range pending {
		seqs[i] = int(c.Seq)
	}
	if !sort.IntsAreSorted(seqs) || seqs[0] != 1 || seqs[len(seqs)-1] != len(seqs) {
		t.Fatalf("sequence has gaps: %v", seqs)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	t.Logf("child reported %d commits; the file holds %d", len(done), st.LastSeq)
}

func crashChild(path string) {
	s, err := bolt.Open(path, bolt.Options{StationID: station})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 100000; i++ {
		c, _, err := s.Commit(bolt.Draft{Visitor: vetnettest.Veteran(r), Service: vetnet.ServiceBenefits, Method: vetnet.MethodCard})
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(2)
		}
		// Reported only after Commit returned: the promise under test.
		fmt.Fprintf(os.Stdout, "%d %s\n", c.Seq, c.ID)
	}
	os.Exit(0)
}
