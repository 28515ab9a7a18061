package pki

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"sync"
	"time"

	"github.com/vetnet/vetnet"
)

// ClientTLS is the TLS configuration of a client (a station's agent, the
// hub on an external broker): it trusts only caFile and presents
// certFile/keyFile.
//
// Errors: ENOTFOUND (a file cannot be read), EINVALID.
func ClientTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	pool, err := readPool(caFile)
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, bad("client certificate %s / %s: %v", certFile, keyFile, err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// ServerTLS is the TLS configuration of a broker listener: it presents
// certFile/keyFile and requires a client certificate signed by caFile
// that crl (if not nil) does not list.
func ServerTLS(caFile, certFile, keyFile string, crl *CRL) (*tls.Config, error) {
	pool, err := readPool(caFile)
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, bad("server certificate %s / %s: %v", certFile, keyFile, err)
	}
	c := &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
	}
	if crl != nil {
		c.VerifyPeerCertificate = func(_ [][]byte, chains [][]*x509.Certificate) error {
			for _, ch := range chains {
				if len(ch) > 0 && crl.Revoked(ch[0].SerialNumber) {
					return bad("certificate %s (%s) is revoked", ch[0].SerialNumber.Text(16), ch[0].Subject.CommonName)
				}
			}
			return crl.Err()
		}
	}
	return c, nil
}

func readPool(caFile string) (*x509.CertPool, error) {
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, vetnet.Wrap(vetnet.ENOTFOUND, err, "无法读取根证书 "+caFile, "Cannot read the CA certificate "+caFile+".")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, bad("%s holds no PEM certificate", caFile)
	}
	return pool, nil
}

// CRL is a certificate revocation list read from a file and checked
// against the CA; Reload reads it again when the file changed. A CRL that
// cannot be read, is not signed by the CA or is past its NextUpdate makes
// Err non-nil: a broker then refuses every new client (fail closed), as
// OpenSSL does.
type CRL struct {
	path string
	ca   *x509.Certificate
	now  func() time.Time

	mu      sync.Mutex
	mod     time.Time
	size    int64
	revoked map[string]bool
	next    time.Time
	err     error
}

// OpenCRL reads the CRL at path, signed by the CA certificate in caFile.
func OpenCRL(path, caFile string) (*CRL, error) {
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, vetnet.Wrap(vetnet.ENOTFOUND, err, "无法读取根证书 "+caFile, "Cannot read the CA certificate "+caFile+".")
	}
	ca, err := ParseCert(b)
	if err != nil {
		return nil, err
	}
	c := &CRL{path: path, ca: ca, now: time.Now}
	if _, err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the file again if it changed; changed reports whether it
// did. The last good list stays in force when the new file is bad, and
// the error is returned.
func (c *CRL) Reload() (changed bool, err error) {
	fi, err := os.Stat(c.path)
	if err != nil {
		return false, vetnet.Wrap(vetnet.ENOTFOUND, err, "无法读取吊销列表 "+c.path, "Cannot read the CRL "+c.path+".")
	}
	c.mu.Lock()
	same := fi.ModTime().Equal(c.mod) && fi.Size() == c.size && c.revoked != nil
	c.mu.Unlock()
	if same {
		return false, nil
	}
	b, err := os.ReadFile(c.path)
	if err != nil {
		return false, vetnet.Wrap(vetnet.ENOTFOUND, err, "无法读取吊销列表 "+c.path, "Cannot read the CRL "+c.path+".")
	}
	blk, _ := pem.Decode(b)
	der := b
	if blk != nil {
		der = blk.Bytes
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return false, bad("CRL %s: %v", c.path, err)
	}
	if err := rl.CheckSignatureFrom(c.ca); err != nil {
		return false, bad("CRL %s is not signed by the CA: %v", c.path, err)
	}
	m := map[string]bool{}
	for _, e := range rl.RevokedCertificateEntries {
		m[e.SerialNumber.Text(16)] = true
	}
	c.mu.Lock()
	c.revoked, c.next, c.mod, c.size, c.err = m, rl.NextUpdate, fi.ModTime(), fi.Size(), nil
	c.mu.Unlock()
	return true, nil
}

// Revoked reports whether the serial is listed.
func (c *CRL) Revoked(serial *big.Int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.revoked[serial.Text(16)]
}

// Err is non-nil when the list is past its NextUpdate.
func (c *CRL) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.next.IsZero() && c.now().After(c.next) {
		return bad("the CRL %s expired at %s; write it again (provision crl)", c.path, c.next.Format(time.RFC3339))
	}
	return c.err
}
