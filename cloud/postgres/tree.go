package postgres

import (
	"context"
	"maps"
	"sync"

	"github.com/vetnet/vetnet"
)

// The aggregates: Save adds every newly stored check-in and rating to
// them in its own transaction, so statistics are exact and never scan the
// check-ins. See migrations/0007_dashboard.sql for the tables.

// tree is the stations' parents: station ID → parent ID ("" for a root).
type tree map[string]string

// treeBox holds the current tree; readers take a snapshot.
type treeBox struct {
	mu sync.Mutex
	t  tree
}

func (b *treeBox) get() tree {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.t
}

func (b *treeBox) set(t tree) {
	b.mu.Lock()
	b.t = t
	b.mu.Unlock()
}

// with returns the tree with the stations added or replaced.
func (b *treeBox) with(stations []vetnet.Station) tree {
	t := tree{}
	maps.Copy(t, b.get())
	for _, st := range stations {
		t[st.ID] = st.Parent
	}
	return t
}

func (t tree) equal(o tree) bool { return maps.Equal(t, o) }

// ancestors returns the stations above id, nearest first. A cycle (which
// Validate does not rule out across stations) stops the walk.
func (t tree) ancestors(id string) []string {
	var out []string
	seen := map[string]bool{id: true}
	for p := t[id]; p != "" && !seen[p]; p = t[p] {
		seen[p] = true
		out = append(out, p)
	}
	return out
}

// subtree returns root and every station below it.
func (t tree) subtree(root string) []string {
	kids := map[string][]string{}
	for id, p := range t {
		kids[p] = append(kids[p], id)
	}
	out := []string{root}
	seen := map[string]bool{root: true}
	for i := 0; i < len(out); i++ {
		for _, k := range kids[out[i]] {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

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
	s.tree.set(t)
	return nil
}
