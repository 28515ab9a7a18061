package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/internal/storekit"
	"github.com/vetnet/vetnet/internal/keyring"
)

// Personal data at rest: the ID number and the name of a check-in are
// sealed with AES-256-GCM under the current key of the hub's key ring (a
// file beside the database, Options.KeyFile) and bound to the check-in's
// ID, so a sealed value copied to another row does not open. id_hash, the
// HMAC-SHA256 of the ID number under the ring's lookup key, finds one
// person's check-ins. Rows stored in plain text by an older hub are sealed
// at Open; RotateKey re-seals every row under a new key.

// sealBatch is how many rows one transaction seals at Open and in
// RotateKey.
var sealBatch = 2000

// loadKeys reads the ring at path (making one for a database that has no
// key yet) and checks it against the key checks in meta, as the station's
// store does: a ring that holds none of the database's keys, or a key that
// does not match, is refused, so a wrong file never seals new rows beside
// rows it cannot open.
func (s *Store) loadKeys(ctx context.Context, path string) error {
	checks := map[uint32]string{}
	var lookupCheck string
	rows, err := s.w.QueryContext(ctx, `SELECT key, value FROM meta WHERE key LIKE 'key_check/%' OR key = 'lookup_check'`)
	if err != nil {
		return translate(err)
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return translate(err)
		}
		if k == "lookup_check" {
			lookupCheck = v
			continue
		}
		if id, err := strconv.ParseUint(strings.TrimPrefix(k, "key_check/"), 10, 32); err == nil {
			checks[uint32(id)] = v
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return translate(err)
	}
	ring, err := keyring.Load(path, len(checks) == 0)
	switch {
	case errors.Is(err, keyring.ErrMissing):
		return vetnet.Wrap(vetnet.EINTERNAL, err, "中心密钥文件丢失，无法读取个人信息", "The hub's key file is missing; personal data cannot be read.")
	case errors.Is(err, keyring.ErrFormat):
		return vetnet.Wrap(vetnet.EINTERNAL, err, "中心密钥文件无效", "The hub's key file is invalid.")
	case err != nil:
		return vetnet.Wrap(vetnet.EINTERNAL, err, "无法读取中心密钥文件", "Cannot read the hub's key file.")
	}
	mismatch := vetnet.Wrap(vetnet.EINTERNAL, errors.New("key file does not match the database"),
		"中心密钥文件与数据库不匹配", "The hub's key file does not match the database.")
	matched := len(checks) == 0
	for _, id := range ring.IDs() {
		k, _ := ring.Key(id)
		if c, ok := checks[id]; ok {
			if c != storekit.KeyCheckHex(k) {
				return mismatch
			}
			matched = true
		}
	}
	lc := storekit.KeyCheckHex(ring.Lookup())
	if !matched || lookupCheck != "" && lookupCheck != lc {
		return mismatch
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		put := func(k, v string) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, v)
			return err
		}
		if err := put("lookup_check", lc); err != nil {
			return err
		}
		for _, id := range ring.IDs() {
			if _, ok := checks[id]; !ok {
				k, _ := ring.Key(id)
				if err := put(fmt.Sprintf("key_check/%d", id), storekit.KeyCheckHex(k)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return translate(err)
	}
	s.ring = ring
	s.hashKey = keyring.Derive(ring.Lookup(), storekit.PurposeIDHash)
	return nil
}

// idHash is the keyed hash of an ID number, the lookup of a person.
func (s *Store) idHash(idNumber string) string {
	return hex.EncodeToString(keyring.Derive(s.hashKey, idNumber))
}

// sealVisitor seals a check-in's ID number and name and hashes the ID
// number.
func (s *Store) sealVisitor(id string, v vetnet.Visitor) (idn, name, hash string, err error) {
	if idn, err = s.ring.SealString(storekit.PurposeIDNumber, v.IDNumber, storekit.AdOf(id, "id_number")); err != nil {
		return "", "", "", err
	}
	if name, err = s.ring.SealString(storekit.PurposeName, v.Name, storekit.AdOf(id, "name")); err != nil {
		return "", "", "", err
	}
	if v.IDNumber != "" {
		hash = s.idHash(v.IDNumber)
	}
	return idn, name, hash, nil
}

// openVisitor opens what sealVisitor sealed. Values an older hub stored in
// plain text (before sealPlain reached them) are returned as they are.
func (s *Store) openVisitor(id string, v *vetnet.Visitor) error {
	for _, f := range []struct {
		purpose, field string
		p              *string
	}{{storekit.PurposeIDNumber, "id_number", &v.IDNumber}, {storekit.PurposeName, "name", &v.Name}} {
		if !keyring.IsSealed(*f.p) {
			continue
		}
		plain, _, err := s.ring.OpenString(f.purpose, *f.p, storekit.AdOf(id, f.field))
		if err != nil {
			return vetnet.Wrap(vetnet.EINTERNAL, fmt.Errorf("check-in %s: %s: %w", id, f.field, err),
				"个人信息无法解密", "Personal data cannot be decrypted.")
		}
		*f.p = plain
	}
	return nil
}

// reseal seals, under the current key, the ID number and name of up to
// sealBatch check-ins that need it (pick selects them: plain text rows, or
// rows under an old key), in one transaction; it returns how many.
func (s *Store) reseal(ctx context.Context, pick string, args ...any) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, id_number, name FROM checkins WHERE `+pick+` LIMIT ?`, append(args, sealBatch)...)
		if err != nil {
			return err
		}
		type row struct {
			id string
			v  vetnet.Visitor
		}
		var rs []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.v.IDNumber, &r.v.Name); err != nil {
				rows.Close()
				return err
			}
			rs = append(rs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `UPDATE checkins SET id_number = ?, name = ?, id_hash = ? WHERE id = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, r := range rs {
			if err := s.openVisitor(r.id, &r.v); err != nil {
				return err
			}
			idn, name, hash, err := s.sealVisitor(r.id, r.v)
			if err != nil {
				return err
			}
			if _, err := stmt.ExecContext(ctx, idn, name, hash, r.id); err != nil {
				return err
			}
		}
		n = len(rs)
		return nil
	})
	return n, translate(err)
}

