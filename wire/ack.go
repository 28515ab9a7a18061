package wire

import (
	"encoding/json"
	"time"
)

// Ack is the payload of vs/v1/st/{station}/acks: the hub's answer to one
// CheckInBatch, sent only after the hub committed what it names. IDs lists
// every check-in of the batch that the hub now holds, whether it stored it
// just now or had it already; the station clears exactly those from its
// outbox. Rejected lists check-ins the hub will never accept as they are;
// when any check-in is rejected the hub stores none of the batch (a batch is
// never half-applied) and the station resends the others. Error is set
// when the whole message was rejected before its check-ins could be read.
type Ack struct {
	V        int         `json:"v"`
	Station  string      `json:"station"`
	Batch    string      `json:"batch"` // the Batch of the CheckInBatch answered; empty if unreadable
	IDs      []string    `json:"ids"`
	Rejected []Rejection `json:"rejected,omitempty"`
	Error    *Problem    `json:"error,omitempty"`
	At       time.Time   `json:"at"` // hub clock
}

// Rejection names a check-in the hub refused and why.
type Rejection struct {
	ID     string `json:"id"`
	Seq    uint64 `json:"seq"`
	Code   string `json:"code"`   // a vetnet error code, e.g. invalid
	Reason string `json:"reason"` // for people, English; never personal data
}

// Problem is a whole-message rejection.
type Problem struct {
	Reason string `json:"reason"` // one of the Reason* constants
	Detail string `json:"detail"`
}

// Encode returns the JSON payload.
func (a Ack) Encode() ([]byte, error) {
	if a.IDs == nil {
		a.IDs = []string{}
	}
	return json.Marshal(a)
}

// DecodeAck parses an ack received on the topic of topicStation.
func DecodeAck(topicStation string, data []byte) (Ack, error) {
	var a Ack
	if err := decode(data, MaxCheckInsPayload, &a); err != nil {
		return Ack{}, err
	}
	if err := checkStation(a.Station, topicStation); err != nil {
		return Ack{}, err
	}
	if a.IDs == nil {
		return Ack{}, fieldErr(`ids: missing (send [] for none)`)
	}
	if a.At.IsZero() {
		return Ack{}, fieldErr("at: missing")
	}
	return a, nil
}
