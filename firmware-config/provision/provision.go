// Package provision is the district technician's tool for station
// identities (the command firmware-config/cmd/provision): it keeps the
// district's certificate authority and turns a station's registry entry
// into a device bundle.
//
//	provision ca init   [-ca DIR] [-ca-key FILE] [-algo p256|ed25519] [-name NAME]
//	provision hub       [-ca DIR] [-ca-key FILE] -hosts hub.example.cn,10.0.0.2 -out DIR
//	provision station   [-ca DIR] [-ca-key FILE] -registry stations.toml -broker ssl://hub:8883 -hub https://hub ID
//	provision replace   (same flags as station) ID
//	provision revoke    [-ca DIR] [-ca-key FILE] [-reason R] ID|SERIAL
//	provision crl       [-ca DIR] [-ca-key FILE]
//	provision list      [-ca DIR]
//
// The CA key is needed by every command but list; -ca-key points to it
// where it lives offline (a USB stick). See docs/operations.md.
package provision

import (
	"archive/tar"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/firmware-config/bundle"
	"github.com/vetnet/vetnet/firmware-config/pki"
	"github.com/vetnet/vetnet/firmware-config/registry"
)

// Main runs one command; tests call Run.
type Main struct {
	Stdout, Stderr io.Writer
	Now            func() time.Time
}

const usage = `usage:
  provision ca init [-ca DIR] [-ca-key FILE] [-algo p256|ed25519] [-name NAME]
  provision hub     [-ca DIR] [-ca-key FILE] -hosts H1,H2 [-out DIR]
  provision station [-ca DIR] [-ca-key FILE] -registry FILE -broker URL [-hub URL] [-out DIR] ID
  provision replace [-ca DIR] [-ca-key FILE] -registry FILE -broker URL [-hub URL] [-out DIR] ID
  provision revoke  [-ca DIR] [-ca-key FILE] [-reason R] ID|SERIAL
  provision crl     [-ca DIR] [-ca-key FILE]
  provision list    [-ca DIR]`

type flags struct {
	fs                          *flag.FlagSet
	ca, caKey, algo, name, out  string
	hosts, reg, broker, hub, rs string
}

func (m *Main) flags(cmd string) *flags {
	f := &flags{fs: flag.NewFlagSet("provision "+cmd, flag.ContinueOnError)}
	f.fs.SetOutput(m.Stderr)
	f.fs.StringVar(&f.ca, "ca", "district-ca", "CA directory (ca.crt, index.json, crl.pem)")
	f.fs.StringVar(&f.caKey, "ca-key", "", "the CA's private key (default DIR/ca.key; keep it offline)")
	f.fs.StringVar(&f.algo, "algo", pki.AlgoECDSA, "key algorithm: p256 (ECDSA) or ed25519")
	f.fs.StringVar(&f.name, "name", "", "ca init: the CA's name")
	f.fs.StringVar(&f.out, "out", "bundles", "where bundles are written")
	f.fs.StringVar(&f.hosts, "hosts", "", "hub: host names and addresses of the broker, comma-separated")
	f.fs.StringVar(&f.reg, "registry", "", "station: the station registry (TOML)")
	f.fs.StringVar(&f.broker, "broker", "", "station: the broker URL stations connect to, e.g. ssl://hub.example.cn:8883")
	f.fs.StringVar(&f.hub, "hub", "", "station: the hub's address, e.g. https://hub.example.cn")
	f.fs.StringVar(&f.rs, "reason", "unspecified", "revoke: why (e.g. stolen, broken, replaced)")
	return f
}

// parse parses args allowing flags after the positional argument.
func (f *flags) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.fs.Parse(args); err != nil {
			return nil, err
		}
		if f.fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, f.fs.Arg(0))
		args = f.fs.Args()[1:]
	}
}

func usageErr(msg string) error {
	return &vetnet.Error{Code: vetnet.EINVALID, Message: msg + "\n" + usage, MessageZH: msg}
}

