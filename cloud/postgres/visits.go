package postgres

import (
	"context"
	"database/sql"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
)

// checkEvents checks what Save needs of visit and duty events.
func checkEvents(b cloud.Batch) error {
	for _, e := range b.Visits {
		_, okAt := nanos(e.At)
		_, okRecv := nanos(e.ReceivedAt)
		if e.ID == "" || e.StationID == "" || e.CheckInID == "" || !okAt || !okRecv || e.At.IsZero() || e.ReceivedAt.IsZero() {
			return vetnet.Errorz(vetnet.EINVALID, "办理记录缺少编号、站点、签到或时间", "A visit event lacks its ID, station, check-in or times.")
		}
	}
	for _, d := range b.Duty {
		_, okAt := nanos(d.At)
		_, okRecv := nanos(d.ReceivedAt)
		if d.ID == "" || d.StationID == "" || d.Staff == "" || !okAt || !okRecv || d.At.IsZero() || d.ReceivedAt.IsZero() {
			return vetnet.Errorz(vetnet.EINVALID, "值班记录缺少编号、站点、工作人员或时间", "A duty event lacks its ID, station, staff member or times.")
		}
	}
	return nil
}

// saveEvents inserts the group's visit and duty events in its
// transaction, skipping IDs already stored.
func saveEvents(ctx context.Context, tx *sql.Tx, group []*saveReq, saved []cloud.Saved) error {
	var (
		id, station, checkin, action, service, queue, staff, counter, toService, toQueue []string
		at, recv                                                                         []int64
	)
	seen := map[string]bool{}
	for _, r := range group {
		for _, e := range r.b.Visits {
			if seen[e.ID] {
				continue
			}
			seen[e.ID] = true
			id, station, checkin, action, service = append(id, e.ID), append(station, e.StationID), append(checkin, e.CheckInID),
				append(action, string(e.Action)), append(service, string(e.Service))
			queue, staff, counter, toService, toQueue = append(queue, e.QueueNo), append(staff, e.Staff), append(counter, e.Counter),
				append(toService, string(e.ToService)), append(toQueue, e.ToQueueNo)
			at, recv = append(at, e.At.UnixNano()), append(recv, e.ReceivedAt.UnixNano())
		}
	}
	if len(id) > 0 {
		rows, err := tx.QueryContext(ctx, `INSERT INTO visit_events
			(id, station_id, checkin_id, action, service, queue_no, staff, counter, to_service, to_queue_no, at, received_at)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
				$9::text[], $10::text[], $11::bigint[], $12::bigint[])
			ON CONFLICT (id) DO NOTHING RETURNING id`, id, station, checkin, action, service, queue, staff, counter, toService, toQueue, at, recv)
		if err != nil {
			return err
		}
		inserted, err := scanIDs(rows)
		if err != nil {
			return err
		}
		for i, r := range group {
			for _, e := range r.b.Visits {
				if claim(inserted, e.ID) {
					saved[i].Visits = append(saved[i].Visits, e.ID)
				}
			}
		}
	}
	seen = map[string]bool{}
	var did, dstation, dstaff []string
	var don []bool
	var dat, drecv []int64
	for _, r := range group {
		for _, d := range r.b.Duty {
			if seen[d.ID] {
				continue
			}
			seen[d.ID] = true
			did, dstation, dstaff, don = append(did, d.ID), append(dstation, d.StationID), append(dstaff, d.Staff), append(don, d.On)
			dat, drecv = append(dat, d.At.UnixNano()), append(drecv, d.ReceivedAt.UnixNano())
		}
	}
	if len(did) > 0 {
		rows, err := tx.QueryContext(ctx, `INSERT INTO duty (id, station_id, staff, on_duty, at, received_at)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::bigint[], $6::bigint[])
			ON CONFLICT (id) DO NOTHING RETURNING id`, did, dstation, dstaff, don, dat, drecv)
		if err != nil {
			return err
		}
		inserted, err := scanIDs(rows)
		if err != nil {
			return err
		}
		for i, r := range group {
			for _, d := range r.b.Duty {
				if claim(inserted, d.ID) {
					saved[i].Duty = append(saved[i].Duty, d.ID)
				}
			}
		}
	}
	return nil
}

// page runs a newest-first keyset query over table with the filter's
// station and time range; scan reads one row (its last two columns are at
// and id, for the cursor) and returns its ID.
func (s *Store) page(ctx context.Context, f cloud.CheckInFilter, cols, table string, scan func(*sql.Rows) (string, int64, error)) (string, error) {
	if err := s.check(); err != nil {
		return "", err
	}
	cond, args := where(f)
	if f.Cursor != "" {
		at, id, err := decodeCursor(cloud.OrderAt, f.Cursor)
		if err != nil {
			return "", err
		}
		if cond != "" {
			cond += " AND "
		}
		cond += "(at, id) < (?, ?)"
		args = append(args, at, id)
	}
	q := "SELECT " + cols + " FROM " + table
	if cond != "" {
		q += " WHERE " + cond
	}
	limit := f.PageLimit()
	q += " ORDER BY at DESC, id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := rb{s.db}.QueryContext(ctx, q, args...)
	if err != nil {
		return "", translate(err)
	}
	defer rows.Close()
	n := 0
	var lastAt int64
	var lastID string
	for rows.Next() {
		if n == limit {
			return encodeCursor(cloud.OrderAt, lastAt, lastID), translate(rows.Err())
		}
		id, at, err := scan(rows)
		if err != nil {
			return "", translate(err)
		}
		lastAt, lastID = at, id
		n++
	}
	return "", translate(rows.Err())
}

// VisitEvents implements cloud.Store.
func (s *Store) VisitEvents(ctx context.Context, f cloud.CheckInFilter) (cloud.VisitPage, error) {
	var p cloud.VisitPage
	next, err := s.page(ctx, f, `id, station_id, checkin_id, action, service, queue_no, staff, counter, to_service, to_queue_no, received_at, at`,
		"visit_events", func(rows *sql.Rows) (string, int64, error) {
			var e vetnet.VisitEvent
			var action, service, toService string
			var at, recv int64
			if err := rows.Scan(&e.ID, &e.StationID, &e.CheckInID, &action, &service, &e.QueueNo, &e.Staff, &e.Counter,
				&toService, &e.ToQueueNo, &recv, &at); err != nil {
				return "", 0, err
			}
			e.Action, e.Service, e.ToService = vetnet.VisitAction(action), vetnet.Service(service), vetnet.Service(toService)
			e.At, e.ReceivedAt = fromNanos(at), fromNanos(recv)
			p.Visits = append(p.Visits, e)
			return e.ID, at, nil
		})
	if err != nil {
		return cloud.VisitPage{}, err
	}
	p.Next = next
	return p, nil
}

// DutyEvents implements cloud.Store.
func (s *Store) DutyEvents(ctx context.Context, f cloud.CheckInFilter) (cloud.DutyPage, error) {
	var p cloud.DutyPage
	next, err := s.page(ctx, f, `id, station_id, staff, on_duty, received_at, at`, "duty",
		func(rows *sql.Rows) (string, int64, error) {
			var d vetnet.DutyEvent
			var at, recv int64
			if err := rows.Scan(&d.ID, &d.StationID, &d.Staff, &d.On, &recv, &at); err != nil {
				return "", 0, err
			}
			d.At, d.ReceivedAt = fromNanos(at), fromNanos(recv)
			p.Duty = append(p.Duty, d)
			return d.ID, at, nil
		})
	if err != nil {
		return cloud.DutyPage{}, err
	}
	p.Next = next
	return p, nil
}
