package bolt

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/vetnet/vetnet"
)

// Records other than check-ins (ratings, visit events, duty events)
// travel the same way: durable
// here first, in their own outbox, cleared only by the hub's ack. They have
// their own numbering (rseq), which only orders them at the station: the
// hub keeps them by ID and orders them by time.
var (
	bucketRecords  = []byte("records")   // rseq → record JSON (no identity: a rating names a check-in, not a person)
	bucketRIDs     = []byte("rids")      // record ID → rseq
	bucketROutbox  = []byte("routbox")   // rseq → record time (Unix nanoseconds)
	bucketRAcked   = []byte("racked")    // rseq → when acknowledged, for Purge
	bucketRated    = []byte("rated")     // check-in ID → the feedback ID that rates it
	keyRSeq        = []byte("rseq")      // last record number
	keyROutboxN    = []byte("routbox_n") // records waiting for the hub
	recordBuckets  = [][]byte{bucketRecords, bucketRIDs, bucketROutbox, bucketRAcked, bucketRated, bucketRollCalls}
	rejectedPrefix = []byte("r") // rejected bucket keys of records: "r" + rseq (check-ins use the bare seq)
)

// FeedbackDraft is a rating before the store numbers it.
type FeedbackDraft struct {
	CheckInID string
	Rating    vetnet.Rating
	Reasons   []vetnet.Reason
	Comment   string
}

// Record kinds, as in wire.RecordV1.
const (
	KindFeedback = "feedback"
	KindVisit    = "visit"
	KindDuty     = "duty"
)

// Record is a record of the outbox other than a check-in. Kind says which
// of Feedback, Visit and Duty it holds.
type Record struct {
	Seq      uint64 // the record number at this station
	Kind     string // KindFeedback, KindVisit or KindDuty
	Feedback vetnet.Feedback
	Visit    vetnet.VisitEvent
	Duty     vetnet.DutyEvent
	RollCall vetnet.RollCall
}

// ID returns the ID of the record of its kind.
func (r Record) ID() string {
	switch r.Kind {
	case KindVisit:
		return r.Visit.ID
	case KindDuty:
		return r.Duty.ID
	case KindRollCall:
		return r.RollCall.ID
	}
	return r.Feedback.ID
}

type recordJSON struct {
	Kind     string             `json:"kind"`
	Feedback *vetnet.Feedback   `json:"feedback,omitempty"`
	Visit    *vetnet.VisitEvent `json:"visit,omitempty"`
	Duty     *vetnet.DutyEvent  `json:"duty,omitempty"`
	RollCall *vetnet.RollCall   `json:"rollcall,omitempty"`
}

// errOutboxFull refuses a record when the outbox holds MaxOutbox entries.
var errOutboxFull = vetnet.Errorz(vetnet.EFULL, "待上传的记录已满，请联系工作人员", "The station's outbox is full; please call staff.")

// outboxFull reports whether the outbox (check-ins and records) is full.
func (s *Store) outboxFull(meta *bbolt.Bucket) bool {
	return getU64(meta, keyOutboxN)+getU64(meta, keyROutboxN) >= uint64(s.maxOutbox)
}

// putRecord writes a record into the records outbox inside tx; id is its
// ID, at its time.
func putRecord(tx *bbolt.Tx, rj recordJSON, id string, at time.Time) error {
	b, err := json.Marshal(rj)
	if err != nil {
		return internal(err)
	}
	meta := tx.Bucket(bucketMeta)
	rseq := getU64(meta, keyRSeq) + 1
	rk := seqKey(rseq)
	for _, put := range []struct {
		b    *bbolt.Bucket
		k, v []byte
	}{
		{tx.Bucket(bucketRecords), rk, b},
		{tx.Bucket(bucketRIDs), []byte(id), rk},
		{tx.Bucket(bucketROutbox), rk, u64(uint64(at.UnixNano()))},
		{meta, keyRSeq, u64(rseq)},
	} {
		if err := put.b.Put(put.k, put.v); err != nil {
			return internal(err)
		}
	}
	return addU64(meta, keyROutboxN, 1)
}

var errRated = vetnet.Errorz(vetnet.ECONFLICT, "这次服务已经评价过了，谢谢", "This visit was already rated. Thank you.")

