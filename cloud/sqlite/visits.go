package sqlite

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

// saveEvents inserts the batch's visit and duty events in Save's
// transaction, skipping IDs already stored.
func saveEvents(ctx context.Context, tx *sql.Tx, b cloud.Batch, saved *cloud.Saved) error {
	if len(b.Visits) > 0 {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO visit_events
			(id, station_id, checkin_id, action, service, queue_no, staff, counter, to_service, to_queue_no, at, received_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, e := range b.Visits {
			res, err := stmt.ExecContext(ctx, e.ID, e.StationID, e.CheckInID, string(e.Action), string(e.Service), e.QueueNo,
				e.Staff, e.Counter, string(e.ToService), e.ToQueueNo, e.At.UnixNano(), e.ReceivedAt.UnixNano())
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				saved.Visits = append(saved.Visits, e.ID)
			}
		}
	}
	if len(b.Duty) > 0 {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO duty (id, station_id, staff, on_duty, at, received_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, d := range b.Duty {
			res, err := stmt.ExecContext(ctx, d.ID, d.StationID, d.Staff, d.On, d.At.UnixNano(), d.ReceivedAt.UnixNano())
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				saved.Duty = append(saved.Duty, d.ID)
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
		cond += "(at < ? OR (at = ? AND id < ?))"
		args = append(args, at, at, id)
	}
	q := "SELECT " + cols + " FROM " + table
	if cond != "" {
		q += " WHERE " + cond
	}
	limit := f.PageLimit()
	q += " ORDER BY at DESC, id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, q, args...)
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
