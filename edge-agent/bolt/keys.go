package bolt

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"go.etcd.io/bbolt"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/internal/keyring"
)

// Sealed record formats: the first byte. Format 1 (before key rotation)
// is [1][nonce][ciphertext] under data key 1; format 2 is
// [2][key ID, 4 bytes big endian][nonce][ciphertext].
const (
	sealV1 = 1
	sealV2 = 2
)

// Purposes of the keys derived from the ring (keyring.Derive), one per
// use, so that the visitor hashes and the record cipher never share a key.
const (
	purposeRecord  = "vetnet/edge-agent/bolt/record/v1"
	purposeVisitor = "vetnet/edge-agent/bolt/visitor/v1"
	purposeCheck   = "vetnet/edge-agent/bolt/check/v1"
	purposeLookup  = "vetnet/edge-agent/bolt/lookup-check/v1"
)

// Meta keys of the key checks: keyKeyCheck is data key 1's check as the
// store wrote it before rings; key_check/<id> the others'.
var (
	keyCheckPrefix = []byte("key_check/")
	keyLookupCheck = []byte("lookup_check")
)

// keys seal the station's check-in records under the device's key ring,
// kept at "<db>.key" (see package keyring).
type keys struct {
	ring       *keyring.Ring
	visitorKey []byte // HMAC-SHA256 key for visitor lookups
}

func keyCheck(k []byte) []byte { return keyring.Derive(k, purposeCheck)[:16] }

func checkKey(id uint32) []byte {
	if id == 1 {
		return keyKeyCheck
	}
	return append(append([]byte(nil), keyCheckPrefix...), strconv.FormatUint(uint64(id), 10)...)
}

// storedChecks returns the key checks in meta by key ID.
func storedChecks(meta *bbolt.Bucket) map[uint32][]byte {
	out := map[uint32][]byte{}
	if v := meta.Get(keyKeyCheck); v != nil {
		out[1] = v
	}
	c := meta.Cursor()
	for k, v := c.Seek(keyCheckPrefix); k != nil && bytes.HasPrefix(k, keyCheckPrefix); k, v = c.Next() {
		if id, err := strconv.ParseUint(string(k[len(keyCheckPrefix):]), 10, 32); err == nil {
			out[uint32(id)] = v
		}
	}
	return out
}

// loadKeys reads the ring at path and checks it against the checks stored
// in meta: a new database (no checks) gets a new ring; an existing one
// needs a ring holding at least one of its keys, and every key of the ring
// the database knows must match. Keys the database does not know yet (a
// rotation that stopped after adding its key) are recorded.
func loadKeys(meta *bbolt.Bucket, path string) (keys, error) {
	checks := storedChecks(meta)
	ring, err := keyring.Load(path, len(checks) == 0)
	switch {
	case errors.Is(err, keyring.ErrMissing):
		return keys{}, vetnet.Wrap(vetnet.EINTERNAL, err, "设备密钥文件丢失，无法读取站点数据", "The device key file is missing; the station's data cannot be read.")
	case errors.Is(err, keyring.ErrFormat):
		return keys{}, vetnet.Wrap(vetnet.EINTERNAL, err, "设备密钥文件无效", "The device key file is invalid.")
	case err != nil:
		return keys{}, vetnet.Wrap(vetnet.EINTERNAL, err, "无法读取设备密钥", "Cannot read the device key.")
	}
	mismatch := vetnet.Wrap(vetnet.EINTERNAL, errors.New("device key does not match the database"),
		"设备密钥与站点数据文件不匹配", "The device key does not match the station's data file.")
	matched := len(checks) == 0
	for _, id := range ring.IDs() {
		k, _ := ring.Key(id)
		if c, ok := checks[id]; ok {
			if !bytes.Equal(c, keyCheck(k)) {
				return keys{}, mismatch
			}
			matched = true
		}
	}
	if !matched {
		return keys{}, mismatch
	}
	lc := keyring.Derive(ring.Lookup(), purposeLookup)[:16]
	if v := meta.Get(keyLookupCheck); v != nil && !bytes.Equal(v, lc) {
		return keys{}, mismatch
	}
	if err := putCopy(meta, keyLookupCheck, lc); err != nil {
		return keys{}, err
	}
	for _, id := range ring.IDs() {
		if _, ok := checks[id]; !ok {
			k, _ := ring.Key(id)
			if err := putCopy(meta, checkKey(id), keyCheck(k)); err != nil {
				return keys{}, err
			}
		}
	}
	return keys{ring: ring, visitorKey: keyring.Derive(ring.Lookup(), purposeVisitor)}, nil
}

// visitor returns the lookup key of an ID number.
func (k keys) visitor(idNumber string) []byte {
	return keyring.Derive(k.visitorKey, idNumber)
}

// seal encrypts a record under the current key; the sequence key is the
// additional data, so a sealed record moved to another sequence number
// does not open.
func (k keys) seal(sk []byte, r record) ([]byte, error) {
	plain, err := json.Marshal(r)
	if err != nil {
		return nil, internal(err)
	}
	id, _ := k.ring.Current()
	aead, err := k.ring.AEAD(id, purposeRecord)
	if err != nil {
		return nil, internal(err)
	}
	out := make([]byte, 5+aead.NonceSize(), 5+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = sealV2
	binary.BigEndian.PutUint32(out[1:5], id)
	if _, err := io.ReadFull(rand.Reader, out[5:]); err != nil {
		return nil, internal(err)
	}
	return aead.Seal(out, out[5:], plain, sk), nil
}

// sealedKeyID returns the key ID a sealed record names.
func sealedKeyID(sealed []byte) (uint32, int, error) {
	switch {
	case len(sealed) >= 1 && sealed[0] == sealV1:
		return 1, 1, nil
	case len(sealed) >= 5 && sealed[0] == sealV2:
		return binary.BigEndian.Uint32(sealed[1:5]), 5, nil
	}
	return 0, 0, internal(errors.New("sealed record: unknown format"))
}

func (k keys) open(sk, sealed []byte) (record, error) {
	id, head, err := sealedKeyID(sealed)
	if err != nil {
		return record{}, err
	}
	aead, err := k.ring.AEAD(id, purposeRecord)
	if err != nil {
		return record{}, internal(fmt.Errorf("sealed record: %w", err))
	}
	n := aead.NonceSize()
	if len(sealed) < head+n {
		return record{}, internal(errors.New("sealed record: too short"))
	}
	plain, err := aead.Open(nil, sealed[head:head+n], sealed[head+n:], sk)
	if err != nil {
		return record{}, internal(fmt.Errorf("sealed record: %w", err))
	}
	var r record
	if err := json.Unmarshal(plain, &r); err != nil {
		return record{}, internal(err)
	}
	return r, nil
}
