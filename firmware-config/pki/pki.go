// Package pki is the district's certificate authority: it makes the CA,
// issues the certificates of stations (client, CN = station ID), of the
// hub (a client certificate CN = HubIdentity for an external broker, and
// the broker's server certificate), keeps an index of what it issued and
// writes the certificate revocation list (CRL).
//
// # Files of a CA directory
//
//	ca.crt        the CA certificate (public; goes into every bundle)
//	ca.key        the CA private key, PKCS#8 PEM, 0600. It is needed only to
//	              issue and revoke, so it may live on a USB stick kept in a
//	              safe: every command takes its path (-ca-key).
//	index.json    every certificate issued: serial, subject, station,
//	              device generation, validity, revocation
//	crl.pem       the current CRL, signed by the CA; brokers read it
//	revoked.txt   the revoked serials in hex, one a line (for people)
//	hub-config.pub the hub's configuration-signing public key (Ed25519),
//	              copied into every station bundle
//
// A station's device generation counts the devices that have held the
// station's identity: 1 for the first, +1 at each replacement. The agent
// numbers its check-ins from generation<<32 + 1 (see docs/protocol.md),
// so a new device with an empty store never reuses an old device's
// sequence numbers.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vetnet/vetnet"
)

// HubIdentity is the common name of the hub's client certificate: the
// identity that may publish and subscribe to every topic.
const HubIdentity = "vetnet-hub"

// File names in a CA directory.
const (
	CACertFile    = "ca.crt"
	CAKeyFile     = "ca.key"
	IndexFile     = "index.json"
	CRLFile       = "crl.pem"
	RevokedFile   = "revoked.txt"
	HubConfigPub  = "hub-config.pub"
	HubConfigPriv = "hub-config.key"
)

// Algorithms of keys.
const (
	AlgoECDSA   = "p256"    // ECDSA on P-256: understood by every TLS stack (the default)
	AlgoEd25519 = "ed25519" // smaller and faster; needs OpenSSL ≥ 1.1.1 on the broker
)

// Defaults.
const (
	CAValidity     = 20 * 365 * 24 * time.Hour
	DeviceValidity = 5 * 365 * 24 * time.Hour
	// CRLValidity is the CRL's NextUpdate: a broker refuses every client
	// once its CRL is past it, so the CRL must be written again (any
	// provision command does, and `provision crl`) within this time.
	CRLValidity = 90 * 24 * time.Hour
)

// Kinds of certificates in the index.
const (
	KindStation = "station" // a station device: client, CN = station ID
	KindHub     = "hub"     // the hub as a client of an external broker
	KindServer  = "server"  // a broker's server certificate
)

