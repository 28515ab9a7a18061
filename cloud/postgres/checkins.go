package postgres

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/internal/storekit"
)

// Feedback implements cloud.Store.
func (s *Store) Feedback(ctx context.Context, f cloud.CheckInFilter) (cloud.FeedbackPage, error) {
	if err := s.check(); err != nil {
		return cloud.FeedbackPage{}, err
	}
	cond, args := where(f)
	if f.Cursor != "" {
		at, id, err := decodeCursor(cloud.OrderAt, f.Cursor)
		if err != nil {
			return cloud.FeedbackPage{}, err
		}
		if cond != "" {
			cond += " AND "
		}
		cond += "(at, id) < (?, ?)"
		args = append(args, at, id)
	}
	q := `SELECT id, station_id, checkin_id, service, rating, reasons, comment, at, received_at FROM feedback`
	if cond != "" {
		q += " WHERE " + cond
	}
	limit := f.PageLimit()
	q += " ORDER BY at DESC, id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.db.QueryContext(ctx, rebind(q), args...)
	if err != nil {
		return cloud.FeedbackPage{}, translate(err)
	}
	defer rows.Close()
	var p cloud.FeedbackPage
	var lastAt int64
	for rows.Next() {
		var fb vetnet.Feedback
		var service, reasons string
		var rating int
		var at, recv int64
		if err := rows.Scan(&fb.ID, &fb.StationID, &fb.CheckInID, &service, &rating, &reasons, &fb.Comment, &at, &recv); err != nil {
			return cloud.FeedbackPage{}, translate(err)
		}
		if len(p.Feedback) == limit {
			p.Next = encodeCursor(cloud.OrderAt, lastAt, p.Feedback[limit-1].ID)
			break
		}
		fb.Service, fb.Rating, fb.At, fb.ReceivedAt = vetnet.Service(service), vetnet.Rating(rating), fromNanos(at), fromNanos(recv)
		if reasons != "" {
			for _, r := range strings.Split(reasons, ",") {
				fb.Reasons = append(fb.Reasons, vetnet.Reason(r))
			}
		}
		p.Feedback = append(p.Feedback, fb)
		lastAt = at
	}
	return p, translate(rows.Err())
}

// where builds the WHERE clause of a filter, without the cursor, with ?
// placeholders (see rebind).
func where(f cloud.CheckInFilter) (string, []any) {
	var conds []string
	var args []any
	switch set := stationSet(f); {
	case set == nil:
	case len(set) == 1:
		conds = append(conds, "station_id = ?")
		args = append(args, set[0])
	default:
		conds = append(conds, "station_id = ANY(?::text[])")
		args = append(args, set)
	}
	if f.Service != "" {
		conds = append(conds, "service = ?")
		args = append(args, string(f.Service))
	}
	if !f.From.IsZero() {
		conds = append(conds, "at >= ?")
		args = append(args, clampNanos(f.From))
	}
	if !f.To.IsZero() {
		conds = append(conds, "at < ?")
		args = append(args, clampNanos(f.To))
	}
	return strings.Join(conds, " AND "), args
}

// stationSet returns the stations a check-in filter keeps: nil for all,
// else the intersection of Station and Stations.
func stationSet(f cloud.CheckInFilter) []string {
	switch {
	case f.Station == "" && f.Stations == nil:
		return nil
	case f.Station == "":
		if f.Stations == nil {
			return nil
		}
		return append([]string{}, f.Stations...)
	case f.Stations == nil:
		return []string{f.Station}
	}
	for _, id := range f.Stations {
		if id == f.Station {
			return []string{f.Station}
		}
	}
	return []string{}
}

// Cursors are those of the embedded store: (at, id) or, prefixed "s",
// (seq, id) of the last row of a page.
func encodeCursor(o cloud.Order, num int64, id string) string {
	prefix := ""
	if o == cloud.OrderSeq {
		prefix = "s"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(prefix + strconv.FormatInt(num, 10) + ":" + id))
}

func decodeCursor(o cloud.Order, c string) (int64, string, error) {
	bad := vetnet.Errorz(vetnet.EINVALID, "分页游标无效", "The page cursor is not valid.")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", bad
	}
	text := string(b)
	if o == cloud.OrderSeq {
		var ok bool
		if text, ok = strings.CutPrefix(text, "s"); !ok {
			return 0, "", bad
		}
	} else if strings.HasPrefix(text, "s") {
		return 0, "", bad
	}
	num, id, ok := strings.Cut(text, ":")
	if !ok || id == "" || len(id) > 64 {
		return 0, "", bad
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, "", bad
	}
	return n, id, nil
}

const checkInCols = `id, station_id, seq, at, received_at, service, method, queue_no, id_number, name, doc, staff, detail`

func scanCheckIn(sc interface{ Scan(...any) error }) (vetnet.CheckIn, error) {
	var c vetnet.CheckIn
	var seq, at, recv int64
	var service, method, doc string
	if err := sc.Scan(&c.ID, &c.StationID, &seq, &at, &recv, &service, &method, &c.QueueNo,
		&c.Visitor.IDNumber, &c.Visitor.Name, &doc, &c.Staff, &c.Detail); err != nil {
		return c, err
	}
	c.Seq, c.At, c.ReceivedAt = uint64(seq), fromNanos(at), fromNanos(recv)
	c.Service, c.Method, c.Visitor.DocType = vetnet.Service(service), vetnet.Method(method), vetnet.DocType(doc)
	return c, nil
}

