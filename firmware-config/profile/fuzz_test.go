package profile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/firmware-config/profile"
)

// FuzzParse: any text either parses to a profile that passes its own
// checks or is refused with EINVALID; nothing panics.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "profiles", "*.toml"))
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(string(b))
	}
	f.Add("name = \"x\"\n[idcard]\n")
	f.Fuzz(func(t *testing.T, text string) {
		p, err := profile.Parse("fuzz.toml", text)
		if err != nil {
			if vetnet.ErrorCode(err) != vetnet.EINVALID {
				t.Fatalf("error code %q: %v", vetnet.ErrorCode(err), err)
			}
			return
		}
		if p == nil || p.Name == "" {
			t.Fatalf("accepted a profile without a name: %+v", p)
		}
	})
}
