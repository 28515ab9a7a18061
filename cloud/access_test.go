package cloud_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
)

func TestAccess(t *testing.T) {
	stations := []vetnet.Station{
		{ID: "d", Level: vetnet.LevelDistrict},
		{ID: "d-t1", Level: vetnet.LevelTown, Parent: "d"},
		{ID: "d-t1-v1", Level: vetnet.LevelVillage, Parent: "d-t1"},
		{ID: "d-t1-p", Level: vetnet.LevelPost, Parent: "d-t1"},
		{ID: "d-t2", Level: vetnet.LevelTown, Parent: "d"},
		{ID: "d-t2-v1", Level: vetnet.LevelVillage, Parent: "d-t2"},
		{ID: "d-p", Level: vetnet.LevelPost, Parent: "d"},
	}
	tests := []struct {
		name                      string
		user                      cloud.User
		sees                      string // the stations seen, sorted, comma-separated; "*" all
		write, unmask, users, aud bool
	}{
		{"district", cloud.User{Role: cloud.RoleDistrictAdmin}, "*", true, true, true, true},
		{"auditor", cloud.User{Role: cloud.RoleAuditor}, "*", false, false, false, true},
		{"town", cloud.User{Role: cloud.RoleTownAdmin, Station: "d-t1"}, "d-t1,d-t1-p,d-t1-v1", true, true, false, false},
		{"staff", cloud.User{Role: cloud.RoleStationStaff, Station: "d-t2"}, "d-t2", true, true, false, false},
		{"no role", cloud.User{}, "", false, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := cloud.NewAccess(tt.user, stations)
			var seen []string
			for _, st := range stations {
				if a.Sees(st.ID) {
					seen = append(seen, st.ID)
				}
			}
			sort.Strings(seen)
			got := strings.Join(seen, ",")
			if a.All() {
				got = "*"
				if len(seen) != len(stations) || a.Stations() != nil {
					t.Error("All but not every station")
				}
			} else if ss := a.Stations(); len(ss) != len(seen) {
				t.Errorf("Stations %v, Sees %v", ss, seen)
			}
			if got != tt.sees {
				t.Errorf("sees %q, want %q", got, tt.sees)
			}
			if a.CanWrite() != tt.write || a.CanUnmask() != tt.unmask || a.CanManageUsers() != tt.users || a.CanReadAudit() != tt.aud {
				t.Errorf("rights write %v unmask %v users %v audit %v", a.CanWrite(), a.CanUnmask(), a.CanManageUsers(), a.CanReadAudit())
			}
		})
	}
}