// CommitFeedback stores a rating of a check-in made at this station, once
// per check-in, durably, in the records outbox. The service is the
// check-in's.
//
// Errors: ENOTFOUND (no such check-in here, or it was purged), ECONFLICT
// (already rated), EINVALID (rating, reasons or comment), EFULL (outbox or
// disk), EUNAVAILABLE (closed), EINTERNAL.
func (s *Store) CommitFeedback(d FeedbackDraft) (vetnet.Feedback, error) {
	if err := s.checkSpace(); err != nil {
		return vetnet.Feedback{}, err
	}
	now := s.now().Round(0)
	var f vetnet.Feedback
	err := s.update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if s.outboxFull(meta) {
			return errOutboxFull
		}
		sk := tx.Bucket(bucketIDs).Get([]byte(d.CheckInID))
		if sk == nil {
			return vetnet.Errorz(vetnet.ENOTFOUND, "找不到要评价的签到记录", "No such check-in to rate.")
		}
		rated := tx.Bucket(bucketRated)
		if rated.Get([]byte(d.CheckInID)) != nil {
			return errRated
		}
		c, err := s.load(tx.Bucket(bucketCheckIns), sk)
		if err != nil {
			return err
		}
		id, err := vetnet.NewCheckInID(now, nil)
		if err != nil {
			return err
		}
		f = vetnet.Feedback{ID: id, StationID: s.station, CheckInID: c.ID, Service: c.Service, Rating: d.Rating,
			Reasons: d.Reasons, Comment: d.Comment, At: now}
		if err := f.Validate(); err != nil {
			return err
		}
		if err := rated.Put([]byte(c.ID), []byte(f.ID)); err != nil {
			return internal(err)
		}
		return putRecord(tx, recordJSON{Kind: KindFeedback, Feedback: &f}, f.ID, now)
	})
	if err != nil {
		return vetnet.Feedback{}, s.txErr(err)
	}
	return f, nil
}

// PendingRecordsAfter returns up to max records of the records outbox
// numbered above after, oldest first (max <= 0 means all).
//
// Errors: EUNAVAILABLE (closed), EINTERNAL.
func (s *Store) PendingRecordsAfter(after uint64, max int) ([]Record, error) {
	var out []Record
	err := s.view(func(tx *bbolt.Tx) error {
		records := tx.Bucket(bucketRecords)
		cur := tx.Bucket(bucketROutbox).Cursor()
		k, _ := cur.Seek(seqKey(after + 1))
		for ; k != nil && (max <= 0 || len(out) < max); k, _ = cur.Next() {
			r, err := loadRecord(records, k)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, s.txErr(err)
}

func loadRecord(records *bbolt.Bucket, rk []byte) (Record, error) {
	v := records.Get(rk)
	if v == nil {
		return Record{}, internal(fmt.Errorf("record %d missing", binary.BigEndian.Uint64(rk)))
	}
	var rj recordJSON
	if err := json.Unmarshal(v, &rj); err != nil {
		return Record{}, internal(err)
	}
	r := Record{Seq: binary.BigEndian.Uint64(rk), Kind: rj.Kind}
	switch {
	case rj.Kind == KindFeedback && rj.Feedback != nil:
		r.Feedback = *rj.Feedback
	case rj.Kind == KindVisit && rj.Visit != nil:
		r.Visit = *rj.Visit
	case rj.Kind == KindDuty && rj.Duty != nil:
		r.Duty = *rj.Duty
	case rj.Kind == KindRollCall && rj.RollCall != nil:
		r.RollCall = *rj.RollCall
	default:
		return Record{}, internal(errors.New("record of unknown kind " + rj.Kind))
	}
	return r, nil
}

// ackRecords clears acknowledged records; called inside Ack's transaction
// for the IDs that are not check-ins.
func ackRecords(tx *bbolt.Tx, ids []string, ackedAt []byte) (int, error) {
	index, outbox, acked := tx.Bucket(bucketRIDs), tx.Bucket(bucketROutbox), tx.Bucket(bucketRAcked)
	cleared := 0
	for _, id := range ids {
		rk := index.Get([]byte(id))
		if rk == nil || outbox.Get(rk) == nil {
			continue
		}
		if err := outbox.Delete(rk); err != nil {
			return 0, internal(err)
		}
		if err := acked.Put(copyBytes(rk), ackedAt); err != nil {
			return 0, internal(err)
		}
		cleared++
	}
	return cleared, addU64(tx.Bucket(bucketMeta), keyROutboxN, -cleared)
}

// rejectRecord parks a record the hub refused; ok is false when id is not
// a record waiting in the outbox.
func rejectRecord(tx *bbolt.Tx, id string, v []byte) (bool, error) {
	rk := tx.Bucket(bucketRIDs).Get([]byte(id))
	outbox := tx.Bucket(bucketROutbox)
	if rk == nil || outbox.Get(rk) == nil {
		return false, nil
	}
	if err := outbox.Delete(rk); err != nil {
		return false, internal(err)
	}
	if err := tx.Bucket(bucketRejected).Put(append(append([]byte(nil), rejectedPrefix...), rk...), v); err != nil {
		return false, internal(err)
	}
	return true, addU64(tx.Bucket(bucketMeta), keyROutboxN, -1)
}
