package storekit

import (
	"maps"
	"sync"

	"github.com/vetnet/vetnet"
)

// Tree is the stations' parents: station ID → parent ID ("" for a root).
// Both stores keep one in memory to turn a scope (a station and its
// subtree) into the stations and aggregate scopes a query counts.
type Tree map[string]string

// TreeBox holds the current tree; readers take a snapshot.
type TreeBox struct {
	mu sync.Mutex
	t  Tree
}

// Get returns the current tree (do not change it).
func (b *TreeBox) Get() Tree {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.t
}

// Set replaces the current tree.
func (b *TreeBox) Set(t Tree) {
	b.mu.Lock()
	b.t = t
	b.mu.Unlock()
}

// With returns a copy of the tree with the stations added or replaced.
func (b *TreeBox) With(stations []vetnet.Station) Tree {
	t := Tree{}
	maps.Copy(t, b.Get())
	for _, st := range stations {
		t[st.ID] = st.Parent
	}
	return t
}

// Equal reports whether both trees give every station the same parent.
func (t Tree) Equal(o Tree) bool { return maps.Equal(t, o) }

// Ancestors returns the stations above id, nearest first. A cycle (which
// Validate does not rule out across stations) stops the walk.
func (t Tree) Ancestors(id string) []string {
	var out []string
	seen := map[string]bool{id: true}
	for p := t[id]; p != "" && !seen[p]; p = t[p] {
		seen[p] = true
		out = append(out, p)
	}
	return out
}

// Subtree returns root and every station below it.
func (t Tree) Subtree(root string) []string {
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

// Selection returns the stations a query counts: the roots themselves
// when exact, otherwise every station of the roots' subtrees, each once;
// nil (no filter) when roots is nil.
func (t Tree) Selection(roots []string, exact bool) []string {
	if roots == nil {
		return nil
	}
	if exact {
		return append([]string{}, roots...)
	}
	seen := map[string]bool{}
	out := []string{}
	for _, r := range roots {
		for _, id := range t.Subtree(r) {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}
