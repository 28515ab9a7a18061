package wire

import (
	"encoding/json"
	"time"
)

// State is a station's connection state as it announces it.
type State string

const (
	StateOnline  State = "online"
	StateOffline State = "offline"
)

// Why a Status was published.
const (
	StatusConnect  = "connect"  // the agent connected
	StatusShutdown = "shutdown" // the agent stopped on purpose
	StatusWill     = "will"     // the broker published the last will: the connection was lost
)

// Status is the retained payload of vs/v1/st/{station}/status. The agent
// publishes "online" when it connects and "offline" when it stops; the same
// "offline" payload with reason "will" is its last will, which the broker
// publishes when the connection drops. Since is when the agent connected.
type Status struct {
	V          int       `json:"v"`
	Station    string    `json:"station"`
	State      State     `json:"state"`
	Reason     string    `json:"reason"`
	Since      time.Time `json:"since"`       // station clock: when this connection began
	Agent      string    `json:"agent"`       // agent software version
	HeartbeatS int       `json:"heartbeat_s"` // heartbeat interval in seconds
}

// Encode returns the JSON payload.
func (s Status) Encode() ([]byte, error) { return json.Marshal(s) }

// DecodeStatus parses a status received on the topic of topicStation.
// An empty payload (a cleared retained message) is not a Status: callers
// should check for it first.
func DecodeStatus(topicStation string, data []byte) (Status, error) {
	var s Status
	if err := decode(data, MaxControlPayload, &s); err != nil {
		return Status{}, err
	}
	if err := checkStation(s.Station, topicStation); err != nil {
		return Status{}, err
	}
	if s.State != StateOnline && s.State != StateOffline {
		return Status{}, fieldErr("state: online or offline")
	}
	switch s.Reason {
	case StatusConnect, StatusShutdown, StatusWill:
	default:
		return Status{}, fieldErr("reason: connect, shutdown or will")
	}
	if s.HeartbeatS < 1 || s.HeartbeatS > 3600 {
		return Status{}, fieldErr("heartbeat_s: 1 to 3600")
	}
	if len(s.Agent) > 64 {
		return Status{}, fieldErr("agent: at most 64 characters")
	}
	return s, nil
}
