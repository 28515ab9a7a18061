// Command hub runs the hub of a station network: the MQTT broker (embedded
// by default), the store, presence tracking, and the dashboard and API.
//
//	hub -data ./hub-data -stations firmware-config/stations/demo.toml
//
// With -broker it joins an external broker instead of embedding one; with
// -store postgres://... it keeps its data in PostgreSQL instead of the
// embedded store, so that several replicas (-broker and -share-group) can
// share the work:
//
//	hub -broker tcp://mqtt:1883 -share-group hub -store postgres://hub@db:5432/vetnet
//
// Sign-in: the district administrator (-admin-user, default "admin") gets
// the password of -admin-password or $VETNET_ADMIN_PASSWORD at every
// start; without one, and when nobody can sign in yet, the hub makes a
// password and prints it once.
package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud/hub"
	"github.com/vetnet/vetnet/firmware-config/pki"
	"github.com/vetnet/vetnet/firmware-config/registry"
	"github.com/vetnet/vetnet/internal/sdnotify"
)

func main() {
	m := NewMain()
	if err := m.ParseFlags(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "hub:", vetnet.ErrorMessage(err, "en"))
		os.Exit(2)
	}
	if m.RotateKey {
		if err := m.Rotate(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "hub:", vetnet.ErrorMessage(err, "en"))
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "hub:", err)
		m.Close()
		os.Exit(1)
	}
	// Type=notify units wait for this; elsewhere it does nothing.
	if _, err := sdnotify.Notify(sdnotify.Ready); err != nil {
		fmt.Fprintln(os.Stderr, "hub: systemd notify:", err)
	}
	<-ctx.Done()
	_, _ = sdnotify.Notify(sdnotify.Stopping)
	fmt.Fprintln(m.Stdout, "hub: stopping")
	if err := m.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "hub: close:", err)
		os.Exit(1)
	}
}

// Main is the program, separated from main() so that tests run it with a
// temporary data directory and port 0.
type Main struct {
	Config       hub.Config
	StationsPath string    // the registry (TOML)
	StoreURL     string    // "" for the embedded store, or postgres://... (-store)
	StoreSchema  string    // the PostgreSQL schema (-store-schema); default public
	StoreConns   int       // PostgreSQL connections (-store-conns); default 8
	TLSCA        string    // the district CA (PEM): the issuer of every client certificate
	TLSCert      string    // embedded broker: its server certificate; with -broker: the hub's client certificate
	TLSKey       string    // the key of TLSCert
	TLSCRL       string    // embedded broker: the CRL (PEM) checked at each connection and re-read every few seconds
	ConfigKey    string    // the hub's configuration-signing private key (PKCS#8 PEM, Ed25519)
	RulesPath    string    // the alert rules (TOML); "" for the defaults
	Stdout       io.Writer // where the start banner goes; default os.Stdout
	RotateKey    bool      // -rotate-key: rotate the key ring and exit

	Hub *hub.Hub // set by Run
}

// NewMain returns a Main with the defaults of the flags.
func NewMain() *Main {
	return &Main{
		Config: hub.Config{
			DataDir:    "hub-data",
			MQTTListen: "127.0.0.1:1883",
			HTTPListen: "127.0.0.1:8080",
			HeartbeatS: hub.DefaultHeartbeatS,
		},
		StationsPath: "firmware-config/stations/demo.toml",
		Stdout:       os.Stdout,
	}
}