// Run runs the command of args.
func (m *Main) Run(args []string) error {
	if len(args) == 0 {
		return usageErr("no command")
	}
	cmd, rest := args[0], args[1:]
	if cmd == "ca" {
		if len(rest) == 0 || rest[0] != "init" {
			return usageErr("ca: the only subcommand is init")
		}
		cmd, rest = "ca init", rest[1:]
	}
	f := m.flags(cmd)
	pos, err := f.parse(rest)
	if err != nil {
		return err
	}
	one := func() (string, error) {
		if len(pos) != 1 {
			return "", usageErr(cmd + ": one station ID or serial expected")
		}
		return pos[0], nil
	}
	if cmd != "station" && cmd != "replace" && cmd != "revoke" && len(pos) > 0 {
		return usageErr(fmt.Sprintf("%s: unexpected argument %q", cmd, pos[0]))
	}
	switch cmd {
	case "ca init":
		ca, err := pki.Init(f.ca, f.caKey, f.name, f.algo, m.Now())
		if err != nil {
			return err
		}
		keyPath := f.caKey
		if keyPath == "" {
			keyPath = filepath.Join(f.ca, pki.CAKeyFile)
		}
		fmt.Fprintf(m.Stdout, "CA %q created in %s (key %s, 0600: move it offline and pass -ca-key)\n", ca.Cert.Subject.CommonName, f.ca, keyPath)
		return nil
	case "list":
		ca, err := pki.Open(f.ca)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(m.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SERIAL\tKIND\tCN\tGEN\tNOT AFTER\tREVOKED")
		for _, e := range ca.Index() {
			rev := "-"
			if e.RevokedAt != nil {
				rev = e.RevokedAt.Format(time.RFC3339) + " " + e.Reason
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", e.Serial, e.Kind, e.CN, e.Generation, e.NotAfter.Format("2006-01-02"), rev)
		}
		return tw.Flush()
	}
	ca, err := pki.Open(f.ca)
	if err != nil {
		return err
	}
	ca.Now = m.Now
	if err := ca.LoadKey(f.caKey); err != nil {
		return err
	}
	switch cmd {
	case "crl":
		if err := ca.WriteCRL(); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "CRL written: %s (valid until %s)\n", filepath.Join(f.ca, pki.CRLFile), m.Now().Add(pki.CRLValidity).Format("2006-01-02"))
		return nil
	case "hub":
		return m.hub(ca, f)
	case "revoke":
		what, err := one()
		if err != nil {
			return err
		}
		done, err := ca.Revoke(what, f.rs)
		if err != nil {
			return err
		}
		for _, e := range done {
			fmt.Fprintf(m.Stdout, "revoked %s (%s %s, generation %d)\n", e.Serial, e.Kind, e.CN, e.Generation)
		}
		fmt.Fprintf(m.Stdout, "CRL written: %s; give it to the brokers (see docs/operations.md)\n", filepath.Join(f.ca, pki.CRLFile))
		return nil
	case "station", "replace":
		id, err := one()
		if err != nil {
			return err
		}
		return m.station(ca, f, id, cmd == "replace")
	}
	return usageErr("unknown command " + cmd)
}

// hub writes the hub's bundle: the broker's server certificate, the hub's
// client certificate and its configuration-signing key.
func (m *Main) hub(ca *pki.CA, f *flags) error {
	var hosts []string
	for _, h := range strings.Split(f.hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return usageErr("hub: -hosts is required (the names and addresses stations use to reach the broker)")
	}
	srv, err := ca.IssueServer(hosts, f.algo)
	if err != nil {
		return err
	}
	cl, err := ca.IssueHub(f.algo)
	if err != nil {
		return err
	}
	dir := filepath.Join(f.out, "hub")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return vetnet.Wrap(vetnet.EINTERNAL, err, "无法创建目录", "Cannot create "+dir+".")
	}
	// The signing key is made once: stations hold its public half, so a
	// new one would need every station's bundle again.
	pubPath := filepath.Join(ca.Dir, pki.HubConfigPub)
	privPath := filepath.Join(dir, pki.HubConfigPriv)
	var pubPEM, privPEM []byte
	if b, err := os.ReadFile(privPath); err == nil {
		privPEM = b
		k, err := pki.ReadKey(privPath)
		if err != nil {
			return err
		}
		pb, _ := x509.MarshalPKIXPublicKey(k.Public())
		pubPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pb})
	} else {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return vetnet.Wrap(vetnet.EINTERNAL, err, "无法生成签名密钥", "Cannot make the signing key.")
		}
		kb, _ := x509.MarshalPKCS8PrivateKey(priv)
		pb, _ := x509.MarshalPKIXPublicKey(pub)
		privPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
		pubPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pb})
	}
	crl, err := os.ReadFile(filepath.Join(ca.Dir, pki.CRLFile))
	if err != nil {
		return vetnet.Wrap(vetnet.ENOTFOUND, err, "找不到吊销列表", "No CRL in the CA directory (run provision crl).")
	}
	for _, x := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"ca.crt", ca.PEM, 0o644}, {"crl.pem", crl, 0o644},
		{"server.crt", srv.CertPEM, 0o644}, {"server.key", srv.KeyPEM, 0o600},
		{"hub.crt", cl.CertPEM, 0o644}, {"hub.key", cl.KeyPEM, 0o600},
		{pki.HubConfigPriv, privPEM, 0o600}, {pki.HubConfigPub, pubPEM, 0o644},
	} {
		if err := pki.WriteFile(filepath.Join(dir, x.name), x.data, x.mode); err != nil {
			return err
		}
	}
	if err := pki.WriteFile(pubPath, pubPEM, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "hub bundle written to %s: server certificate for %s, client certificate %s, configuration key\n",
		dir, strings.Join(hosts, ", "), pki.HubIdentity)
	return nil
}