// CheckIns implements cloud.Store.
func (s *Store) CheckIns(ctx context.Context, f cloud.CheckInFilter) (cloud.Page, error) {
	if err := s.check(); err != nil {
		return cloud.Page{}, err
	}
	switch f.Order {
	case cloud.OrderAt:
	case cloud.OrderSeq:
		if f.Station == "" {
			return cloud.Page{}, vetnet.Errorz(vetnet.EINVALID, "按序号排列需要指定站点", "Sequence order needs a station.")
		}
	default:
		return cloud.Page{}, vetnet.Errorz(vetnet.EINVALID, "未知的排序方式", "Unknown order.")
	}
	cond, args := where(f)
	if f.Cursor != "" {
		num, id, err := decodeCursor(f.Order, f.Cursor)
		if err != nil {
			return cloud.Page{}, err
		}
		if cond != "" {
			cond += " AND "
		}
		if f.Order == cloud.OrderSeq {
			cond += "(seq, id) > (?, ?)"
		} else {
			cond += "(at, id) < (?, ?)"
		}
		args = append(args, num, id)
	}
	q := `SELECT ` + checkInCols + ` FROM checkins`
	if cond != "" {
		q += " WHERE " + cond
	}
	limit := f.PageLimit()
	if f.Order == cloud.OrderSeq {
		q += " ORDER BY seq ASC, id ASC LIMIT ?"
	} else {
		q += " ORDER BY at DESC, id DESC LIMIT ?"
	}
	args = append(args, limit+1)
	rows, err := s.db.QueryContext(ctx, rebind(q), args...)
	if err != nil {
		return cloud.Page{}, translate(err)
	}
	defer rows.Close()
	var p cloud.Page
	var lastKey int64
	for rows.Next() {
		c, err := scanCheckIn(rows)
		if err != nil {
			return cloud.Page{}, translate(err)
		}
		if err := s.openVisitor(c.ID, &c.Visitor); err != nil {
			return cloud.Page{}, err
		}
		if len(p.CheckIns) == limit {
			p.Next = encodeCursor(f.Order, lastKey, p.CheckIns[limit-1].ID)
			break
		}
		p.CheckIns = append(p.CheckIns, c)
		lastKey = c.At.UnixNano()
		if f.Order == cloud.OrderSeq {
			lastKey = int64(c.Seq)
		}
	}
	return p, translate(rows.Err())
}

// CountCheckIns implements cloud.Store.
func (s *Store) CountCheckIns(ctx context.Context, f cloud.CheckInFilter) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	if n, ok, err := s.countFromAggregates(ctx, f); ok {
		return n, err
	}
	cond, args := where(f)
	q := `SELECT COUNT(*) FROM checkins`
	if cond != "" {
		q += " WHERE " + cond
	}
	var n int
	err := s.db.QueryRowContext(ctx, rebind(q), args...).Scan(&n)
	return n, translate(err)
}

// StationStats implements cloud.Store.
func (s *Store) StationStats(ctx context.Context, since time.Time) (map[string]cloud.StationStats, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if storekit.IsMidnight(since, s.loc) {
		return s.stationStatsFromAggregates(ctx, since)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT station_id, MAX(seq), MAX(at), COUNT(*) FILTER (WHERE at >= $1) FROM checkins GROUP BY station_id`,
		clampNanos(since))
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := map[string]cloud.StationStats{}
	for rows.Next() {
		var id string
		var seq, at, today int64
		if err := rows.Scan(&id, &seq, &at, &today); err != nil {
			return nil, translate(err)
		}
		out[id] = cloud.StationStats{CheckInsSince: int(today), LastSeq: uint64(seq), LastAt: fromNanos(at)}
	}
	return out, translate(rows.Err())
}

// SeqRuns implements cloud.Store: "gaps and islands" over the (station,
// seq) index; consecutive numbers share seq - row_number().
func (s *Store) SeqRuns(ctx context.Context) (map[string][]cloud.SeqRun, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT station_id, MIN(seq), MAX(seq) FROM (
			SELECT station_id, seq, seq - ROW_NUMBER() OVER (PARTITION BY station_id ORDER BY seq) AS grp
			FROM (SELECT DISTINCT station_id, seq FROM checkins) d) g
		GROUP BY station_id, grp ORDER BY station_id, 2`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := map[string][]cloud.SeqRun{}
	for rows.Next() {
		var st string
		var first, last int64
		if err := rows.Scan(&st, &first, &last); err != nil {
			return nil, translate(err)
		}
		out[st] = append(out[st], cloud.SeqRun{First: uint64(first), Last: uint64(last)})
	}
	return out, translate(rows.Err())
}

// CheckIn implements cloud.Store: the ID's month from checkin_ids, so
// that one partition is read.
func (s *Store) CheckIn(ctx context.Context, id string) (vetnet.CheckIn, error) {
	if err := s.check(); err != nil {
		return vetnet.CheckIn{}, err
	}
	var at int64
	if err := s.db.QueryRowContext(ctx, `SELECT at FROM checkin_ids WHERE id = $1`, id).Scan(&at); err != nil {
		if isNoRows(err) {
			return vetnet.CheckIn{}, vetnet.Errorz(vetnet.ENOTFOUND, "没有这条签到记录", "No such check-in.")
		}
		return vetnet.CheckIn{}, translate(err)
	}
	c, err := scanCheckIn(s.db.QueryRowContext(ctx, `SELECT `+checkInCols+` FROM checkins WHERE id = $1 AND at = $2`, id, at))
	if isNoRows(err) {
		return c, vetnet.Errorz(vetnet.ENOTFOUND, "没有这条签到记录", "No such check-in.")
	}
	if err != nil {
		return c, translate(err)
	}
	if err := s.openVisitor(c.ID, &c.Visitor); err != nil {
		return vetnet.CheckIn{}, err
	}
	return c, nil
}
