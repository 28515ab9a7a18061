package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
)

// CheckIn implements cloud.Store.
func (s *Store) CheckIn(ctx context.Context, id string) (vetnet.CheckIn, error) {
	if err := s.check(); err != nil {
		return vetnet.CheckIn{}, err
	}
	var c vetnet.CheckIn
	var seq, at, recv int64
	var service, method, doc string
	err := s.r.QueryRowContext(ctx, `SELECT id, station_id, seq, at, received_at, service, method, queue_no, id_number, name, doc
		FROM checkins WHERE id = ?`, id).Scan(&c.ID, &c.StationID, &seq, &at, &recv, &service, &method, &c.QueueNo,
		&c.Visitor.IDNumber, &c.Visitor.Name, &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return c, vetnet.Errorz(vetnet.ENOTFOUND, "没有这条签到记录", "No such check-in.")
	}
	if err != nil {
		return c, translate(err)
	}
	if err := s.openVisitor(c.ID, &c.Visitor); err != nil {
		return vetnet.CheckIn{}, err
	}
	c.Seq, c.At, c.ReceivedAt = uint64(seq), fromNanos(at), fromNanos(recv)
	c.Service, c.Method, c.Visitor.DocType = vetnet.Service(service), vetnet.Method(method), vetnet.DocType(doc)
	return c, nil
}

// AppendLog implements cloud.Store.
func (s *Store) AppendLog(ctx context.Context, entries []cloud.LogEntry) error {
	if err := s.check(); err != nil {
		return err
	}
	for _, e := range entries {
		if e.Station == "" || e.Kind == "" || e.State == "" {
			return vetnet.Errorz(vetnet.EINVALID, "站点日志缺少站点、类型或状态", "A station log entry lacks its station, kind or state.")
		}
		if _, ok := nanos(e.At); !ok {
			return vetnet.Errorz(vetnet.EINVALID, "站点日志时间超出范围", "A station log entry's time is out of range.")
		}
	}
	if len(entries) == 0 {
		return nil
	}
	return translate(s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO station_log (station_id, at, kind, subject, state, detail) VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, e := range entries {
			if _, err := stmt.ExecContext(ctx, e.Station, e.At.UnixNano(), string(e.Kind), e.Subject, e.State, e.Detail); err != nil {
				return err
			}
		}
		return nil
	}))
}

// StationLog implements cloud.Store.
func (s *Store) StationLog(ctx context.Context, station string, from, to time.Time) ([]cloud.LogEntry, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	// The last entry of each (kind, subject) before from, then the period.
	rows, err := s.r.QueryContext(ctx, `SELECT at, kind, subject, state, detail FROM (
			SELECT l.at, l.kind, l.subject, l.state, l.detail, l.id FROM station_log l
			JOIN (SELECT kind, subject, MAX(id) AS id FROM station_log WHERE station_id = ? AND at < ? GROUP BY kind, subject) p
			ON l.id = p.id
			UNION ALL
			SELECT at, kind, subject, state, detail, id FROM station_log WHERE station_id = ? AND at >= ? AND at < ?)
		ORDER BY at, id`, station, clampNanos(from), station, clampNanos(from), clampNanos(to))
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []cloud.LogEntry{}
	for rows.Next() {
		e := cloud.LogEntry{Station: station}
		var at int64
		var kind string
		if err := rows.Scan(&at, &kind, &e.Subject, &e.State, &e.Detail); err != nil {
			return nil, translate(err)
		}
		e.At, e.Kind = fromNanos(at), cloud.LogKind(kind)
		out = append(out, e)
	}
	return out, translate(rows.Err())
}

const alertCols = `id, rule, key, station_id, subject, state, message_zh, message_en, opened_at, due, cleared_at,
	ack_at, ack_by, ack_comment, resolved_at, resolved_by, resolved_comment`

