package registry_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/firmware-config/registry"
)

// FuzzParse: any text either parses to a registry whose stations all
// validate or is refused with EINVALID; nothing panics.
func FuzzParse(f *testing.F) {
	b, _ := os.ReadFile(filepath.Join("..", "stations", "demo.toml"))
	f.Add(string(b))
	f.Add("[[station]]\nid = \"a\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		r, err := registry.Parse("fuzz.toml", text)
		if err != nil {
			if vetnet.ErrorCode(err) != vetnet.EINVALID {
				t.Fatalf("error code %q: %v", vetnet.ErrorCode(err), err)
			}
			return
		}
		for _, st := range r.Stations() {
			if err := st.Validate(); err != nil {
				t.Fatalf("accepted an invalid station %+v: %v", st, err)
			}
		}
	})
}
