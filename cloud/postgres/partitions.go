package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Check-ins are range-partitioned by month (UTC) of at, the station's
// clock: a month of a province is tens of millions of rows, and old
// months can be detached and archived whole. A station with a wrong
// clock (years off) gets its own partition rather than being refused:
// its check-ins are real visits.

// monthStart returns the first instant of t's month in UTC.
func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// partitionName is the table of the month beginning at m.
func partitionName(m time.Time) string {
	return fmt.Sprintf("checkins_p%04d%02d", m.Year(), int(m.Month()))
}

// ensurePartition makes the partition of the month beginning at m unless
// this store already knows it exists. Two replicas making the same one
// at once: the loser's error (duplicate table) is taken as success.
func (s *Store) ensurePartition(ctx context.Context, m time.Time) error {
	m = monthStart(m)
	name := partitionName(m)
	if _, ok := s.parts.Load(name); ok {
		return nil
	}
	next := m.AddDate(0, 1, 0)
	from, to := clampNanos(m), clampNanos(next)
	_, err := s.db.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF checkins FOR VALUES FROM (%d) TO (%d)`,
		quoteIdent(name), from, to))
	if err != nil {
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || (pe.Code != "42P07" && pe.Code != "23505") {
			return err
		}
	}
	s.parts.Store(name, true)
	return nil
}

// EnsurePartition makes the check-in partition of t's month (UTC) if it
// is missing: for bulk loads that write rows directly.
func (s *Store) EnsurePartition(ctx context.Context, t time.Time) error {
	if err := s.check(); err != nil {
		return err
	}
	return translate(s.ensurePartition(ctx, t))
}

// Partitions returns the names of the check-in partitions, oldest first.
func (s *Store) Partitions(ctx context.Context) ([]string, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT c.relname FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
		JOIN pg_namespace n ON n.oid = p.relnamespace
		WHERE p.relname = 'checkins' AND n.nspname = $1 ORDER BY c.relname`, s.schema)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, translate(err)
		}
		out = append(out, n)
	}
	return out, translate(rows.Err())
}
