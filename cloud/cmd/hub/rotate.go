package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud/postgres"
	"github.com/vetnet/vetnet/cloud/sqlite"
)

// keyFile is the key ring of the hub's store: -key-file, or by default
// hub.db.key in the data directory (for the embedded store and for
// PostgreSQL alike, so moving a hub to PostgreSQL keeps its file).
func (m *Main) keyFile() (string, error) {
	if m.Config.KeyFile != "" {
		return m.Config.KeyFile, nil
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o750); err != nil {
		return "", vetnet.Wrap(vetnet.EUNAVAILABLE, err, "无法创建数据目录", "Cannot create the data directory.")
	}
	return filepath.Join(m.Config.DataDir, "hub.db.key"), nil
}

// openPostgres opens the -store database with the hub's key file.
func (m *Main) openPostgres() (*postgres.Store, error) {
	kf, err := m.keyFile()
	if err != nil {
		return nil, err
	}
	return postgres.Open(m.StoreURL, &postgres.Options{Schema: m.StoreSchema, MaxConns: m.StoreConns,
		Location: m.Config.Location, KeyFile: kf})
}

// keyRotator is what both stores offer for -rotate-key.
type keyRotator interface {
	RotateKey(ctx context.Context) (int, error)
	KeyIDs() []uint32
	Close() error
}

// Rotate makes a new key in the hub's key ring and re-encrypts every ID
// number and name under it (sqlite.Store.RotateKey, or
// postgres.Store.RotateKey with -store). Stop the hub first (with
// PostgreSQL: every replica, and give each the rotated key file after):
// the rotation holds the writer while it runs.
func (m *Main) Rotate(ctx context.Context) error {
	var s keyRotator
	if m.StoreURL != "" {
		st, err := m.openPostgres()
		if err != nil {
			return err
		}
		s = st
	} else {
		st, err := sqlite.Open(filepath.Join(m.Config.DataDir, "hub.db"), &sqlite.Options{KeyFile: m.Config.KeyFile})
		if err != nil {
			return err
		}
		s = st
	}
	n, err := s.RotateKey(ctx)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "hub: key rotated: %d check-ins re-encrypted under key %d\n", n, s.KeyIDs()[0])
	return nil
}
