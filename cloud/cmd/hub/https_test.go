package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/sqlite"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vetnet hub test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

// TestRunTLS: with -https-cert and -https-key the dashboard answers only over
// HTTPS, with HSTS and a Secure session cookie.
func TestRunTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	m := NewMain()
	var out bytes.Buffer
	m.Stdout = &out
	m.Config.Logf = t.Logf
	if err := m.ParseFlags([]string{"-data", filepath.Join(dir, "data"), "-mqtt", "", "-http", "127.0.0.1:0", "-https-cert", cert, "-https-key", key,
		"-admin-password", "tls-test-password", "-stations", filepath.Join("..", "..", "..", "firmware-config", "stations", "demo.toml")}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	u := regexp.MustCompile(`dashboard (https://\S+/)`).FindStringSubmatch(out.String())
	if u == nil {
		t.Fatalf("no https dashboard URL in %q", out.String())
	}
	pool := x509.NewCertPool()
	pemCert, _ := os.ReadFile(cert)
	pool.AppendCertsFromPEM(pemCert)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	res, err := c.Post(u[1]+"api/v1/session", "application/json", strings.NewReader(`{"user":"admin","password":"tls-test-password"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatalf("sign-in over TLS: %d, HSTS %q", res.StatusCode, res.Header.Get("Strict-Transport-Security"))
	}
	secure := false
	for _, ck := range res.Cookies() {
		secure = secure || ck.Name == "vetnet_session" && ck.Secure
	}
	if !secure {
		t.Fatal("the session cookie is not Secure over TLS")
	}
	// Plain HTTP gets no dashboard.
	plain := strings.Replace(u[1], "https://", "http://", 1) + "healthz"
	if res, err := (&http.Client{Timeout: 5 * time.Second}).Get(plain); err == nil {
		body := make([]byte, 512)
		n, _ := res.Body.Read(body)
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Fatalf("plain HTTP served: %d %q", res.StatusCode, body[:n])
		}
	}
}

func TestRunTLSBadFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.pem"), []byte("not a certificate"), 0o600)
	m := NewMain()
	m.Stdout = &bytes.Buffer{}
	m.Config.Logf = t.Logf
	if err := m.ParseFlags([]string{"-data", filepath.Join(dir, "data"), "-mqtt", "", "-http", "127.0.0.1:0", "-https-cert", filepath.Join(dir, "bad.pem"),
		"-https-key", filepath.Join(dir, "bad.pem"), "-admin-password", "tls-test-password",
		"-stations", filepath.Join("..", "..", "..", "firmware-config", "stations", "demo.toml")}); err != nil {
		t.Fatal(err)
	}
	err := m.Run(context.Background())
	m.Close()
	if vetnet.ErrorCode(err) != vetnet.EINVALID {
		t.Fatalf("bad certificate: %v", err)
	}
}

// TestRotateKeyFlag: -rotate-key re-encrypts the hub's data.
func TestRotateKeyFlag(t *testing.T) {
	dir := t.TempDir()
	s, err := sqlite.Open(filepath.Join(dir, "hub.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := vetnet.CheckIn{ID: "01JDTEST0000000000000000AA", StationID: "cz-xb", Seq: 1, At: time.Now().UTC(), ReceivedAt: time.Now().UTC(),
		Service: vetnet.ServiceBenefits, Method: vetnet.MethodCard, Visitor: vetnet.Visitor{IDNumber: "320411195003070011", Name: "王建国", DocType: vetnet.DocResident}}
	if _, err := s.Save(context.Background(), cloud.Batch{CheckIns: []vetnet.CheckIn{c}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	m := NewMain()
	var out bytes.Buffer
	m.Stdout = &out
	if err := m.ParseFlags([]string{"-data", dir, "-rotate-key"}); err != nil || !m.RotateKey {
		t.Fatalf("flags: %v", err)
	}
	if err := m.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "1 check-ins re-encrypted under key 2") {
		t.Fatalf("output %q", out.String())
	}
	s, err = sqlite.Open(filepath.Join(dir, "hub.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.CheckIn(context.Background(), c.ID); err != nil || got.Visitor.Name != "王建国" {
		t.Fatalf("after rotation: %+v %v", got, err)
	}
}
