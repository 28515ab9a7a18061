// Package bundle reads and writes a station's device bundle: what a
// technician copies onto a new device so that it becomes a station.
//
//	bundle.toml     the station ID, its device generation, the broker and hub
//	                addresses, the file names below, and the station's entry
//	                (what the kiosk shows until the hub's configuration arrives)
//	ca.crt          the district CA: the only issuer the agent trusts
//	client.crt      the device's certificate, CN = station ID
//	client.key      its private key (0600 in the bundle, 0640 root:vetnet installed)
//	hub-config.pub  the hub's Ed25519 key: the agent applies only configurations it signed
//	install.sh      copies the above to /etc/vetnet/station and (re)starts the agent
//	INSTALL.txt     the one-line install command
//
// The agent reads an installed bundle with `edge-agent -bundle
// /etc/vetnet/station`.
package bundle

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/vetnet/vetnet"
)

// File names in a bundle.
const (
	File          = "bundle.toml"
	CAFile        = "ca.crt"
	CertFile      = "client.crt"
	KeyFile       = "client.key"
	ConfigKeyFile = "hub-config.pub"
	InstallScript = "install.sh"
	InstallText   = "INSTALL.txt"
	// InstallDir is where install.sh puts the bundle on a device.
	InstallDir = "/etc/vetnet/station"
)

// Bundle is a station's device bundle. Paths are absolute once loaded.
type Bundle struct {
	Station    vetnet.Station
	Generation int    // device generation: 1 for the first device, +1 per replacement
	Broker     string // e.g. ssl://hub.example.cn:8883
	Hub        string // the hub's dashboard and API, e.g. https://hub.example.cn
	CA         string
	Cert       string
	Key        string
	ConfigKey  string // the hub's configuration-signing public key (PEM)
}

type fileT struct {
	Station    string `toml:"station"`
	Generation int    `toml:"generation"`
	Broker     string `toml:"broker"`
	Hub        string `toml:"hub"`
	CA         string `toml:"ca"`
	Cert       string `toml:"cert"`
	Key        string `toml:"key"`
	ConfigKey  string `toml:"config_key"`
	Info       infoT  `toml:"info"`
}

type infoT struct {
	Name     string   `toml:"name"`
	NameEN   string   `toml:"name_en,omitempty"`
	Level    string   `toml:"level"`
	Parent   string   `toml:"parent,omitempty"`
	Services []string `toml:"services,omitempty"`
	Address  string   `toml:"address,omitempty"`
	Contact  string   `toml:"contact,omitempty"`
	Hours    []string `toml:"hours,omitempty"`
}

func invalid(path string, what string) error {
	return &vetnet.Error{Code: vetnet.EINVALID, Message: path + ": " + what, MessageZH: "设备配置包有误：" + path + ": " + what}
}

// Load reads the bundle in dir.
//
// Errors: ENOTFOUND (no bundle.toml), EINVALID naming the file and field.
func Load(dir string) (*Bundle, error) {
	path := filepath.Join(dir, File)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, vetnet.Wrap(vetnet.ENOTFOUND, err, "无法读取设备配置包 "+path, "Cannot read the device bundle "+path+".")
	}
	var f fileT
	md, err := toml.Decode(string(b), &f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, invalid(fmt.Sprintf("%s:%d", path, pe.Position.Line), pe.Message)
		}
		return nil, invalid(path, err.Error())
	}
	if u := md.Undecoded(); len(u) > 0 {
		return nil, invalid(path, fmt.Sprintf("unknown field %q", u[0].String()))
	}
	st := vetnet.Station{ID: f.Station, Name: f.Info.Name, NameEN: f.Info.NameEN, Level: vetnet.Level(f.Info.Level),
		Parent: f.Info.Parent, Address: f.Info.Address, Contact: f.Info.Contact}
	for _, s := range f.Info.Services {
		st.Services = append(st.Services, vetnet.Service(s))
	}
	if st.Hours, err = vetnet.ParseOpeningHours(f.Info.Hours); err != nil {
		return nil, invalid(path, "info.hours: "+vetnet.ErrorMessage(err, "en"))
	}
	if err := st.Validate(); err != nil {
		return nil, invalid(path, "station/info: "+vetnet.ErrorMessage(err, "en"))
	}
	if f.Generation < 1 {
		return nil, invalid(path, "generation: from 1")
	}
	if f.Broker == "" {
		return nil, invalid(path, "broker: required")
	}
	abs := func(field, p string) (string, error) {
		if p == "" {
			return "", invalid(path, field+": required")
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if _, err := os.Stat(p); err != nil {
			return "", invalid(path, fmt.Sprintf("%s: %s cannot be read", field, p))
		}
		return p, nil
	}
	bd := &Bundle{Station: st, Generation: f.Generation, Broker: f.Broker, Hub: f.Hub}
	for _, x := range []struct {
		field string
		in    string
		out   *string
	}{{"ca", f.CA, &bd.CA}, {"cert", f.Cert, &bd.Cert}, {"key", f.Key, &bd.Key}, {"config_key", f.ConfigKey, &bd.ConfigKey}} {
		if *x.out, err = abs(x.field, x.in); err != nil {
			return nil, err
		}
	}
	return bd, nil
}