// sealPlain seals the rows an older hub stored in plain text, once: every
// row stored since is sealed by Save, so meta's plain_sealed marks it done
// and later Opens skip the scan.
func (s *Store) sealPlain(ctx context.Context) (int, error) {
	var done string
	err := s.w.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'plain_sealed'`).Scan(&done)
	if err == nil {
		return 0, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, translate(err)
	}
	total := 0
	for {
		n, err := s.reseal(ctx, `anonymised_at IS NULL AND ((id_number != '' AND id_number NOT LIKE 'enc1:%') OR (name != '' AND name NOT LIKE 'enc1:%'))`)
		total += n
		if err != nil {
			return total, err
		}
		if n == 0 {
			break
		}
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('plain_sealed', ?)`, strconv.Itoa(total))
	return total, translate(err)
}

// RotateKey adds a new key to the ring (saved before any row uses it),
// re-seals every row under it in batches, then retires the old keys. Each
// value names its key, so a rotation stopped at any point leaves every row
// readable, and calling RotateKey again finishes it. The lookup key stays
// (see package keyring), so returning visitors are still recognised.
// It returns how many rows it re-sealed. Errors: EUNAVAILABLE, EINTERNAL.
func (s *Store) RotateKey(ctx context.Context) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	id, err := s.ring.Add()
	if err != nil {
		return 0, vetnet.Wrap(vetnet.EINTERNAL, err, "无法保存新密钥", "Cannot save the new key.")
	}
	k, _ := s.ring.Key(id)
	if _, err := s.w.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
		fmt.Sprintf("key_check/%d", id), storekit.KeyCheckHex(k)); err != nil {
		return 0, translate(err)
	}
	cur := fmt.Sprintf("enc1:%d:%%", id)
	total := 0
	for {
		n, err := s.reseal(ctx, `anonymised_at IS NULL AND ((id_number != '' AND id_number NOT LIKE ?) OR (name != '' AND name NOT LIKE ?))`, cur, cur)
		total += n
		if err != nil {
			return total, err
		}
		if n == 0 {
			break
		}
	}
	if err := s.ring.Retire(id); err != nil {
		return total, vetnet.Wrap(vetnet.EINTERNAL, err, "无法删除旧密钥", "Cannot remove the old keys.")
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM meta WHERE key LIKE 'key_check/%' AND key != ?`, fmt.Sprintf("key_check/%d", id)); err != nil {
		return total, translate(err)
	}
	return total, nil
}

// KeyIDs returns the IDs of the keys in the ring, ascending.
func (s *Store) KeyIDs() []uint32 { return s.ring.IDs() }

// PersonData implements cloud.Store.
func (s *Store) PersonData(ctx context.Context, idNumber string) (cloud.PersonData, error) {
	if err := s.check(); err != nil {
		return cloud.PersonData{}, err
	}
	if idNumber == "" || len(idNumber) > 64 {
		return cloud.PersonData{}, vetnet.Errorz(vetnet.EINVALID, "证件号码无效", "The ID number is not valid.")
	}
	var out cloud.PersonData
	rows, err := s.r.QueryContext(ctx, `SELECT id, station_id, seq, at, received_at, service, method, queue_no, id_number, name, doc, staff, detail
		FROM checkins WHERE id_hash = ? ORDER BY at, id`, s.idHash(idNumber))
	if err != nil {
		return out, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c vetnet.CheckIn
		var seq, at, recv int64
		var service, method, doc string
		if err := rows.Scan(&c.ID, &c.StationID, &seq, &at, &recv, &service, &method, &c.QueueNo,
			&c.Visitor.IDNumber, &c.Visitor.Name, &doc, &c.Staff, &c.Detail); err != nil {
			return out, translate(err)
		}
		if err := s.openVisitor(c.ID, &c.Visitor); err != nil {
			return out, err
		}
		if c.Visitor.IDNumber != idNumber {
			continue // a hash collision: not this person
		}
		c.Seq, c.At, c.ReceivedAt = uint64(seq), fromNanos(at), fromNanos(recv)
		c.Service, c.Method, c.Visitor.DocType = vetnet.Service(service), vetnet.Method(method), vetnet.DocType(doc)
		out.CheckIns = append(out.CheckIns, c)
	}
	if err := rows.Err(); err != nil {
		return out, translate(err)
	}
	rows.Close()
	for _, c := range out.CheckIns {
		fs, err := s.feedbackOf(ctx, c.ID)
		if err != nil {
			return out, err
		}
		out.Feedback = append(out.Feedback, fs...)
	}
	return out, nil
}

func (s *Store) feedbackOf(ctx context.Context, checkIn string) ([]vetnet.Feedback, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, station_id, checkin_id, service, rating, reasons, comment, at, received_at
		FROM feedback WHERE checkin_id = ? ORDER BY at, id`, checkIn)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []vetnet.Feedback
	for rows.Next() {
		var fb vetnet.Feedback
		var service, reasons string
		var rating int
		var at, recv int64
		if err := rows.Scan(&fb.ID, &fb.StationID, &fb.CheckInID, &service, &rating, &reasons, &fb.Comment, &at, &recv); err != nil {
			return nil, translate(err)
		}
		fb.Service, fb.Rating, fb.At, fb.ReceivedAt = vetnet.Service(service), vetnet.Rating(rating), fromNanos(at), fromNanos(recv)
		if reasons != "" {
			for _, r := range strings.Split(reasons, ",") {
				fb.Reasons = append(fb.Reasons, vetnet.Reason(r))
			}
		}
		out = append(out, fb)
	}
	return out, translate(rows.Err())
}

