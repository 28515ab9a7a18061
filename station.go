package vetnet

import (
	"strings"
)

// Level is a station's place in the network; see DOMAIN.md.
type Level string

const (
	LevelDistrict Level = "district" // 区退役军人服务中心
	LevelTown     Level = "town"     // 镇(街道)退役军人服务站
	LevelVillage  Level = "village"  // 村(社区)退役军人服务站
	LevelPost     Level = "post"     // 退役军人驿站
)

// Levels lists the levels from the top down.
var Levels = []Level{LevelDistrict, LevelTown, LevelVillage, LevelPost}

// Valid reports whether l is one of the four levels.
func (l Level) Valid() bool {
	switch l {
	case LevelDistrict, LevelTown, LevelVillage, LevelPost:
		return true
	}
	return false
}

// Label returns the level's name in lang ("zh" or "en").
func (l Level) Label(lang string) string {
	names, ok := levelNames[l]
	if !ok {
		return string(l)
	}
	if lang == "zh" {
		return names[0]
	}
	return names[1]
}

var levelNames = map[Level][2]string{
	LevelDistrict: {"区服务中心", "District centre"},
	LevelTown:     {"镇(街道)服务站", "Town station"},
	LevelVillage:  {"村(社区)服务站", "Village station"},
	LevelPost:     {"退役军人驿站", "Veteran post"},
}

// allowedParent says which level a station of each level reports to. A
// district centre is the root; posts hang under a district or a town.
var allowedParent = map[Level][]Level{
	LevelDistrict: nil,
	LevelTown:     {LevelDistrict},
	LevelVillage:  {LevelTown},
	LevelPost:     {LevelDistrict, LevelTown},
}

// AllowedParent reports whether a station of level child may have a parent
// of level parent.
func AllowedParent(child, parent Level) bool {
	for _, p := range allowedParent[child] {
		if p == parent {
			return true
		}
	}
	return false
}

// Station is a place where veterans are served, from the district centre
// down to a village station or a veteran post.
type Station struct {
	ID       string    // stable identifier, see ValidateStationID
	Name     string    // display name, Chinese
	NameEN   string    // display name, English (optional)
	Level    Level     // district, town, village or post
	Parent   string    // ID of the parent station; empty only for a district
	Services []Service // services offered; empty means all that fit the level
	Address  string    // street address (not personal data)
	Contact  string    // phone number of the station (not personal data)
	// Staff is the station's roster: who may sign in at its kiosk (by
	// badge or PIN) and assist check-ins. Optional; see ValidateRoster.
	Staff []Staff
	// Hours are the weekly opening hours (ParseOpeningHours). Optional:
	// the zero value publishes none.
	Hours OpeningHours
}

// ValidateStationID checks that id can be used as a station identifier:
// 2 to 64 characters of lower-case ASCII letters, digits and single inner
// hyphens. The restriction keeps IDs safe inside MQTT topics, URLs and file
// names. (A loop rather than a regular expression: the hub checks every
// check-in's station.)
func ValidateStationID(id string) error {
	ok := len(id) >= 2 && len(id) <= 64 && id[0] != '-' && id[len(id)-1] != '-'
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && id[i-1] != '-':
		default:
			ok = false
		}
	}
	if !ok {
		return errStationID
	}
	return nil
}

var errStationID = Errorz(EINVALID, "站点编号只能包含小写字母、数字和连字符(2–64位)",
	"A station ID has 2–64 lower-case letters, digits and inner hyphens.")

// Validate checks a station on its own (not its place in a tree).
func (s *Station) Validate() error {
	if err := ValidateStationID(s.ID); err != nil {
		return err
	}
	if strings.TrimSpace(s.Name) == "" {
		return Errorz(EINVALID, "站点名称不能为空", "A station needs a name.")
	}
	if !s.Level.Valid() {
		return Errorz(EINVALID, "站点级别无效(district/town/village/post)", "A station's level is district, town, village or post.")
	}
	if s.Level == LevelDistrict && s.Parent != "" {
		return Errorz(EINVALID, "区服务中心没有上级站点", "A district centre has no parent.")
	}
	if s.Level != LevelDistrict && s.Parent == "" {
		return Errorz(EINVALID, "站点必须有上级站点", "A station other than a district centre needs a parent.")
	}
	seen := map[Service]bool{}
	for _, sv := range s.Services {
		if !sv.Valid() {
			return Errorf(EINVALID, "unknown service %q", string(sv))
		}
		if seen[sv] {
			return Errorf(EINVALID, "service %q listed twice", string(sv))
		}
		seen[sv] = true
	}
	if _, err := ParseOpeningHours(s.Hours.Rules); err != nil {
		return err
	}
	return ValidateRoster(s.Staff)
}

// StaffByBadge returns the staff member whose badge has uid (normalised).
func (s *Station) StaffByBadge(uid string) (Staff, bool) {
	for _, m := range s.Staff {
		if m.BadgeUID != "" && m.BadgeUID == uid {
			return m, true
		}
	}
	return Staff{}, false
}

// StaffByID returns the staff member with id.
func (s *Station) StaffByID(id string) (Staff, bool) {
	for _, m := range s.Staff {
		if m.ID == id {
			return m, true
		}
	}
	return Staff{}, false
}

// Offers reports whether the station offers service sv. A station with no
// service list offers every service of its level (see DefaultServices).
func (s *Station) Offers(sv Service) bool {
	for _, x := range s.OfferedServices() {
		if x == sv {
			return true
		}
	}
	return false
}

// OfferedServices returns the station's services in menu order.
func (s *Station) OfferedServices() []Service {
	if len(s.Services) == 0 {
		return DefaultServices(s.Level)
	}
	out := make([]Service, 0, len(s.Services))
	for _, sv := range Services {
		for _, x := range s.Services {
			if x == sv {
				out = append(out, sv)
			}
		}
	}
	return out
}
