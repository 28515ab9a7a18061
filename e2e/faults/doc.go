// Package faults runs the station network's real programs under faults
// and checks the promise made to a veteran: once the kiosk said "done",
// the hub holds that check-in exactly once.
//
// Run builds (or takes) the hub and edge-agent binaries, starts a hub
// (with its embedded broker, or with a private Mosquitto the harness
// starts on a free port with its own configuration), and one agent per
// station, each reaching the broker through a TCP Proxy the harness
// controls. It plays the kiosks through each agent's local API: a card
// kiosk (simulated card tap, card event, check-in with the token) and
// staff desks (check-in with a typed ID number), all stations at once.
// Meanwhile it injects faults one after another at moments spread over
// the traffic:
//
//   - agent-kill: SIGKILL an agent while check-in requests to it are in
//     flight, then start it again on the same data directory;
//   - broker-restart: with the embedded broker, stop the hub cleanly
//     (SIGTERM) and start it again, since the broker lives in it; with
//     Mosquitto, kill the broker and start it again (the hub stays up);
//   - hub-restart: SIGKILL the hub and start it again (with Mosquitto the
//     broker stays up);
//   - link-cut: cut the links of some stations (reset: every connection
//     closed and new ones refused; or blackhole: nothing moves, nothing is
//     closed) and restore them.
//
// Each kiosk request ends in one of three ways, recorded in the station's
// Ledger: told done (HTTP 200, with the check-in's ID and seq), refused
// (an error answer: nothing committed), or unknown (no answer, because
// the agent died with the request in flight: it may or may not have been
// committed). A card kiosk that lost an answer tries the same token once
// more, as the real kiosk does; an agent that kept running answers it
// with the first answer.
//
// At the end the harness stops the traffic, heals every link, waits until
// every outbox is empty, reads the hub's check-ins through its API and
// Verify checks each station: every check-in told done is at the hub
// once with the same seq, no ID and no seq is stored twice, the hub holds
// exactly seq 1..N where N is the station's last committed seq (so the
// unknown requests that were committed are there too, and no more rows
// than unknown requests are unexplained), and the outbox is empty.
//
// The short form runs in the package's tests (make test); the long form
// is the command e2e/cmd/faultrun. Results are in docs/reliability.md.
package faults
