package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vetnet/vetnet/cloud/web"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		ok    bool
		check func(m *Main) bool
	}{
		{"defaults", nil, true, func(m *Main) bool {
			return m.Config.MQTTListen == "127.0.0.1:1883" && m.Config.HTTPListen == "127.0.0.1:8080" && m.Config.HeartbeatS == 15 &&
				m.StationsPath == "firmware-config/stations/demo.toml"
		}},
		{"external broker", []string{"-broker", "tcp://127.0.0.1:1883", "-share-group", "hubs", "-heartbeat", "30"}, true, func(m *Main) bool {
			return m.Config.BrokerURL == "tcp://127.0.0.1:1883" && m.Config.ShareGroup == "hubs" && m.Config.HeartbeatS == 30
		}},
		{"share group alone", []string{"-share-group", "hubs"}, false, nil},
		{"postgres store", []string{"-store", "postgres://hub@db:5432/vetnet", "-store-schema", "district1", "-store-conns", "4"}, true, func(m *Main) bool {
			return m.StoreURL == "postgres://hub@db:5432/vetnet" && m.StoreSchema == "district1" && m.StoreConns == 4
		}},
		{"store not postgres", []string{"-store", "mysql://hub@db/vetnet"}, false, nil},
		{"bad heartbeat", []string{"-heartbeat", "0"}, false, nil},
		{"stray argument", []string{"extra"}, false, nil},
		{"tls", []string{"-https-cert", "c.pem", "-https-key", "k.pem", "-anonymise-after", "26280h", "-key-file", "/keys/hub.key"}, true, func(m *Main) bool {
			return m.Config.TLSCert == "c.pem" && m.Config.TLSKey == "k.pem" && m.Config.AnonymiseAfter.Hours() == 26280 && m.Config.KeyFile == "/keys/hub.key"
		}},
		{"rate limit", []string{"-ingest-rate", "2.5", "-ingest-burst", "10"}, true, func(m *Main) bool {
			return m.Config.IngestRate == 2.5 && m.Config.IngestBurst == 10
		}},
		{"https cert alone", []string{"-https-cert", "c.pem"}, false, nil},
		{"negative retention", []string{"-anonymise-after", "-1h"}, false, nil},
		{"unknown flag", []string{"-nope"}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMain()
			err := m.ParseFlags(tt.args)
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && !tt.check(m) {
				t.Fatalf("parsed %+v", m.Config)
			}
		})
	}
}

// TestRun runs the program as it is shipped: the demo registry, a
// temporary data directory and free ports.
func TestRun(t *testing.T) {
	m := NewMain()
	var out bytes.Buffer
	m.Stdout = &out
	m.Config.Logf = t.Logf
	dir := t.TempDir()
	if err := m.ParseFlags([]string{"-data", dir, "-mqtt", "127.0.0.1:0", "-http", "127.0.0.1:0",
		"-stations", filepath.Join("..", "..", "..", "firmware-config", "stations", "demo.toml")}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	url := regexp.MustCompile(`dashboard (http://\S+/)`).FindStringSubmatch(out.String())
	if url == nil {
		t.Fatalf("no dashboard URL in %q", out.String())
	}
	// No password given: one is made and printed once.
	pw := regexp.MustCompile(`user "admin" password "(\S+)"`).FindStringSubmatch(out.String())
	if pw == nil {
		t.Fatalf("no first password in %q", out.String())
	}
	api, err := web.SignIn(context.Background(), strings.TrimSuffix(url[1], "/"), "admin", pw[1])
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Stations []struct{ ID, State string } `json:"stations"`
	}
	if err := api.Get(context.Background(), "/api/v1/stations", &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Stations) < 5 || body.Stations[0].ID != "cz-xb" || body.Stations[0].State != "never_seen" {
		t.Fatalf("stations %+v", body.Stations)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(url[1] + "healthz"); err == nil {
		t.Fatal("still serving after Close")
	}
}