// Write writes the bundle files into dir (created 0700). The key is
// written 0600.
func Write(dir string, bd Bundle, caPEM, certPEM, keyPEM, configPubPEM []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return vetnet.Wrap(vetnet.EINTERNAL, err, "无法创建目录 "+dir, "Cannot create "+dir+".")
	}
	st := bd.Station
	f := fileT{Station: st.ID, Generation: bd.Generation, Broker: bd.Broker, Hub: bd.Hub,
		CA: CAFile, Cert: CertFile, Key: KeyFile, ConfigKey: ConfigKeyFile,
		Info: infoT{Name: st.Name, NameEN: st.NameEN, Level: string(st.Level), Parent: st.Parent, Address: st.Address,
			Contact: st.Contact, Hours: st.Hours.Rules}}
	for _, s := range st.Services {
		f.Info.Services = append(f.Info.Services, string(s))
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "# vetnet device bundle of station %s, device generation %d.\n", st.ID, bd.Generation)
	sb.WriteString("# Made by `provision station`; install with install.sh (see INSTALL.txt).\n\n")
	if err := toml.NewEncoder(&sb).Encode(f); err != nil {
		return vetnet.Wrap(vetnet.EINTERNAL, err, "无法生成设备配置包", "Cannot encode the bundle.")
	}
	name := filepath.Base(dir)
	oneLine := InstallCommand(name)
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{File, []byte(sb.String()), 0o644},
		{CAFile, caPEM, 0o644},
		{CertFile, certPEM, 0o644},
		{KeyFile, keyPEM, 0o600},
		{ConfigKeyFile, configPubPEM, 0o644},
		{InstallScript, []byte(strings.ReplaceAll(installSh, "@STATION@", st.ID)), 0o755},
		{InstallText, []byte("# On the device, in the directory holding " + name + ".tar.gz:\n" + oneLine + "\n"), 0o644},
	}
	for _, x := range files {
		if err := os.WriteFile(filepath.Join(dir, x.name), x.data, x.mode); err != nil {
			return vetnet.Wrap(vetnet.EINTERNAL, err, "无法写入 "+x.name, "Cannot write "+x.name+".")
		}
		if err := os.Chmod(filepath.Join(dir, x.name), x.mode); err != nil {
			return vetnet.Wrap(vetnet.EINTERNAL, err, "无法写入 "+x.name, "Cannot write "+x.name+".")
		}
	}
	return nil
}

// InstallCommand is the one-line install of the bundle named name (the
// bundle directory's name; the archive is name.tar.gz).
func InstallCommand(name string) string {
	return fmt.Sprintf("tar -xzf %s.tar.gz && sudo sh %s/install.sh", name, name)
}

// ReadConfigKey reads the hub's configuration-signing public key (PEM
// "PUBLIC KEY", Ed25519).
func ReadConfigKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, vetnet.Wrap(vetnet.ENOTFOUND, err, "无法读取配置签名公钥 "+path, "Cannot read the configuration key "+path+".")
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, invalid(path, "not a PEM public key")
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, invalid(path, err.Error())
	}
	pk, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, invalid(path, "not an Ed25519 key")
	}
	return pk, nil
}

// installSh installs a bundle on a device. An argument installs under
// another root (a test, or an image being prepared) and then neither
// changes owners nor touches services.
const installSh = `#!/bin/sh
# Installs the vetnet device bundle of station @STATION@ on this device:
#   sudo sh install.sh          (installs into /etc/vetnet/station and restarts the agent)
#   sh install.sh /some/root    (installs under /some/root only)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=${1:-}
dest="$root/etc/vetnet/station"
mkdir -p "$dest"
chmod 0750 "$dest"
for f in bundle.toml ca.crt client.crt hub-config.pub; do
	cp "$here/$f" "$dest/$f.new" && chmod 0644 "$dest/$f.new" && mv -f "$dest/$f.new" "$dest/$f"
done
cp "$here/client.key" "$dest/client.key.new" && chmod 0640 "$dest/client.key.new" && mv -f "$dest/client.key.new" "$dest/client.key"
if [ -z "$root" ]; then
	if getent group vetnet >/dev/null 2>&1; then chgrp -R vetnet "$dest"; fi
	if command -v systemctl >/dev/null 2>&1; then
		systemctl enable vetnet-agent.service >/dev/null 2>&1 || true
		systemctl restart vetnet-agent.service
	fi
fi
echo "vetnet: station @STATION@ installed in $dest"
`
