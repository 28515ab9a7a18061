package postgres

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/storetest"
	"github.com/vetnet/vetnet/internal/keyring"
)

// reopen closes s and opens its schema again with the same key file.
func reopen(t *testing.T, s *Store) *Store {
	t.Helper()
	s.Close()
	o := s.opts
	s2, err := Open(testURL(t), &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	return s2
}

// TestPersonalDataSealed: ID numbers and names are sealed in the tables
// and open again through the store; the key file is private.
func TestPersonalDataSealed(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, nil)
	cs := storetest.NewCheckIns(t, rand.New(rand.NewPCG(1, 1)), "st-a", 1, 20, storetest.T0, time.Minute)
	if _, err := s.Save(ctx, cloud.Batch{CheckIns: cs}); err != nil {
		t.Fatal(err)
	}
	var idn, name, hash string
	if err := s.db.QueryRowContext(ctx, `SELECT id_number, name, id_hash FROM checkins WHERE id = $1`, cs[0].ID).Scan(&idn, &name, &hash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(idn, "enc1:1:") || !strings.HasPrefix(name, "enc1:1:") || len(hash) != 64 {
		t.Fatalf("stored id_number %q name %q hash %q", idn, name, hash)
	}
	got, err := s.CheckIn(ctx, cs[0].ID)
	if err != nil || got.Visitor != cs[0].Visitor {
		t.Fatalf("CheckIn %+v %v", got.Visitor, err)
	}
	p, err := s.CheckIns(ctx, cloud.CheckInFilter{Order: cloud.OrderSeq, Station: "st-a", Limit: 100})
	if err != nil || len(p.CheckIns) != len(cs) {
		t.Fatalf("%d check-ins, %v", len(p.CheckIns), err)
	}
	for i, c := range p.CheckIns {
		if c.Visitor != cs[i].Visitor {
			t.Fatalf("check-in %d: %+v, want %+v", i, c.Visitor, cs[i].Visitor)
		}
	}
	// Nothing in the table holds an ID number or a name in plain text.
	for _, c := range cs {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM checkins WHERE id_number LIKE $1 OR name LIKE $2 OR detail LIKE $1`,
			"%"+c.Visitor.IDNumber+"%", "%"+c.Visitor.Name+"%").Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d rows hold %s's ID number or name, %v", n, c.ID, err)
		}
	}
	// A sealed value moved to another row does not open.
	if _, err := s.db.ExecContext(ctx, `UPDATE checkins SET id_number = $1 WHERE id = $2`, idn, cs[1].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckIn(ctx, cs[1].ID); vetnet.ErrorCode(err) != vetnet.EINTERNAL {
		t.Fatalf("moved ciphertext: %v", err)
	}
	fi, err := os.Stat(s.opts.KeyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v %v", fi, err)
	}
}

// TestPlaintextRowsSealedAtOpen: rows an older hub stored in plain text are
// sealed when the store opens, and nothing else changes.
func TestPlaintextRowsSealedAtOpen(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, nil)
	cs := storetest.NewCheckIns(t, rand.New(rand.NewPCG(2, 2)), "st-a", 1, 30, storetest.T0, time.Minute)
	if _, err := s.Save(ctx, cloud.Batch{CheckIns: cs}); err != nil {
		t.Fatal(err)
	}
	// Rewrite them as the hub before migration 0002 stored them.
	for _, c := range cs {
		if _, err := s.db.ExecContext(ctx, `UPDATE checkins SET id_number = $1, name = $2, id_hash = '' WHERE id = $3`,
			c.Visitor.IDNumber, c.Visitor.Name, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM meta WHERE key = 'plain_sealed'`); err != nil {
		t.Fatal(err)
	}
	defer func(n int) { sealBatch = n }(sealBatch)
	sealBatch = 7
	s = reopen(t, s)
	var plain int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM checkins WHERE id_number NOT LIKE 'enc1:%' OR name NOT LIKE 'enc1:%' OR id_hash = ''`).Scan(&plain); err != nil {
		t.Fatal(err)
	}
	if plain != 0 {
		t.Fatalf("%d rows still in plain text", plain)
	}
	var done string
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'plain_sealed'`).Scan(&done); err != nil || done != "30" {
		t.Fatalf("plain_sealed %q %v", done, err)
	}
	p, err := s.CheckIns(ctx, cloud.CheckInFilter{Order: cloud.OrderSeq, Station: "st-a", Limit: 100})
	if err != nil || len(p.CheckIns) != len(cs) {
		t.Fatalf("%d check-ins, %v", len(p.CheckIns), err)
	}
	for i, c := range p.CheckIns {
		if c.Visitor != cs[i].Visitor {
			t.Fatalf("check-in %d: %+v, want %+v", i, c.Visitor, cs[i].Visitor)
		}
	}
	// Returning visitors are found among the migrated rows.
	if pd, err := s.PersonData(ctx, cs[3].Visitor.IDNumber); err != nil || len(pd.CheckIns) != 1 || pd.CheckIns[0].ID != cs[3].ID {
		t.Fatalf("person after migration: %+v %v", pd, err)
	}
}

