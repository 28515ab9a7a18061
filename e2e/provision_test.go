package e2e_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet/cloud/hub"
	"github.com/vetnet/vetnet/edge-agent/agent"
	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/firmware-config/bundle"
	"github.com/vetnet/vetnet/firmware-config/pki"
	"github.com/vetnet/vetnet/firmware-config/provision"
	"github.com/vetnet/vetnet/firmware-config/registry"
	"github.com/vetnet/vetnet/internal/mosquittotest"
	"github.com/vetnet/vetnet/wire"
)

// district registry text: a district, a town, and the two stations a and
// b under it; b's services and name are variables so that the test can
// change b's configuration.
func registryText(p, bName, bServices string) string {
	return fmt.Sprintf(`[[station]]
id    = %q
name  = "测试区退役军人服务中心"
level = "district"

[[station]]
id     = "%s-town"
name   = "测试镇退役军人服务站"
level  = "town"
parent = %q

[[station]]
id       = "%s-a"
name     = "测试甲村服务站"
level    = "village"
parent   = "%s-town"
services = ["benefits", "records"]
hours    = ["mon-fri 08:30-17:30"]

[[station]]
id       = "%s-b"
name     = %q
level    = "village"
parent   = "%s-town"
services = [%s]
`, p, p, p, p, p, p, bName, p, bServices)
}

