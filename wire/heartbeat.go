package wire

import (
	"encoding/json"
	"time"
)

// Heartbeat is the payload of vs/v1/st/{station}/heartbeat, sent every
// HeartbeatS seconds while connected. The hub marks a station stale when
// heartbeats stop arriving although no will was published.
type Heartbeat struct {
	V             int        `json:"v"`
	Station       string     `json:"station"`
	At            time.Time  `json:"at"`       // station clock
	Seq           uint64     `json:"seq"`      // heartbeat counter since the agent started
	UptimeS       int64      `json:"uptime_s"` // seconds since the agent started
	IntervalS     int        `json:"interval_s"`
	Outbox        OutboxV1   `json:"outbox"`
	Readers       []ReaderV1 `json:"readers"`
	Storage       StorageV1  `json:"storage"`
	Agent         string     `json:"agent"`          // agent software version
	ConfigVersion string     `json:"config_version"` // applied configuration; empty if none yet
}

// OutboxV1 is the station's backlog: check-ins not yet acknowledged.
type OutboxV1 struct {
	Depth    int        `json:"depth"`     // check-ins waiting for the hub's ack
	OldestAt *time.Time `json:"oldest_at"` // station time of the oldest waiting check-in; null if none
	LastSeq  uint64     `json:"last_seq"`  // highest sequence number committed at the station
	Rejected int        `json:"rejected"`  // check-ins the hub refused, parked at the station
}

// StorageV1 is the station's disk. Low means check-ins are refused until
// space is freed (nothing stored is dropped).
type StorageV1 struct {
	FreeBytes uint64 `json:"free_bytes"` // free on the station's data file system; 0 if unknown
	FileBytes int64  `json:"file_bytes"` // size of the station's data file
	Low       bool   `json:"low"`
}

// Reader health states.
const (
	ReaderOK     = "ok"     // working
	ReaderFault  = "fault"  // present but failing
	ReaderAbsent = "absent" // configured but not connected
)

// ReaderV1 is the health of one reader or device of the station.
type ReaderV1 struct {
	Name   string `json:"name"`   // e.g. idcard0
	Kind   string `json:"kind"`   // idcard, badge, qr, printer, simulated
	State  string `json:"state"`  // ok, fault or absent
	Detail string `json:"detail"` // the last error, for technicians; may be empty
}

// Encode returns the JSON payload.
func (h Heartbeat) Encode() ([]byte, error) {
	if h.Readers == nil {
		h.Readers = []ReaderV1{}
	}
	return json.Marshal(h)
}

// DecodeHeartbeat parses a heartbeat received on the topic of topicStation.
func DecodeHeartbeat(topicStation string, data []byte) (Heartbeat, error) {
	var h Heartbeat
	if err := decode(data, MaxControlPayload, &h); err != nil {
		return Heartbeat{}, err
	}
	if err := checkStation(h.Station, topicStation); err != nil {
		return Heartbeat{}, err
	}
	if h.At.IsZero() {
		return Heartbeat{}, fieldErr("at: missing")
	}
	if h.IntervalS < 1 || h.IntervalS > 3600 {
		return Heartbeat{}, fieldErr("interval_s: 1 to 3600")
	}
	if h.Outbox.Depth < 0 || h.Outbox.Rejected < 0 || h.UptimeS < 0 {
		return Heartbeat{}, fieldErr("counts cannot be negative")
	}
	if len(h.Readers) > 32 {
		return Heartbeat{}, fieldErr("readers: at most 32")
	}
	for i, r := range h.Readers {
		switch r.State {
		case ReaderOK, ReaderFault, ReaderAbsent:
		default:
			return Heartbeat{}, fieldErr("readers[%d].state: ok, fault or absent", i)
		}
		if r.Name == "" || len(r.Name) > 32 || len(r.Kind) > 32 || len(r.Detail) > 256 {
			return Heartbeat{}, fieldErr("readers[%d]: name 1–32, kind ≤32, detail ≤256 characters", i)
		}
	}
	return h, nil
}
