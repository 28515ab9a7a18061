package agent_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/agent"
	"github.com/vetnet/vetnet/edge-agent/mqtt/mqtttest"
	"github.com/vetnet/vetnet/wire"
)

// A station holding the hub's key applies only configurations the hub
// signed, keeps the last good one, and goes back to it when applying a
// new one fails.
func TestSignedConfigAndRollback(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, forger, _ := ed25519.GenerateKey(rand.Reader)
	b := mqtttest.NewBroker(t)
	hub := mqtttest.NewHub(t, b.URL, mqtttest.HubOptions{})
	var failApply atomic.Bool
	var applied atomic.Int64
	s := startStation(t, b.URL, func(c *agent.Config) {
		c.ConfigKey = pub
		c.ApplyConfig = func(cfg wire.Config) error {
			if failApply.Load() {
				return errors.New("the kiosk refused it")
			}
			applied.Add(1)
			return nil
		}
	})
	topic := wire.Topic(s.id, wire.KindConfig)
	t.Cleanup(func() { _ = hub.Publish(topic, nil, true) })
	station := func(name string, svcs ...vetnet.Service) vetnet.Station {
		return vetnet.Station{ID: s.id, Name: name, Level: vetnet.LevelVillage, Parent: "cz-xb-sanjing", Services: svcs}
	}
	publish := func(c wire.Config) {
		t.Helper()
		p, _ := c.Encode()
		if err := hub.Publish(topic, p, true); err != nil {
			t.Fatal(err)
		}
	}

	// Unsigned, and signed by another key: refused.
	unsigned := wire.NewConfig(station("未签名"), 5, time.Now())
	publish(unsigned)
	eventually(t, "the unsigned configuration refused", func() bool { return s.agent.ConfigsRejected() == 1 })
	forged := wire.NewConfig(station("伪造"), 5, time.Now()).Sign(forger)
	publish(forged)
	eventually(t, "the forged configuration refused", func() bool { return s.agent.ConfigsRejected() == 2 })
	// Tampered after signing: refused.
	tampered := wire.NewConfig(station("篡改前", vetnet.ServiceBenefits), 5, time.Now()).Sign(priv)
	tampered.Services = []string{"legal_aid"}
	tampered.Version = wire.ConfigVersion(tampered)
	publish(tampered)
	eventually(t, "the tampered configuration refused", func() bool { return s.agent.ConfigsRejected() == 3 })
	if v := s.agent.ConfigVersion(); v != "" {
		t.Fatalf("applied %q", v)
	}

	good := wire.NewConfig(station("新桥社区退役军人服务站", vetnet.ServiceBenefits, vetnet.ServiceRecords), 5, time.Now()).Sign(priv)
	publish(good)
	eventually(t, "the signed configuration applied", func() bool { return s.status(t).ConfigVersion == good.Version })
	if applied.Load() != 1 {
		t.Fatalf("applied %d", applied.Load())
	}

	// The next one fails to apply: the station stays on the good one,
	// also after a restart.
	failApply.Store(true)
	bad := wire.NewConfig(station("新名称", vetnet.ServiceBenefits), 5, time.Now()).Sign(priv)
	publish(bad)
	eventually(t, "the failing configuration rolled back", func() bool { return s.agent.ConfigsRejected() == 4 })
	if st := s.status(t); st.ConfigVersion != good.Version || st.Station.Name != good.Name {
		t.Fatalf("after the rollback: %+v", st)
	}
	s.restart(t, func(c *agent.Config) { c.BrokerURL = "" })
	if st := s.status(t); st.ConfigVersion != good.Version || st.Station.Name != good.Name {
		t.Fatalf("after a restart: %+v", st)
	}
}

// A replacement device numbers its check-ins from its generation's base.
func TestSeqBase(t *testing.T) {
	s := startStation(t, "", func(c *agent.Config) { c.SeqBase = 2 << 32 })
	_, r := s.manual(t, vetnet.ServiceBenefits)
	if r.Seq != 2<<32+1 {
		t.Fatalf("seq %d", r.Seq)
	}
	// An existing file keeps its numbering when the base is lower.
	s.restart(t, func(c *agent.Config) { c.SeqBase = 1 << 32 })
	if _, r := s.manual(t, vetnet.ServiceBenefits); r.Seq != 2<<32+2 {
		t.Fatalf("seq %d", r.Seq)
	}
}
