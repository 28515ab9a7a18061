package main

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/vetnet/vetnet/firmware-config/pki/pkitest"
)

func TestTLSFlags(t *testing.T) {
	p := pkitest.New(t)
	keyFile := filepath.Join(t.TempDir(), "hub-config.key")
	kb, _ := x509.MarshalPKCS8PrivateKey(p.ConfigKey)
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	embedded := []string{"-tls-ca", p.CAFile, "-tls-cert", p.ServerCert, "-tls-key", p.ServerKey, "-tls-crl", p.CRLFile, "-config-key", keyFile}
	m := NewMain()
	if err := m.ParseFlags(embedded); err != nil {
		t.Fatal(err)
	}
	if c := m.Config; c.MQTTTLS == nil || c.CRL == nil || c.BrokerTLS != nil || c.ConfigKey == nil || c.MQTTTLS.ClientCAs == nil {
		t.Fatalf("embedded: %+v", c)
	}
	m = NewMain()
	if err := m.ParseFlags([]string{"-broker", "ssl://127.0.0.1:8883", "-tls-ca", p.CAFile, "-tls-cert", p.HubCert, "-tls-key", p.HubKey}); err != nil {
		t.Fatal(err)
	}
	if c := m.Config; c.BrokerTLS == nil || c.MQTTTLS != nil || len(c.BrokerTLS.Certificates) != 1 {
		t.Fatalf("external: %+v", c)
	}
	for name, args := range map[string][]string{
		"cert alone":      {"-tls-cert", p.ServerCert},
		"crl without tls": {"-tls-crl", p.CRLFile},
		"not ed25519":     {"-config-key", p.ServerKey},
		"missing ca":      {"-tls-ca", "nope.crt", "-tls-cert", p.ServerCert, "-tls-key", p.ServerKey},
		"crl of another":  {"-tls-ca", pkitest.New(t).CAFile, "-tls-cert", p.ServerCert, "-tls-key", p.ServerKey, "-tls-crl", p.CRLFile},
	} {
		if err := NewMain().ParseFlags(args); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