// ErasePerson implements cloud.Store.
func (s *Store) ErasePerson(ctx context.Context, idNumber string, at time.Time) (cloud.Erased, error) {
	if err := s.check(); err != nil {
		return cloud.Erased{}, err
	}
	if idNumber == "" || len(idNumber) > 64 {
		return cloud.Erased{}, vetnet.Errorz(vetnet.EINVALID, "证件号码无效", "The ID number is not valid.")
	}
	var e cloud.Erased
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		e = cloud.Erased{}
		hash := s.idHash(idNumber)
		res, err := tx.ExecContext(ctx, `UPDATE feedback SET comment = '' WHERE comment != '' AND checkin_id IN (SELECT id FROM checkins WHERE id_hash = ?)`, hash)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		e.Feedback = int(n)
		res, err = tx.ExecContext(ctx, `UPDATE checkins SET id_number = '', name = '', id_hash = '', anonymised_at = ? WHERE id_hash = ?`,
			clampNanos(at), hash)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		e.CheckIns = int(n)
		return nil
	})
	if err != nil {
		return cloud.Erased{}, translate(err)
	}
	return e, nil
}

// Anonymise implements cloud.Store.
func (s *Store) Anonymise(ctx context.Context, before, at time.Time, limit int) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	if limit <= 0 {
		limit = sealBatch
	}
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE checkins SET id_number = '', name = '', id_hash = '', anonymised_at = ?
			WHERE id IN (SELECT id FROM checkins WHERE anonymised_at IS NULL AND at < ? ORDER BY at LIMIT ?)`,
			clampNanos(at), clampNanos(before), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, translate(err)
	}
	return int(n), nil
}
