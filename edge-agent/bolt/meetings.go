package bolt

import (
	bbolt "go.etcd.io/bbolt"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/wire"
)

// KindRollCall is the record kind of a staff member's answer to a
// meeting's roll-call (wire.RecordRollCall).
const KindRollCall = "rollcall"

var (
	keyMeetings     = []byte("meetings")  // in bucketMeta: the last wire.Meetings from the hub
	bucketRollCalls = []byte("rollcalls") // meeting ID + "/" + staff ID → the roll-call record's ID
)

// SaveMeetings keeps the last good set of meetings from the hub, so that a
// restarted agent, offline, still knows them and takes their roll-call.
//
// Errors: EUNAVAILABLE (closed), EINTERNAL.
func (s *Store) SaveMeetings(m wire.Meetings) error {
	b, err := m.Encode()
	if err != nil {
		return internal(err)
	}
	return s.txErr(s.update(func(tx *bbolt.Tx) error {
		return putCopy(tx.Bucket(bucketMeta), keyMeetings, b)
	}))
}

// Meetings returns the saved set; ok is false when none was saved (or it
// cannot be read, which the next set from the hub repairs).
func (s *Store) Meetings() (wire.Meetings, bool) {
	var b []byte
	_ = s.view(func(tx *bbolt.Tx) error {
		b = copyBytes(tx.Bucket(bucketMeta).Get(keyMeetings))
		return nil
	})
	if b == nil {
		return wire.Meetings{}, false
	}
	m, err := wire.DecodeMeetings(s.station, b)
	if err != nil {
		return wire.Meetings{}, false
	}
	return m, true
}

// RollCallDraft is a staff member's answer to a roll-call before the
// store makes it a record.
type RollCallDraft struct {
	Meeting string
	Staff   string
	Role    vetnet.StaffRole
	Method  vetnet.RollCallMethod
}

// CommitRollCall stores a staff member's answer to a meeting's roll-call,
// once per meeting and member, durably, in the records outbox (so it
// reaches the hub however long the station is offline). A second answer
// returns the first with already set.
//
// Errors: EINVALID, EFULL (outbox or disk), EUNAVAILABLE (closed),
// EINTERNAL.
func (s *Store) CommitRollCall(d RollCallDraft) (rc vetnet.RollCall, already bool, err error) {
	if err := s.checkSpace(); err != nil {
		return vetnet.RollCall{}, false, err
	}
	now := s.now().Round(0)
	key := []byte(d.Meeting + "/" + d.Staff)
	err = s.update(func(tx *bbolt.Tx) error {
		calls := tx.Bucket(bucketRollCalls)
		if id := calls.Get(key); id != nil {
			rk := tx.Bucket(bucketRIDs).Get(id)
			if rk != nil {
				if r, err := loadRecord(tx.Bucket(bucketRecords), rk); err == nil {
					rc, already = r.RollCall, true
					return nil
				}
			}
		}
		meta := tx.Bucket(bucketMeta)
		if s.outboxFull(meta) {
			return errOutboxFull
		}
		id, err := vetnet.NewCheckInID(now, nil)
		if err != nil {
			return err
		}
		rc = vetnet.RollCall{ID: id, StationID: s.station, MeetingID: d.Meeting, Staff: d.Staff, Role: d.Role, Method: d.Method, At: now.UTC()}
		if err := rc.Validate(); err != nil {
			return err
		}
		if err := calls.Put(key, []byte(id)); err != nil {
			return internal(err)
		}
		return putRecord(tx, recordJSON{Kind: KindRollCall, RollCall: &rc}, id, now)
	})
	if err != nil {
		return vetnet.RollCall{}, false, s.txErr(err)
	}
	return rc, already, nil
}
