package postgres

import "context"

// Lead implements cloud.Leadership with a session-level advisory lock on
// a connection of its own: the replica whose connection holds the lock
// leads until that connection (or the replica) dies.
func (s *Store) Lead(ctx context.Context) (bool, error) {
	if err := s.check(); err != nil {
		return false, err
	}
	s.leadMu.Lock()
	defer s.leadMu.Unlock()
	if s.leadConn != nil {
		// Still ours while the session lives.
		if err := s.leadConn.PingContext(ctx); err == nil {
			return true, nil
		}
		s.leadConn.Close()
		s.leadConn = nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return false, translate(err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, s.lockNS+2).Scan(&got); err != nil {
		conn.Close()
		return false, translate(err)
	}
	if !got {
		conn.Close()
		return false, nil
	}
	s.leadConn = conn
	return true, nil
}

// resign gives up the lead (at Close).
func (s *Store) resign() {
	s.leadMu.Lock()
	defer s.leadMu.Unlock()
	if s.leadConn != nil {
		s.leadConn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, s.lockNS+2)
		s.leadConn.Close()
		s.leadConn = nil
	}
}
