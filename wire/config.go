package wire

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/vetnet/vetnet"
)

// Config is the retained payload of vs/v1/st/{station}/config: what the
// hub says a station is and offers. A station that was offline when it
// changed receives it when it reconnects, as a retained message. The agent
// applies a Config only if it decodes and validates, keeps the last good one
// across restarts and reports the Version it applied in its heartbeats.
type Config struct {
	V          int       `json:"v"`
	Station    string    `json:"station"`
	Version    string    `json:"version"` // content hash, see ConfigVersion
	IssuedAt   time.Time `json:"issued_at"`
	Name       string    `json:"name"`
	NameEN     string    `json:"name_en"`
	Level      string    `json:"level"`
	Parent     string    `json:"parent"`
	Services   []string  `json:"services"` // in menu order
	HeartbeatS int       `json:"heartbeat_s"`
	// Staff is the station's roster: who may sign in at its kiosk and type
	// ID numbers for visitors. Absent when the station has none. It holds
	// PIN hashes and badge UIDs, so it goes only to the station's own
	// config topic, which the broker's ACL keeps to that station.
	Staff []StaffV1 `json:"staff,omitempty"`
	// Hours are the opening hours in vetnet.OpeningHours' text form;
	// absent when none are published.
	Hours []string `json:"hours,omitempty"`
	// Sig is the hub's Ed25519 signature of SigningBytes, base64; the
	// station holds the hub's public key from its device bundle and
	// applies only configurations that verify. Empty when the hub has
	// no signing key (a station without a key accepts those).
	Sig string `json:"sig,omitempty"`
}

// StaffV1 is a member of a station's staff on the wire.
type StaffV1 struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Role     string `json:"role"`                // head, officer, grid
	BadgeUID string `json:"badge_uid,omitempty"` // upper-case hex
	PINHash  string `json:"pin_hash,omitempty"`  // vetnet.HashPIN
}

// NewConfig builds the configuration of station st. The version is a hash
// of the content, so the same content always has the same version.
func NewConfig(st vetnet.Station, heartbeatS int, issuedAt time.Time) Config {
	c := Config{
		V: Version, Station: st.ID, IssuedAt: issuedAt.UTC(), Name: st.Name, NameEN: st.NameEN,
		Level: string(st.Level), Parent: st.Parent, HeartbeatS: heartbeatS, Services: []string{},
	}
	for _, s := range st.OfferedServices() {
		c.Services = append(c.Services, string(s))
	}
	for _, m := range st.Staff {
		c.Staff = append(c.Staff, StaffV1{ID: m.ID, Name: m.Name, Role: string(m.Role), BadgeUID: m.BadgeUID, PINHash: m.PINHash})
	}
	c.Hours = append([]string(nil), st.Hours.Rules...)
	c.Version = ConfigVersion(c)
	return c
}

// ConfigVersion hashes the content of c (all but Version and IssuedAt).
func ConfigVersion(c Config) string {
	c.Version, c.IssuedAt, c.Sig = "", time.Time{}, ""
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return "c" + hex.EncodeToString(sum[:6])
}

// StationOf returns the station described by c.
func (c Config) StationOf() vetnet.Station {
	st := vetnet.Station{ID: c.Station, Name: c.Name, NameEN: c.NameEN, Level: vetnet.Level(c.Level), Parent: c.Parent}
	for _, s := range c.Services {
		st.Services = append(st.Services, vetnet.Service(s))
	}
	for _, m := range c.Staff {
		st.Staff = append(st.Staff, vetnet.Staff{ID: m.ID, Name: m.Name, Role: vetnet.StaffRole(m.Role), BadgeUID: m.BadgeUID, PINHash: m.PINHash})
	}
	// DecodeConfig validates the hours; a bad rule leaves them unpublished.
	st.Hours, _ = vetnet.ParseOpeningHours(c.Hours)
	return st
}

// Encode returns the JSON payload.
func (c Config) Encode() ([]byte, error) { return json.Marshal(c) }

// DecodeConfig parses and validates a configuration received on the topic
// of topicStation, including that its version matches its content.
func DecodeConfig(topicStation string, data []byte) (Config, error) {
	var c Config
	if err := decode(data, MaxConfigPayload, &c); err != nil {
		return Config{}, err
	}
	if err := checkStation(c.Station, topicStation); err != nil {
		return Config{}, err
	}
	if _, err := vetnet.ParseOpeningHours(c.Hours); err != nil {
		return Config{}, fieldErr("%s", vetnet.ErrorMessage(err, "en"))
	}
	st := c.StationOf()
	if err := st.Validate(); err != nil {
		return Config{}, fieldErr("%s", vetnet.ErrorMessage(err, "en"))
	}
	if c.Services == nil || len(c.Services) == 0 {
		return Config{}, fieldErr("services: at least one")
	}
	if c.HeartbeatS < 1 || c.HeartbeatS > 3600 {
		return Config{}, fieldErr("heartbeat_s: 1 to 3600")
	}
	if c.Version != ConfigVersion(c) {
		return Config{}, fieldErr("version: does not match the content")
	}
	return c, nil
}

// SigningBytes are what the hub signs: the JSON payload with Sig empty.
// The encoding is canonical because Config is a struct whose fields
// marshal in declaration order, and decoding then encoding a payload
// gives the same bytes (times are UTC, absent lists stay absent).
func (c Config) SigningBytes() []byte {
	c.Sig = ""
	b, _ := json.Marshal(c)
	return b
}

// Sign returns c signed with the hub's configuration key.
func (c Config) Sign(key ed25519.PrivateKey) Config {
	c.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(key, c.SigningBytes()))
	return c
}

// Verify checks c's signature against the hub's public key. Errors: a
// DecodeError with ReasonSignature.
func (c Config) Verify(pub ed25519.PublicKey) error {
	if c.Sig == "" {
		return decodeErr(ReasonSignature, "the configuration is not signed")
	}
	sig, err := base64.StdEncoding.DecodeString(c.Sig)
	if err != nil || !ed25519.Verify(pub, c.SigningBytes(), sig) {
		return decodeErr(ReasonSignature, "the signature does not match the hub's key")
	}
	return nil
}
