package postgres

import (
	"context"

	"github.com/vetnet/vetnet/cloud/internal/storekit"
)

// The aggregates: Save adds every newly stored check-in and rating to
// them in its own transaction, so statistics are exact and never scan the
// check-ins. See migrations/0007_dashboard.sql for the tables.

// tree and treeBox are the stations' parents, shared with the other store
// (storekit).
type (
	tree    = storekit.Tree
	treeBox = storekit.TreeBox
)

func (s *Store) loadTree(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, parent FROM stations`)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	t := tree{}
	for rows.Next() {
		var id, p string
		if err := rows.Scan(&id, &p); err != nil {
			return translate(err)
		}
		t[id] = p
	}
	if err := rows.Err(); err != nil {
		return translate(err)
	}
	s.tree.Set(t)
	return nil
}
