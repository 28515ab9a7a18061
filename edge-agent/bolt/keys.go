package bolt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vetnet/vetnet"
)

// keyLen is the length of the device key file.
const keyLen = 32

// sealVersion is the first byte of a sealed record, so the format can
// change without guessing.
const sealVersion = 1

// keys are derived from the device key, one per purpose, so that the
// visitor hashes and the record cipher never share a key.
type keys struct {
	visitorKey []byte // HMAC-SHA256 key for visitor lookups
	aead       cipher.AEAD
	check      []byte // stored in meta to detect a wrong key file
}

func derive(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("vetnet/edge-agent/bolt/" + purpose))
	return m.Sum(nil)
}

func newKeys(master []byte) (keys, error) {
	block, err := aes.NewCipher(derive(master, "record/v1"))
	if err != nil {
		return keys{}, internal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return keys{}, internal(err)
	}
	return keys{visitorKey: derive(master, "visitor/v1"), aead: aead, check: derive(master, "check/v1")[:16]}, nil
}

// loadKey reads the device key at path. When the file does not exist and
// create is true (a new database) it makes one; when create is false the
// database already depends on a key, and making a new one would orphan
// every record, so that is an error.
func loadKey(path string, create bool) (keys, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if len(b) != keyLen {
			return keys{}, vetnet.Wrap(vetnet.EINTERNAL, fmt.Errorf("%s: %d bytes, want %d", path, len(b), keyLen),
				"设备密钥文件无效", "The device key file is invalid.")
		}
		return newKeys(b)
	case errors.Is(err, os.ErrNotExist) && create:
		b = make([]byte, keyLen)
		if _, err := io.ReadFull(rand.Reader, b); err != nil {
			return keys{}, internal(err)
		}
		if err := writeFileSync(path, b, 0o600); err != nil {
			return keys{}, vetnet.Wrap(vetnet.EINTERNAL, err, "无法保存设备密钥", "Cannot save the device key.")
		}
		return newKeys(b)
	case errors.Is(err, os.ErrNotExist):
		return keys{}, vetnet.Wrap(vetnet.EINTERNAL, err, "设备密钥文件丢失，无法读取站点数据", "The device key file is missing; the station's data cannot be read.")
	default:
		return keys{}, vetnet.Wrap(vetnet.EINTERNAL, err, "无法读取设备密钥", "Cannot read the device key.")
	}
}

// writeFileSync writes a file atomically and durably: a temporary file,
// fsync, rename, fsync of the directory.
func writeFileSync(path string, data []byte, mode os.FileMode) error {
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

// visitor returns the lookup key of an ID number.
func (k keys) visitor(idNumber string) []byte {
	m := hmac.New(sha256.New, k.visitorKey)
	m.Write([]byte(idNumber))
	return m.Sum(nil)
}

// seal encrypts a record; the sequence key is the additional data, so a
// sealed record moved to another sequence number does not open.
func (k keys) seal(sk []byte, r record) ([]byte, error) {
	plain, err := json.Marshal(r)
	if err != nil {
		return nil, internal(err)
	}
	out := make([]byte, 1+k.aead.NonceSize(), 1+k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	out[0] = sealVersion
	if _, err := io.ReadFull(rand.Reader, out[1:]); err != nil {
		return nil, internal(err)
	}
	return k.aead.Seal(out, out[1:], plain, sk), nil
}

func (k keys) open(sk, sealed []byte) (record, error) {
	n := k.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return record{}, internal(errors.New("sealed record: unknown format"))
	}
	plain, err := k.aead.Open(nil, sealed[1:1+n], sealed[1+n:], sk)
	if err != nil {
		return record{}, internal(fmt.Errorf("sealed record: %w", err))
	}
	var r record
	if err := json.Unmarshal(plain, &r); err != nil {
		return record{}, internal(err)
	}
	return r, nil
}