func TestRotateKey(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, nil)
	cs := storetest.NewCheckIns(t, rand.New(rand.NewPCG(3, 3)), "st-a", 1, 25, storetest.T0, time.Minute)
	if _, err := s.Save(ctx, cloud.Batch{CheckIns: cs}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ErasePerson(ctx, cs[0].Visitor.IDNumber, storetest.T0); err != nil {
		t.Fatal(err)
	}
	defer func(n int) { sealBatch = n }(sealBatch)
	sealBatch = 4
	n, err := s.RotateKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(cs)-1 {
		t.Fatalf("re-sealed %d, want %d", n, len(cs)-1)
	}
	var old int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM checkins WHERE id_number <> '' AND id_number NOT LIKE 'enc1:2:%'`).Scan(&old); err != nil || old != 0 {
		t.Fatalf("%d rows not under key 2, %v", old, err)
	}
	b, _ := os.ReadFile(s.opts.KeyFile)
	ring, err := keyring.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if ids := ring.IDs(); len(ids) != 1 || ids[0] != 2 {
		t.Fatalf("key file holds keys %v", ids)
	}
	s = reopen(t, s)
	for _, c := range cs[1:] {
		got, err := s.CheckIn(ctx, c.ID)
		if err != nil || got.Visitor != c.Visitor {
			t.Fatalf("after rotation %s: %+v %v", c.ID, got.Visitor, err)
		}
	}
	if pd, err := s.PersonData(ctx, cs[5].Visitor.IDNumber); err != nil || len(pd.CheckIns) != 1 {
		t.Fatalf("returning visitor after rotation: %+v %v", pd, err)
	}
}

// TestKeyFileRefused: a missing, another database's or a malformed key
// file is refused (and no new key is made for a database that has one).
func TestKeyFileRefused(t *testing.T) {
	s := MustOpen(t, nil)
	s.Close()
	o := s.opts
	mine, _ := os.ReadFile(o.KeyFile)
	if err := os.Remove(o.KeyFile); err != nil {
		t.Fatal(err)
	}
	u := testURL(t)
	if _, err := Open(u, &o); vetnet.ErrorCode(err) != vetnet.EINTERNAL {
		t.Fatalf("missing key file: %v", err)
	}
	if _, err := os.Stat(o.KeyFile); err == nil {
		t.Fatal("a new key was made for a database that had one")
	}
	other, _ := keyring.New()
	os.WriteFile(o.KeyFile, other.Marshal(), 0o600)
	if _, err := Open(u, &o); vetnet.ErrorCode(err) != vetnet.EINTERNAL {
		t.Fatalf("another hub's key file: %v", err)
	}
	os.WriteFile(o.KeyFile, []byte("garbage"), 0o600)
	if _, err := Open(u, &o); vetnet.ErrorCode(err) != vetnet.EINTERNAL {
		t.Fatalf("malformed key file: %v", err)
	}
	os.WriteFile(o.KeyFile, mine, 0o600)
	s2, err := Open(u, &o)
	if err != nil {
		t.Fatalf("own key back: %v", err)
	}
	s2.Close()
	// A second replica starting on a new schema with its own new key
	// file is refused: the first one's key is the database's.
	a := MustOpen(t, nil)
	ob := a.opts
	ob.KeyFile = filepath.Join(t.TempDir(), "replica2.key")
	if _, err := Open(u, &ob); vetnet.ErrorCode(err) != vetnet.EINTERNAL {
		t.Fatalf("second replica with its own key: %v", err)
	}
}
