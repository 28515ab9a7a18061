// Command edge-agent is the station daemon: it keeps the station's
// check-ins in its bbolt file, serves the kiosk on a loopback HTTP API and
// forwards check-ins to the hub over MQTT.
//
//	edge-agent -station cz-xb-sanjing-xinqiao -registry firmware-config/stations/demo.toml -sim
//
// The MQTT password is read from the environment (VETNET_MQTT_PASSWORD), so
// that it does not show in the process list.
package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/agent"
	"github.com/vetnet/vetnet/edge-agent/hw"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/edge-agent/mqtt"
	"github.com/vetnet/vetnet/firmware-config/bundle"
	"github.com/vetnet/vetnet/firmware-config/pki"
	"github.com/vetnet/vetnet/firmware-config/profile"
	"github.com/vetnet/vetnet/firmware-config/registry"
	"github.com/vetnet/vetnet/internal/sdnotify"
)

// version is set at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

// Defaults of the flags.
const (
	DefaultBroker  = "tcp://127.0.0.1:1883"
	DefaultDataDir = "data"
)

// PasswordEnv names the environment variable holding the MQTT password.
const PasswordEnv = "VETNET_MQTT_PASSWORD"

func main() {
	m := NewMain()
	if err := m.ParseFlags(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(m.Stderr, "edge-agent:", err)
		os.Exit(2)
	}
	if m.ShowVersion {
		fmt.Fprintln(m.Stdout, "edge-agent", version)
		return
	}
	if m.RotateKey {
		if err := m.Rotate(); err != nil {
			fmt.Fprintln(m.Stderr, "edge-agent:", vetnet.ErrorMessage(err, "en"))
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(m.Stderr, "edge-agent:", vetnet.ErrorMessage(err, "en"))
		m.Logf("start: %v", err)
		os.Exit(1)
	}
	go m.Supervise(ctx)
	<-ctx.Done()
	m.Logf("stopping")
	_, _ = sdnotify.Notify(sdnotify.Stopping)
	if err := m.Close(); err != nil {
		m.Logf("close: %v", err)
		os.Exit(1)
	}
}

// Main is the program, separate from main() so that tests run it whole.
type Main struct {
	Config      agent.Config
	BundleDir   string // device bundle (provision station): identity, broker, CA, config key
	TLSCA       string // the district CA (PEM)
	TLSCert     string // the device's client certificate (PEM)
	TLSKey      string // its key
	ConfigKey   string // the hub's configuration-signing public key (PEM)
	Generation  int    // device generation; check-ins are numbered from Generation<<32 + 1
	Registry    string // path of a station registry (TOML) with this station
	ProfilePath string // path of the station's hardware profile (TOML); empty: no hardware
	Profile     *profile.Profile
	ShowVersion bool
	RotateKey   bool // -rotate-key: rotate the device key and exit

	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Logf           func(format string, a ...any)

	Agent *agent.Agent
	HW    *hw.Station // the drivers built from Profile
}

// NewMain returns a Main writing to the process's stdout and stderr.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// ParseFlags reads the command line into m.Config.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("edge-agent", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	c := &m.Config
	fs.StringVar(&c.StationID, "station", "", "station ID (required), e.g. cz-xb-sanjing-xinqiao")
	fs.StringVar(&c.DataDir, "data", DefaultDataDir, "data directory for the station's database and device key")
	fs.StringVar(&c.BrokerURL, "broker", DefaultBroker, "MQTT broker URL; empty runs without an uplink")
	fs.StringVar(&c.ClientID, "client-id", "", "MQTT client ID (default station-{station})")
	fs.StringVar(&c.Username, "username", "", "MQTT user name; the password is read from $"+PasswordEnv)
	fs.StringVar(&c.APIAddr, "api", localapi.DefaultAddr, "local API address for the kiosk (loopback only)")
	fs.StringVar(&m.Registry, "registry", "", "station registry (TOML) to take this station's name and services from until the hub sends its configuration")
	fs.DurationVar(&c.HeartbeatInterval, "heartbeat", agent.DefaultHeartbeatInterval, "heartbeat interval until the hub's configuration sets one")
	fs.StringVar(&m.ProfilePath, "profile", "", "hardware profile (TOML, firmware-config/profiles/) to build the readers and indicators from")
	fs.BoolVar(&c.SimReader, "sim", false, "run a simulated ID-card reader (and allow the API's sim tap)")
	fs.DurationVar(&c.SimInterval, "sim-interval", 0, "with -sim, read a synthetic card this often (0: only on tap)")
	fs.DurationVar(&c.AckTimeout, "ack-timeout", agent.DefaultAckTimeout, "first wait for the hub's ack of a batch before it is sent again")
	fs.DurationVar(&c.MaxBackoff, "max-backoff", agent.DefaultMaxBackoff, "cap of the growing wait for acks and after errors")
	fs.DurationVar(&c.ReconnectInterval, "reconnect", mqtt.DefaultMaxReconnectInterval, "cap of the wait between attempts to reconnect to the broker")
	fs.IntVar(&c.MaxOutbox, "max-outbox", 0, "most check-ins waiting for the hub before the kiosk refuses new ones (default 100000)")
	fs.Func("min-free", "free disk space to keep, e.g. 64MiB or 1GiB; below it check-ins are refused (default 64MiB)", func(v string) error {
		n, err := parseBytes(v)
		c.MinFree = n
		return err
	})
	fs.DurationVar(&c.Retention, "retention", 0, "how long acknowledged check-ins stay at the station (default 720h)")
	fs.StringVar(&m.BundleDir, "bundle", "", "device bundle directory (from provision station, installed in /etc/vetnet/station): sets -station, -broker, the TLS files, -config-key and -generation unless given")
	fs.StringVar(&m.TLSCA, "tls-ca", "", "the district CA certificate (PEM) for an ssl:// broker")
	fs.StringVar(&m.TLSCert, "tls-cert", "", "this device's client certificate (PEM); its CN is the station ID")
	fs.StringVar(&m.TLSKey, "tls-key", "", "the client certificate's key (PEM)")
	fs.StringVar(&m.ConfigKey, "config-key", "", "the hub's configuration-signing public key (PEM): apply only configurations it signed")
	fs.IntVar(&m.Generation, "generation", 0, "device generation (from the bundle): check-ins are numbered from generation<<32 + 1")
	fs.BoolVar(&m.ShowVersion, "version", false, "print the version and exit")
	fs.BoolVar(&m.RotateKey, "rotate-key", false, "make a new device key, re-encrypt the station's data under it, retire the old key, and exit (stop the agent first)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if m.ShowVersion {
		return nil
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if m.BundleDir != "" {
		bd, err := bundle.Load(m.BundleDir)
		if err != nil {
			return fmt.Errorf("-bundle: %s", vetnet.ErrorMessage(err, "en"))
		}
		if c.StationID != "" && c.StationID != bd.Station.ID {
			return fmt.Errorf("-station %s: the bundle is for station %s", c.StationID, bd.Station.ID)
		}
		c.StationID = bd.Station.ID
		st := bd.Station
		c.Station = &st
		if !set["broker"] {
			c.BrokerURL = bd.Broker
		}
		for _, x := range []struct {
			flag string
			dst  *string
			val  string
		}{{"tls-ca", &m.TLSCA, bd.CA}, {"tls-cert", &m.TLSCert, bd.Cert}, {"tls-key", &m.TLSKey, bd.Key}, {"config-key", &m.ConfigKey, bd.ConfigKey}} {
			if !set[x.flag] {
				*x.dst = x.val
			}
		}
		if !set["generation"] {
			m.Generation = bd.Generation
		}
	}
	if m.Generation < 0 || m.Generation > 1<<20 {
		return errors.New("-generation: 0 to 1048576")
	}
	c.SeqBase = uint64(m.Generation) << 32
	if m.TLSCert != "" || m.TLSKey != "" || m.TLSCA != "" {
		if m.TLSCert == "" || m.TLSKey == "" || m.TLSCA == "" {
			return errors.New("-tls-ca, -tls-cert and -tls-key go together")
		}
		tc, err := pki.ClientTLS(m.TLSCA, m.TLSCert, m.TLSKey)
		if err != nil {
			return fmt.Errorf("TLS: %s", vetnet.ErrorMessage(err, "en"))
		}
		if cert, err := x509.ParseCertificate(tc.Certificates[0].Certificate[0]); err == nil && c.StationID != "" && cert.Subject.CommonName != c.StationID {
			return fmt.Errorf("-tls-cert: the certificate is for %q, not station %s", cert.Subject.CommonName, c.StationID)
		}
		c.TLS = tc
	}
	if m.ConfigKey != "" {
		k, err := bundle.ReadConfigKey(m.ConfigKey)
		if err != nil {
			return fmt.Errorf("-config-key: %s", vetnet.ErrorMessage(err, "en"))
		}
		c.ConfigKey = k
	}
	if c.StationID == "" {
		return errors.New("-station (or -bundle) is required")
	}
	if err := vetnet.ValidateStationID(c.StationID); err != nil {
		return fmt.Errorf("-station: %s", vetnet.ErrorMessage(err, "en"))
	}
	c.Password = m.Getenv(PasswordEnv)
	c.Version = version
	if m.Registry != "" {
		r, err := registry.Load(m.Registry)
		if err != nil {
			return fmt.Errorf("-registry: %s", vetnet.ErrorMessage(err, "en"))
		}
		st, ok := r.Station(c.StationID)
		if !ok {
			return fmt.Errorf("-registry: station %q is not in %s", c.StationID, m.Registry)
		}
		c.Station = &st
	}
	if m.ProfilePath != "" {
		p, err := profile.Load(m.ProfilePath)
		if err != nil {
			return fmt.Errorf("-profile: %s", vetnet.ErrorMessage(err, "en"))
		}
		if c.SimReader && p.IDCard != nil {
			return fmt.Errorf("-sim: the profile %s already has an ID-card reader", p.Name)
		}
		m.Profile = p
	}
	return nil
}

// Run starts the agent and returns; the agent runs until Close.
func (m *Main) Run(ctx context.Context) error {
	if m.Logf == nil {
		logger := log.New(m.Stderr, "edge-agent["+m.Config.StationID+"] ", log.LstdFlags|log.Lmsgprefix)
		m.Logf = logger.Printf
	}
	m.Config.Logf = m.Logf
	if m.Profile != nil {
		st, err := hw.Build(m.Profile, hw.Options{SimInterval: m.Config.SimInterval, Logf: m.Logf})
		if err != nil {
			return err
		}
		m.HW = st
		m.Config.Readers = append(m.Config.Readers, st.Readers...)
		m.Config.SimTap, m.Config.Indicator = st.SimTap, st.Indicator
		if st.Printer != nil { // never a typed nil in the interface
			m.Config.Printer = st.Printer
		}
		if st.Emulator != nil {
			m.Logf("hardware: profile %s: SAM emulator on %s", m.Profile.Name, st.Emulator.Path())
		} else {
			m.Logf("hardware: profile %s: %d readers", m.Profile.Name, len(st.Readers))
		}
	}
	a, err := agent.New(m.Config)
	if err != nil {
		m.closeHW()
		return err
	}
	if err := a.Start(ctx); err != nil {
		m.closeHW()
		return err
	}
	m.Agent = a
	return nil
}

func (m *Main) closeHW() {
	if m.HW != nil {
		if err := m.HW.Close(); err != nil {
			m.Logf("close hardware: %v", err)
		}
		m.HW = nil
	}
}

// Supervise tells systemd the agent is ready (Type=notify) and, when the
// unit has WatchdogSec=, sends WATCHDOG=1 at half that interval for as
// long as the agent answers: a hung agent (its store or its loops stuck)
// stops the pings and systemd restarts it. It returns when ctx ends.
// Without $NOTIFY_SOCKET it does nothing.
func (m *Main) Supervise(ctx context.Context) {
	if ok, err := sdnotify.Notify(sdnotify.Ready); err != nil {
		m.Logf("systemd notify: %v", err)
	} else if !ok {
		return
	}
	every := sdnotify.WatchdogInterval() / 2
	if every <= 0 || m.Agent == nil {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !m.healthy(ctx, every) {
			m.Logf("watchdog: the agent did not answer within %v; not telling systemd", every)
			continue
		}
		if _, err := sdnotify.Notify(sdnotify.Watchdog); err != nil {
			m.Logf("systemd watchdog: %v", err)
		}
	}
}

// healthy reports whether the agent answers a status request (which reads
// its store) within limit.
func (m *Main) healthy(ctx context.Context, limit time.Duration) bool {
	done := make(chan struct{})
	go func() {
		_ = m.Agent.Status()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(limit):
		return false
	case <-ctx.Done():
		return false
	}
}

// Close stops the agent and releases the hardware.
func (m *Main) Close() error {
	defer m.closeHW()
	if m.Agent == nil {
		return nil
	}
	return m.Agent.Close()
}

// parseBytes reads a size such as 64MiB, 1GiB, 500MB or 1048576.
func parseBytes(v string) (uint64, error) {
	units := []struct {
		suffix string
		mult   uint64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}, {"", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(v, u.suffix); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(num), 10, 64)
			if err != nil || n == 0 {
				return 0, fmt.Errorf("%q is not a size such as 64MiB", v)
			}
			return n * u.mult, nil
		}
	}
	return 0, fmt.Errorf("%q is not a size such as 64MiB", v)
}
