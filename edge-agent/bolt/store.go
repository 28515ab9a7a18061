package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/wire"
)

// Defaults of Options.
const (
	DefaultMaxOutbox = 100000
	DefaultTimeout   = time.Second
	DefaultMinFree   = 64 << 20
	DefaultRetention = 30 * 24 * time.Hour

	DefaultVisitorRetention = 365 * 24 * time.Hour
)

// Options configure a Store. The zero value is usable apart from StationID.
type Options struct {
	// StationID is the station the store belongs to; required. It is
	// written at the first Open, and opening the file later for another
	// station fails with EINVALID, so a data directory copied to another
	// device cannot mix two stations' sequences.
	StationID string

	// Now is the clock for check-in times and queue days. Default time.Now.
	Now func() time.Time

	// Location is the time zone whose calendar day numbers the queues
	// (B001 again each morning). Default time.Local; stations in China run
	// in Asia/Shanghai.
	Location *time.Location

	// MaxOutbox is how many check-ins may wait for the hub's ack. When the
	// outbox holds that many, Commit fails with EFULL: a station offline for
	// weeks stops taking check-ins instead of filling its disk. Default
	// DefaultMaxOutbox (100000, about 60 MB).
	MaxOutbox int

	// Timeout is how long Open waits for the file lock held by another
	// process (another agent on the same data directory). Default
	// DefaultTimeout (1 s); a negative value waits forever.
	Timeout time.Duration

	// MinFree is the free space, in bytes, that the file system of the
	// store must keep: below it Commit fails with EFULL and the kiosk
	// says the station cannot take check-ins now. What is stored is never
	// dropped to make room. Default DefaultMinFree (64 MiB); bbolt grows
	// its file in steps of up to 1 GiB, but a station's file stays far
	// smaller.
	MinFree uint64

	// FreeSpace returns the free bytes of the file system holding dir.
	// Default: statfs(2). Tests replace it.
	FreeSpace func(dir string) (uint64, error)

	// SpaceCheckEvery is how often Commit asks for the free space; in
	// between it trusts the last answer. Default 2 s.
	SpaceCheckEvery time.Duration

	// SeqBase is where a new device's numbering starts: check-ins are
	// numbered from SeqBase+1 unless the file already holds higher ones.
	// The agent sets it to the device generation << 32 (docs/protocol.md),
	// so a replacement device with an empty file never reuses numbers its
	// predecessor gave. Default 0.
	SeqBase uint64

	// Retention is how long a check-in the hub acknowledged stays at the
	// station (for the staff screen's visitors of the day and for a
	// technician), counted from its acknowledgement; Purge removes older
	// ones. Default DefaultRetention (30 days). Check-ins not yet
	// acknowledged and parked ones are never purged.
	Retention time.Duration

	// VisitorRetention is how long the station remembers that someone
	// visited (the keyed hash of the ID number and the time of the last
	// visit, for "welcome back" and the last visit on the kiosk), counted
	// from that visit; Purge forgets older ones. Default
	// DefaultVisitorRetention (365 days).
	VisitorRetention time.Duration
}

// Draft is a check-in before the store numbers it.
type Draft struct {
	Visitor vetnet.Visitor
	Service vetnet.Service
	Method  vetnet.Method
	Staff   string // the staff member who typed the ID number (vetnet.CheckIn.Staff); may be empty
	Detail  string // the service's sub-choice (vetnet.CheckIn.Detail); may be empty
	// Meeting makes the check-in an answer to this meeting's roll-call
	// (vetnet.CheckIn.Meeting): it gets a number but does not wait in the
	// queue.
	Meeting string
}

// Ticket is what Commit tells the visitor besides the check-in.
type Ticket struct {
	QueueNo   string     // e.g. B007: the service's letter and the day's count
	Waiting   int        // check-ins for the same service today before this one
	Ahead     int        // tickets of the same service still waiting to be called ahead of this one
	LastVisit *time.Time // the visitor's previous check-in at this station; nil if none
}

