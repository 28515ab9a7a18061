package postgres

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/internal/storekit"
	"github.com/vetnet/vetnet/internal/keyring"
)

// Personal data at rest, as in the embedded store (cloud/sqlite,
// privacy.go): the ID number and the name of a check-in are sealed with
// AES-256-GCM under the current key of the hub's key ring (a file,
// Options.KeyFile) and bound to the check-in's ID; id_hash, the
// HMAC-SHA256 of the ID number under the ring's lookup key, finds one
// person's check-ins. The purposes (the derivation labels of the keys) are
// the embedded store's, so a value sealed by one store opens in the other
// with the same key file. Rows stored in plain text by an older hub are
// sealed at Open; RotateKey re-seals every row under a new key.
//
// Every replica of a hub on one database needs a copy of the same key
// file: the key checks in meta refuse any other.

// sealBatch is how many rows one transaction seals at Open and in
// RotateKey, and Anonymise's default limit.
var sealBatch = 2000

// loadKeys reads the ring at path (making one for a database that has no
// key yet) and checks it against the key checks in meta: a ring that
// holds none of the database's keys, or a key that does not match, is
// refused, so a wrong file never seals new rows beside rows it cannot
// open. It runs under the schema's lock, so that replicas starting
// together on a new database agree on one ring (the second one's own new
// file is refused).
func (s *Store) loadKeys(ctx context.Context, path string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, s.lockNS); err != nil {
			return err
		}
		checks := map[uint32]string{}
		var lookupCheck string
		rows, err := tx.QueryContext(ctx, `SELECT key, value FROM meta WHERE key LIKE 'key_check/%' OR key = 'lookup_check'`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return err
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
			return err
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
		put := func(k, v string) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, v)
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
		s.ring = ring
		s.hashKey = keyring.Derive(ring.Lookup(), storekit.PurposeIDHash)
		return nil
	})
	return translate(err)
}

// idHash is the keyed hash of an ID number, the lookup of a person.
func (s *Store) idHash(idNumber string) string {
	return hex.EncodeToString(keyring.Derive(s.hashKey, idNumber))
}

// sealed is a check-in's visitor as stored.
type sealed struct{ idn, name, hash string }

// sealVisitor seals a check-in's ID number and name and hashes the ID
// number.
func (s *Store) sealVisitor(id string, v vetnet.Visitor) (sealed, error) {
	var out sealed
	var err error
	if out.idn, err = s.ring.SealString(storekit.PurposeIDNumber, v.IDNumber, storekit.AdOf(id, "id_number")); err != nil {
		return sealed{}, err
	}
	if out.name, err = s.ring.SealString(storekit.PurposeName, v.Name, storekit.AdOf(id, "name")); err != nil {
		return sealed{}, err
	}
	if v.IDNumber != "" {
		out.hash = s.idHash(v.IDNumber)
	}
	return out, nil
}

