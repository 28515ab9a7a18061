package sqlite

import (
	"bytes"
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

func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path, &Options{Location: storetest.Zone})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rawContains reports whether the database file or its WAL holds b.
func rawContains(t *testing.T, path string, b []byte) bool {
	t.Helper()
	for _, p := range []string{path, path + "-wal"} {
		raw, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(raw, b) {
			return true
		}
	}
	return false
}

// TestPersonalDataSealed: ID numbers and names are sealed in the file and
// open again through the store; the key file is private.
func TestPersonalDataSealed(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hub.db")
	s := openAt(t, path)
	cs := storetest.NewCheckIns(t, rand.New(rand.NewPCG(1, 1)), "st-a", 1, 20, storetest.T0, time.Minute)
	if _, err := s.Save(ctx, cloud.Batch{CheckIns: cs}); err != nil {
		t.Fatal(err)
	}
	var idn, name, hash string
	if err := s.r.QueryRowContext(ctx, `SELECT id_number, name, id_hash FROM checkins WHERE id = ?`, cs[0].ID).Scan(&idn, &name, &hash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(idn, "enc1:1:") || !strings.HasPrefix(name, "enc1:1:") || len(hash) != 64 {
		t.Fatalf("stored id_number %q name %q hash %q", idn, name, hash)
	}
	got, err := s.CheckIn(ctx, cs[0].ID)
	if err != nil || got.Visitor != cs[0].Visitor {
		t.Fatalf("CheckIn %+v %v", got.Visitor, err)
	}
	// A sealed value moved to another row does not open.
	if _, err := s.w.ExecContext(ctx, `UPDATE checkins SET id_number = ? WHERE id = ?`, idn, cs[1].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckIn(ctx, cs[1].ID); vetnet.ErrorCode(err) != vetnet.EINTERNAL {
		t.Fatalf("moved ciphertext: %v", err)
	}
	s.Close()
	for _, c := range cs[2:] {
		if rawContains(t, path, []byte(c.Visitor.IDNumber)) || rawContains(t, path, []byte(c.Visitor.Name)) {
			t.Fatalf("the database holds %s's ID number or name", c.ID)
		}
	}
	fi, err := os.Stat(path + ".key")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v %v", fi, err)
	}
}

// TestPlaintextRowsSealedAtOpen: rows an older hub stored in plain text are
// sealed when the store opens, and nothing else changes.
func TestPlaintextRowsSealedAtOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hub.db")
	s := openAt(t, path)
	cs := storetest.NewCheckIns(t, rand.New(rand.NewPCG(2, 2)), "st-a", 1, 30, storetest.T0, time.Minute)
	if _, err := s.Save(ctx, cloud.Batch{CheckIns: cs}); err != nil {
		t.Fatal(err)
	}
	// Rewrite them as the hub before 0009 stored them.
	for _, c := range cs {
		if _, err := s.w.ExecContext(ctx, `UPDATE checkins SET id_number = ?, name = ?, id_hash = '' WHERE id = ?`,
			c.Visitor.IDNumber, c.Visitor.Name, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM meta WHERE key = 'plain_sealed'`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	defer func(n int) { sealBatch = n }(sealBatch)
	sealBatch = 7
	s = openAt(t, path)
	defer s.Close()
	var plain int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM checkins WHERE id_number NOT LIKE 'enc1:%' OR name NOT LIKE 'enc1:%' OR id_hash = ''`).Scan(&plain); err != nil {
		t.Fatal(err)
	}
	if plain != 0 {
		t.Fatalf("%d rows still in plain text", plain)
	}
	var done string
	if err := s.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'plain_sealed'`).Scan(&done); err != nil || done != "30" {
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
	s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	for _, c := range cs {
		if rawContains(t, path, []byte(c.Visitor.IDNumber)) {
			t.Fatalf("the file still holds %s's ID number after sealing", c.ID)
		}
	}
}

func TestRotateKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hub.db")
	s := openAt(t, path)
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
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM checkins WHERE id_number != '' AND id_number NOT LIKE 'enc1:2:%'`).Scan(&old); err != nil || old != 0 {
		t.Fatalf("%d rows not under key 2, %v", old, err)
	}
	s.Close()
	b, _ := os.ReadFile(path + ".key")
	ring, err := keyring.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if ids := ring.IDs(); len(ids) != 1 || ids[0] != 2 {
		t.Fatalf("key file holds keys %v", ids)
	}
	s = openAt(t, path)
	defer s.Close()
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

func TestKeyFileRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hub.db")
	s := openAt(t, path)
	s.Close()
	mine, _ := os.ReadFile(path + ".key")
	if err := os.Remove(path + ".key"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, nil); vetnet.ErrorCode(err) != vetnet.EINTERNAL {
		t.Fatalf("missing key file: %v", err)
	}
	if _, err := os.Stat(path + ".key"); err == nil {
		t.Fatal("a new key was made for a database that had one")
	}
	other, _ := keyring.New()
	os.WriteFile(path+".key", other.Marshal(), 0o600)
	if _, err := Open(path, nil); vetnet.ErrorCode(err) != vetnet.EINTERNAL {
		t.Fatalf("another hub's key file: %v", err)
	}
	os.WriteFile(path+".key", []byte("garbage"), 0o600)
	if _, err := Open(path, nil); vetnet.ErrorCode(err) != vetnet.EINTERNAL {
		t.Fatalf("malformed key file: %v", err)
	}
	os.WriteFile(path+".key", mine, 0o600)
	s, err := Open(path, nil)
	if err != nil {
		t.Fatalf("own key back: %v", err)
	}
	s.Close()
	// Options.KeyFile puts the ring elsewhere.
	alt := filepath.Join(dir, "keys", "hub.key")
	os.MkdirAll(filepath.Dir(alt), 0o700)
	s2, err := Open(filepath.Join(dir, "other.db"), &Options{KeyFile: alt})
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if _, err := os.Stat(alt); err != nil {
		t.Fatalf("KeyFile not used: %v", err)
	}
}

// BenchmarkSealVisitor is what sealing adds to storing one check-in: two
// AES-256-GCM seals and one HMAC-SHA256 (docs/performance.md).
func BenchmarkSealVisitor(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "hub.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	v := vetnet.Visitor{IDNumber: "320411195003070011", Name: "王建国"}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := s.sealVisitor("01KB1Q0V00ABCDEFGHJKMNPQRS", v); err != nil {
			b.Fatal(err)
		}
	}
}
