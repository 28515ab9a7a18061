package storekit

import (
	"slices"
	"testing"

	"github.com/vetnet/vetnet"
)

func TestTree(t *testing.T) {
	var b TreeBox
	b.Set(b.With([]vetnet.Station{{ID: "d"}, {ID: "t1", Parent: "d"}, {ID: "t2", Parent: "d"}, {ID: "v1", Parent: "t1"}, {ID: "v2", Parent: "t1"}}))
	tr := b.Get()
	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	if got := sorted(tr.Subtree("t1")); !slices.Equal(got, []string{"t1", "v1", "v2"}) {
		t.Errorf("Subtree(t1) = %v", got)
	}
	if got := tr.Ancestors("v2"); !slices.Equal(got, []string{"t1", "d"}) {
		t.Errorf("Ancestors(v2) = %v", got)
	}
	if got := sorted(tr.Selection([]string{"t1", "v1", "t2"}, false)); !slices.Equal(got, []string{"t1", "t2", "v1", "v2"}) {
		t.Errorf("Selection = %v (each station once)", got)
	}
	if got := tr.Selection([]string{"t1"}, true); !slices.Equal(got, []string{"t1"}) {
		t.Errorf("exact Selection = %v", got)
	}
	if tr.Selection(nil, false) != nil {
		t.Error("Selection(nil) is a filter")
	}
	// A cycle stops the walk up.
	cyc := Tree{"a": "b", "b": "a"}
	if got := cyc.Ancestors("a"); !slices.Equal(got, []string{"b"}) {
		t.Errorf("Ancestors in a cycle = %v", got)
	}
	if !tr.Equal(b.With(nil)) || tr.Equal(cyc) {
		t.Error("Equal")
	}
}
