package postgres

import (
	"context"
	"database/sql"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
)

// saveReq is one Save waiting for the writer.
type saveReq struct {
	ctx   context.Context
	b     cloud.Batch
	seal  []sealed // b.CheckIns' visitors as stored, in order
	saved cloud.Saved
	err   error
	done  chan struct{}
}

func (r *saveReq) size() int {
	return len(r.b.CheckIns) + len(r.b.Feedback) + len(r.b.Visits) + len(r.b.Duty) + len(r.b.RollCalls)
}

// Save implements cloud.Store. It returns after the batch's group
// committed.
func (s *Store) Save(ctx context.Context, b cloud.Batch) (cloud.Saved, error) {
	if err := s.check(); err != nil {
		return cloud.Saved{}, err
	}
	if err := validate(b); err != nil {
		return cloud.Saved{}, err
	}
	if len(b.CheckIns) == 0 && len(b.Feedback) == 0 && len(b.Visits) == 0 && len(b.Duty) == 0 && len(b.RollCalls) == 0 {
		return cloud.Saved{}, nil
	}
	// Sealing is CPU work: done here, in the caller's goroutine, not in
	// the writer's transaction.
	seal, err := s.sealBatchOf(b)
	if err != nil {
		return cloud.Saved{}, err
	}
	r := &saveReq{ctx: ctx, b: b, seal: seal, done: make(chan struct{})}
	select {
	case s.saves <- r:
	case <-s.stop:
		return cloud.Saved{}, vetnet.Errorz(vetnet.EUNAVAILABLE, "数据库已关闭", "The database is closed.")
	case <-ctx.Done():
		return cloud.Saved{}, translate(ctx.Err())
	}
	select {
	case <-r.done:
		return r.saved, r.err
	case <-ctx.Done():
		// The group may still commit it: the hub then does not ack, the
		// station resends, and the resend changes nothing.
		return cloud.Saved{}, translate(ctx.Err())
	}
}

func validate(b cloud.Batch) error {
	for _, c := range b.CheckIns {
		if c.ID == "" || c.StationID == "" {
			return vetnet.Errorz(vetnet.EINVALID, "签到缺少编号或站点", "A check-in lacks its ID or station.")
		}
		if _, ok := nanos(c.At); !ok || c.At.IsZero() {
			return vetnet.Errorz(vetnet.EINVALID, "签到时间缺失或超出范围", "A check-in's time is missing or out of range.")
		}
		if _, ok := nanos(c.ReceivedAt); !ok || c.ReceivedAt.IsZero() {
			return vetnet.Errorz(vetnet.EINVALID, "签到接收时间缺失", "A check-in's receive time is missing.")
		}
		if c.Seq > math.MaxInt64 {
			return vetnet.Errorz(vetnet.EINVALID, "签到序号超出范围", "A check-in's sequence number is out of range.")
		}
	}
	for _, f := range b.Feedback {
		if f.ID == "" || f.StationID == "" || f.CheckInID == "" {
			return vetnet.Errorz(vetnet.EINVALID, "评价缺少编号、站点或签到", "A rating lacks its ID, station or check-in.")
		}
		_, okAt := nanos(f.At)
		_, okRecv := nanos(f.ReceivedAt)
		if !okAt || !okRecv || f.At.IsZero() || f.ReceivedAt.IsZero() {
			return vetnet.Errorz(vetnet.EINVALID, "评价时间缺失或超出范围", "A rating's time is missing or out of range.")
		}
	}
	if err := checkRollCalls(b); err != nil {
		return err
	}
	return checkEvents(b)
}

// writeLoop is the writer: it takes every waiting batch, up to MaxGroup
// records, and stores them in one transaction.
func (s *Store) writeLoop() {
	defer s.writer.Done()
	for {
		var group []*saveReq
		select {
		case r := <-s.saves:
			group = append(group, r)
		case <-s.stop:
			s.drain()
			return
		}
		n := group[0].size()
	more:
		for n < s.opts.MaxGroup {
			select {
			case r := <-s.saves:
				group = append(group, r)
				n += r.size()
			default:
				break more
			}
		}
		s.commitGroup(group)
	}
}

// drain fails the batches still queued at Close.
func (s *Store) drain() {
	for {
		select {
		case r := <-s.saves:
			r.err = vetnet.Errorz(vetnet.EUNAVAILABLE, "数据库已关闭", "The database is closed.")
			close(r.done)
		default:
			return
		}
	}
}

// commitGroup stores a group in one transaction, or each batch alone when
// the group fails.
func (s *Store) commitGroup(group []*saveReq) {
	live := group[:0:0]
	for _, r := range group {
		if r.ctx.Err() != nil {
			r.err = translate(r.ctx.Err())
			close(r.done)
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.storeGroup(ctx, live); err == nil || len(live) == 1 {
		for _, r := range live {
			if err != nil {
				r.saved, r.err = cloud.Saved{}, translate(err)
			}
			close(r.done)
		}
		return
	}
	for _, r := range live {
		if err := s.storeGroup(ctx, []*saveReq{r}); err != nil {
			r.saved, r.err = cloud.Saved{}, translate(err)
		}
		close(r.done)
	}
}

// storeGroup writes the batches of a group in one transaction and fills
// in each one's Saved.
func (s *Store) storeGroup(ctx context.Context, group []*saveReq) error {
	for _, r := range group {
		for _, c := range r.b.CheckIns {
			if err := s.ensurePartition(ctx, c.At); err != nil {
				return err
			}
		}
	}
	s.treeMu.RLock()
	defer s.treeMu.RUnlock()
	tr := s.tree.Get()
	saved := make([]cloud.Saved, len(group))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for i := range saved {
			saved[i] = cloud.Saved{}
		}
		agg := newAggregates(s.loc, tr)
		if err := insertCheckIns(ctx, tx, group, saved, agg); err != nil {
			return err
		}
		if err := insertFeedback(ctx, tx, group, saved, agg); err != nil {
			return err
		}
		if err := saveEvents(ctx, tx, group, saved); err != nil {
			return err
		}
		if err := saveAttendance(ctx, tx, group, saved); err != nil {
			return err
		}
		if agg.empty() {
			return nil
		}
		if err := s.lockAggregates(ctx, tx); err != nil {
			return err
		}
		return agg.write(ctx, tx)
	})
	if err != nil {
		return err
	}
	for i, r := range group {
		r.saved = saved[i]
	}
	return nil
}