// ParseFlags reads the command line into m.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("hub", flag.ContinueOnError)
	c := &m.Config
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data directory (holds hub.db)")
	fs.StringVar(&c.MQTTListen, "mqtt", c.MQTTListen, "listen address of the embedded MQTT broker (port 0 picks one)")
	fs.StringVar(&c.BrokerURL, "broker", c.BrokerURL, "external MQTT broker URL, e.g. tcp://127.0.0.1:1883; disables the embedded broker")
	fs.StringVar(&c.ShareGroup, "share-group", c.ShareGroup, "with -broker: MQTT shared-subscription group, for several hub replicas")
	fs.BoolVar(&c.OwnTopicsOnly, "own-topics", c.OwnTopicsOnly, "with -broker: subscribe to the registered stations' topics only (a broker shared with other hubs)")
	fs.StringVar(&m.StoreURL, "store", m.StoreURL, "store: empty for the embedded one in -data, or a PostgreSQL URL postgres://user@host:5432/db (several hub replicas share one)")
	fs.StringVar(&m.StoreSchema, "store-schema", m.StoreSchema, "with -store postgres://...: the schema of the tables (default public)")
	fs.IntVar(&m.StoreConns, "store-conns", m.StoreConns, "with -store postgres://...: connections to PostgreSQL (default 8)")
	fs.StringVar(&c.HTTPListen, "http", c.HTTPListen, "listen address of the dashboard and API")
	fs.StringVar(&m.StationsPath, "stations", m.StationsPath, "station registry (TOML)")
	fs.IntVar(&c.HeartbeatS, "heartbeat", c.HeartbeatS, "heartbeat interval configured for stations, seconds")
	fs.StringVar(&m.RulesPath, "alerts", m.RulesPath, "alert rules file (TOML, e.g. firmware-config/alerts/rules.toml); empty: the built-in defaults")
	fs.StringVar(&c.AdminUser, "admin-user", "admin", "sign-in name of the district administrator")
	fs.StringVar(&c.AdminPassword, "admin-password", os.Getenv("VETNET_ADMIN_PASSWORD"),
		"set the district administrator's password at start (default $VETNET_ADMIN_PASSWORD); empty: one is made and printed when nobody can sign in")
	fs.DurationVar(&c.SessionTTL, "session-ttl", 12*time.Hour, "how long a sign-in lasts")
	fs.StringVar(&c.KeyFile, "key-file", "", "key ring sealing ID numbers and names (default <data>/hub.db.key); keep it apart from database backups")
	fs.BoolVar(&m.RotateKey, "rotate-key", false, "make a new key, re-encrypt every ID number and name under it, retire the old key, and exit (stop the hub first)")
	fs.DurationVar(&c.AnonymiseAfter, "anonymise-after", 0, "remove ID numbers and names of check-ins older than this, e.g. 26280h (3 years); statistics stay; 0 keeps them")
	fs.Float64Var(&c.IngestRate, "ingest-rate", hub.DefaultIngestRate, "messages (check-in batches, heartbeats) a second each station may send; beyond it batches are answered rate_limited and sent again later; negative: no limit")
	fs.IntVar(&c.IngestBurst, "ingest-burst", hub.DefaultIngestBurst, "messages a station may send at once before -ingest-rate applies")
	fs.StringVar(&c.TLSCert, "https-cert", "", "PEM certificate: serve the dashboard over HTTPS (with -https-key)")
	fs.StringVar(&c.TLSKey, "https-key", "", "PEM private key of -https-cert")
	fs.StringVar(&m.TLSCA, "tls-ca", "", "district CA certificate (PEM); with -tls-cert the embedded broker speaks TLS and requires client certificates it issued")
	fs.StringVar(&m.TLSCert, "tls-cert", "", "embedded broker: its server certificate; with -broker: the hub's client certificate (CN vetnet-hub)")
	fs.StringVar(&m.TLSKey, "tls-key", "", "the key of -tls-cert")
	fs.StringVar(&m.TLSCRL, "tls-crl", "", "embedded broker: the CA's revocation list (crl.pem), re-read when it changes; revoked clients are disconnected")
	fs.StringVar(&m.ConfigKey, "config-key", "", "configuration-signing key (hub-config.key from provision hub): every station configuration is signed")
	fs.StringVar(&c.VideoBaseURL, "video-base", c.VideoBaseURL, "video provider's base URL (a self-hosted Jitsi Meet or similar); a meeting's room link is this URL and the room name; empty: no links")
	fs.DurationVar(&c.MeetingGrace, "meeting-grace", hub.DefaultMeetingGrace, "how late a station may join a meeting without being late")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return vetnet.Errorz(vetnet.EINVALID, "多余的参数", fmt.Sprintf("Unexpected argument %q.", fs.Arg(0)))
	}
	if c.HeartbeatS < 1 || c.HeartbeatS > 3600 {
		return vetnet.Errorz(vetnet.EINVALID, "心跳间隔应为 1 到 3600 秒", "-heartbeat must be 1 to 3600 seconds.")
	}
	if m.StoreURL != "" && !strings.HasPrefix(m.StoreURL, "postgres://") && !strings.HasPrefix(m.StoreURL, "postgresql://") {
		return vetnet.Errorz(vetnet.EINVALID, "-store 应为 postgres:// 地址", "-store must be a postgres:// URL.")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return vetnet.Errorz(vetnet.EINVALID, "-https-cert 与 -https-key 需同时提供", "-https-cert and -https-key go together.")
	}
	if c.AnonymiseAfter < 0 {
		return vetnet.Errorz(vetnet.EINVALID, "-anonymise-after 不能为负", "-anonymise-after cannot be negative.")
	}
	if c.ShareGroup != "" && c.BrokerURL == "" {
		return vetnet.Errorz(vetnet.EINVALID, "-share-group 需要 -broker", "-share-group needs -broker.")
	}
	return m.loadTLS()
}

