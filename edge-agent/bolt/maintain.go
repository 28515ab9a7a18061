package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/vetnet/vetnet"
)

// compactSuffix names the copy Compact writes before it replaces the file.
const compactSuffix = ".compact"

type spaceCache struct {
	mu      sync.Mutex
	checked time.Time
	free    uint64
	err     error
}

func statfsFree(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// errDiskFull is what the kiosk shows when the disk is nearly full.
var errDiskFull = vetnet.Errorz(vetnet.EFULL,
	"本机存储空间将满，暂停登记。已保存的记录不会丢失，请联系工作人员。",
	"This station's storage is nearly full, so check-ins are paused. Nothing already saved is lost; please ask staff.")

// freeBytes returns the free space of the store's file system, asking the
// file system at most every SpaceCheckEvery (force asks now).
func (s *Store) freeBytes(force bool) (uint64, error) {
	s.space.mu.Lock()
	defer s.space.mu.Unlock()
	if force || s.space.checked.IsZero() || time.Since(s.space.checked) >= s.opts.SpaceCheckEvery {
		s.space.free, s.space.err = s.opts.FreeSpace(filepath.Dir(s.path))
		s.space.checked = time.Now()
	}
	return s.space.free, s.space.err
}

// checkSpace fails with EFULL when the file system is below MinFree. A
// file system that cannot tell its free space does not stop check-ins.
func (s *Store) checkSpace() error {
	free, err := s.freeBytes(false)
	if err == nil && free < s.opts.MinFree {
		return errDiskFull
	}
	return nil
}

// Storage is the disk use of the store.
type Storage struct {
	FreeBytes uint64 // free on the file system; 0 if unknown
	MinFree   uint64 // Options.MinFree
	Low       bool   // below MinFree: Commit refuses
	FileBytes int64  // size of the bbolt file
	FreePages int    // pages of the file free for reuse (or pending)
	PageSize  int
}

// Storage reports the disk use; Low means check-ins are refused.
func (s *Store) Storage() Storage {
	free, err := s.freeBytes(false)
	st := Storage{MinFree: s.opts.MinFree}
	if err == nil {
		st.FreeBytes, st.Low = free, free < s.opts.MinFree
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if fi, err := os.Stat(s.path); err == nil {
		st.FileBytes = fi.Size()
	}
	stats := s.db.Stats()
	st.FreePages, st.PageSize = stats.FreePageN+stats.PendingPageN, s.db.Info().PageSize
	return st
}

// Purge removes the check-ins and records acknowledged more than
// Retention ago (their records and indexes), and the queues of earlier
// days. Records not yet acknowledged
// and parked ones stay. It works in transactions of at most 1,000 removals
// so that a kiosk's Commit never waits long behind it.
//
// Errors: EUNAVAILABLE (closed), EINTERNAL.
func (s *Store) Purge() (removed int, err error) {
	cutoff := uint64(s.now().Add(-s.opts.Retention).UnixNano())
	n, err := s.purge(bucketAcked, cutoff, func(tx *bbolt.Tx, sk []byte) error {
		checkins := tx.Bucket(bucketCheckIns)
		if r, err := s.load(checkins, sk); err == nil {
			if err := tx.Bucket(bucketIDs).Delete([]byte(r.ID)); err != nil {
				return internal(err)
			}
		}
		return checkins.Delete(sk)
	})
	removed += n
	if err != nil {
		return removed, err
	}
	// The queues of earlier days: no longer shown, their steps already
	// in the records outbox.
	today := []byte(s.Day() + "/")
	if err := s.update(func(tx *bbolt.Tx) error {
		if err := pruneTickets(tx, today); err != nil {
			return err
		}
		return pruneQueue(tx.Bucket(bucketQueue), today)
	}); err != nil {
		return removed, s.txErr(err)
	}
	n, err = s.purge(bucketRAcked, cutoff, func(tx *bbolt.Tx, rk []byte) error {
		records := tx.Bucket(bucketRecords)
		if r, err := loadRecord(records, rk); err == nil {
			if err := tx.Bucket(bucketRIDs).Delete([]byte(r.ID())); err != nil {
				return internal(err)
			}
			if r.Kind == KindFeedback {
				if err := tx.Bucket(bucketRated).Delete([]byte(r.Feedback.CheckInID)); err != nil {
					return internal(err)
				}
			}
		}
		return records.Delete(rk)
	})
	removed += n
	if err != nil {
		return removed, err
	}
	n, err = s.purgeVisitors(uint64(s.now().Add(-s.opts.VisitorRetention).UnixNano()))
	return removed + n, err
}

// purgeVisitors forgets returning visitors whose last visit is older than
// cutoff (Unix nanoseconds), a thousand per transaction.
func (s *Store) purgeVisitors(cutoff uint64) (int, error) {
	removed := 0
	for {
		var old [][]byte
		err := s.update(func(tx *bbolt.Tx) error {
			b := tx.Bucket(bucketVisitors)
			c := b.Cursor()
			for k, v := c.First(); k != nil && len(old) < 1000; k, v = c.Next() {
				if len(v) == 8 && binary.BigEndian.Uint64(v) < cutoff {
					old = append(old, copyBytes(k))
				}
			}
			for _, k := range old {
				if err := b.Delete(k); err != nil {
					return internal(err)
				}
			}
			return nil
		})
		if err != nil {
			return removed, s.txErr(err)
		}
		removed += len(old)
		if len(old) < 1000 {
			return removed, nil
		}
	}
}

// purge removes the entries of the acked bucket named older than cutoff
// (Unix nanoseconds), calling remove for each in the same transaction.
func (s *Store) purge(ackedName []byte, cutoff uint64, remove func(tx *bbolt.Tx, key []byte) error) (int, error) {
	removed := 0
	for {
		n, more := 0, false
		err := s.update(func(tx *bbolt.Tx) error {
			acked := tx.Bucket(ackedName)
			var old [][]byte
			c := acked.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if len(v) == 8 && binary.BigEndian.Uint64(v) >= cutoff {
					continue // acknowledged recently; later ones may be older (a late ack)
				}
				if len(old) == 1000 {
					more = true
					break
				}
				old = append(old, copyBytes(k))
			}
			for _, k := range old {
				if err := remove(tx, k); err != nil {
					return internal(err)
				}
				if err := acked.Delete(k); err != nil {
					return internal(err)
				}
			}
			n = len(old)
			return nil
		})
		if err != nil {
			return removed, s.txErr(err)
		}
		removed += n
		if !more {
			return removed, nil
		}
	}
}

// CompactWorth reports whether Compact would give back a useful amount of
// disk: at least minBytes, and at least half of the file.
func (s *Store) CompactWorth(minBytes int64) bool {
	st := s.Storage()
	freeBytes := int64(st.FreePages) * int64(st.PageSize)
	return freeBytes >= minBytes && freeBytes*2 >= st.FileBytes
}

// Compact rewrites the file without its free pages: it copies every bucket
// into a new file beside it, syncs it, and renames it over the old one, so
// that a power cut at any moment leaves either the old file or the new one,
// whole. Transactions wait while it runs (a few hundred milliseconds for a
// station's file). It returns the file sizes before and after.
//
// Errors: EUNAVAILABLE (closed), EFULL (no room for the copy), EINTERNAL.
func (s *Store) Compact() (before, after int64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fi, err := os.Stat(s.path); err == nil {
		before = fi.Size()
	}
	tmp := s.path + compactSuffix
	_ = os.Remove(tmp)
	dst, err := bbolt.Open(tmp, 0o600, &bbolt.Options{Timeout: DefaultTimeout})
	if err != nil {
		return before, before, vetnet.Wrap(vetnet.EINTERNAL, err, "无法整理站点数据文件", "Cannot compact the station's data file.")
	}
	if err := bbolt.Compact(dst, s.db, 1<<20); err != nil {
		dst.Close()
		os.Remove(tmp)
		if errors.Is(err, syscall.ENOSPC) {
			return before, before, vetnet.Wrap(vetnet.EFULL, err, "存储空间不足，无法整理数据文件", "Not enough disk space to compact the data file.")
		}
		return before, before, vetnet.Wrap(vetnet.EINTERNAL, err, "无法整理站点数据文件", "Cannot compact the station's data file.")
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		os.Remove(tmp)
		return before, before, internal(err)
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return before, before, internal(err)
	}
	if err := s.db.Close(); err != nil {
		os.Remove(tmp)
		return before, before, internal(err)
	}
	renameErr := os.Rename(tmp, s.path)
	if renameErr == nil {
		renameErr = syncDir(filepath.Dir(s.path))
	}
	// Reopen whichever file is now in place; the store must stay usable.
	db, err := bbolt.Open(s.path, 0o600, &bbolt.Options{Timeout: DefaultTimeout})
	if err != nil {
		return before, before, vetnet.Wrap(vetnet.EINTERNAL, fmt.Errorf("reopen after compaction: %w", err),
			"整理后无法重新打开站点数据文件", "Cannot reopen the station's data file after compacting it.")
	}
	s.db = db
	if renameErr != nil {
		os.Remove(tmp)
		return before, before, internal(renameErr)
	}
	if fi, err := os.Stat(s.path); err == nil {
		after = fi.Size()
	}
	return before, after, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Retention returns Options.Retention.
func (s *Store) Retention() time.Duration { return s.opts.Retention }