// Entry is one certificate in the index.
type Entry struct {
	Serial     string     `json:"serial"` // hex
	Kind       string     `json:"kind"`
	CN         string     `json:"cn"`
	Station    string     `json:"station,omitempty"`
	Generation int        `json:"generation,omitempty"` // stations: device generation
	NotBefore  time.Time  `json:"not_before"`
	NotAfter   time.Time  `json:"not_after"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	Reason     string     `json:"reason,omitempty"`
}

// CA is an opened CA directory. The key is loaded only by LoadKey.
type CA struct {
	Dir   string
	Cert  *x509.Certificate
	PEM   []byte // ca.crt
	key   crypto.Signer
	index []Entry
	Now   func() time.Time
}

func bad(format string, a ...any) error {
	msg := fmt.Sprintf(format, a...)
	return &vetnet.Error{Code: vetnet.EINVALID, Message: msg, MessageZH: "证书操作失败：" + msg}
}

func ioErr(err error, what string) error {
	return vetnet.Wrap(vetnet.EINTERNAL, err, "无法读写"+what, "Cannot read or write "+what+".")
}

// NewKey makes a private key of algo.
func NewKey(algo string) (crypto.Signer, error) {
	switch algo {
	case AlgoECDSA, "":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgoEd25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, bad("unknown key algorithm %q (p256 or ed25519)", algo)
}

// Init creates a CA in dir (which must not hold one). keyPath is where the
// key goes; "" puts it in dir.
func Init(dir, keyPath, name, algo string, now time.Time) (*CA, error) {
	if _, err := os.Stat(filepath.Join(dir, CACertFile)); err == nil {
		return nil, &vetnet.Error{Code: vetnet.ECONFLICT, Message: dir + " already holds a CA", MessageZH: dir + " 已有证书颁发机构"}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, ioErr(err, dir)
	}
	if keyPath == "" {
		keyPath = filepath.Join(dir, CAKeyFile)
	}
	key, err := NewKey(algo)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = "vetnet district CA"
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"vetnet"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CAValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, vetnet.Wrap(vetnet.EINTERNAL, err, "无法生成根证书", "Cannot create the CA certificate.")
	}
	if err := writeKey(keyPath, key); err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := writeFile(filepath.Join(dir, CACertFile), certPEM, 0o644); err != nil {
		return nil, err
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &CA{Dir: dir, Cert: cert, PEM: certPEM, key: key, Now: func() time.Time { return now }}
	if err := ca.save(); err != nil {
		return nil, err
	}
	if err := ca.WriteCRL(); err != nil {
		return nil, err
	}
	return ca, nil
}

// Open reads the CA certificate and index of dir.
func Open(dir string) (*CA, error) {
	b, err := os.ReadFile(filepath.Join(dir, CACertFile))
	if err != nil {
		return nil, vetnet.Wrap(vetnet.ENOTFOUND, err, "找不到根证书 "+dir, "No CA in "+dir+" (run `provision ca init` first).")
	}
	cert, err := ParseCert(b)
	if err != nil {
		return nil, err
	}
	ca := &CA{Dir: dir, Cert: cert, PEM: b, Now: time.Now}
	ib, err := os.ReadFile(filepath.Join(dir, IndexFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, ioErr(err, IndexFile)
	}
	if len(ib) > 0 {
		if err := json.Unmarshal(ib, &ca.index); err != nil {
			return nil, bad("%s: %v", filepath.Join(dir, IndexFile), err)
		}
	}
	return ca, nil
}

// LoadKey reads the CA key from path ("" for dir/ca.key) and checks it
// matches the certificate.
func (ca *CA) LoadKey(path string) error {
	if path == "" {
		path = filepath.Join(ca.Dir, CAKeyFile)
	}
	key, err := ReadKey(path)
	if err != nil {
		return err
	}
	if !publicEqual(key.Public(), ca.Cert.PublicKey) {
		return bad("%s is not the key of %s", path, filepath.Join(ca.Dir, CACertFile))
	}
	ca.key = key
	return nil
}

func publicEqual(a, b crypto.PublicKey) bool {
	type eq interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(eq)
	return ok && e.Equal(b)
}

// Index returns the issued certificates, oldest first.
func (ca *CA) Index() []Entry { return append([]Entry(nil), ca.index...) }

// Current returns the station's valid (not revoked) device certificates.
func (ca *CA) Current(station string) []Entry {
	var out []Entry
	for _, e := range ca.index {
		if e.Kind == KindStation && e.Station == station && e.RevokedAt == nil {
			out = append(out, e)
		}
	}
	return out
}

// Generation returns the highest device generation issued for station, 0
// for none.
func (ca *CA) Generation(station string) int {
	g := 0
	for _, e := range ca.index {
		if e.Kind == KindStation && e.Station == station {
			g = max(g, e.Generation)
		}
	}
	return g
}

// Issued is a certificate and its key, PEM-encoded.
type Issued struct {
	Entry   Entry
	CertPEM []byte
	KeyPEM  []byte
}

// IssueStation issues a client certificate for a station device of
// generation gen.
func (ca *CA) IssueStation(station string, gen int, algo string) (Issued, error) {
	if err := vetnet.ValidateStationID(station); err != nil {
		return Issued{}, err
	}
	if gen < 1 {
		return Issued{}, bad("device generation %d: from 1", gen)
	}
	return ca.issue(Entry{Kind: KindStation, CN: station, Station: station, Generation: gen}, algo, nil)
}

// IssueHub issues the hub's client certificate (CN = HubIdentity).
func (ca *CA) IssueHub(algo string) (Issued, error) {
	return ca.issue(Entry{Kind: KindHub, CN: HubIdentity}, algo, nil)
}

// IssueServer issues a broker's server certificate for hosts (DNS names
// or IP addresses).
func (ca *CA) IssueServer(hosts []string, algo string) (Issued, error) {
	if len(hosts) == 0 {
		return Issued{}, bad("a server certificate needs at least one host name or address")
	}
	return ca.issue(Entry{Kind: KindServer, CN: hosts[0]}, algo, hosts)
}

func (ca *CA) issue(e Entry, algo string, hosts []string) (Issued, error) {
	if ca.key == nil {
		return Issued{}, bad("the CA key is not loaded (-ca-key)")
	}
	key, err := NewKey(algo)
	if err != nil {
		return Issued{}, err
	}
	now := ca.Now()
	sn := serial()
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: e.CN, Organization: []string{"vetnet"}, OrganizationalUnit: []string{e.Kind}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(DeviceValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if _, ok := key.(*ecdsa.PrivateKey); ok {
		tmpl.KeyUsage |= x509.KeyUsageKeyAgreement
	}
	if e.Kind == KindServer {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.key)
	if err != nil {
		return Issued{}, vetnet.Wrap(vetnet.EINTERNAL, err, "无法签发证书", "Cannot issue the certificate.")
	}
	e.Serial = sn.Text(16)
	e.NotBefore, e.NotAfter = tmpl.NotBefore.UTC(), tmpl.NotAfter.UTC()
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Issued{}, vetnet.Wrap(vetnet.EINTERNAL, err, "无法保存私钥", "Cannot encode the key.")
	}
	ca.index = append(ca.index, e)
	if err := ca.save(); err != nil {
		return Issued{}, err
	}
	return Issued{Entry: e,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})}, nil
}

// Revoke marks certificates revoked and writes the CRL. what is a serial
// (hex) or a station ID (all its current device certificates). It returns
// the entries revoked.
func (ca *CA) Revoke(what, reason string) ([]Entry, error) {
	if ca.key == nil {
		return nil, bad("the CA key is not loaded (-ca-key)")
	}
	now := ca.Now().UTC()
	var done []Entry
	want := strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(what, ":", ""), "0x"))
	for i := range ca.index {
		e := &ca.index[i]
		if e.RevokedAt != nil {
			continue
		}
		if e.Serial == want || (e.Kind == KindStation && e.Station == what) {
			e.RevokedAt, e.Reason = &now, reason
			done = append(done, *e)
		}
	}
	if len(done) == 0 {
		return nil, &vetnet.Error{Code: vetnet.ENOTFOUND, Message: fmt.Sprintf("no valid certificate of %q to revoke", what),
			MessageZH: fmt.Sprintf("没有可吊销的证书：%q", what)}
	}
	if err := ca.save(); err != nil {
		return nil, err
	}
	return done, ca.WriteCRL()
}

// WriteCRL writes crl.pem and revoked.txt from the index, valid for
// CRLValidity.
func (ca *CA) WriteCRL() error {
	if ca.key == nil {
		return bad("the CA key is not loaded (-ca-key)")
	}
	now := ca.Now()
	var entries []x509.RevocationListEntry
	var lines []string
	for _, e := range ca.index {
		if e.RevokedAt == nil {
			continue
		}
		sn, ok := new(big.Int).SetString(e.Serial, 16)
		if !ok {
			continue
		}
		entries = append(entries, x509.RevocationListEntry{SerialNumber: sn, RevocationTime: *e.RevokedAt})
		lines = append(lines, fmt.Sprintf("%s %s %s %s", e.Serial, e.CN, e.RevokedAt.Format(time.RFC3339), e.Reason))
	}
	sort.Strings(lines)
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(now.UnixNano()),
		ThisUpdate:                now.Add(-time.Minute),
		NextUpdate:                now.Add(CRLValidity),
		RevokedCertificateEntries: entries,
	}, ca.Cert, ca.key)
	if err != nil {
		return vetnet.Wrap(vetnet.EINTERNAL, err, "无法生成吊销列表", "Cannot create the CRL.")
	}
	if err := writeFile(filepath.Join(ca.Dir, CRLFile), pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o644); err != nil {
		return err
	}
	text := "# serial cn revoked_at reason\n"
	if len(lines) > 0 {
		text += strings.Join(lines, "\n") + "\n"
	}
	return writeFile(filepath.Join(ca.Dir, RevokedFile), []byte(text), 0o644)
}

func (ca *CA) save() error {
	b, err := json.MarshalIndent(ca.index, "", "  ")
	if err != nil {
		return ioErr(err, IndexFile)
	}
	if ca.index == nil {
		b = []byte("[]")
	}
	return writeFile(filepath.Join(ca.Dir, IndexFile), append(b, '\n'), 0o600)
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n.Add(n, big.NewInt(1))
}

// writeFile writes atomically: a temporary file renamed over path.
func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return ioErr(err, path)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return ioErr(err, path)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return ioErr(err, path)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return ioErr(err, path)
	}
	if err := tmp.Close(); err != nil {
		return ioErr(err, path)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return ioErr(err, path)
	}
	return nil
}

// WriteFile is writeFile for the bundle writer.
func WriteFile(path string, data []byte, mode os.FileMode) error { return writeFile(path, data, mode) }

func writeKey(path string, key crypto.Signer) error {
	b, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return ioErr(err, path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return ioErr(err, path)
	}
	return writeFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b}), 0o600)
}

// ReadKey reads a PKCS#8 PEM private key.
func ReadKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, vetnet.Wrap(vetnet.ENOTFOUND, err, "无法读取私钥 "+path, "Cannot read the key "+path+".")
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, bad("%s: not a PEM key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, bad("%s: %v", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, bad("%s: not a signing key", path)
	}
	return s, nil
}

// ParseCert parses the first PEM certificate of b.
func ParseCert(b []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, bad("not a PEM certificate")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, bad("certificate: %v", err)
	}
	return c, nil
}
