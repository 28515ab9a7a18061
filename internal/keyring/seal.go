package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrOpen: a ciphertext is malformed, names a key the ring does not hold,
// or fails authentication (wrong key, tampered, moved to another row).
var ErrOpen = errors.New("keyring: cannot open sealed data")

// aeadKey caches one AEAD per data key and purpose.
type aeadKey struct {
	id      uint32
	purpose string
}

// AEAD returns AES-256-GCM under the data key id, derived for purpose.
func (r *Ring) AEAD(id uint32, purpose string) (cipher.AEAD, error) {
	r.mu.RLock()
	a, ok := r.aeads[aeadKey{id, purpose}]
	k, have := r.keys[id]
	r.mu.RUnlock()
	if ok {
		return a, nil
	}
	if !have {
		return nil, fmt.Errorf("%w: no key %d", ErrOpen, id)
	}
	block, err := aes.NewCipher(Derive(k, purpose))
	if err != nil {
		return nil, err
	}
	a, err = cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.aeads == nil {
		r.aeads = map[aeadKey]cipher.AEAD{}
	}
	r.aeads[aeadKey{id, purpose}] = a
	r.mu.Unlock()
	return a, nil
}

// sealedPrefix starts every string SealString makes; plaintext ID numbers
// and names never start with it.
const sealedPrefix = "enc1:"

// IsSealed reports whether s is a string made by SealString.
func IsSealed(s string) bool { return strings.HasPrefix(s, sealedPrefix) }

// SealString encrypts s under the current key for purpose, bound to ad
// (additional data: the row it belongs to). The result is text:
// "enc1:<key ID>:<base64url of nonce and ciphertext>". The empty string
// stays empty, so an absent field stays absent.
func (r *Ring) SealString(purpose, s string, ad []byte) (string, error) {
	if s == "" {
		return "", nil
	}
	id, _ := r.Current()
	a, err := r.AEAD(id, purpose)
	if err != nil {
		return "", err
	}
	buf := make([]byte, a.NonceSize(), a.NonceSize()+len(s)+a.Overhead())
	if _, err := io.ReadFull(rand.Reader, buf); err != nil {
		return "", err
	}
	buf = a.Seal(buf, buf, []byte(s), ad)
	return sealedPrefix + strconv.FormatUint(uint64(id), 10) + ":" + base64.RawURLEncoding.EncodeToString(buf), nil
}

// OpenString reverses SealString and returns the key ID it was sealed
// under. The empty string opens to itself with key ID 0.
func (r *Ring) OpenString(purpose, sealed string, ad []byte) (string, uint32, error) {
	if sealed == "" {
		return "", 0, nil
	}
	rest, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return "", 0, fmt.Errorf("%w: not sealed", ErrOpen)
	}
	ids, body, ok := strings.Cut(rest, ":")
	id, err := strconv.ParseUint(ids, 10, 32)
	if !ok || err != nil {
		return "", 0, fmt.Errorf("%w: no key ID", ErrOpen)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %v", ErrOpen, err)
	}
	a, err := r.AEAD(uint32(id), purpose)
	if err != nil {
		return "", 0, err
	}
	if len(raw) < a.NonceSize()+a.Overhead() {
		return "", 0, fmt.Errorf("%w: too short", ErrOpen)
	}
	plain, err := a.Open(nil, raw[:a.NonceSize()], raw[a.NonceSize():], ad)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %v", ErrOpen, err)
	}
	return string(plain), uint32(id), nil
}

// Hash returns the keyed hash (HMAC-SHA256 under the lookup key derived
// for purpose) of s, in hex: equal inputs give equal hashes, and without
// the key file nobody can test guesses against it.
func (r *Ring) Hash(purpose, s string) string {
	return hex.EncodeToString(r.HashBytes(purpose, s))
}

// HashBytes is Hash without the hex.
func (r *Ring) HashBytes(purpose, s string) []byte {
	m := hmac.New(sha256.New, Derive(r.lookup, purpose))
	m.Write([]byte(s))
	return m.Sum(nil)
}
