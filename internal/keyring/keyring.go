// Package keyring keeps the keys that seal personal data at rest: at a
// station (edge-agent/bolt) and at the hub (cloud/sqlite, cloud/postgres). The keys live in
// a file beside the database, mode 0600, never inside it, so a copied
// database file alone reveals nothing.
//
// A ring holds numbered data keys and one lookup key. Data keys encrypt
// (AES-256-GCM, through keys derived per purpose); every ciphertext carries
// the ID of its key, so that after Add a store can re-encrypt its rows one by
// one and still read the rows it has not reached yet. Retire removes the old
// keys once nothing depends on them. The lookup key makes the keyed hashes
// (HMAC-SHA256) that find a returning visitor by ID number without storing
// the number in a searchable form; it is not rotated, because rotating it
// needs every ID number again, and a station no longer holds the numbers of
// visits it has purged.
//
// The file is text:
//
//	vetnet-keyring 1
//	lookup <64 hex digits>
//	key 1 <64 hex digits>
//	key 2 <64 hex digits>
//
// The data key with the highest ID is the current one, used to seal. A file
// of exactly 32 raw bytes is the format before rings: that one key is data
// key 1 and the lookup key at once, and Add rewrites the file as a ring.
package keyring

import (
	"bufio"
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// KeyLen is the length of every key, in bytes.
const KeyLen = 32

// MaxFile is the largest key file Parse reads: far more keys than any
// rotation schedule makes.
const MaxFile = 64 << 10

const header = "vetnet-keyring 1"

// Errors of Load and Parse.
var (
	// ErrMissing: the key file does not exist and create was false, so the
	// data that depends on it cannot be read.
	ErrMissing = errors.New("keyring: key file missing")
	// ErrFormat: the key file is not a ring (or a 32-byte legacy key).
	ErrFormat = errors.New("keyring: key file malformed")
)

// Ring is a set of keys. Its methods are safe for concurrent use.
type Ring struct {
	mu     sync.RWMutex
	path   string // "" for a ring that was only parsed
	lookup []byte
	keys   map[uint32][]byte
	ids    []uint32 // ascending
	aeads  map[aeadKey]cipher.AEAD
}

// New makes a ring with a random lookup key and data key 1, not saved.
func New() (*Ring, error) {
	r := &Ring{keys: map[uint32][]byte{}}
	var err error
	if r.lookup, err = random(); err != nil {
		return nil, err
	}
	k, err := random()
	if err != nil {
		return nil, err
	}
	r.keys[1], r.ids = k, []uint32{1}
	return r, nil
}

func random() ([]byte, error) {
	b := make([]byte, KeyLen)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		return nil, fmt.Errorf("keyring: random key: %w", err)
	}
	return b, nil
}

// Load reads the ring at path. When the file does not exist and create is
// true, it makes a new ring and saves it (0600); when create is false it
// returns ErrMissing.
func Load(path string, create bool) (*Ring, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		r, err := Parse(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r.path = path
		return r, nil
	case errors.Is(err, os.ErrNotExist) && create:
		r, err := New()
		if err != nil {
			return nil, err
		}
		r.path = path
		if err := r.save(); err != nil {
			return nil, err
		}
		return r, nil
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("%s: %w", path, ErrMissing)
	default:
		return nil, err
	}
}