// Stats describe the outbox.
type Stats struct {
	Depth    int        // check-ins waiting for the hub's ack
	OldestAt *time.Time // station time of the oldest waiting check-in; nil if none
	LastSeq  uint64     // highest sequence number committed
	Rejected int        // check-ins the hub refused, parked
}

// Parked is a check-in the hub rejected.
type Parked struct {
	CheckIn vetnet.CheckIn
	Code    string    // the hub's vetnet error code
	Reason  string    // the hub's reason, for people; never personal data
	At      time.Time // when the rejection arrived, station clock
}

// Store is the station's bbolt file. Its methods are safe for concurrent
// use.
type Store struct {
	// mu guards db: every transaction holds it for reading; Compact, which
	// swaps the file, and Close hold it for writing.
	mu        sync.RWMutex
	db        *bbolt.DB
	path      string
	station   string
	now       func() time.Time
	loc       *time.Location
	maxOutbox int
	keys      keys
	opts      Options
	space     spaceCache

	closeOnce sync.Once
	closeErr  error
}

var (
	bucketMeta     = []byte("meta")
	bucketCheckIns = []byte("checkins")
	bucketIDs      = []byte("ids")
	bucketOutbox   = []byte("outbox")
	bucketAcked    = []byte("acked")
	bucketRejected = []byte("rejected")
	bucketQueue    = []byte("queue")
	bucketVisitors = []byte("visitors")

	allBuckets = append(append([][]byte{bucketMeta, bucketCheckIns, bucketIDs, bucketOutbox, bucketAcked, bucketRejected, bucketQueue, bucketVisitors},
		recordBuckets...), queueBuckets...)

	keyStation    = []byte("station")
	keySeq        = []byte("seq")
	keyOutboxN    = []byte("outbox_n")
	keyRejectN    = []byte("rejected_n")
	keyKeyCheck   = []byte("key_check")
	keyConfig     = []byte("config")
	keyConfigPrev = []byte("config_prev")
)