// provisionRun runs the provision command as a technician would.
func provisionRun(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	m := &provision.Main{Stdout: &out, Stderr: &out, Now: time.Now}
	if err := m.Run(args); err != nil {
		t.Fatalf("provision %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// device is a station device running the agent from its bundle.
type device struct {
	bundle *bundle.Bundle
	agent  *agent.Agent
	kiosk  *kiosk
}

// startDevice starts an agent from an installed bundle, as
// `edge-agent -bundle` does, on a data directory of its own.
func startDevice(t *testing.T, dir string) *device {
	t.Helper()
	bd, err := bundle.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := pki.ClientTLS(bd.CA, bd.Cert, bd.Key)
	if err != nil {
		t.Fatal(err)
	}
	key, err := bundle.ReadConfigKey(bd.ConfigKey)
	if err != nil {
		t.Fatal(err)
	}
	st := bd.Station
	a, err := agent.New(agent.Config{
		StationID: st.ID, DataDir: t.TempDir(), BrokerURL: bd.Broker, TLS: tc, ConfigKey: key,
		SeqBase: uint64(bd.Generation) << hub.GenerationShift, APIAddr: "127.0.0.1:0",
		Station: &st, HeartbeatInterval: time.Second, SimReader: true,
		AckTimeout: 2 * time.Second, MaxBackoff: 4 * time.Second, ReconnectInterval: time.Second,
		Version: "e2e", Logf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return &device{bundle: bd, agent: a, kiosk: newKiosk(t, localapi.NewClient(a.APIAddr()), st.OfferedServices()[0])}
}

// checkIns makes n check-ins at the device and returns their IDs.
func (d *device) checkIns(t *testing.T, n int) []string {
	var ids []string
	for i := 0; i < n; i++ {
		ids = append(ids, d.kiosk.checkIn().ID)
	}
	return ids
}

type stationsView struct {
	Stations []struct {
		ID            string `json:"id"`
		ConfigVersion string `json:"config_version"`
		ConfigCurrent bool   `json:"config_current"`
		Seq           struct {
			Max     uint64 `json:"max"`
			Missing uint64 `json:"missing"`
		} `json:"seq"`
	} `json:"stations"`
}

// provisioning runs the whole life of two stations' identities against
// one kind of broker.
func provisioning(t *testing.T, mosquitto bool) {
	work := t.TempDir()
	p := fmt.Sprintf("pv-%x", time.Now().UnixNano()&0xffffff)
	a, b := p+"-a", p+"-b"
	regPath := filepath.Join(work, "stations.toml")
	if err := os.WriteFile(regPath, []byte(registryText(p, "测试乙村服务站", `"benefits"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	caDir, caKey, out := filepath.Join(work, "ca"), filepath.Join(work, "usb", "ca.key"), filepath.Join(work, "bundles")
	ca := []string{"-ca", caDir, "-ca-key", caKey}

	// 1. The district CA (its key "offline") and the hub's files.
	provisionRun(t, append([]string{"ca", "init"}, ca...)...)
	provisionRun(t, append([]string{"hub", "-hosts", "127.0.0.1,localhost", "-out", out}, ca...)...)
	hubDir := filepath.Join(out, "hub")
	configKey, err := pki.ReadKey(filepath.Join(hubDir, pki.HubConfigPriv))
	if err != nil {
		t.Fatal(err)
	}
	crlPath := filepath.Join(caDir, pki.CRLFile)

	// 2. The broker.
	var brokerURL, mqttListen string
	var mq *mosquittotest.Broker
	if mosquitto {
		mq = mosquittotest.Start(t, mosquittotest.Files{CA: filepath.Join(hubDir, "ca.crt"), Cert: filepath.Join(hubDir, "server.crt"),
			Key: filepath.Join(hubDir, "server.key"), CRL: crlPath})
		brokerURL = "ssl://" + mq.Addr
	} else {
		mqttListen = freeAddr(t)
		brokerURL = "ssl://" + mqttListen
	}

	// 3. Two stations provisioned.
	stationArgs := func(cmd, id string) []string {
		return append([]string{cmd, id, "-registry", regPath, "-broker", brokerURL, "-hub", "https://127.0.0.1", "-out", out}, ca...)
	}
	for _, id := range []string{a, b} {
		if got := provisionRun(t, stationArgs("station", id)...); !strings.Contains(got, "sudo sh vetnet-station-"+id+"-g1/install.sh") {
			t.Fatalf("no install line: %s", got)
		}
	}

	// 4. The hub with TLS.
	hubData := t.TempDir()
	startTLSHub := func() *hub.Hub {
		t.Helper()
		reg, err := registry.Load(regPath)
		if err != nil {
			t.Fatal(err)
		}
		cfg := hub.Config{DataDir: hubData, HTTPListen: "127.0.0.1:0", Stations: reg.Stations(), HeartbeatS: 1,
			Logf: t.Logf, AdminPassword: adminPassword, ConfigKey: configKey.(ed25519.PrivateKey), CRLEvery: 200 * time.Millisecond}
		if mosquitto {
			cfg.BrokerURL, cfg.OwnTopicsOnly = brokerURL, true
			if cfg.BrokerTLS, err = pki.ClientTLS(filepath.Join(hubDir, "ca.crt"), filepath.Join(hubDir, "hub.crt"), filepath.Join(hubDir, "hub.key")); err != nil {
				t.Fatal(err)
			}
		} else {
			cfg.MQTTListen = mqttListen
			if cfg.CRL, err = pki.OpenCRL(crlPath, filepath.Join(hubDir, "ca.crt")); err != nil {
				t.Fatal(err)
			}
			if cfg.MQTTTLS, err = pki.ServerTLS(filepath.Join(hubDir, "ca.crt"), filepath.Join(hubDir, "server.crt"), filepath.Join(hubDir, "server.key"), cfg.CRL); err != nil {
				t.Fatal(err)
			}
		}
		h, err := hub.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		return h
	}
	h := startTLSHub()
	defer func() { h.Close() }()
	published := func(id string) string {
		for _, st := range h.Stations() {
			if st.ID == id {
				return wire.NewConfig(st, 1, time.Now()).Version
			}
		}
		t.Fatalf("station %s not at the hub", id)
		return ""
	}

	// 5. The devices, from their bundles: check-ins reach the hub exactly
	// once, and each applies its signed configuration.
	devA := startDevice(t, filepath.Join(out, "vetnet-station-"+a+"-g1"))
	devB := startDevice(t, filepath.Join(out, "vetnet-station-"+b+"-g1"))
	idsA, idsB := devA.checkIns(t, 5), devB.checkIns(t, 5)
	for _, d := range []*device{devA, devB} {
		eventually(t, 60*time.Second, d.bundle.Station.ID+" outbox to drain", func() bool { return outboxEmpty(d.agent) })
		id := d.bundle.Station.ID
		eventually(t, 30*time.Second, id+" applies its signed configuration", func() bool { return d.agent.ConfigVersion() == published(id) })
	}
	exactlyOnce(t, h, a, idsA)
	exactlyOnce(t, h, b, idsB)

	// 6. b's configuration changes: the technician edits the registry and
	// restarts the hub; b applies the new signed version and the
	// dashboard's station list says it is current.
	oldB := devB.agent.ConfigVersion()
	if err := os.WriteFile(regPath, []byte(registryText(p, "测试乙村服务站(新址)", `"benefits", "legal_aid", "employment"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	h.Close()
	h = startTLSHub()
	if published(b) == oldB {
		t.Fatal("the new registry did not change b's configuration")
	}
	eventually(t, 60*time.Second, "b applies its new configuration", func() bool { return devB.agent.ConfigVersion() == published(b) })
	if st := devB.agent.Status().Station; st.Name != "测试乙村服务站(新址)" || len(st.Services) != 3 {
		t.Fatalf("b after the change: %+v", st)
	}
	eventually(t, 30*time.Second, "the dashboard shows b's configuration current", func() bool {
		var v stationsView
		if err := api(t, h).Get(context.Background(), "/api/v1/stations", &v); err != nil {
			t.Fatal(err)
		}
		for _, s := range v.Stations {
			if s.ID == b {
				return s.ConfigCurrent && s.ConfigVersion == published(b)
			}
		}
		return false
	})

	// 7. a's device is replaced: the new device (generation 2, empty
	// store) takes over a's identity and history; the old one is refused.
	provisionRun(t, stationArgs("replace", a)...)
	if mosquitto {
		mq.Restart(t) // Mosquitto reads the new CRL at start
	}
	eventually(t, 30*time.Second, "the old device of a cut off", func() bool { return !devA.agent.Status().Online })
	devA2 := startDevice(t, filepath.Join(out, "vetnet-station-"+a+"-g2"))
	idsA2 := devA2.checkIns(t, 4)
	if r := devA2.kiosk.checkIn(); r.Seq != 2<<hub.GenerationShift+5 {
		t.Fatalf("the new device's seq %d, want generation 2's fifth", r.Seq)
	} else {
		idsA2 = append(idsA2, r.ID)
	}
	eventually(t, 60*time.Second, "the new device's outbox to drain", func() bool { return outboxEmpty(devA2.agent) })
	eventually(t, 30*time.Second, "the new device applies a's configuration", func() bool { return devA2.agent.ConfigVersion() == published(a) })
	exactlyOnce(t, h, a, append(append([]string(nil), idsA...), idsA2...))
	if g := h.Gaps(a); g.Missing != 0 || g.Max != 2<<hub.GenerationShift+5 {
		t.Fatalf("a's sequence after the replacement: %+v", g)
	}

	// The old (revoked) device keeps checking people in offline, but
	// nothing of it reaches the hub.
	stolen := devA.checkIns(t, 2)
	time.Sleep(3 * time.Second) // several reconnection attempts
	if devA.agent.Status().Online || devA.agent.Status().Outbox.Depth != 2 {
		t.Fatalf("the revoked device: %+v", devA.agent.Status())
	}
	seen := hubCheckIns(t, h, a)
	for _, id := range stolen {
		if seen[id] != 0 {
			t.Fatal("a check-in of the revoked device reached the hub")
		}
	}

	// 8. b's device is stolen: revoked, cut off.
	provisionRun(t, append([]string{"revoke", b, "-reason", "stolen"}, ca...)...)
	if mosquitto {
		mq.Restart(t)
	}
	eventually(t, 30*time.Second, "the stolen device cut off", func() bool { return !devB.agent.Status().Online })
	devB.checkIns(t, 1)
	time.Sleep(2 * time.Second)
	if n := len(hubCheckIns(t, h, b)); n != 5 {
		t.Fatalf("b has %d check-ins at the hub, want the 5 made before the theft", n)
	}
	if !devA2.agent.Status().Online {
		eventually(t, 30*time.Second, "a's new device back online", func() bool { return devA2.agent.Status().Online })
	}
}

// TestProvisioningEmbedded: the whole provisioning story on the hub's
// embedded broker with mutual TLS.
func TestProvisioningEmbedded(t *testing.T) { provisioning(t, false) }

// TestProvisioningMosquitto: the same on a Mosquitto of its own, started
// with deploy/mosquitto/vetnet.conf and acl.
func TestProvisioningMosquitto(t *testing.T) { provisioning(t, true) }
