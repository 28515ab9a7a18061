package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/vetnet/vetnet/cloud/sqlite"
)

// Rotate makes a new key in the hub's key ring and re-encrypts every ID
// number and name under it (sqlite.Store.RotateKey). Stop the hub first:
// the rotation holds the writer while it runs.
func (m *Main) Rotate(ctx context.Context) error {
	s, err := sqlite.Open(filepath.Join(m.Config.DataDir, "hub.db"), &sqlite.Options{KeyFile: m.Config.KeyFile})
	if err != nil {
		return err
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
