package main

import (
	"fmt"
	"path/filepath"

	"github.com/vetnet/vetnet/edge-agent/agent"
	"github.com/vetnet/vetnet/edge-agent/bolt"
)

// Rotate makes a new device key and re-encrypts the station's store under
// it (bolt.Store.RotateKey). The agent must be stopped: the store's file
// lock makes a running agent's store fail with EUNAVAILABLE.
func (m *Main) Rotate() error {
	s, err := bolt.Open(filepath.Join(m.Config.DataDir, agent.DBFile), bolt.Options{StationID: m.Config.StationID})
	if err != nil {
		return err
	}
	n, err := s.RotateKey()
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "device key rotated: %d records re-encrypted under key %d\n", n, s.KeyIDs()[0])
	return nil
}
