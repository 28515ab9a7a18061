package hub

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vetnet/vetnet/cloud/postgres"
)

// openPostgres opens a PostgreSQL store in a schema of its own of the test
// database (VETNET_TEST_PG, default postgres://postgres@127.0.0.1:5432/test)
// and drops the schema when the test ends; it skips when no server
// listens, unless VETNET_REQUIRE_POSTGRES=1. The hub closes the store.
func openPostgres(t *testing.T) *postgres.Store {
	t.Helper()
	u := os.Getenv("VETNET_TEST_PG")
	if u == "" {
		u = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	c, err := net.DialTimeout("tcp", "127.0.0.1:5432", time.Second)
	if err != nil {
		if os.Getenv("VETNET_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL not reachable: %v", err)
		}
		t.Skipf("PostgreSQL not reachable: %v", err)
	}
	c.Close()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "hub_" + hex.EncodeToString(b)
	st, err := postgres.Open(u, &postgres.Options{Schema: schema, MaxConns: 4, KeyFile: filepath.Join(t.TempDir(), "hub.key")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		st.Close()
		db, err := sql.Open("pgx", u)
		if err != nil {
			t.Log(err)
			return
		}
		defer db.Close()
		if _, err := db.Exec(`DROP SCHEMA IF EXISTS "` + schema + `" CASCADE`); err != nil {
			t.Logf("drop schema: %v", err)
		}
	})
	return st
}

// TestMeetingsOnPostgres: the hub keeps meetings, takes roll-calls and
// builds the roster on PostgreSQL as on the embedded store.
func TestMeetingsOnPostgres(t *testing.T) {
	st := openPostgres(t)
	testMeetingsToStationsAndRoster(t, func(c *Config) { c.Store = st })
}