func scanAlert(sc interface{ Scan(...any) error }) (cloud.Alert, error) {
	var a cloud.Alert
	var rule, state string
	var opened int64
	var due, cleared, ack, resolved sql.NullInt64
	err := sc.Scan(&a.ID, &rule, &a.Key, &a.Station, &a.Subject, &state, &a.MessageZH, &a.MessageEN, &opened, &due, &cleared,
		&ack, &a.AckBy, &a.AckComment, &resolved, &a.ResolvedBy, &a.ResolvedComment)
	a.Rule, a.State, a.OpenedAt = cloud.AlertRule(rule), cloud.AlertState(state), fromNanos(opened)
	a.Due, a.ClearedAt, a.AckAt, a.ResolvedAt = fromNull(due), fromNull(cleared), fromNull(ack), fromNull(resolved)
	return a, err
}

// OpenAlert implements cloud.Store.
func (s *Store) OpenAlert(ctx context.Context, a cloud.Alert) (cloud.Alert, bool, error) {
	if err := s.check(); err != nil {
		return a, false, err
	}
	a, err := a.CheckNew()
	if err != nil {
		return a, false, err
	}
	var out cloud.Alert
	var isNew bool
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		got, err := scanAlert(tx.QueryRowContext(ctx, `SELECT `+alertCols+` FROM alerts WHERE key = ? AND state <> 'resolved'`, a.Key))
		if err == nil {
			out = got
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO alerts (rule, key, station_id, subject, state, message_zh, message_en, opened_at, due, cleared_at,
			ack_at, ack_by, ack_comment, resolved_at, resolved_by, resolved_comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			string(a.Rule), a.Key, a.Station, a.Subject, string(a.State), a.MessageZH, a.MessageEN, a.OpenedAt.UnixNano(), nullNanos(a.Due),
			nullNanos(a.ClearedAt), nullNanos(a.AckAt), a.AckBy, a.AckComment, nullNanos(a.ResolvedAt), a.ResolvedBy, a.ResolvedComment)
		if err != nil {
			return err
		}
		a.ID, err = res.LastInsertId()
		out, isNew = a, true
		return err
	})
	if err != nil {
		return a, false, translate(err)
	}
	return out, isNew, nil
}

