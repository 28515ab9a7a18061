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
	"github.com/vetnet/vetnet/firmware-config/tomlpos"
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
	Hours    []string `toml:"hours"` // vetnet.OpeningHours' text form
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

// Parse validates registry text; name is used in error messages, which
// read "name:line: station ID (#n): field: what is wrong".
func Parse(name, text string) (*Registry, error) {
	var f file
	md, err := toml.Decode(text, &f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, invalid([]problem{{name, pe.Position.Line, pe.Message}})
		}
		// A value of the wrong type: toml names the key, not the line.
		return nil, invalid([]problem{{name, 0, err.Error()}})
	}
	pos := tomlpos.New(text)
	c := &checker{file: name, pos: pos}
	for _, k := range md.Undecoded() {
		_, line := pos.Undecoded(k.String())
		c.problems = append(c.problems, problem{name, line, fmt.Sprintf("unknown field %q", k.String())})
	}
	r := &Registry{byID: map[string]int{}}
	at := map[string]int{} // station ID → index in the file
	for i, e := range f.Station {
		path := fmt.Sprintf("station[%d]", i)
		who := fmt.Sprintf("station %s (#%d)", e.ID, i+1)
		bad := func(field, what string) { c.bad(path, field, who, what) }
		st := vetnet.Station{ID: e.ID, Name: e.Name, NameEN: e.NameEN, Level: vetnet.Level(e.Level), Parent: e.Parent,
			Address: e.Address, Contact: e.Contact}
		n := len(c.problems)
		if err := vetnet.ValidateStationID(e.ID); err != nil {
			bad("id", vetnet.ErrorMessage(err, "en"))
		}
		if strings.TrimSpace(e.Name) == "" {
			bad("name", "required")
		}
		switch {
		case !st.Level.Valid():
			bad("level", fmt.Sprintf("%q is not district, town, village or post", e.Level))
		case st.Level == vetnet.LevelDistrict && e.Parent != "":
			bad("parent", "a district centre has no parent")
		case st.Level != vetnet.LevelDistrict && e.Parent == "":
			bad("parent", "required for a "+e.Level+" station")
		}
		seen := map[string]bool{}
		for _, sv := range e.Services {
			switch {
			case !vetnet.Service(sv).Valid():
				bad("services", fmt.Sprintf("%q is not a service", sv))
			case seen[sv]:
				bad("services", fmt.Sprintf("%q listed twice", sv))
			}
			seen[sv] = true
			st.Services = append(st.Services, vetnet.Service(sv))
		}
		if h, err := vetnet.ParseOpeningHours(e.Hours); err != nil {
			bad("hours", vetnet.ErrorMessage(err, "en"))
		} else {
			st.Hours = h
		}
		staffIDs := map[string]bool{}
		for j, m := range e.Staff {
			sm := vetnet.Staff{ID: m.ID, Name: m.Name, Role: vetnet.StaffRole(m.Role),
				BadgeUID: vetnet.NormalizeBadgeUID(m.Badge), PINHash: m.PINHash}
			spath := fmt.Sprintf("%s.staff[%d]", path, j)
			if err := sm.Validate(); err != nil {
				c.bad(spath, "", who+": staff "+m.ID, vetnet.ErrorMessage(err, "en"))
			} else if staffIDs[m.ID] {
				c.bad(spath, "id", who+": staff "+m.ID, "repeated at this station")
			}
			staffIDs[m.ID] = true
			st.Staff = append(st.Staff, sm)
		}
		if len(c.problems) == n {
			// What the checks above do not cover (e.g. one badge twice
			// in the roster).
			if err := st.Validate(); err != nil {
				bad("", vetnet.ErrorMessage(err, "en"))
			}
		}
		if len(c.problems) > n {
			continue
		}
		if j, dup := at[st.ID]; dup {
			bad("id", fmt.Sprintf("repeated: also station #%d", j+1))
			continue
		}
		at[st.ID] = i
		r.byID[st.ID] = len(r.stations)
		r.stations = append(r.stations, st)
	}
	// A badge belongs to one person across the district (a staff member
	// may serve at more than one station, with the same badge).
	badgeOwner := map[string]string{}
	for _, st := range r.stations {
		for j, m := range st.Staff {
			if m.BadgeUID == "" {
				continue
			}
			if owner, ok := badgeOwner[m.BadgeUID]; ok && owner != m.ID {
				c.bad(fmt.Sprintf("station[%d].staff[%d]", at[st.ID], j), "badge", "station "+st.ID+": staff "+m.ID, "already the badge of "+owner)
			}
			badgeOwner[m.BadgeUID] = m.ID
		}
	}
	for _, st := range r.stations {
		if st.Parent == "" {
			continue
		}
		path, who := fmt.Sprintf("station[%d]", at[st.ID]), "station "+st.ID
		p, ok := r.Station(st.Parent)
		switch {
		case !ok:
			c.bad(path, "parent", who, fmt.Sprintf("%q is not in the registry", st.Parent))
		case !vetnet.AllowedParent(st.Level, p.Level):
			c.bad(path, "parent", who, fmt.Sprintf("a %s station cannot report to a %s", st.Level, p.Level))
		}
	}
	if len(c.problems) > 0 {
		return nil, invalid(c.problems)
	}
	if len(r.stations) == 0 {
		return nil, invalid([]problem{{name, 0, "no [[station]] entries"}})
	}
	return r, nil
}

// problem is one finding, at a line of a file (0: the line is unknown).
type problem struct {
	file string
	line int
	what string
}

func (p problem) String() string {
	if p.line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.file, p.line, p.what)
	}
	return p.file + ": " + p.what
}

type checker struct {
	file     string
	pos      *tomlpos.Index
	problems []problem
}

// bad records a problem with field of the table at path (e.g.
// "station[2]"), located at the field's line, else the table's.
func (c *checker) bad(path, field, who, what string) {
	p := path
	msg := who + ": " + what
	if field != "" {
		p += "." + field
		msg = who + ": " + field + ": " + what
	}
	c.problems = append(c.problems, problem{c.file, c.pos.Line(p), msg})
}

func invalid(problems []problem) error {
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].line < problems[j].line })
	lines := make([]string, len(problems))
	for i, p := range problems {
		lines[i] = p.String()
	}
	return &vetnet.Error{Code: vetnet.EINVALID, Message: strings.Join(lines, "\n"),
		MessageZH: "站点清单有误：\n" + strings.Join(lines, "\n")}
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
