package e2e_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/cloud/hub"
	"github.com/vetnet/vetnet/cloud/postgres"
	"github.com/vetnet/vetnet/edge-agent/agent"
)

const postgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// needPostgres skips the test when PostgreSQL is not listening, or fails
// it under VETNET_REQUIRE_POSTGRES=1 (make test).
func needPostgres(t *testing.T) {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:5432", time.Second)
	if err != nil {
		if os.Getenv("VETNET_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL is not running on 127.0.0.1:5432: %v", err)
		}
		t.Skipf("PostgreSQL is not running on 127.0.0.1:5432: %v", err)
	}
	c.Close()
}

func needMosquitto(t *testing.T) {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:1883", time.Second)
	if err != nil {
		if os.Getenv("VETNET_REQUIRE_MOSQUITTO") == "1" {
			t.Fatalf("Mosquitto is not running on 127.0.0.1:1883 (scripts/services.sh starts it): %v", err)
		}
		t.Skipf("Mosquitto is not running on 127.0.0.1:1883: %v", err)
	}
	c.Close()
}

// pgKeyFile is the key file the replicas of a schema share (as the
// replicas of a real hub share copies of one).
func pgKeyFile(schema string) string {
	return filepath.Join(os.TempDir(), "vetnet-"+schema+".key")
}

// pgSchema returns a schema name of its own for the test and drops the
// schema (and removes its key file) when the test ends.
func pgSchema(t *testing.T, prefix string) string {
	t.Helper()
	schema := "e2e_" + prefix[len("e2e-"):]
	t.Cleanup(func() {
		os.Remove(pgKeyFile(schema))
		db, err := sql.Open("pgx", postgresURL)
		if err != nil {
			t.Log(err)
			return
		}
		defer db.Close()
		if _, err := db.Exec(`DROP SCHEMA IF EXISTS "` + schema + `" CASCADE`); err != nil {
			t.Logf("drop schema: %v", err)
		}
	})
	return schema
}

// startReplica starts one hub replica on Mosquitto (check-ins through the
// shared subscription group) and PostgreSQL (schema).
func startReplica(t *testing.T, name, group, schema string, stations []vetnet.Station) *hub.Hub {
	t.Helper()
	st, err := postgres.Open(postgresURL, &postgres.Options{Schema: schema, MaxConns: 4, KeyFile: pgKeyFile(schema)})
	if err != nil {
		t.Fatal(err)
	}
	h, err := hub.New(hub.Config{
		Store: st, BrokerURL: mosquittoURL, ShareGroup: group, OwnTopicsOnly: true, ClientID: group + "-" + name,
		HTTPListen: "127.0.0.1:0", Stations: stations, HeartbeatS: 1,
		Logf: func(f string, a ...any) { t.Logf(name+": "+f, a...) }, AdminPassword: adminPassword,
	})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		h.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// TestReplicasKillOne: two hub replicas share one PostgreSQL store and
// split the check-ins of Mosquitto's shared subscription; several real
// agents stream check-ins; one replica is stopped in the middle of the
// stream. In the end every check-in is stored exactly once and every
// outbox is empty (every check-in acknowledged, by whichever replica
// stored it), and the surviving replica sees every station online.
func TestReplicasKillOne(t *testing.T) {
	needMosquitto(t)
	needPostgres(t)
	if testing.Short() {
		t.Skip("streams for tens of seconds")
	}
	stations, _, _ := district(t)
	prefix := stations[0].ID
	const villages, perStation = 6, 24
	for i := 0; i < villages; i++ {
		stations = append(stations, vetnet.Station{ID: fmt.Sprintf("%s-v%d", prefix, i), Name: fmt.Sprintf("测试%d村退役军人服务站", i),
			Level: vetnet.LevelVillage, Parent: prefix + "-town"})
	}
	schema := pgSchema(t, prefix)
	group := "hub" + prefix[len("e2e-"):]
	h1 := startReplica(t, "replica-1", group, schema, stations)
	h2 := startReplica(t, "replica-2", group, schema, stations)

	type station struct {
		id    string
		agent *agent.Agent
		k     *kiosk
		ids   []string
	}
	var sts []*station
	for _, st := range stations[len(stations)-villages:] {
		ag, c := startAgent(t, st, mosquittoURL)
		sts = append(sts, &station{id: st.ID, agent: ag, k: newKiosk(t, c, st.OfferedServices()[0])})
	}
	var made, batches1 atomic.Int64
	killed := make(chan struct{})
	go func() {
		// Stop replica 1 once a third of the check-ins are made: batches
		// are in flight to it, some stored and not yet acked, some not
		// stored.
		for limit := time.Now().Add(60 * time.Second); made.Load() < villages*perStation/3 || okBatches(t, h1) < 3; {
			if time.Now().After(limit) {
				break // the final checks say what went wrong
			}
			time.Sleep(20 * time.Millisecond)
		}
		if h1.Leading() == h2.Leading() {
			t.Errorf("replica 1 leads: %v, replica 2 leads: %v; want exactly one", h1.Leading(), h2.Leading())
		}
		batches1.Store(okBatches(t, h1))
		t.Logf("stopping replica 1 after it stored %d batches", batches1.Load())
		h1.Close()
		close(killed)
	}()
	var wg sync.WaitGroup
	for _, s := range sts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < perStation; j++ {
				resp := s.k.checkIn()
				s.ids = append(s.ids, resp.ID)
				made.Add(1)
				time.Sleep(30 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	<-killed
	for _, s := range sts {
		eventually(t, 90*time.Second, s.id+" outbox to drain", func() bool { return outboxEmpty(s.agent) })
	}
	for _, s := range sts {
		exactlyOnce(t, h2, s.id, s.ids)
	}
	eventually(t, 30*time.Second, "the surviving replica to lead", h2.Leading)
	eventually(t, 30*time.Second, "every station online at the surviving replica", func() bool {
		for _, s := range sts {
			if p, ok := h2.Presence(s.id); !ok || p.State != "online" {
				return false
			}
		}
		return true
	})
	st, err := postgres.Open(postgresURL, &postgres.Options{Schema: schema, MaxConns: 2, KeyFile: pgKeyFile(schema)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Both replicas did part of the work.
	if b1, b2 := batches1.Load(), okBatches(t, h2); b1 == 0 || b2 == 0 {
		t.Errorf("batches stored: replica 1 %d, replica 2 %d; want both > 0", b1, b2)
	}
	// The leader stored the stations' presence.
	ps, err := st.Presences(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	online := 0
	for _, p := range ps {
		if p.State == cloud.StateOnline {
			online++
		}
	}
	if online < villages {
		t.Errorf("%d stations stored online, want %d", online, villages)
	}
	// The aggregates the replicas kept together count every check-in once.
	rows, err := st.CheckInStats(context.Background(), cloud.StatsQuery{Roots: []string{prefix}})
	if err != nil || len(rows) != 1 || rows[0].N != villages*perStation {
		t.Errorf("statistics of the district: %+v %v, want %d check-ins", rows, err, villages*perStation)
	}
}

// okBatches reads from a hub's /metrics how many batches it stored and
// acknowledged.
func okBatches(t *testing.T, h *hub.Hub) int64 {
	t.Helper()
	n, err := metricsBatches(h.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	return n
}
