package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
)

// Meetings of the three-level video conference, as in the embedded store
// (cloud/sqlite, meetings.go). Attendance rows are written by Save, in
// the group commit's transaction, with the check-ins and roll-calls that
// bring them.

var _ cloud.MeetingStore = (*Store)(nil)

// checkRollCalls checks what Save needs of roll-calls.
func checkRollCalls(b cloud.Batch) error {
	for _, r := range b.RollCalls {
		_, okAt := nanos(r.At)
		_, okRecv := nanos(r.ReceivedAt)
		if r.ID == "" || r.StationID == "" || r.MeetingID == "" || r.Staff == "" || !okAt || !okRecv || r.At.IsZero() || r.ReceivedAt.IsZero() {
			return vetnet.Errorz(vetnet.EINVALID, "会议签到缺少编号、站点、会议、工作人员或时间", "A roll-call lacks its ID, station, meeting, staff member or times.")
		}
	}
	return nil
}

// saveAttendance inserts, in the group's transaction, the roll-calls of
// its batches and an attendance row for each newly stored check-in that
// names a meeting (saved holds each batch's new check-ins), in one
// multi-row statement; each batch's Saved.RollCalls gets the roll-calls
// it stored first.
func saveAttendance(ctx context.Context, tx *sql.Tx, group []*saveReq, saved []cloud.Saved) error {
	var id, meeting, station, kind, staff, role, method []string
	var at, recv []int64
	seen := map[string]bool{}
	add := func(i, m, st, k, sf, r, me string, a, rc time.Time) {
		if seen[i] {
			return
		}
		seen[i] = true
		id, meeting, station, kind, staff = append(id, i), append(meeting, m), append(station, st), append(kind, k), append(staff, sf)
		role, method, at, recv = append(role, r), append(method, me), append(at, a.UnixNano()), append(recv, rc.UnixNano())
	}
	for i, r := range group {
		if len(saved[i].CheckIns) > 0 {
			isNew := make(map[string]bool, len(saved[i].CheckIns))
			for _, id := range saved[i].CheckIns {
				isNew[id] = true
			}
			for _, c := range r.b.CheckIns {
				if c.Meeting != "" && isNew[c.ID] {
					add(c.ID, c.Meeting, c.StationID, string(cloud.AttendPerson), c.Staff, "", string(c.Method), c.At, c.ReceivedAt)
				}
			}
		}
		for _, rc := range r.b.RollCalls {
			add(rc.ID, rc.MeetingID, rc.StationID, string(cloud.AttendStaff), rc.Staff, string(rc.Role), string(rc.Method), rc.At, rc.ReceivedAt)
		}
	}
	if len(id) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO attendance (id, meeting_id, station_id, kind, staff, role, method, at, received_at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[])
		ON CONFLICT (id) DO NOTHING RETURNING id`, id, meeting, station, kind, staff, role, method, at, recv)
	if err != nil {
		return err
	}
	inserted, err := scanIDs(rows)
	if err != nil {
		return err
	}
	for i, r := range group {
		for _, rc := range r.b.RollCalls {
			if claim(inserted, rc.ID) {
				saved[i].RollCalls = append(saved[i].RollCalls, rc.ID)
			}
		}
	}
	return nil
}

type inviteJSON struct {
	Levels   []vetnet.Level `json:"levels,omitempty"`
	Under    string         `json:"under,omitempty"`
	Stations []string       `json:"stations,omitempty"`
}

// PutMeetings implements cloud.MeetingStore.
func (s *Store) PutMeetings(ctx context.Context, ms []vetnet.Meeting) error {
	if err := s.check(); err != nil {
		return err
	}
	for i := range ms {
		if err := ms[i].Validate(); err != nil {
			return err
		}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, m := range ms {
			inv, err := json.Marshal(inviteJSON{Levels: m.Invite.Levels, Under: m.Invite.Under, Stations: m.Invite.Stations})
			if err != nil {
				return err
			}
			roles := make([]string, len(m.Roles))
			for i, r := range m.Roles {
				roles[i] = string(r)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO meetings
				(id, series_id, title, kind, start_at, end_at, room, invite, roles, veterans, cancelled, created_by, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
				ON CONFLICT (id) DO UPDATE SET series_id = excluded.series_id, title = excluded.title, kind = excluded.kind,
					start_at = excluded.start_at, end_at = excluded.end_at, room = excluded.room, invite = excluded.invite,
					roles = excluded.roles, veterans = excluded.veterans, cancelled = excluded.cancelled,
					updated_at = excluded.updated_at`,
				m.ID, m.SeriesID, m.Title, string(m.Kind), m.Start.UnixNano(), m.End.UnixNano(), m.Room, string(inv),
				strings.Join(roles, ","), m.Veterans, m.Cancelled, m.CreatedBy, m.CreatedAt.UnixNano(), m.UpdatedAt.UnixNano()); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM meeting_stations WHERE meeting_id = $1`, m.ID); err != nil {
				return err
			}
			if len(m.Stations) == 0 {
				continue
			}
			pos := make([]int32, len(m.Stations))
			for i := range pos {
				pos[i] = int32(i)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO meeting_stations (meeting_id, station_id, pos)
				SELECT $1, st, pos FROM unnest($2::text[], $3::int[]) AS u(st, pos)`, m.ID, m.Stations, pos); err != nil {
				return err
			}
		}
		return nil
	})
	return translate(err)
}