// UpdateAlert implements cloud.Store.
func (s *Store) UpdateAlert(ctx context.Context, a cloud.Alert) error {
	if err := s.check(); err != nil {
		return err
	}
	if !a.State.Valid() {
		return vetnet.Errorz(vetnet.EINVALID, "告警状态无效", "The alert state is not valid.")
	}
	res, err := s.w.ExecContext(ctx, `UPDATE alerts SET state = ?, cleared_at = ?, ack_at = ?, ack_by = ?, ack_comment = ?,
		resolved_at = ?, resolved_by = ?, resolved_comment = ? WHERE id = ?`,
		string(a.State), nullNanos(a.ClearedAt), nullNanos(a.AckAt), a.AckBy, a.AckComment,
		nullNanos(a.ResolvedAt), a.ResolvedBy, a.ResolvedComment, a.ID)
	if err != nil {
		return translate(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return vetnet.Errorz(vetnet.ENOTFOUND, "没有这条告警", "No such alert.")
	}
	return nil
}

// Alert implements cloud.Store.
func (s *Store) Alert(ctx context.Context, id int64) (cloud.Alert, error) {
	if err := s.check(); err != nil {
		return cloud.Alert{}, err
	}
	a, err := scanAlert(s.r.QueryRowContext(ctx, `SELECT `+alertCols+` FROM alerts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, vetnet.Errorz(vetnet.ENOTFOUND, "没有这条告警", "No such alert.")
	}
	return a, translate(err)
}

// idCursor pages by descending integer ID.
func idCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("i" + strconv.FormatInt(id, 10)))
}

func parseIDCursor(c string) (int64, error) {
	bad := vetnet.Errorz(vetnet.EINVALID, "分页游标无效", "The page cursor is not valid.")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 2 || b[0] != 'i' {
		return 0, bad
	}
	n, err := strconv.ParseInt(string(b[1:]), 10, 64)
	if err != nil {
		return 0, bad
	}
	return n, nil
}

func limitOf(n int) int {
	switch {
	case n <= 0:
		return cloud.DefaultLimit
	case n > cloud.MaxLimit:
		return cloud.MaxLimit
	}
	return n
}

// Alerts implements cloud.Store.
func (s *Store) Alerts(ctx context.Context, f cloud.AlertFilter) (cloud.AlertPage, error) {
	if err := s.check(); err != nil {
		return cloud.AlertPage{}, err
	}
	var conds []string
	var args []any
	if f.Stations != nil {
		conds = append(conds, "station_id IN (SELECT value FROM json_each(?))")
		args = append(args, jsonList(f.Stations))
	}
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		for i, st := range f.States {
			ph[i] = "?"
			args = append(args, string(st))
		}
		conds = append(conds, "state IN ("+strings.Join(ph, ",")+")")
	}
	if f.Rule != "" {
		conds = append(conds, "rule = ?")
		args = append(args, string(f.Rule))
	}
	if !f.From.IsZero() {
		conds = append(conds, "opened_at >= ?")
		args = append(args, clampNanos(f.From))
	}
	if !f.To.IsZero() {
		conds = append(conds, "opened_at < ?")
		args = append(args, clampNanos(f.To))
	}
	if f.Cursor != "" {
		id, err := parseIDCursor(f.Cursor)
		if err != nil {
			return cloud.AlertPage{}, err
		}
		conds = append(conds, "id < ?")
		args = append(args, id)
	}
	q := `SELECT ` + alertCols + ` FROM alerts`
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	limit := limitOf(f.Limit)
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return cloud.AlertPage{}, translate(err)
	}
	defer rows.Close()
	p := cloud.AlertPage{Alerts: []cloud.Alert{}}
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return cloud.AlertPage{}, translate(err)
		}
		if len(p.Alerts) == limit {
			p.Next = idCursor(p.Alerts[limit-1].ID)
			break
		}
		p.Alerts = append(p.Alerts, a)
	}
	return p, translate(rows.Err())
}

// PutUser implements cloud.Store.
func (s *Store) PutUser(ctx context.Context, u cloud.User) error {
	if err := s.check(); err != nil {
		return err
	}
	if u.Name == "" || len(u.Name) > 64 || !u.Role.Valid() || u.PasswordHash == "" {
		return vetnet.Errorz(vetnet.EINVALID, "用户名、角色或密码无效", "The user's name, role or password is not valid.")
	}
	if u.Role.NeedsStation() && u.Station == "" {
		return vetnet.Errorz(vetnet.EINVALID, "该角色需要指定站点", "This role needs a station.")
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now()
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO users (name, display_name, role, station_id, password_hash, disabled, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET display_name = excluded.display_name, role = excluded.role,
		station_id = excluded.station_id, password_hash = excluded.password_hash, disabled = excluded.disabled`,
		u.Name, u.DisplayName, string(u.Role), u.Station, u.PasswordHash, u.Disabled, u.CreatedAt.UnixNano())
	return translate(err)
}

func scanUser(sc interface{ Scan(...any) error }) (cloud.User, error) {
	var u cloud.User
	var role string
	var created int64
	err := sc.Scan(&u.Name, &u.DisplayName, &role, &u.Station, &u.PasswordHash, &u.Disabled, &created)
	u.Role, u.CreatedAt = cloud.Role(role), fromNanos(created)
	return u, err
}

// User implements cloud.Store.
func (s *Store) User(ctx context.Context, name string) (cloud.User, error) {
	if err := s.check(); err != nil {
		return cloud.User{}, err
	}
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT name, display_name, role, station_id, password_hash, disabled, created_at
		FROM users WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return u, vetnet.Errorz(vetnet.ENOTFOUND, "没有这个用户", "No such user.")
	}
	return u, translate(err)
}

// Users implements cloud.Store.
func (s *Store) Users(ctx context.Context) ([]cloud.User, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT name, display_name, role, station_id, password_hash, disabled, created_at FROM users ORDER BY name`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []cloud.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, u)
	}
	return out, translate(rows.Err())
}

// CreateSession implements cloud.Store.
func (s *Store) CreateSession(ctx context.Context, se cloud.Session) error {
	if err := s.check(); err != nil {
		return err
	}
	if se.TokenHash == "" || se.User == "" || se.ExpiresAt.IsZero() {
		return vetnet.Errorz(vetnet.EINVALID, "会话缺少令牌、用户或有效期", "A session lacks its token, user or expiry.")
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_name, csrf, created_at, expires_at, addr) VALUES (?, ?, ?, ?, ?, ?)`,
		se.TokenHash, se.User, se.CSRF, se.CreatedAt.UnixNano(), se.ExpiresAt.UnixNano(), se.Addr)
	return translate(err)
}

