package keyring_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vetnet/vetnet/internal/keyring"
)

func TestLoadCreatesPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.key")
	if _, err := keyring.Load(path, false); !errors.Is(err, keyring.ErrMissing) {
		t.Fatalf("missing file without create: %v", err)
	}
	r, err := keyring.Load(path, true)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	again, err := keyring.Load(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Marshal(), r.Marshal()) || !bytes.Equal(again.Lookup(), r.Lookup()) {
		t.Fatal("reloaded ring differs")
	}
}

func TestSealOpenAcrossRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.key")
	r, err := keyring.Load(path, true)
	if err != nil {
		t.Fatal(err)
	}
	ad := []byte("row 1")
	old, err := r.SealString("id", "320411199001011234", ad)
	if err != nil {
		t.Fatal(err)
	}
	if !keyring.IsSealed(old) || strings.Contains(old, "1990") {
		t.Fatalf("sealed text %q", old)
	}
	hash := r.Hash("id", "320411199001011234")
	id, err := r.Add()
	if err != nil || id != 2 {
		t.Fatalf("Add: %d %v", id, err)
	}
	// A reloaded ring (as after a crash right after Add) opens both.
	r2, err := keyring.Load(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, kid, err := r2.OpenString("id", old, ad); err != nil || got != "320411199001011234" || kid != 1 {
		t.Fatalf("open old: %q %d %v", got, kid, err)
	}
	if _, _, err := r2.OpenString("id", old, []byte("row 2")); !errors.Is(err, keyring.ErrOpen) {
		t.Fatalf("moved to another row: %v", err)
	}
	fresh, err := r2.SealString("id", "320411199001011234", ad)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(fresh, "enc1:2:") {
		t.Fatalf("new seal not under key 2: %q", fresh)
	}
	if r2.Hash("id", "320411199001011234") != hash {
		t.Fatal("the lookup hash changed with the data key")
	}
	if err := r2.Retire(2); err != nil {
		t.Fatal(err)
	}
	r3, err := keyring.Load(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if ids := r3.IDs(); len(ids) != 1 || ids[0] != 2 {
		t.Fatalf("IDs after retire %v", ids)
	}
	if _, _, err := r3.OpenString("id", old, ad); !errors.Is(err, keyring.ErrOpen) {
		t.Fatalf("retired key still opens: %v", err)
	}
	if got, _, err := r3.OpenString("id", fresh, ad); err != nil || got != "320411199001011234" {
		t.Fatalf("open new after retire: %q %v", got, err)
	}
}

func TestLegacyKeyFile(t *testing.T) {
	raw := bytes.Repeat([]byte{7}, keyring.KeyLen)
	r, err := keyring.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if id, k := r.Current(); id != 1 || !bytes.Equal(k, raw) || !bytes.Equal(r.Lookup(), raw) {
		t.Fatalf("legacy ring: %d %x %x", id, k, r.Lookup())
	}
}

func TestParseRejects(t *testing.T) {
	key := strings.Repeat("ab", keyring.KeyLen)
	for name, text := range map[string]string{
		"empty":        "",
		"no header":    "lookup " + key + "\nkey 1 " + key + "\n",
		"no lookup":    "vetnet-keyring 1\nkey 1 " + key + "\n",
		"no data key":  "vetnet-keyring 1\nlookup " + key + "\n",
		"short key":    "vetnet-keyring 1\nlookup " + key + "\nkey 1 abcd\n",
		"key ID 0":     "vetnet-keyring 1\nlookup " + key + "\nkey 0 " + key + "\n",
		"key ID huge":  "vetnet-keyring 1\nlookup " + key + "\nkey 4294967296 " + key + "\n",
		"key twice":    "vetnet-keyring 1\nlookup " + key + "\nkey 1 " + key + "\nkey 1 " + key + "\n",
		"two lookups":  "vetnet-keyring 1\nlookup " + key + "\nlookup " + key + "\nkey 1 " + key + "\n",
		"unknown line": "vetnet-keyring 1\nlookup " + key + "\nkey 1 " + key + "\nsecret x\n",
		"not hex":      "vetnet-keyring 1\nlookup " + strings.Repeat("zz", keyring.KeyLen) + "\nkey 1 " + key + "\n",
		"31 raw bytes": strings.Repeat("x", 31),
		"oversized":    "vetnet-keyring 1\n" + strings.Repeat("#", keyring.MaxFile),
	} {
		if _, err := keyring.Parse([]byte(text)); !errors.Is(err, keyring.ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
}

func TestOpenStringRejects(t *testing.T) {
	r, err := keyring.New()
	if err != nil {
		t.Fatal(err)
	}
	good, _ := r.SealString("p", "张三", nil)
	for name, s := range map[string]string{
		"plain":       "张三",
		"no key id":   "enc1:",
		"unknown key": strings.Replace(good, "enc1:1:", "enc1:9:", 1),
		"bad base64":  "enc1:1:!!!",
		"short":       "enc1:1:AAAA",
		"tampered":    good[:len(good)-2] + "AA",
	} {
		if _, _, err := r.OpenString("p", s, nil); !errors.Is(err, keyring.ErrOpen) {
			t.Errorf("%s: %v, want ErrOpen", name, err)
		}
	}
	if _, _, err := r.OpenString("other purpose", good, nil); !errors.Is(err, keyring.ErrOpen) {
		t.Errorf("other purpose opened: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	r, _ := keyring.New()
	f.Add(r.Marshal())
	f.Add(bytes.Repeat([]byte{1}, keyring.KeyLen))
	f.Add([]byte("vetnet-keyring 1\nkey 1 00\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := keyring.Parse(b)
		if err != nil {
			if !errors.Is(err, keyring.ErrFormat) {
				t.Fatalf("error not ErrFormat: %v", err)
			}
			return
		}
		// What parses marshals to a ring that parses the same.
		again, err := keyring.Parse(r.Marshal())
		if err != nil || !bytes.Equal(again.Marshal(), r.Marshal()) {
			t.Fatalf("round trip: %v", err)
		}
		if id, k := r.Current(); id == 0 || len(k) != keyring.KeyLen {
			t.Fatalf("current key %d %d bytes", id, len(k))
		}
	})
}

func FuzzOpenString(f *testing.F) {
	r, _ := keyring.New()
	good, _ := r.SealString("p", "320411199001011234", []byte("ad"))
	f.Add(good)
	f.Add("enc1:1:")
	f.Add("enc1:4294967295:AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		plain, _, err := r.OpenString("p", s, []byte("ad"))
		if err != nil {
			return
		}
		if s != good && s != "" {
			// Anything else that opens must be a genuine seal of the same text.
			if plain != "320411199001011234" {
				t.Fatalf("forged %q opened to %q", s, plain)
			}
		}
	})
}