// Parse reads a key file's content. It never returns a ring without a
// lookup key and at least one data key.
func Parse(b []byte) (*Ring, error) {
	if len(b) > MaxFile {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrFormat, len(b), MaxFile)
	}
	if len(b) == KeyLen && !bytes.HasPrefix(b, []byte(header[:8])) {
		k := bytes.Clone(b)
		return &Ring{lookup: k, keys: map[uint32][]byte{1: k}, ids: []uint32{1}}, nil
	}
	r := &Ring{keys: map[uint32][]byte{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		switch {
		case line == 1:
			if strings.Join(f, " ") != header {
				return nil, fmt.Errorf("%w: line 1 is not %q", ErrFormat, header)
			}
		case len(f) == 0 || strings.HasPrefix(f[0], "#"):
		case f[0] == "lookup" && len(f) == 2:
			if r.lookup != nil {
				return nil, fmt.Errorf("%w: line %d: a second lookup key", ErrFormat, line)
			}
			k, err := parseKey(f[1])
			if err != nil {
				return nil, fmt.Errorf("%w: line %d: %v", ErrFormat, line, err)
			}
			r.lookup = k
		case f[0] == "key" && len(f) == 3:
			id, err := strconv.ParseUint(f[1], 10, 32)
			if err != nil || id == 0 {
				return nil, fmt.Errorf("%w: line %d: key ID %q is not a number from 1 to %d", ErrFormat, line, f[1], uint32(1<<32-1))
			}
			if _, dup := r.keys[uint32(id)]; dup {
				return nil, fmt.Errorf("%w: line %d: key %d twice", ErrFormat, line, id)
			}
			k, err := parseKey(f[2])
			if err != nil {
				return nil, fmt.Errorf("%w: line %d: %v", ErrFormat, line, err)
			}
			r.keys[uint32(id)] = k
			r.ids = append(r.ids, uint32(id))
		default:
			return nil, fmt.Errorf("%w: line %d not understood", ErrFormat, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if r.lookup == nil || len(r.keys) == 0 {
		return nil, fmt.Errorf("%w: needs a lookup key and at least one data key", ErrFormat)
	}
	slices.Sort(r.ids)
	return r, nil
}

func parseKey(s string) ([]byte, error) {
	k, err := hex.DecodeString(s)
	if err != nil || len(k) != KeyLen {
		return nil, fmt.Errorf("a key must be %d hex digits", 2*KeyLen)
	}
	return k, nil
}

// Marshal returns the ring in the file format.
func (r *Ring) Marshal() []byte {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.marshal()
}

func (r *Ring) marshal() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n# Keys sealing personal data at rest. Losing this file makes that data unreadable; do not copy it with the database.\nlookup %x\n", header, r.lookup)
	for _, id := range r.ids {
		fmt.Fprintf(&b, "key %d %x\n", id, r.keys[id])
	}
	return b.Bytes()
}

// Path returns the file the ring was loaded from.
func (r *Ring) Path() string { return r.path }

// Current returns the ID and key that seal new data.
func (r *Ring) Current() (uint32, []byte) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	id := r.ids[len(r.ids)-1]
	return id, r.keys[id]
}

// Key returns the data key of an ID.
func (r *Ring) Key(id uint32) ([]byte, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.keys[id]
	return k, ok
}

// IDs returns the data key IDs, ascending.
func (r *Ring) IDs() []uint32 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.ids)
}

// Lookup returns the lookup key.
func (r *Ring) Lookup() []byte { return r.lookup }

// Add makes a new data key, one above the highest ID, and saves the ring
// (old keys kept) before it becomes current; it returns the new ID.
func (r *Ring) Add() (uint32, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, err := random()
	if err != nil {
		return 0, err
	}
	id := r.ids[len(r.ids)-1] + 1
	if id == 0 {
		return 0, errors.New("keyring: no key IDs left")
	}
	old := r.ids
	r.keys[id] = k
	r.ids = append(slices.Clone(r.ids), id)
	if err := r.save(); err != nil {
		delete(r.keys, id)
		r.ids = old
		return 0, err
	}
	return id, nil
}

// Retire removes every data key but keep and saves the ring. Call it only
// when nothing sealed under the other keys is left.
func (r *Ring) Retire(keep uint32) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.keys[keep]
	if !ok {
		return fmt.Errorf("keyring: no key %d", keep)
	}
	oldKeys, oldIDs := r.keys, r.ids
	r.keys, r.ids = map[uint32][]byte{keep: k}, []uint32{keep}
	if err := r.save(); err != nil {
		r.keys, r.ids = oldKeys, oldIDs
		return err
	}
	r.aeads = nil
	return nil
}

func (r *Ring) save() error {
	if r.path == "" {
		return errors.New("keyring: a parsed ring has no file")
	}
	return WriteFileSync(r.path, r.marshal(), 0o600)
}

// Derive returns a key for one purpose made from key (HMAC-SHA256 of the
// purpose), so that one key never serves two algorithms.
func Derive(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// WriteFileSync writes a file atomically and durably: a temporary file in
// the same directory, fsync, rename, fsync of the directory.
func WriteFileSync(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