const meetingCols = `m.id, m.series_id, m.title, m.kind, m.start_at, m.end_at, m.room, m.invite, m.roles, m.veterans, m.cancelled,
	m.created_by, m.created_at, m.updated_at`

func scanMeeting(rows interface{ Scan(...any) error }) (vetnet.Meeting, error) {
	var m vetnet.Meeting
	var kind, inv, roles string
	var start, end, created, updated int64
	if err := rows.Scan(&m.ID, &m.SeriesID, &m.Title, &kind, &start, &end, &m.Room, &inv, &roles, &m.Veterans, &m.Cancelled,
		&m.CreatedBy, &created, &updated); err != nil {
		return m, err
	}
	m.Kind, m.Start, m.End, m.CreatedAt, m.UpdatedAt = vetnet.MeetingKind(kind), fromNanos(start), fromNanos(end), fromNanos(created), fromNanos(updated)
	var ij inviteJSON
	if err := json.Unmarshal([]byte(inv), &ij); err != nil {
		return m, err
	}
	m.Invite = vetnet.Invitation{Levels: ij.Levels, Under: ij.Under, Stations: ij.Stations}
	if roles != "" {
		for _, r := range strings.Split(roles, ",") {
			m.Roles = append(m.Roles, vetnet.StaffRole(r))
		}
	}
	return m, nil
}

// stationsOf fills in the invited stations of ms, in one query.
func (s *Store) stationsOf(ctx context.Context, ms []vetnet.Meeting) error {
	if len(ms) == 0 {
		return nil
	}
	ids := make([]string, len(ms))
	at := make(map[string]int, len(ms))
	for i, m := range ms {
		ids[i], at[m.ID] = m.ID, i
	}
	rows, err := s.db.QueryContext(ctx, `SELECT meeting_id, station_id FROM meeting_stations WHERE meeting_id = ANY($1::text[])
		ORDER BY meeting_id, pos`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var m, st string
		if err := rows.Scan(&m, &st); err != nil {
			return err
		}
		if i, ok := at[m]; ok {
			ms[i].Stations = append(ms[i].Stations, st)
		}
	}
	return rows.Err()
}

// Meeting implements cloud.MeetingStore.
func (s *Store) Meeting(ctx context.Context, id string) (vetnet.Meeting, error) {
	if err := s.check(); err != nil {
		return vetnet.Meeting{}, err
	}
	m, err := scanMeeting(s.db.QueryRowContext(ctx, `SELECT `+meetingCols+` FROM meetings m WHERE m.id = $1`, id))
	if isNoRows(err) {
		return vetnet.Meeting{}, vetnet.Errorz(vetnet.ENOTFOUND, "没有这个会议", "No such meeting.")
	}
	if err != nil {
		return vetnet.Meeting{}, translate(err)
	}
	ms := []vetnet.Meeting{m}
	if err := s.stationsOf(ctx, ms); err != nil {
		return vetnet.Meeting{}, translate(err)
	}
	return ms[0], nil
}

