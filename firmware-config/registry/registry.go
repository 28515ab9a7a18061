// Package registry reads the station registry: the stations of a district
// (or larger area) as a TOML file that a person can read and edit, one
// [[station]] table per station. Load checks every station on its own and
// the tree as a whole (unique IDs, parents that exist and sit at an allowed
// level) and names the file, the station and the field of each problem.
package registry

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/vetnet/vetnet"
)

// Registry is a validated set of stations.
type Registry struct {
	stations []vetnet.Station
	byID     map[string]int
}

type file struct {
	Station []entry `toml:"station"`
}

type entry struct {
	ID       string   `toml:"id"`
	Name     string   `toml:"name"`
	NameEN   string   `toml:"name_en"`
	Level    string   `toml:"level"`
	Parent   string   `toml:"parent"`
	Services []string `toml:"services"`
	Address  string   `toml:"address"`
	Contact  string   `toml:"contact"`
	Staff    []staff  `toml:"staff"`
}

// staff is one [[station.staff]] table: a member of the station's roster.
type staff struct {
	ID      string `toml:"id"`
	Name    string `toml:"name"`
	Role    string `toml:"role"`     // head, officer, grid
	Badge   string `toml:"badge"`    // the badge's UID in hex, separators allowed
	PINHash string `toml:"pin_hash"` // from `go run ./firmware-config/cmd/pinhash`
}

// Load reads and validates the registry at path. Errors are EINVALID and
// list every problem found, each prefixed with the file name.
func Load(path string) (*Registry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, vetnet.Wrap(vetnet.ENOTFOUND, err, "无法读取站点清单文件", "Cannot read the station registry "+path+".")
	}
	return Parse(path, string(b))
}

// Parse validates registry text; name is used in error messages.
func Parse(name, text string) (*Registry, error) {
	var f file
	md, err := toml.Decode(text, &f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, invalid([]string{fmt.Sprintf("%s:%d: %s", name, pe.Position.Line, pe.Message)})
		}
		return nil, invalid([]string{fmt.Sprintf("%s: %v", name, err)})
	}
	var problems []string
	for _, k := range md.Undecoded() {
		problems = append(problems, fmt.Sprintf("%s: unknown field %q", name, k.String()))
	}
	r := &Registry{byID: map[string]int{}}
	for i, e := range f.Station {
		where := fmt.Sprintf("%s: station #%d (%s)", name, i+1, e.ID)
		st := vetnet.Station{ID: e.ID, Name: e.Name, NameEN: e.NameEN, Level: vetnet.Level(e.Level), Parent: e.Parent,
			Address: e.Address, Contact: e.Contact}
		for _, s := range e.Services {
			st.Services = append(st.Services, vetnet.Service(s))
		}
		for _, m := range e.Staff {
			st.Staff = append(st.Staff, vetnet.Staff{ID: m.ID, Name: m.Name, Role: vetnet.StaffRole(m.Role),
				BadgeUID: vetnet.NormalizeBadgeUID(m.Badge), PINHash: m.PINHash})
		}
		if err := st.Validate(); err != nil {
			problems = append(problems, where+": "+vetnet.ErrorMessage(err, "en"))
			continue
		}
		if _, dup := r.byID[st.ID]; dup {
			problems = append(problems, where+": id: repeated")
			continue
		}
		r.byID[st.ID] = len(r.stations)
		r.stations = append(r.stations, st)
	}
	// A badge belongs to one person across the district (a staff member
	// may serve at more than one station, with the same badge).
	badgeOwner := map[string]string{}
	for _, st := range r.stations {
		for _, m := range st.Staff {
			if m.BadgeUID == "" {
				continue
			}
			if owner, ok := badgeOwner[m.BadgeUID]; ok && owner != m.ID {
				problems = append(problems, fmt.Sprintf("%s: station %s: staff %s: badge: already the badge of %s", name, st.ID, m.ID, owner))
			}
			badgeOwner[m.BadgeUID] = m.ID
		}
	}
	for _, st := range r.stations {
		if st.Parent == "" {
			continue
		}
		p, ok := r.Station(st.Parent)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s: station %s: parent: %q is not in the registry", name, st.ID, st.Parent))
		case !vetnet.AllowedParent(st.Level, p.Level):
			problems = append(problems, fmt.Sprintf("%s: station %s: parent: a %s station cannot report to a %s", name, st.ID, st.Level, p.Level))
		}
	}
	if len(problems) > 0 {
		return nil, invalid(problems)
	}
	if len(r.stations) == 0 {
		return nil, invalid([]string{name + ": no [[station]] entries"})
	}
	return r, nil
}

func invalid(problems []string) error {
	sort.Strings(problems)
	return &vetnet.Error{Code: vetnet.EINVALID, Message: strings.Join(problems, "\n"),
		MessageZH: "站点清单有误：\n" + strings.Join(problems, "\n")}
}

// Stations returns every station in file order.
func (r *Registry) Stations() []vetnet.Station {
	return append([]vetnet.Station(nil), r.stations...)
}

// Station returns the station with id.
func (r *Registry) Station(id string) (vetnet.Station, bool) {
	i, ok := r.byID[id]
	if !ok {
		return vetnet.Station{}, false
	}
	return r.stations[i], true
}
