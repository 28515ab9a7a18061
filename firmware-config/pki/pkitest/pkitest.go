// Package pkitest makes a district CA in a test's temporary directory,
// with the hub's certificates and configuration key, and issues station
// certificates, as `provision` does.
package pkitest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vetnet/vetnet/firmware-config/pki"
)

// PKI is a CA with the hub's files.
type PKI struct {
	CA                    *pki.CA
	Dir                   string
	CAFile, CRLFile       string
	ServerCert, ServerKey string // the broker's, for 127.0.0.1 and localhost
	HubCert, HubKey       string // the hub's client certificate (CN vetnet-hub)
	ConfigKey             ed25519.PrivateKey
	ConfigPub             string // PEM file of the configuration key's public half
}

// Station is a station device's certificate.
type Station struct {
	ID, Cert, Key, Serial string
	Generation            int
}

// New makes a CA (ECDSA P-256) in a temporary directory.
func New(tb testing.TB) *PKI {
	tb.Helper()
	dir := tb.TempDir()
	ca, err := pki.Init(filepath.Join(dir, "ca"), "", "test CA", pki.AlgoECDSA, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	ca.Now = time.Now
	p := &PKI{CA: ca, Dir: dir, CAFile: filepath.Join(ca.Dir, pki.CACertFile), CRLFile: filepath.Join(ca.Dir, pki.CRLFile)}
	srv, err := ca.IssueServer([]string{"127.0.0.1", "localhost"}, pki.AlgoECDSA)
	if err != nil {
		tb.Fatal(err)
	}
	p.ServerCert, p.ServerKey = p.write(tb, "server", srv)
	hub, err := ca.IssueHub(pki.AlgoECDSA)
	if err != nil {
		tb.Fatal(err)
	}
	p.HubCert, p.HubKey = p.write(tb, "hub", hub)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	p.ConfigKey = priv
	pb, _ := x509.MarshalPKIXPublicKey(pub)
	p.ConfigPub = filepath.Join(dir, pki.HubConfigPub)
	if err := os.WriteFile(p.ConfigPub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pb}), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func (p *PKI) write(tb testing.TB, name string, is pki.Issued) (cert, key string) {
	tb.Helper()
	cert, key = filepath.Join(p.Dir, name+".crt"), filepath.Join(p.Dir, name+".key")
	if err := os.WriteFile(cert, is.CertPEM, 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(key, is.KeyPEM, 0o600); err != nil {
		tb.Fatal(err)
	}
	return cert, key
}

// Station issues a certificate for station id, device generation gen.
func (p *PKI) Station(tb testing.TB, id string, gen int) Station {
	tb.Helper()
	is, err := p.CA.IssueStation(id, gen, pki.AlgoECDSA)
	if err != nil {
		tb.Fatal(err)
	}
	cert, key := p.write(tb, is.Entry.Serial, is)
	return Station{ID: id, Cert: cert, Key: key, Serial: is.Entry.Serial, Generation: gen}
}

// Revoke revokes a serial or a station's certificates and writes the CRL.
func (p *PKI) Revoke(tb testing.TB, what string) {
	tb.Helper()
	if _, err := p.CA.Revoke(what, "test"); err != nil {
		tb.Fatal(err)
	}
}

// ServerTLS is the broker's TLS configuration, checking the CRL.
func (p *PKI) ServerTLS(tb testing.TB) (*tls.Config, *pki.CRL) {
	tb.Helper()
	crl, err := pki.OpenCRL(p.CRLFile, p.CAFile)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := pki.ServerTLS(p.CAFile, p.ServerCert, p.ServerKey, crl)
	if err != nil {
		tb.Fatal(err)
	}
	return c, crl
}

// ClientTLS is a client's TLS configuration with cert and key.
func (p *PKI) ClientTLS(tb testing.TB, cert, key string) *tls.Config {
	tb.Helper()
	c, err := pki.ClientTLS(p.CAFile, cert, key)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
