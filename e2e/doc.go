// Package e2e holds the end-to-end tests of the whole system: a hub and
// station agents started in-process on free ports, talking over a real MQTT
// broker (the hub's embedded one, or Mosquitto on 127.0.0.1:1883), driven
// through the agents' local API as a kiosk drives them, and checked through
// the hub's HTTP API as the dashboard reads it.
package e2e