// Session implements cloud.Store.
func (s *Store) Session(ctx context.Context, tokenHash string) (cloud.Session, error) {
	if err := s.check(); err != nil {
		return cloud.Session{}, err
	}
	var se cloud.Session
	var created, expires int64
	err := s.r.QueryRowContext(ctx, `SELECT token_hash, user_name, csrf, created_at, expires_at, addr FROM sessions WHERE token_hash = ?`,
		tokenHash).Scan(&se.TokenHash, &se.User, &se.CSRF, &created, &expires, &se.Addr)
	if errors.Is(err, sql.ErrNoRows) {
		return se, vetnet.Errorz(vetnet.ENOTFOUND, "会话不存在或已过期", "No such session.")
	}
	se.CreatedAt, se.ExpiresAt = fromNanos(created), fromNanos(expires)
	return se, translate(err)
}

// DeleteSessions implements cloud.Store.
func (s *Store) DeleteSessions(ctx context.Context, tokenHash string, expiredBefore time.Time) error {
	if err := s.check(); err != nil {
		return err
	}
	var err error
	if tokenHash != "" {
		_, err = s.w.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
	} else {
		_, err = s.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, clampNanos(expiredBefore))
	}
	return translate(err)
}

// AppendAudit implements cloud.Store.
func (s *Store) AppendAudit(ctx context.Context, e cloud.AuditEntry) (int64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	if e.Action == "" || e.At.IsZero() {
		return 0, vetnet.Errorz(vetnet.EINVALID, "审计记录缺少操作或时间", "An audit entry lacks its action or time.")
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO audit (at, user_name, role, action, target, reason, detail, addr) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.At.UnixNano(), e.User, string(e.Role), string(e.Action), e.Target, e.Reason, e.Detail, e.Addr)
	if err != nil {
		return 0, translate(err)
	}
	id, err := res.LastInsertId()
	return id, translate(err)
}

// Audit implements cloud.Store.
func (s *Store) Audit(ctx context.Context, f cloud.AuditFilter) (cloud.AuditPage, error) {
	if err := s.check(); err != nil {
		return cloud.AuditPage{}, err
	}
	var conds []string
	var args []any
	if f.User != "" {
		conds = append(conds, "user_name = ?")
		args = append(args, f.User)
	}
	if f.Action != "" {
		conds = append(conds, "action = ?")
		args = append(args, string(f.Action))
	}
	if !f.From.IsZero() {
		conds = append(conds, "at >= ?")
		args = append(args, clampNanos(f.From))
	}
	if !f.To.IsZero() {
		conds = append(conds, "at < ?")
		args = append(args, clampNanos(f.To))
	}
	if f.Cursor != "" {
		id, err := parseIDCursor(f.Cursor)
		if err != nil {
			return cloud.AuditPage{}, err
		}
		conds = append(conds, "id < ?")
		args = append(args, id)
	}
	q := `SELECT id, at, user_name, role, action, target, reason, detail, addr FROM audit`
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	limit := limitOf(f.Limit)
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return cloud.AuditPage{}, translate(err)
	}
	defer rows.Close()
	p := cloud.AuditPage{Entries: []cloud.AuditEntry{}}
	for rows.Next() {
		var e cloud.AuditEntry
		var at int64
		var role, action string
		if err := rows.Scan(&e.ID, &at, &e.User, &role, &action, &e.Target, &e.Reason, &e.Detail, &e.Addr); err != nil {
			return cloud.AuditPage{}, translate(err)
		}
		if len(p.Entries) == limit {
			p.Next = idCursor(p.Entries[limit-1].ID)
			break
		}
		e.At, e.Role, e.Action = fromNanos(at), cloud.Role(role), cloud.AuditAction(action)
		p.Entries = append(p.Entries, e)
	}
	return p, translate(rows.Err())
}
