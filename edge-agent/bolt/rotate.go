package bolt

import (
	"go.etcd.io/bbolt"

	"github.com/vetnet/vetnet"
)

// rotateBatch is how many records one transaction of RotateKey re-seals.
var rotateBatch = 1000

// RotateKey makes a new device key and re-seals every check-in record
// under it, then retires the old keys and compacts the file, so that the
// old ciphertexts are gone from its free pages too. It returns how many
// records it re-sealed.
//
// Each step is safe to interrupt: the new key is saved in the key file
// (beside the old ones) before any record uses it; records are re-sealed
// in batches, each naming its key, so records of both keys open until the
// end; the old keys leave the key file only after no record needs them. A
// rotation stopped half-way is finished by calling RotateKey again.
//
// Errors: EUNAVAILABLE (closed), EFULL (no room to compact), EINTERNAL.
func (s *Store) RotateKey() (int, error) {
	id, err := s.keys.ring.Add()
	if err != nil {
		return 0, vetnet.Wrap(vetnet.EINTERNAL, err, "无法保存新的设备密钥", "Cannot save the new device key.")
	}
	k, _ := s.keys.ring.Key(id)
	if err := s.update(func(tx *bbolt.Tx) error {
		return putCopy(tx.Bucket(bucketMeta), checkKey(id), keyCheck(k))
	}); err != nil {
		return 0, s.txErr(err)
	}
	n := 0
	var from []byte
	for {
		var done bool
		err := s.update(func(tx *bbolt.Tx) error {
			b := tx.Bucket(bucketCheckIns)
			type kv struct{ k, v []byte }
			var redo []kv
			c := b.Cursor()
			var key, v []byte
			if from == nil {
				key, v = c.First()
			} else {
				key, v = c.Seek(from)
			}
			for ; key != nil && len(redo) < rotateBatch; key, v = c.Next() {
				kid, _, err := sealedKeyID(v)
				if err != nil {
					return err
				}
				if kid == id {
					continue
				}
				r, err := s.keys.open(key, v)
				if err != nil {
					return err
				}
				sealed, err := s.keys.seal(key, r)
				if err != nil {
					return err
				}
				redo = append(redo, kv{copyBytes(key), sealed})
			}
			done = key == nil
			if key != nil {
				from = copyBytes(key)
			}
			for _, e := range redo {
				if err := putCopy(b, e.k, e.v); err != nil {
					return err
				}
			}
			n += len(redo)
			return nil
		})
		if err != nil {
			return n, s.txErr(err)
		}
		if done {
			break
		}
	}
	if err := s.keys.ring.Retire(id); err != nil {
		return n, vetnet.Wrap(vetnet.EINTERNAL, err, "无法删除旧的设备密钥", "Cannot remove the old device keys.")
	}
	if err := s.update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		for old := range storedChecks(meta) {
			if old != id {
				if err := meta.Delete(checkKey(old)); err != nil {
					return internal(err)
				}
			}
		}
		return nil
	}); err != nil {
		return n, s.txErr(err)
	}
	if _, _, err := s.Compact(); err != nil {
		return n, err
	}
	return n, nil
}

// KeyIDs returns the IDs of the device keys in the key file, ascending;
// more than one only while a rotation is under way.
func (s *Store) KeyIDs() []uint32 { return s.keys.ring.IDs() }
