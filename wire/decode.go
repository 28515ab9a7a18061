package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vetnet/vetnet"
)

// Size limits, in bytes. A payload above its limit is rejected before it
// is parsed.
const (
	MaxCheckInsPayload = 256 << 10 // a batch of check-ins
	MaxControlPayload  = 16 << 10  // status, heartbeat, ack
	MaxConfigPayload   = 64 << 10  // configuration
	MaxMeetingsPayload = 64 << 10  // a station's meetings
	MaxBatch           = 500       // check-ins in one batch
)

// Reasons a payload is rejected; stable strings for counters and logs.
const (
	ReasonTopic       = "bad_topic"         // the topic is not one of ours
	ReasonTooLarge    = "too_large"         // above the size limit
	ReasonJSON        = "bad_json"          // not one JSON object, or trailing data
	ReasonVersion     = "bad_version"       // "v" missing or not supported
	ReasonUnknown     = "unknown_field"     // a field this version does not have
	ReasonField       = "invalid_field"     // a field is missing or breaks a rule
	ReasonStation     = "station_mismatch"  // the payload names another station than its topic
	ReasonEmptyBatch  = "empty_batch"       // a batch without check-ins
	ReasonBatchTooBig = "batch_too_big"     // more than MaxBatch check-ins
	ReasonSignature   = "bad_signature"     // a configuration not signed by the hub's key
	ReasonIdentity    = "identity_mismatch" // the topic names another station than the sender's certificate
)

// DecodeError says why a payload was rejected. It unwraps to a
// *vetnet.Error with code EINVALID.
type DecodeError struct {
	Reason string // one of the Reason* constants
	Detail string // what exactly; never contains personal data
}

func (e *DecodeError) Error() string { return "wire: " + e.Reason + ": " + e.Detail }

func (e *DecodeError) Unwrap() error {
	return &vetnet.Error{Code: vetnet.EINVALID, Message: e.Reason + ": " + e.Detail}
}

func decodeErr(reason, detail string) *DecodeError {
	return &DecodeError{Reason: reason, Detail: detail}
}

// Reason returns the Reason of a *DecodeError in err's chain, or "" if none.
func Reason(err error) string {
	var de *DecodeError
	if errors.As(err, &de) {
		return de.Reason
	}
	return ""
}

// versioned is a payload: every payload carries its version in "v".
type versioned interface{ version() int }

func (b *CheckInBatch) version() int { return b.V }
func (a *Ack) version() int          { return a.V }
func (s *Status) version() int       { return s.V }
func (h *Heartbeat) version() int    { return h.V }
func (c *Config) version() int       { return c.V }
func (m *Meetings) version() int     { return m.V }

// decode parses data into v strictly: size limit, no unknown fields,
// exactly one JSON value, the version. It parses once; only when that
// fails does it look at "v" alone, so that a payload of another version is
// reported as such rather than as having unknown fields.
func decode(data []byte, limit int, v versioned) error {
	if len(data) > limit {
		return decodeErr(ReasonTooLarge, fmt.Sprintf("%d bytes, limit %d", len(data), limit))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if verr := checkVersion(data); verr != nil {
			return verr
		}
		if strings.HasPrefix(err.Error(), "json: unknown field") {
			return decodeErr(ReasonUnknown, err.Error()[len("json: "):])
		}
		return decodeErr(ReasonJSON, jsonDetail(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		if verr := checkVersion(data); verr != nil {
			return verr
		}
		return decodeErr(ReasonJSON, "data after the JSON object")
	}
	switch v.version() {
	case Version:
		return nil
	case 0:
		return decodeErr(ReasonVersion, `field "v" is missing`)
	default:
		return decodeErr(ReasonVersion, fmt.Sprintf("version %d is not supported (this end speaks %d)", v.version(), Version))
	}
}

// checkVersion reads only "v" of a payload that failed to decode: nil when
// it is this version (or unreadable: then the JSON error stands).
func checkVersion(data []byte) error {
	var head struct {
		V *int `json:"v"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil
	}
	switch {
	case head.V == nil:
		return decodeErr(ReasonVersion, `field "v" is missing`)
	case *head.V != Version:
		return decodeErr(ReasonVersion, fmt.Sprintf("version %d is not supported (this end speaks %d)", *head.V, Version))
	}
	return nil
}

// jsonDetail describes a JSON error without quoting the payload, which may
// hold personal data.
func jsonDetail(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q has the wrong type (%s)", te.Field, te.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	}
	return "malformed JSON"
}

func fieldErr(format string, args ...any) *DecodeError {
	return decodeErr(ReasonField, fmt.Sprintf(format, args...))
}

// checkStation checks the station field of a payload against its topic.
// topicStation "" skips the comparison (the caller has no topic).
func checkStation(payload, topicStation string) error {
	if err := vetnet.ValidateStationID(payload); err != nil {
		return fieldErr("station: invalid station ID")
	}
	if topicStation != "" && payload != topicStation {
		return decodeErr(ReasonStation, fmt.Sprintf("payload names station %q on the topic of %q", payload, topicStation))
	}
	return nil
}

// BatchLabel returns the "batch" label of a check-in batch payload without
// decoding it into check-ins, for an answer that must name the batch but
// should not spend a full decode on it (a station over its rate). Like the
// decoder, it takes the last "batch" key of the object. It returns "" when
// the payload is too large, not one JSON object, or has no valid label.
func BatchLabel(data []byte) string {
	if len(data) > MaxCheckInsPayload {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	label := ""
	for dec.More() {
		k, err := dec.Token()
		key, ok := k.(string)
		if err != nil || !ok {
			return ""
		}
		if strings.EqualFold(key, "batch") { // encoding/json matches keys without case
			var s string
			if dec.Decode(&s) != nil || len(s) > 64 {
				return ""
			}
			label = s
			continue
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return ""
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return ""
	}
	return label
}