// Meetings implements cloud.MeetingStore.
func (s *Store) Meetings(ctx context.Context, f cloud.MeetingFilter) ([]vetnet.Meeting, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if f.Stations != nil && len(f.Stations) == 0 {
		return nil, nil
	}
	var conds []string
	var args []any
	if !f.EndsAfter.IsZero() {
		conds, args = append(conds, "m.end_at > ?"), append(args, f.EndsAfter.UnixNano())
	}
	if !f.StartsBefore.IsZero() {
		conds, args = append(conds, "m.start_at < ?"), append(args, f.StartsBefore.UnixNano())
	}
	if f.Series != "" {
		conds, args = append(conds, "m.series_id = ?"), append(args, f.Series)
	}
	if !f.WithCancelled {
		conds = append(conds, "NOT m.cancelled")
	}
	if f.Station != "" {
		conds, args = append(conds, "EXISTS (SELECT 1 FROM meeting_stations x WHERE x.meeting_id = m.id AND x.station_id = ?)"), append(args, f.Station)
	}
	if f.Stations != nil {
		conds, args = append(conds, "EXISTS (SELECT 1 FROM meeting_stations x WHERE x.meeting_id = m.id AND x.station_id = ANY(?::text[]))"), append(args, f.Stations)
	}
	q := `SELECT ` + meetingCols + ` FROM meetings m`
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = cloud.MaxLimit
	}
	q += " ORDER BY m.start_at, m.id LIMIT ?"
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, rebind(q), args...)
	if err != nil {
		return nil, translate(err)
	}
	var out []vetnet.Meeting
	for rows.Next() {
		m, err := scanMeeting(rows)
		if err != nil {
			rows.Close()
			return nil, translate(err)
		}
		out = append(out, m)
	}
	if err := rows.Close(); err != nil {
		return nil, translate(err)
	}
	if err := s.stationsOf(ctx, out); err != nil {
		return nil, translate(err)
	}
	return out, nil
}

