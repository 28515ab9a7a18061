// Command hub runs the hub of a station network: the MQTT broker (embedded
// by default), the store, presence tracking, and the dashboard and API.
//
//	hub -data ./hub-data -stations firmware-config/stations/demo.toml
//
// With -broker it joins an external broker instead of embedding one.
//
// Sign-in: the district administrator (-admin-user, default "admin") gets
// the password of -admin-password or $VETNET_ADMIN_PASSWORD at every
// start; without one, and when nobody can sign in yet, the hub makes a
// password and prints it once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud/hub"
	"github.com/vetnet/vetnet/firmware-config/registry"
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "hub:", err)
		m.Close()
		os.Exit(1)
	}
	<-ctx.Done()
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
	RulesPath    string    // the alert rules (TOML); "" for the defaults
	Stdout       io.Writer // where the start banner goes; default os.Stdout

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
	fs.StringVar(&c.HTTPListen, "http", c.HTTPListen, "listen address of the dashboard and API")
	fs.StringVar(&m.StationsPath, "stations", m.StationsPath, "station registry (TOML)")
	fs.IntVar(&c.HeartbeatS, "heartbeat", c.HeartbeatS, "heartbeat interval configured for stations, seconds")
	fs.StringVar(&m.RulesPath, "alerts", m.RulesPath, "alert rules file (TOML, e.g. firmware-config/alerts/rules.toml); empty: the built-in defaults")
	fs.StringVar(&c.AdminUser, "admin-user", "admin", "sign-in name of the district administrator")
	fs.StringVar(&c.AdminPassword, "admin-password", os.Getenv("VETNET_ADMIN_PASSWORD"),
		"set the district administrator's password at start (default $VETNET_ADMIN_PASSWORD); empty: one is made and printed when nobody can sign in")
	fs.DurationVar(&c.SessionTTL, "session-ttl", 12*time.Hour, "how long a sign-in lasts")
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
	if c.ShareGroup != "" && c.BrokerURL == "" {
		return vetnet.Errorz(vetnet.EINVALID, "-share-group 需要 -broker", "-share-group needs -broker.")
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
	h, err := hub.New(m.Config)
	if err != nil {
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
	default:
		mqtt = "embedded broker mqtt://" + mqtt
	}
	fmt.Fprintf(m.Stdout, "hub: %d stations from %s; data in %s; %s\n", len(m.Config.Stations), m.StationsPath, m.Config.DataDir, mqtt)
	if a := h.HTTPAddr(); a != "" {
		fmt.Fprintf(m.Stdout, "hub: 监控页面 dashboard http://%s/\n", a)
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