// loadTLS reads the TLS files and the configuration key.
func (m *Main) loadTLS() error {
	c := &m.Config
	if m.TLSCA != "" || m.TLSCert != "" || m.TLSKey != "" {
		if m.TLSCA == "" || m.TLSCert == "" || m.TLSKey == "" {
			return vetnet.Errorz(vetnet.EINVALID, "-tls-ca、-tls-cert 和 -tls-key 须同时给出", "-tls-ca, -tls-cert and -tls-key go together.")
		}
		if c.BrokerURL != "" {
			tc, err := pki.ClientTLS(m.TLSCA, m.TLSCert, m.TLSKey)
			if err != nil {
				return err
			}
			c.BrokerTLS = tc
		} else {
			if m.TLSCRL != "" {
				crl, err := pki.OpenCRL(m.TLSCRL, m.TLSCA)
				if err != nil {
					return err
				}
				c.CRL = crl
			}
			tc, err := pki.ServerTLS(m.TLSCA, m.TLSCert, m.TLSKey, c.CRL)
			if err != nil {
				return err
			}
			c.MQTTTLS = tc
		}
	} else if m.TLSCRL != "" {
		return vetnet.Errorz(vetnet.EINVALID, "-tls-crl 需要 -tls-ca", "-tls-crl needs -tls-ca, -tls-cert and -tls-key.")
	}
	if m.ConfigKey != "" {
		k, err := pki.ReadKey(m.ConfigKey)
		if err != nil {
			return err
		}
		ek, ok := k.(ed25519.PrivateKey)
		if !ok {
			return vetnet.Errorz(vetnet.EINVALID, "配置签名密钥须为 Ed25519", "-config-key must be an Ed25519 key (hub-config.key).")
		}
		c.ConfigKey = ek
	}
	return nil
}

// Run loads the registry, opens and starts the hub, and prints where the
// dashboard is. It returns once the hub runs; Close stops it.
func (m *Main) Run(ctx context.Context) error {
	reg, err := registry.Load(m.StationsPath)
	if err != nil {
		return err
	}
	m.Config.Stations = reg.Stations()
	if m.RulesPath != "" {
		rules, err := hub.LoadRules(m.RulesPath)
		if err != nil {
			return err
		}
		m.Config.Rules = &rules
	}
	if m.Config.Logf == nil {
		logger := log.New(os.Stderr, "", log.LstdFlags)
		m.Config.Logf = logger.Printf
	}
	if m.StoreURL != "" && m.Config.Store == nil {
		st, err := m.openPostgres()
		if err != nil {
			return err
		}
		m.Config.Store = st // the hub closes it
	}
	h, err := hub.New(m.Config)
	if err != nil {
		if m.Config.Store != nil {
			m.Config.Store.Close()
		}
		return err
	}
	m.Hub = h
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := h.Start(startCtx); err != nil {
		return err
	}
	mqtt := h.MQTTAddr()
	switch {
	case m.Config.BrokerURL != "":
		mqtt = "external broker " + mqtt
	case mqtt == "":
		mqtt = "none"
	case m.Config.MQTTTLS != nil:
		mqtt = "embedded broker mqtts://" + mqtt + " (client certificates required)"
	default:
		mqtt = "embedded broker mqtt://" + mqtt
	}
	fmt.Fprintf(m.Stdout, "hub: %d stations from %s; data in %s; %s\n", len(m.Config.Stations), m.StationsPath, m.Config.DataDir, mqtt)
	if a := h.HTTPAddr(); a != "" {
		scheme := "http"
		if m.Config.TLSCert != "" {
			scheme = "https"
		}
		fmt.Fprintf(m.Stdout, "hub: 监控页面 dashboard %s://%s/\n", scheme, a)
	}
	if pw := h.GeneratedPassword(); pw != "" {
		fmt.Fprintf(m.Stdout, "hub: 首次登录 first sign-in: user %q password %q (shown once; set your own with -admin-password)\n", h.AdminUser(), pw)
	} else {
		fmt.Fprintf(m.Stdout, "hub: 登录 sign in as %q\n", h.AdminUser())
	}
	return nil
}

// Close stops the hub.
func (m *Main) Close() error {
	if m.Hub == nil {
		return nil
	}
	return m.Hub.Close()
}