// claim returns, of the IDs the database newly stored, those each batch
// stored first: an ID in two batches of a group is new for the first.
func claim(inserted map[string]bool, id string) bool {
	if inserted[id] {
		delete(inserted, id)
		return true
	}
	return false
}

func insertCheckIns(ctx context.Context, tx *sql.Tx, group []*saveReq, saved []cloud.Saved, agg *aggregates) error {
	var ids []string
	var ats []int64
	seen := map[string]bool{}
	for _, r := range group {
		for _, c := range r.b.CheckIns {
			if !seen[c.ID] {
				seen[c.ID] = true
				ids, ats = append(ids, c.ID), append(ats, c.At.UnixNano())
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	sortPairs(ids, ats)
	rows, err := tx.QueryContext(ctx, `INSERT INTO checkin_ids (id, at) SELECT * FROM unnest($1::text[], $2::bigint[])
		ON CONFLICT (id) DO NOTHING RETURNING id`, ids, ats)
	if err != nil {
		return err
	}
	inserted, err := scanIDs(rows)
	if err != nil {
		return err
	}
	if len(inserted) == 0 {
		return nil
	}
	n := len(inserted)
	var (
		cid, station, service, method, queue, idn, name, doc, staff, detail = make([]string, 0, n), make([]string, 0, n),
			make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n),
			make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		hash          = make([]string, 0, n)
		seq, at, recv = make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
	)
	for i, r := range group {
		for j, c := range r.b.CheckIns {
			if !claim(inserted, c.ID) {
				continue
			}
			saved[i].CheckIns = append(saved[i].CheckIns, c.ID)
			agg.addCheckIn(c.StationID, c.At, c.Service, c.Seq, 1)
			cid, station, service, method, queue = append(cid, c.ID), append(station, c.StationID), append(service, string(c.Service)),
				append(method, string(c.Method)), append(queue, c.QueueNo)
			sv := r.seal[j]
			hash = append(hash, sv.hash)
			idn, name, doc, staff, detail = append(idn, sv.idn), append(name, sv.name),
				append(doc, string(c.Visitor.DocType)), append(staff, c.Staff), append(detail, c.Detail)
			seq, at, recv = append(seq, int64(c.Seq)), append(at, c.At.UnixNano()), append(recv, c.ReceivedAt.UnixNano())
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO checkins
		(id, station_id, seq, at, received_at, service, method, queue_no, id_number, name, doc, staff, detail, id_hash)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])`,
		cid, station, seq, at, recv, service, method, queue, idn, name, doc, staff, detail, hash)
	return err
}

func scanIDs(rows *sql.Rows) (map[string]bool, error) {
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

func insertFeedback(ctx context.Context, tx *sql.Tx, group []*saveReq, saved []cloud.Saved, agg *aggregates) error {
	var (
		id, station, checkin, service, reasons, comment []string
		rating                                          []int32
		at, recv                                        []int64
	)
	seen := map[string]bool{}
	for _, r := range group {
		for _, f := range r.b.Feedback {
			if seen[f.ID] {
				continue
			}
			seen[f.ID] = true
			rs := make([]string, len(f.Reasons))
			for i, x := range f.Reasons {
				rs[i] = string(x)
			}
			id, station, checkin, service = append(id, f.ID), append(station, f.StationID), append(checkin, f.CheckInID), append(service, string(f.Service))
			reasons, comment, rating = append(reasons, strings.Join(rs, ",")), append(comment, f.Comment), append(rating, int32(f.Rating))
			at, recv = append(at, f.At.UnixNano()), append(recv, f.ReceivedAt.UnixNano())
		}
	}
	if len(id) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO feedback (id, station_id, checkin_id, service, rating, reasons, comment, at, received_at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::bigint[], $9::bigint[])
		ON CONFLICT (id) DO NOTHING RETURNING id`, id, station, checkin, service, rating, reasons, comment, at, recv)
	if err != nil {
		return err
	}
	inserted, err := scanIDs(rows)
	if err != nil {
		return err
	}
	for i, r := range group {
		for _, f := range r.b.Feedback {
			if claim(inserted, f.ID) {
				saved[i].Feedback = append(saved[i].Feedback, f.ID)
				agg.addRating(f.StationID, f.At, f.Service, f.Rating, 1)
			}
		}
	}
	return nil
}

// sortedKeys returns a map's keys in order, so that concurrent writers
// lock rows in the same order.
func sortedKeys[K comparable, V any](m map[K]V, less func(a, b K) bool) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return less(out[i], out[j]) })
	return out
}

// sortPairs sorts ids, and vals beside them: rows are inserted in ID
// order, so that two replicas storing the same IDs at once wait for each
// other instead of deadlocking.
func sortPairs(ids []string, vals []int64) {
	idx := make([]int, len(ids))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return ids[idx[a]] < ids[idx[b]] })
	is, vs := make([]string, len(ids)), make([]int64, len(ids))
	for i, j := range idx {
		is[i], vs[i] = ids[j], vals[j]
	}
	copy(ids, is)
	copy(vals, vs)
}
