package vetnet_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies checks the layering rule of STYLE.md: the domain and the
// wire protocol import only the standard library (and wire the domain).
func TestDependencies(t *testing.T) {
	allowed := map[string][]string{
		".":      nil,
		"./wire": {"github.com/vetnet/vetnet"},
	}
	for pkg, extra := range allowed {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			ok := dep == "github.com/vetnet/vetnet" && pkg == "." || dep == "github.com/vetnet/vetnet/wire" && pkg == "./wire"
			for _, e := range extra {
				ok = ok || dep == e
			}
			if !ok {
				t.Errorf("%s imports %s; the domain and wire use only the standard library", pkg, dep)
			}
		}
	}
}
