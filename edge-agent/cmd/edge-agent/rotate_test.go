package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/agent"
	"github.com/vetnet/vetnet/edge-agent/bolt"
)

// TestRotateKeyFlag: -rotate-key re-encrypts the data directory's store
// and leaves every check-in readable under the new key.
func TestRotateKeyFlag(t *testing.T) {
	const station = "cz-xb-sanjing-xinqiao"
	dir := t.TempDir()
	s, err := bolt.Open(filepath.Join(dir, agent.DBFile), bolt.Options{StationID: station})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := s.Commit(bolt.Draft{Visitor: vetnet.Visitor{IDNumber: "320411195003070011", Name: "王建国"}, Service: vetnet.ServiceBenefits, Method: vetnet.MethodCard})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	var out bytes.Buffer
	m := NewMain()
	m.Stdout = &out
	if err := m.ParseFlags([]string{"-station", station, "-data", dir, "-rotate-key"}); err != nil {
		t.Fatal(err)
	}
	if !m.RotateKey {
		t.Fatal("-rotate-key not set")
	}
	if err := m.Rotate(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "1 records re-encrypted under key 2") {
		t.Fatalf("output %q", out.String())
	}
	s, err = bolt.Open(filepath.Join(dir, agent.DBFile), bolt.Options{StationID: station})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.Get(c.ID); err != nil || got.Visitor.Name != "王建国" {
		t.Fatalf("after rotation: %+v %v", got, err)
	}
	if ids := s.KeyIDs(); len(ids) != 1 || ids[0] != 2 {
		t.Fatalf("key IDs %v", ids)
	}
}
