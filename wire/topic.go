package wire

import (
	"strings"

	"github.com/vetnet/vetnet"
)

// Version is the protocol version, carried in every topic and payload.
const Version = 1

// Root is the prefix of every topic of this protocol version.
const Root = "vs/v1"

// Kind is the last level of a station topic: what the message is.
type Kind string

const (
	KindCheckIns  Kind = "checkins"  // station → hub, QoS 1: a batch of check-ins
	KindAcks      Kind = "acks"      // hub → station, QoS 1: what the hub committed
	KindStatus    Kind = "status"    // station → all, QoS 1, retained; also the last will
	KindHeartbeat Kind = "heartbeat" // station → hub, QoS 0: health and backlog
	KindConfig    Kind = "config"    // hub → station, QoS 1, retained: the station's configuration
	KindMeetings  Kind = "meetings"  // hub → station, QoS 1, retained: the station's upcoming meetings
)

// Kinds lists every kind of station topic.
var Kinds = []Kind{KindCheckIns, KindAcks, KindStatus, KindHeartbeat, KindConfig, KindMeetings}

// Topic returns vs/v1/st/{station}/{kind}.
func Topic(station string, k Kind) string {
	return Root + "/st/" + station + "/" + string(k)
}

// Filter returns the subscription filter for one kind across all stations:
// vs/v1/st/+/{kind}.
func Filter(k Kind) string { return Root + "/st/+/" + string(k) }

// SharedFilter returns Filter(k) as an MQTT shared subscription for group,
// so that several hub replicas split the messages between them.
func SharedFilter(group string, k Kind) string { return "$share/" + group + "/" + Filter(k) }

// ParseTopic splits a station topic into its station ID and kind. It fails
// for topics outside vs/v1/st/, unknown kinds and invalid station IDs.
func ParseTopic(topic string) (station string, k Kind, err error) {
	rest, ok := strings.CutPrefix(topic, Root+"/st/")
	if !ok {
		return "", "", decodeErr(ReasonTopic, "topic is not under "+Root+"/st/")
	}
	station, kind, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(kind, "/") {
		return "", "", decodeErr(ReasonTopic, "topic has the wrong number of levels")
	}
	if vetnet.ValidateStationID(station) != nil {
		return "", "", decodeErr(ReasonTopic, "topic names an invalid station ID")
	}
	for _, x := range Kinds {
		if Kind(kind) == x {
			return station, x, nil
		}
	}
	return "", "", decodeErr(ReasonTopic, "unknown topic kind "+kind)
}