// Attendance implements cloud.MeetingStore. A person's ID number and
// name come from the check-in, found through checkin_ids so that one
// partition is read, and are opened (they are sealed at rest).
func (s *Store) Attendance(ctx context.Context, f cloud.AttendanceFilter) ([]cloud.Attendance, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if f.Meeting == "" && (f.From.IsZero() || f.To.IsZero()) {
		return nil, vetnet.Errorz(vetnet.EINVALID, "出勤查询需要会议或时间段", "Attendance is read by meeting or by period.")
	}
	if f.Stations != nil && len(f.Stations) == 0 {
		return nil, nil
	}
	var conds []string
	var args []any
	if f.Meeting != "" {
		conds, args = append(conds, "a.meeting_id = ?"), append(args, f.Meeting)
	}
	if !f.From.IsZero() {
		conds, args = append(conds, "a.at >= ?"), append(args, clampNanos(f.From))
	}
	if !f.To.IsZero() {
		conds, args = append(conds, "a.at < ?"), append(args, clampNanos(f.To))
	}
	if f.Stations != nil {
		conds, args = append(conds, "a.station_id = ANY(?::text[])"), append(args, f.Stations)
	}
	rows, err := s.db.QueryContext(ctx, rebind(`SELECT a.id, a.meeting_id, a.station_id, a.kind, a.staff, a.role, a.method, a.at, a.received_at,
		COALESCE(c.id_number, ''), COALESCE(c.name, '')
		FROM attendance a
		LEFT JOIN checkin_ids ci ON a.kind = 'person' AND ci.id = a.id
		LEFT JOIN checkins c ON c.id = ci.id AND c.at = ci.at
		WHERE `+strings.Join(conds, " AND ")+` ORDER BY a.at, a.id`), args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []cloud.Attendance
	for rows.Next() {
		var a cloud.Attendance
		var kind, role string
		var at, recv int64
		if err := rows.Scan(&a.ID, &a.MeetingID, &a.Station, &kind, &a.Staff, &role, &a.Method, &at, &recv, &a.IDNumber, &a.Name); err != nil {
			return nil, translate(err)
		}
		v := vetnet.Visitor{IDNumber: a.IDNumber, Name: a.Name}
		if err := s.openVisitor(a.ID, &v); err != nil {
			return nil, err
		}
		a.IDNumber, a.Name = v.IDNumber, v.Name
		a.Kind, a.Role, a.At, a.ReceivedAt = cloud.AttendanceKind(kind), vetnet.StaffRole(role), fromNanos(at), fromNanos(recv)
		out = append(out, a)
	}
	return out, translate(rows.Err())
}

// AddFollowUp implements cloud.MeetingStore.
func (s *Store) AddFollowUp(ctx context.Context, fu cloud.FollowUp) (int64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	if err := fu.Validate(); err != nil {
		return 0, err
	}
	if fu.At.IsZero() {
		return 0, vetnet.Errorz(vetnet.EINVALID, "跟进记录缺少时间", "A follow-up needs its time.")
	}
	var id int64
	err := s.db.QueryRowContext(ctx, `INSERT INTO meeting_followups (meeting_id, station_id, at, by_user, outcome, note)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		fu.MeetingID, fu.Station, clampNanos(fu.At), fu.By, fu.Outcome, fu.Note).Scan(&id)
	return id, translate(err)
}

// FollowUps implements cloud.MeetingStore.
func (s *Store) FollowUps(ctx context.Context, meetingID string) ([]cloud.FollowUp, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, meeting_id, station_id, at, by_user, outcome, note FROM meeting_followups
		WHERE meeting_id = $1 ORDER BY id`, meetingID)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []cloud.FollowUp
	for rows.Next() {
		var f cloud.FollowUp
		var at int64
		if err := rows.Scan(&f.ID, &f.MeetingID, &f.Station, &at, &f.By, &f.Outcome, &f.Note); err != nil {
			return nil, translate(err)
		}
		f.At = fromNanos(at)
		out = append(out, f)
	}
	return out, translate(rows.Err())
}

// PresenceLog implements cloud.MeetingStore.
func (s *Store) PresenceLog(ctx context.Context, stations []string, from, to time.Time) (map[string][]cloud.LogEntry, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	out := map[string][]cloud.LogEntry{}
	if len(stations) == 0 {
		return out, nil
	}
	// The state each station was in at from: one index seek per station.
	rows, err := s.db.QueryContext(ctx, `SELECT j.st, l.at, l.state FROM unnest($1::text[]) AS j(st)
		CROSS JOIN LATERAL (SELECT at, state FROM station_log WHERE station_id = j.st AND kind = 'presence' AND at < $2
			ORDER BY at DESC, id DESC LIMIT 1) l`, stations, clampNanos(from))
	if err != nil {
		return nil, translate(err)
	}
	for rows.Next() {
		var st, state string
		var at int64
		if err := rows.Scan(&st, &at, &state); err != nil {
			rows.Close()
			return nil, translate(err)
		}
		out[st] = append(out[st], cloud.LogEntry{Station: st, At: fromNanos(at), Kind: cloud.LogPresence, State: state})
	}
	if err := rows.Close(); err != nil {
		return nil, translate(err)
	}
	// The transitions inside, for all stations at once.
	rows, err = s.db.QueryContext(ctx, `SELECT station_id, at, state FROM station_log
		WHERE kind = 'presence' AND at >= $1 AND at < $2 AND station_id = ANY($3::text[]) ORDER BY at, id`,
		clampNanos(from), clampNanos(to), stations)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var st, state string
		var at int64
		if err := rows.Scan(&st, &at, &state); err != nil {
			return nil, translate(err)
		}
		out[st] = append(out[st], cloud.LogEntry{Station: st, At: fromNanos(at), Kind: cloud.LogPresence, State: state})
	}
	return out, translate(rows.Err())
}