// Open opens or creates the store at path and its device key at path+".key".
//
// Errors: EINVALID (no or another station ID), EUNAVAILABLE (another
// process holds the file), EINTERNAL (the file or the key cannot be read or
// written, or the key does not match the database).
func Open(path string, opts Options) (*Store, error) {
	if err := vetnet.ValidateStationID(opts.StationID); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.MaxOutbox <= 0 {
		opts.MaxOutbox = DefaultMaxOutbox
	}
	if opts.MinFree == 0 {
		opts.MinFree = DefaultMinFree
	}
	if opts.FreeSpace == nil {
		opts.FreeSpace = statfsFree
	}
	if opts.SpaceCheckEvery <= 0 {
		opts.SpaceCheckEvery = 2 * time.Second
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.VisitorRetention <= 0 {
		opts.VisitorRetention = DefaultVisitorRetention
	}
	switch {
	case opts.Timeout == 0:
		opts.Timeout = DefaultTimeout
	case opts.Timeout < 0:
		opts.Timeout = 0 // bbolt: wait forever
	}
	// A compaction that a power cut interrupted leaves its copy behind;
	// the original is whole (the copy replaces it only by a rename).
	_ = os.Remove(path + compactSuffix)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: opts.Timeout})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, vetnet.Wrap(vetnet.EUNAVAILABLE, err, "站点数据文件正被另一个程序使用", "The station's data file is in use by another program.")
		}
		return nil, vetnet.Wrap(vetnet.EINTERNAL, err, "无法打开站点数据文件", "Cannot open the station's data file.")
	}
	// bbolt applies the mode only when it creates the file; records are
	// sealed, but the file should not be world-readable all the same.
	_ = os.Chmod(path, 0o600)
	s := &Store{db: db, path: path, station: opts.StationID, now: opts.Now, loc: opts.Location, maxOutbox: opts.MaxOutbox, opts: opts}
	if err := s.init(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// init creates the buckets, checks the station and loads the device key.
func (s *Store) init() error {
	return s.update(func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return internal(err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		switch st := meta.Get(keyStation); {
		case st == nil:
			if err := meta.Put(keyStation, []byte(s.station)); err != nil {
				return internal(err)
			}
		case string(st) != s.station:
			return vetnet.Wrap(vetnet.EINVALID, fmt.Errorf("data file of station %q opened as %q", st, s.station),
				"该数据文件属于另一个站点", "The data file belongs to another station.")
		}
		k, err := loadKeys(meta, s.path+".key")
		if err != nil {
			return err
		}
		s.keys = k
		return nil
	})
}

// Close closes the file. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

func (s *Store) view(fn func(*bbolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.View(fn)
}

func (s *Store) update(fn func(*bbolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.Update(fn)
}

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// Commit makes a check-in durable: see the package documentation. It
// returns only after the transaction is committed and synced to disk.
//
// Errors: EINVALID (the check-in breaks a rule of vetnet.CheckIn.Validate),
// EFULL (the outbox holds MaxOutbox check-ins, or the disk has less than
// MinFree bytes free), EUNAVAILABLE (the store is closed), EINTERNAL.
func (s *Store) Commit(d Draft) (vetnet.CheckIn, Ticket, error) {
	if err := s.checkSpace(); err != nil {
		return vetnet.CheckIn{}, Ticket{}, err
	}
	now := s.now().Round(0)
	info, ok := d.Service.Info()
	if !ok {
		return vetnet.CheckIn{}, Ticket{}, vetnet.Errorz(vetnet.EINVALID, "未知的服务项目", "Unknown service.")
	}
	if d.Visitor.DocType == "" {
		d.Visitor.DocType = vetnet.DocResident
	}
	id, err := vetnet.NewCheckInID(now, nil)
	if err != nil {
		return vetnet.CheckIn{}, Ticket{}, err
	}
	c := vetnet.CheckIn{ID: id, StationID: s.station, Visitor: d.Visitor, Service: d.Service, Method: d.Method, Staff: d.Staff,
		Detail: d.Detail, Meeting: d.Meeting, At: now.UTC()}
	var t Ticket
	err = s.update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if n := getU64(meta, keyOutboxN); n >= uint64(s.maxOutbox) {
			return vetnet.Errorz(vetnet.EFULL, "待上传的签到记录已满，请联系工作人员", "The station's outbox is full; please call staff.")
		}
		c.Seq = max(getU64(meta, keySeq), s.opts.SeqBase) + 1

		// Queue number: per service and local day. Old days' counters and
		// tickets are dropped when a day's first ticket is issued.
		day := s.day(now)
		queueNo, issued, err := issueNumber(tx, day, info)
		if err != nil {
			return err
		}
		t.Waiting = int(issued)
		t.QueueNo = queueNo
		c.QueueNo = t.QueueNo
		if err := c.Validate(now); err != nil {
			return err
		}

		visitors := tx.Bucket(bucketVisitors)
		vkey := s.keys.visitor(c.Visitor.IDNumber)
		if v := visitors.Get(vkey); len(v) == 8 {
			last := time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
			t.LastVisit = &last
		}

		ids := tx.Bucket(bucketIDs)
		if ids.Get([]byte(c.ID)) != nil {
			return vetnet.Wrap(vetnet.ECONFLICT, errors.New("check-in ID repeated"), "签到编号重复，请重试", "The check-in ID is repeated; please try again.")
		}
		sk := seqKey(c.Seq)
		sealed, err := s.keys.seal(sk, toRecord(c))
		if err != nil {
			return err
		}
		for _, put := range []struct {
			b    *bbolt.Bucket
			k, v []byte
		}{
			{tx.Bucket(bucketCheckIns), sk, sealed},
			{ids, []byte(c.ID), sk},
			// The outbox entry holds the check-in's time, so that the
			// oldest unsent age needs no decryption.
			{tx.Bucket(bucketOutbox), sk, u64(uint64(c.At.UnixNano()))},
			{visitors, vkey, u64(uint64(now.UnixNano()))},
			{meta, keySeq, u64(c.Seq)},
		} {
			if err := put.b.Put(put.k, put.v); err != nil {
				return internal(err)
			}
		}
		if err := addU64(meta, keyOutboxN, 1); err != nil {
			return err
		}
		if c.Meeting != "" {
			return nil // a roll-call: nobody calls it
		}
		// Its ticket joins the end of the service's queue.
		qt := QueueTicket{CheckInID: c.ID, Seq: c.Seq, QueueNo: c.QueueNo, Service: c.Service, Detail: c.Detail,
			State: TicketWaiting, At: c.At, CheckedInAt: c.At}
		ahead, err := putNewTicket(tx, day, &qt)
		t.Ahead = ahead
		return err
	})
	if err != nil {
		return vetnet.CheckIn{}, Ticket{}, s.txErr(err)
	}
	return c, t, nil
}

func pruneQueue(queue *bbolt.Bucket, today []byte) error {
	var old [][]byte
	_ = queue.ForEach(func(k, _ []byte) error {
		if !bytes.HasPrefix(k, today) {
			old = append(old, append([]byte(nil), k...))
		}
		return nil
	})
	for _, k := range old {
		if err := queue.Delete(k); err != nil {
			return internal(err)
		}
	}
	return nil
}

// Pending returns up to max check-ins of the outbox, oldest first (max <= 0
// means all).
//
// Errors: EUNAVAILABLE (closed), EINTERNAL.
func (s *Store) Pending(max int) ([]vetnet.CheckIn, error) { return s.PendingAfter(0, max) }

// PendingAfter returns up to max check-ins of the outbox whose sequence
// number is above after, oldest first (max <= 0 means all). The forwarder
// reads past what it already has in flight, so that a deep backlog costs
// each check-in one read, not one per batch sent before it.
//
// Errors: EUNAVAILABLE (closed), EINTERNAL.
func (s *Store) PendingAfter(after uint64, max int) ([]vetnet.CheckIn, error) {
	var out []vetnet.CheckIn
	err := s.view(func(tx *bbolt.Tx) error {
		checkins := tx.Bucket(bucketCheckIns)
		cur := tx.Bucket(bucketOutbox).Cursor()
		k, _ := cur.First()
		if after > 0 {
			k, _ = cur.Seek(seqKey(after + 1))
		}
		for ; k != nil && (max <= 0 || len(out) < max); k, _ = cur.Next() {
			c, err := s.load(checkins, k)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	return out, s.txErr(err)
}

// Get returns the check-in with id, whether pending, acknowledged or
// parked.
//
// Errors: ENOTFOUND, EUNAVAILABLE (closed), EINTERNAL.
func (s *Store) Get(id string) (vetnet.CheckIn, error) {
	var c vetnet.CheckIn
	err := s.view(func(tx *bbolt.Tx) error {
		sk := tx.Bucket(bucketIDs).Get([]byte(id))
		if sk == nil {
			return vetnet.Errorz(vetnet.ENOTFOUND, "没有该签到记录", "No such check-in.")
		}
		var err error
		c, err = s.load(tx.Bucket(bucketCheckIns), sk)
		return err
	})
	return c, s.txErr(err)
}

// Ack removes the check-ins with ids from the outbox: the hub holds them.
// IDs that are unknown or no longer in the outbox are ignored, so a
// repeated ack is harmless. cleared counts the entries removed now.
//
// Errors: EUNAVAILABLE (closed), EINTERNAL.
func (s *Store) Ack(ids []string) (cleared int, err error) {
	if len(ids) == 0 {
		return 0, nil
	}
	ackedAt := u64(uint64(s.now().UnixNano()))
	err = s.update(func(tx *bbolt.Tx) error {
		cleared = 0
		index, outbox, acked := tx.Bucket(bucketIDs), tx.Bucket(bucketOutbox), tx.Bucket(bucketAcked)
		for _, id := range ids {
			sk := index.Get([]byte(id))
			if sk == nil || outbox.Get(sk) == nil {
				continue
			}
			if err := outbox.Delete(sk); err != nil {
				return internal(err)
			}
			// When it was acknowledged, for Purge.
			if err := acked.Put(copyBytes(sk), ackedAt); err != nil {
				return internal(err)
			}
			cleared++
		}
		if err := addU64(tx.Bucket(bucketMeta), keyOutboxN, -cleared); err != nil {
			return err
		}
		n, err := ackRecords(tx, ids, ackedAt)
		cleared += n
		return err
	})
	if err != nil {
		return 0, s.txErr(err)
	}
	return cleared, nil
}

type rejection struct {
	Code   string    `json:"code"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// Reject moves the rejected check-ins from the outbox to the parked ones:
// kept and counted, never sent again. Rejections of unknown IDs or of
// check-ins no longer in the outbox are ignored. parked counts the entries
// moved now.
//
// Errors: EUNAVAILABLE (closed), EINTERNAL.
func (s *Store) Reject(rs []wire.Rejection) (parked int, err error) {
	if len(rs) == 0 {
		return 0, nil
	}
	now := s.now().UTC().Round(0)
	err = s.update(func(tx *bbolt.Tx) error {
		parked = 0
		parkedRecords := 0
		index, outbox, rejected := tx.Bucket(bucketIDs), tx.Bucket(bucketOutbox), tx.Bucket(bucketRejected)
		for _, r := range rs {
			v, err := json.Marshal(rejection{Code: r.Code, Reason: r.Reason, At: now})
			if err != nil {
				return internal(err)
			}
			sk := index.Get([]byte(r.ID))
			if sk == nil || outbox.Get(sk) == nil {
				ok, err := rejectRecord(tx, r.ID, v)
				if err != nil {
					return err
				}
				if ok {
					parkedRecords++
				}
				continue
			}
			if err := outbox.Delete(sk); err != nil {
				return internal(err)
			}
			if err := rejected.Put(copyBytes(sk), v); err != nil {
				return internal(err)
			}
			parked++
		}
		meta := tx.Bucket(bucketMeta)
		if err := addU64(meta, keyOutboxN, -parked); err != nil {
			return err
		}
		parked += parkedRecords
		return addU64(meta, keyRejectN, parked)
	})
	if err != nil {
		return 0, s.txErr(err)
	}
	return parked, nil
}

// Parked returns up to max parked check-ins, oldest first (max <= 0 means
// all), for the staff screen.
//
// Errors: EUNAVAILABLE (closed), EINTERNAL.
func (s *Store) Parked(max int) ([]Parked, error) {
	var out []Parked
	err := s.view(func(tx *bbolt.Tx) error {
		checkins := tx.Bucket(bucketCheckIns)
		cur := tx.Bucket(bucketRejected).Cursor()
		for k, v := cur.First(); k != nil && (max <= 0 || len(out) < max); k, v = cur.Next() {
			if len(k) != 8 {
				continue // a parked rating ("r" + its number)
			}
			c, err := s.load(checkins, k)
			if err != nil {
				return err
			}
			var r rejection
			if err := json.Unmarshal(v, &r); err != nil {
				return internal(err)
			}
			out = append(out, Parked{CheckIn: c, Code: r.Code, Reason: r.Reason, At: r.At})
		}
		return nil
	})
	return out, s.txErr(err)
}

// OutboxStats describes the outbox.
//
// Errors: EUNAVAILABLE (closed), EINTERNAL.
func (s *Store) OutboxStats() (Stats, error) {
	var st Stats
	err := s.view(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		st.Depth = int(getU64(meta, keyOutboxN) + getU64(meta, keyROutboxN))
		st.LastSeq = getU64(meta, keySeq)
		st.Rejected = int(getU64(meta, keyRejectN))
		if k, v := tx.Bucket(bucketOutbox).Cursor().First(); len(v) == 8 {
			at := time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
			st.OldestAt = &at
		} else if k != nil { // an entry written before the time was kept beside it
			c, err := s.load(tx.Bucket(bucketCheckIns), k)
			if err != nil {
				return err
			}
			st.OldestAt = &c.At
		}
		if _, v := tx.Bucket(bucketROutbox).Cursor().First(); len(v) == 8 {
			at := time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
			if st.OldestAt == nil || at.Before(*st.OldestAt) {
				st.OldestAt = &at
			}
		}
		return nil
	})
	return st, s.txErr(err)
}

// LastVisit returns when the visitor with idNumber last checked in at this
// station; ok is false for a first visit.
//
// Errors: EUNAVAILABLE (closed), EINTERNAL.
func (s *Store) LastVisit(idNumber string) (last time.Time, ok bool, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketVisitors).Get(s.keys.visitor(idNumber)); len(v) == 8 {
			last, ok = time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC(), true
		}
		return nil
	})
	return last, ok, s.txErr(err)
}

// SaveConfig keeps the configuration from the hub, so that a restarted
// agent offline applies it at once. In the same transaction the one it
// replaces becomes the previous configuration, which RollbackConfig
// brings back: the switch is atomic, and a configuration that then fails
// to apply is undone without the hub.
//
// Errors: EUNAVAILABLE (closed), EINTERNAL.
func (s *Store) SaveConfig(c wire.Config) error {
	b, err := c.Encode()
	if err != nil {
		return internal(err)
	}
	return s.txErr(s.update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if old := meta.Get(keyConfig); old != nil {
			if err := putCopy(meta, keyConfigPrev, old); err != nil {
				return err
			}
		} else if err := meta.Delete(keyConfigPrev); err != nil {
			return err
		}
		return putCopy(meta, keyConfig, b)
	}))
}

// RollbackConfig makes the previous configuration current again (none, if
// the one being undone was the first) and returns it; ok is false when
// there is none.
//
// Errors: EUNAVAILABLE (closed), EINTERNAL.
func (s *Store) RollbackConfig() (c wire.Config, ok bool, err error) {
	err = s.update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		prev := copyBytes(meta.Get(keyConfigPrev))
		if prev == nil {
			return meta.Delete(keyConfig)
		}
		if err := putCopy(meta, keyConfig, prev); err != nil {
			return err
		}
		return meta.Delete(keyConfigPrev)
	})
	if err != nil {
		return wire.Config{}, false, s.txErr(err)
	}
	c, ok = s.Config()
	return c, ok, nil
}

// Config returns the saved configuration; ok is false when none was saved
// (or it cannot be read, which the next config from the hub repairs).
func (s *Store) Config() (wire.Config, bool) {
	var b []byte
	_ = s.view(func(tx *bbolt.Tx) error {
		b = copyBytes(tx.Bucket(bucketMeta).Get(keyConfig))
		return nil
	})
	if b == nil {
		return wire.Config{}, false
	}
	c, err := wire.DecodeConfig(s.station, b)
	if err != nil {
		return wire.Config{}, false
	}
	return c, true
}

// Check runs bbolt's consistency check of the whole file.
//
// Errors: EUNAVAILABLE (closed), EINTERNAL (the file is inconsistent; the
// cause lists the problems).
func (s *Store) Check() error {
	return s.txErr(s.view(checkTx))
}

// CheckFile opens the bbolt file at path read-only and runs the consistency
// check; for tests and for a technician's tool when no agent runs.
func CheckFile(path string) error {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: DefaultTimeout})
	if err != nil {
		return vetnet.Wrap(vetnet.EINTERNAL, err, "无法打开站点数据文件", "Cannot open the station's data file.")
	}
	defer db.Close()
	return db.View(checkTx)
}

func checkTx(tx *bbolt.Tx) error {
	var errs []error
	for err := range tx.Check() {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return vetnet.Wrap(vetnet.EINTERNAL, errors.Join(errs...), "站点数据文件已损坏", "The station's data file is damaged.")
	}
	return nil
}

func (s *Store) load(checkins *bbolt.Bucket, sk []byte) (vetnet.CheckIn, error) {
	v := checkins.Get(sk)
	if v == nil {
		return vetnet.CheckIn{}, internal(fmt.Errorf("check-in seq %d missing", binary.BigEndian.Uint64(sk)))
	}
	r, err := s.keys.open(sk, v)
	if err != nil {
		return vetnet.CheckIn{}, err
	}
	return r.toCheckIn(s.station), nil
}

// txErr translates errors of bbolt; *vetnet.Error passes unchanged.
func (s *Store) txErr(err error) error {
	if err == nil {
		return nil
	}
	var ve *vetnet.Error
	if errors.As(err, &ve) {
		return err
	}
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return vetnet.Wrap(vetnet.EUNAVAILABLE, err, "站点数据文件已关闭", "The station's data file is closed.")
	}
	return internal(err)
}

func internal(err error) error {
	return vetnet.Wrap(vetnet.EINTERNAL, err, "站点数据文件读写失败", "Cannot read or write the station's data file.")
}

// record is a check-in as sealed in the checkins bucket.
type record struct {
	ID       string    `json:"id"`
	Seq      uint64    `json:"seq"`
	At       time.Time `json:"at"`
	Service  string    `json:"service"`
	Method   string    `json:"method"`
	QueueNo  string    `json:"queue_no"`
	IDNumber string    `json:"id_number"`
	Name     string    `json:"name"`
	Doc      string    `json:"doc"`
	Staff    string    `json:"staff,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	Meeting  string    `json:"meeting,omitempty"`
}

func toRecord(c vetnet.CheckIn) record {
	return record{ID: c.ID, Seq: c.Seq, At: c.At, Service: string(c.Service), Method: string(c.Method), QueueNo: c.QueueNo,
		IDNumber: c.Visitor.IDNumber, Name: c.Visitor.Name, Doc: string(c.Visitor.DocType), Staff: c.Staff, Detail: c.Detail, Meeting: c.Meeting}
}

func (r record) toCheckIn(station string) vetnet.CheckIn {
	return vetnet.CheckIn{ID: r.ID, StationID: station, Seq: r.Seq, At: r.At, Service: vetnet.Service(r.Service),
		Method: vetnet.Method(r.Method), QueueNo: r.QueueNo, Staff: r.Staff, Detail: r.Detail, Meeting: r.Meeting,
		Visitor: vetnet.Visitor{IDNumber: r.IDNumber, Name: r.Name, DocType: vetnet.DocType(r.Doc)}}
}

func seqKey(seq uint64) []byte { return u64(seq) }

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func getU64(b *bbolt.Bucket, k []byte) uint64 {
	if v := b.Get(k); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func addU64(b *bbolt.Bucket, k []byte, delta int) error {
	if delta == 0 {
		return nil
	}
	v := int64(getU64(b, k)) + int64(delta)
	if v < 0 {
		v = 0
	}
	return putCopy(b, k, u64(uint64(v)))
}

func putCopy(b *bbolt.Bucket, k, v []byte) error {
	if err := b.Put(k, v); err != nil {
		return internal(err)
	}
	return nil
}

// copyBytes copies a value out of a transaction, whose memory is valid only
// inside it.
func copyBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
