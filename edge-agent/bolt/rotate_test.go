package bolt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/internal/keyring"
)

// sealLegacy seals a record the way the store did before key rings
// (format 1, the device key file holding 32 raw bytes).
func sealLegacy(t *testing.T, master, sk []byte, r record) []byte {
	t.Helper()
	block, err := aes.NewCipher(keyring.Derive(master, purposeRecord))
	if err != nil {
		t.Fatal(err)
	}
	aead, _ := cipher.NewGCM(block)
	plain, _ := json.Marshal(r)
	out := make([]byte, 1+aead.NonceSize())
	out[0] = sealV1
	if _, err := io.ReadFull(rand.Reader, out[1:]); err != nil {
		t.Fatal(err)
	}
	return aead.Seal(out, out[1:], plain, sk)
}

func TestRotateKeyFromLegacyFile(t *testing.T) {
	const station = "cz-xb-sanjing"
	path := filepath.Join(t.TempDir(), "station.db")
	master := bytes.Repeat([]byte{0x5a}, keyring.KeyLen)
	if err := os.WriteFile(path+".key", master, 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	s, err := Open(path, Options{StationID: station, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	visitors := []vetnet.Visitor{
		{IDNumber: "320411195003070011", Name: "王建国"},
		{IDNumber: "320411194812120029", Name: "李秀英"},
	}
	defer func(n int) { rotateBatch = n }(rotateBatch)
	rotateBatch = 7 // several batches, the last one short
	var made []vetnet.CheckIn
	for i := 0; i < 2*rotateBatch+3; i++ {
		c, _, err := s.Commit(Draft{Visitor: visitors[i%2], Service: vetnet.ServiceBenefits, Method: vetnet.MethodCard})
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, c)
	}
	// Turn the first record into the legacy format, as an old agent wrote it.
	if err := s.update(func(tx *bbolt.Tx) error {
		sk := seqKey(1)
		return tx.Bucket(bucketCheckIns).Put(sk, sealLegacy(t, master, sk, toRecord(made[0])))
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(made[0].ID); err != nil || got.Visitor != made[0].Visitor {
		t.Fatalf("legacy record: %+v %v", got, err)
	}

	n, err := s.RotateKey()
	if err != nil {
		t.Fatal(err)
	}
	if n != len(made) {
		t.Fatalf("re-sealed %d, want %d", n, len(made))
	}
	if ids := s.KeyIDs(); len(ids) != 1 || ids[0] != 2 {
		t.Fatalf("key IDs after rotation %v", ids)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	keyFile, _ := os.ReadFile(path + ".key")
	ring, err := keyring.Parse(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ring.Key(1); ok {
		t.Fatal("the old key is still in the key file")
	}
	// Nothing in the data file opens under the old key any more: every
	// record names key 2.
	s, err = Open(path, Options{StationID: station, Now: func() time.Time { return now.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketCheckIns).ForEach(func(k, v []byte) error {
			if id, _, _ := sealedKeyID(v); id != 2 {
				t.Errorf("record %x under key %d", k, id)
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	p, err := s.Pending(0)
	if err != nil || len(p) != len(made) {
		t.Fatalf("pending after rotation: %d %v", len(p), err)
	}
	for i, c := range p {
		if c.Visitor != made[i].Visitor || c.ID != made[i].ID {
			t.Fatalf("record %d changed: %+v", i, c)
		}
	}
	// Returning visitors are still recognised (the lookup key stays).
	_, tk, err := s.Commit(Draft{Visitor: visitors[0], Service: vetnet.ServiceBenefits, Method: vetnet.MethodCard})
	if err != nil || tk.LastVisit == nil {
		t.Fatalf("returning visitor after rotation: %+v %v", tk, err)
	}

	// A second rotation goes from 2 to 3.
	if _, err := s.RotateKey(); err != nil {
		t.Fatal(err)
	}
	if ids := s.KeyIDs(); len(ids) != 1 || ids[0] != 3 {
		t.Fatalf("key IDs after second rotation %v", ids)
	}
}

// TestRotateKeyInterrupted: the new key saved, no record re-sealed yet
// (a power cut right after Add): the store opens and reads everything, and
// the next rotation finishes the job.
func TestRotateKeyInterrupted(t *testing.T) {
	const station = "cz-xb-sanjing"
	path := filepath.Join(t.TempDir(), "station.db")
	s, err := Open(path, Options{StationID: station})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := s.Commit(Draft{Visitor: vetnet.Visitor{IDNumber: "320411195003070011", Name: "王建国"}, Service: vetnet.ServiceBenefits, Method: vetnet.MethodCard})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.keys.ring.Add(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, Options{StationID: station})
	if err != nil {
		t.Fatalf("open after an interrupted rotation: %v", err)
	}
	defer s.Close()
	if got, err := s.Get(c.ID); err != nil || got.Visitor.Name != "王建国" {
		t.Fatalf("get: %+v %v", got, err)
	}
	if n, err := s.RotateKey(); err != nil || n != 1 {
		t.Fatalf("rotate: %d %v", n, err)
	}
	if got, err := s.Get(c.ID); err != nil || got.Visitor.Name != "王建国" {
		t.Fatalf("get after rotate: %+v %v", got, err)
	}
}

// TestOpenRefusesForeignRing: a valid ring of another device is refused,
// and not recorded as a new key.
func TestOpenRefusesForeignRing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "station.db")
	s, err := Open(path, Options{StationID: "cz-xb-sanjing"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	mine, _ := os.ReadFile(path + ".key")
	other, _ := keyring.New()
	if err := os.WriteFile(path+".key", other.Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{StationID: "cz-xb-sanjing"}); vetnet.ErrorCode(err) != vetnet.EINTERNAL {
		t.Fatalf("foreign ring: %v", err)
	}
	if err := os.WriteFile(path+".key", mine, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{StationID: "cz-xb-sanjing"})
	if err != nil {
		t.Fatalf("own ring after a foreign one: %v", err)
	}
	s.Close()
}
