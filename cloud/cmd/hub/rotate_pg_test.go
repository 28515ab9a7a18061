package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/postgres"
)

// TestRotateKeyFlagPostgres: with -store postgres://…, the hub's key file
// (default <data>/hub.db.key) seals the PostgreSQL store's rows and
// -rotate-key re-encrypts them.
func TestRotateKeyFlagPostgres(t *testing.T) {
	u := os.Getenv("VETNET_TEST_PG")
	if u == "" {
		u = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:5432", time.Second); err != nil {
		if os.Getenv("VETNET_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL not reachable: %v", err)
		}
		t.Skipf("PostgreSQL not reachable: %v", err)
	} else {
		c.Close()
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "cmd_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		if db, err := sql.Open("pgx", u); err == nil {
			db.Exec(`DROP SCHEMA IF EXISTS "` + schema + `" CASCADE`)
			db.Close()
		}
	})
	dir := t.TempDir()
	m := NewMain()
	var out bytes.Buffer
	m.Stdout = &out
	if err := m.ParseFlags([]string{"-data", dir, "-store", u, "-store-schema", schema, "-rotate-key"}); err != nil || !m.RotateKey {
		t.Fatalf("flags: %v", err)
	}
	s, err := m.openPostgres()
	if err != nil {
		t.Fatal(err)
	}
	c := vetnet.CheckIn{ID: "01JDTEST0000000000000000AA", StationID: "cz-xb", Seq: 1, At: time.Now().UTC(), ReceivedAt: time.Now().UTC(),
		Service: vetnet.ServiceBenefits, Method: vetnet.MethodCard, Visitor: vetnet.Visitor{IDNumber: "320411195003070011", Name: "王建国", DocType: vetnet.DocResident}}
	if _, err := s.Save(context.Background(), cloud.Batch{CheckIns: []vetnet.CheckIn{c}}); err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := s.DB().QueryRow(`SELECT name FROM checkins WHERE id = $1`, c.ID).Scan(&stored); err != nil || !strings.HasPrefix(stored, "enc1:1:") {
		t.Fatalf("stored name %q %v", stored, err)
	}
	s.Close()
	if _, err := os.Stat(filepath.Join(dir, "hub.db.key")); err != nil {
		t.Fatalf("default key file: %v", err)
	}
	if err := m.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "1 check-ins re-encrypted under key 2") {
		t.Fatalf("output %q", out.String())
	}
	s, err = postgres.Open(u, &postgres.Options{Schema: schema, KeyFile: filepath.Join(dir, "hub.db.key")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.CheckIn(context.Background(), c.ID); err != nil || got.Visitor.Name != "王建国" {
		t.Fatalf("after rotation: %+v %v", got, err)
	}
}