// station makes a station's device bundle; replace first revokes the
// station's current device certificates and moves to the next device
// generation.
func (m *Main) station(ca *pki.CA, f *flags, id string, replace bool) error {
	if f.reg == "" || f.broker == "" {
		return usageErr("station: -registry and -broker are required")
	}
	reg, err := registry.Load(f.reg)
	if err != nil {
		return err
	}
	st, ok := reg.Station(id)
	if !ok {
		return &vetnet.Error{Code: vetnet.ENOTFOUND, Message: fmt.Sprintf("station %q is not in %s", id, f.reg),
			MessageZH: fmt.Sprintf("站点清单 %s 中没有站点 %q", f.reg, id)}
	}
	pub, err := os.ReadFile(filepath.Join(ca.Dir, pki.HubConfigPub))
	if err != nil {
		return vetnet.Wrap(vetnet.ENOTFOUND, err, "缺少中心配置签名公钥，请先运行 provision hub",
			"No hub configuration key in the CA directory: run `provision hub` first.")
	}
	cur := ca.Current(id)
	gen := ca.Generation(id)
	switch {
	case replace && len(cur) == 0 && gen == 0:
		return &vetnet.Error{Code: vetnet.ENOTFOUND, Message: "station " + id + " has no device to replace; use provision station",
			MessageZH: "站点 " + id + " 尚无设备，请使用 provision station"}
	case replace:
		if len(cur) > 0 {
			if _, err := ca.Revoke(id, "replaced"); err != nil {
				return err
			}
		}
		gen++
	case len(cur) > 0:
		return &vetnet.Error{Code: vetnet.ECONFLICT,
			Message:   fmt.Sprintf("station %s already has a device (generation %d, serial %s); use provision replace", id, cur[0].Generation, cur[0].Serial),
			MessageZH: fmt.Sprintf("站点 %s 已有设备(第 %d 代)，更换设备请使用 provision replace", id, cur[0].Generation)}
	default:
		gen++
	}
	is, err := ca.IssueStation(id, gen, f.algo)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("vetnet-station-%s-g%d", id, gen)
	dir := filepath.Join(f.out, name)
	bd := bundle.Bundle{Station: st, Generation: gen, Broker: f.broker, Hub: f.hub}
	if err := bundle.Write(dir, bd, ca.PEM, is.CertPEM, is.KeyPEM, pub); err != nil {
		return err
	}
	if err := tarDir(dir, dir+".tar.gz"); err != nil {
		return err
	}
	if replace {
		fmt.Fprintf(m.Stdout, "old device of %s revoked; CRL written: %s (give it to the brokers)\n", id, filepath.Join(ca.Dir, pki.CRLFile))
	}
	fmt.Fprintf(m.Stdout, "station %s, device generation %d, certificate %s\nbundle: %s.tar.gz\ninstall on the device:\n  %s\n",
		id, gen, is.Entry.Serial, dir, bundle.InstallCommand(name))
	return nil
}

// tarDir writes dir as a gzipped tar whose entries start with dir's name.
func tarDir(dir, out string) error {
	fail := func(err error) error {
		return vetnet.Wrap(vetnet.EINTERNAL, err, "无法打包 "+out, "Cannot write "+out+".")
	}
	fo, err := os.OpenFile(out, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fail(err)
	}
	defer fo.Close()
	zw := gzip.NewWriter(fo)
	tw := tar.NewWriter(zw)
	base := filepath.Base(dir)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(filepath.Join(base, rel))
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "root", "root"
		if d.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		return fail(err)
	}
	if err := tw.Close(); err != nil {
		return fail(err)
	}
	if err := zw.Close(); err != nil {
		return fail(err)
	}
	return fo.Close()
}