// sealBatchOf seals the visitors of a batch's check-ins, in order.
func (s *Store) sealBatchOf(b cloud.Batch) ([]sealed, error) {
	if len(b.CheckIns) == 0 {
		return nil, nil
	}
	out := make([]sealed, len(b.CheckIns))
	for i, c := range b.CheckIns {
		v, err := s.sealVisitor(c.ID, c.Visitor)
		if err != nil {
			return nil, vetnet.Wrap(vetnet.EINTERNAL, err, "个人信息无法加密", "Personal data cannot be encrypted.")
		}
		out[i] = v
	}
	return out, nil
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

// resealCursor is where the scan of reseal goes on: the (at, id) of the
// last row it sealed.
type resealCursor struct {
	at int64
	id string
}

// reseal seals, under the current key, the ID number and name of up to
// sealBatch check-ins after cur (in (at, id) order) that need it (pick
// selects them: plain text rows, or rows under an old key), in one
// transaction; it returns how many and where the next call goes on, so
// that a table of millions is read once, not once per batch.
func (s *Store) reseal(ctx context.Context, cur *resealCursor, pick string, args ...any) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, rebind(`SELECT id, at, id_number, name FROM checkins
			WHERE (at, id) > (?, ?) AND (`+pick+`) ORDER BY at, id LIMIT ? FOR UPDATE`),
			append([]any{cur.at, cur.id}, append(args, sealBatch)...)...)
		if err != nil {
			return err
		}
		var ids, idns, names, hashes []string
		var ats []int64
		for rows.Next() {
			var id string
			var at int64
			var v vetnet.Visitor
			if err := rows.Scan(&id, &at, &v.IDNumber, &v.Name); err != nil {
				rows.Close()
				return err
			}
			if err := s.openVisitor(id, &v); err != nil {
				rows.Close()
				return err
			}
			sv, err := s.sealVisitor(id, v)
			if err != nil {
				rows.Close()
				return err
			}
			ids, ats, idns, names, hashes = append(ids, id), append(ats, at), append(idns, sv.idn), append(names, sv.name), append(hashes, sv.hash)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE checkins c SET id_number = u.idn, name = u.name, id_hash = u.hash
			FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[]) AS u(id, at, idn, name, hash)
			WHERE c.id = u.id AND c.at = u.at`, ids, ats, idns, names, hashes); err != nil {
			return err
		}
		n = len(ids)
		cur.at, cur.id = ats[n-1], ids[n-1]
		return nil
	})
	return n, translate(err)
}

// sealPlain seals the rows an older hub stored in plain text, once: every
// row stored since is sealed by Save, so meta's plain_sealed marks it done
// and later Opens skip the scan.
func (s *Store) sealPlain(ctx context.Context) (int, error) {
	var done string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'plain_sealed'`).Scan(&done)
	if err == nil {
		return 0, nil
	}
	if !isNoRows(err) {
		return 0, translate(err)
	}
	total := 0
	cur := &resealCursor{at: math.MinInt64}
	for {
		n, err := s.reseal(ctx, cur, `anonymised_at IS NULL AND ((id_number <> '' AND id_number NOT LIKE 'enc1:%') OR (name <> '' AND name NOT LIKE 'enc1:%'))`)
		total += n
		if err != nil {
			return total, err
		}
		if n == 0 {
			break
		}
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('plain_sealed', $1) ON CONFLICT (key) DO NOTHING`, strconv.Itoa(total))
	return total, translate(err)
}

// RotateKey adds a new key to the ring (saved before any row uses it),
// re-seals every row under it in batches, then retires the old keys. Each
// value names its key, so a rotation stopped at any point leaves every row
// readable, and calling RotateKey again finishes it. The lookup key stays
// (see package keyring), so returning visitors are still recognised.
// Stop every replica first and give them the rotated file after: a
// replica still holding the old ring cannot open rows sealed under the
// new key. It returns how many rows it re-sealed. Errors: EUNAVAILABLE,
// EINTERNAL.
func (s *Store) RotateKey(ctx context.Context) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	id, err := s.ring.Add()
	if err != nil {
		return 0, vetnet.Wrap(vetnet.EINTERNAL, err, "无法保存新密钥", "Cannot save the new key.")
	}
	k, _ := s.ring.Key(id)
	if _, err := s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
		fmt.Sprintf("key_check/%d", id), storekit.KeyCheckHex(k)); err != nil {
		return 0, translate(err)
	}
	under := fmt.Sprintf("enc1:%d:%%", id)
	total := 0
	cur := &resealCursor{at: math.MinInt64}
	for {
		n, err := s.reseal(ctx, cur, `anonymised_at IS NULL AND ((id_number <> '' AND id_number NOT LIKE ?) OR (name <> '' AND name NOT LIKE ?))`, under, under)
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
	if _, err := s.db.ExecContext(ctx, `DELETE FROM meta WHERE key LIKE 'key_check/%' AND key <> $1`, fmt.Sprintf("key_check/%d", id)); err != nil {
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
	rows, err := s.db.QueryContext(ctx, `SELECT `+checkInCols+` FROM checkins WHERE id_hash = $1 ORDER BY at, id`, s.idHash(idNumber))
	if err != nil {
		return out, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCheckIn(rows)
		if err != nil {
			return out, translate(err)
		}
		if err := s.openVisitor(c.ID, &c.Visitor); err != nil {
			return out, err
		}
		if c.Visitor.IDNumber != idNumber {
			continue // a hash collision: not this person
		}
		out.CheckIns = append(out.CheckIns, c)
	}
	if err := rows.Err(); err != nil {
		return out, translate(err)
	}
	rows.Close()
	if len(out.CheckIns) == 0 {
		return out, nil
	}
	ids := make([]string, len(out.CheckIns))
	for i, c := range out.CheckIns {
		ids[i] = c.ID
	}
	frows, err := s.db.QueryContext(ctx, `SELECT id, station_id, checkin_id, service, rating, reasons, comment, at, received_at
		FROM feedback WHERE checkin_id = ANY($1::text[]) ORDER BY at, id`, ids)
	if err != nil {
		return out, translate(err)
	}
	defer frows.Close()
	for frows.Next() {
		var fb vetnet.Feedback
		var service, reasons string
		var rating int
		var at, recv int64
		if err := frows.Scan(&fb.ID, &fb.StationID, &fb.CheckInID, &service, &rating, &reasons, &fb.Comment, &at, &recv); err != nil {
			return out, translate(err)
		}
		fb.Service, fb.Rating, fb.At, fb.ReceivedAt = vetnet.Service(service), vetnet.Rating(rating), fromNanos(at), fromNanos(recv)
		if reasons != "" {
			for _, r := range strings.Split(reasons, ",") {
				fb.Reasons = append(fb.Reasons, vetnet.Reason(r))
			}
		}
		out.Feedback = append(out.Feedback, fb)
	}
	return out, translate(frows.Err())
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
		res, err := tx.ExecContext(ctx, `UPDATE feedback SET comment = '' WHERE comment <> '' AND checkin_id IN (SELECT id FROM checkins WHERE id_hash = $1)`, hash)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		e.Feedback = int(n)
		res, err = tx.ExecContext(ctx, `UPDATE checkins SET id_number = '', name = '', id_hash = '', anonymised_at = $1 WHERE id_hash = $2`,
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
	res, err := s.db.ExecContext(ctx, `UPDATE checkins c SET id_number = '', name = '', id_hash = '', anonymised_at = $1
		FROM (SELECT id, at FROM checkins WHERE anonymised_at IS NULL AND at < $2 ORDER BY at LIMIT $3) AS o
		WHERE c.id = o.id AND c.at = o.at AND c.anonymised_at IS NULL`,
		clampNanos(at), clampNanos(before), limit)
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return int(n), translate(err)
}
