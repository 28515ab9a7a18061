// Package wire is protocol v1 between station agents and the hub: the MQTT
// topics and the JSON payloads that travel on them. It is documented for
// people in docs/protocol.md; golden files of every message are in
// testdata/.
//
// Payloads are not domain types. Each carries "v": 1, is converted
// explicitly to and from the vetnet types (ToDomain, ...ToWire), and is
// decoded strictly: a payload that is too large, is not a single JSON
// object, has an unknown version or an unknown field, lacks a required
// field or names another station than its topic is rejected whole with a
// *DecodeError whose Reason can be counted. Nothing is half-applied.
//
// The package imports only the standard library and the domain package.
package wire
