package cloud

import "github.com/vetnet/vetnet"

// Access is what one signed-in person may see and do: the rules of the
// roles, applied by the API on every request (never only in the page).
//
//   - district administrator: every station; unmasks, exports, handles
//     alerts, manages people;
//   - town administrator: its town station and every station under it
//     (villages, and posts under the town); unmasks, exports and handles
//     alerts there;
//   - station staff: its own station, the same rights there;
//   - auditor: every station, read only, always masked; may read the
//     audit log and export (masked).
type Access struct {
	User  User
	roots []string        // nil: everything
	set   map[string]bool // the stations seen, when roots is not nil
}

// NewAccess returns the access of u over the registry stations.
func NewAccess(u User, stations []vetnet.Station) Access {
	a := Access{User: u}
	switch u.Role {
	case RoleDistrictAdmin, RoleAuditor:
		return a
	case RoleTownAdmin:
		a.roots = []string{u.Station}
		a.set = map[string]bool{}
		for _, id := range Subtree(stations, u.Station) {
			a.set[id] = true
		}
	case RoleStationStaff:
		a.roots = []string{u.Station}
		a.set = map[string]bool{u.Station: true}
	default:
		a.roots = []string{}
		a.set = map[string]bool{}
	}
	return a
}

// All reports whether the person sees every station.
func (a Access) All() bool { return a.roots == nil }

// Roots returns the tops of the subtrees the person sees, for statistics
// (StatsQuery.Roots); nil: everything. Station staff see only their
// station, so their root is the station and the subtree rule does not
// apply to them: use Stations for lists.
func (a Access) Roots() []string { return a.roots }

// Stations returns the stations the person sees, for list filters
// (CheckInFilter.Stations); nil: every station.
func (a Access) Stations() []string {
	if a.roots == nil {
		return nil
	}
	out := make([]string, 0, len(a.set))
	for id := range a.set {
		out = append(out, id)
	}
	return out
}

// Sees reports whether the person may see the station.
func (a Access) Sees(station string) bool { return a.roots == nil || a.set[station] }

// CanWrite reports whether the person may change anything (acknowledge
// and resolve alerts): everyone but the auditor.
func (a Access) CanWrite() bool { return a.User.Role != RoleAuditor && a.User.Role.Valid() }

// CanUnmask reports whether the person may ask to see full ID numbers and
// names (of stations it sees), each time audited.
func (a Access) CanUnmask() bool { return a.CanWrite() }

// CanManageUsers reports whether the person may add and change people.
func (a Access) CanManageUsers() bool { return a.User.Role == RoleDistrictAdmin }

// CanReadAudit reports whether the person may read the audit log.
func (a Access) CanReadAudit() bool {
	return a.User.Role == RoleDistrictAdmin || a.User.Role == RoleAuditor
}

// Subtree returns root and every station below it in the registry, root
// first. A root not in the registry is returned alone.
func Subtree(stations []vetnet.Station, root string) []string {
	kids := map[string][]string{}
	for _, st := range stations {
		kids[st.Parent] = append(kids[st.Parent], st.ID)
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

// StatsScope returns the statistics scope of the person: the roots of
// StatsQuery and whether they count alone (station staff).
func (a Access) StatsScope() (roots []string, exact bool) {
	return a.roots, a.User.Role == RoleStationStaff
}
