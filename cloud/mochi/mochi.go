// Package mochi is the hub's embedded MQTT broker, on
// github.com/mochi-mqtt/server/v2. Stations connect to it as to any
// broker; the hub itself is not a network client of it:
//
//   - Ingest is in-process. A hook's OnPublish sees every message a station
//     publishes to vs/v1/st/{station}/{checkins,status,heartbeat} and hands
//     it to Options.Handle synchronously, in the publishing client's
//     goroutine. The hub stores and acknowledges a batch before Handle
//     returns, so no queue sits between the broker and the store and
//     nothing is lost in a subscriber's in-flight window. A last will is
//     handed over the same way (OnWillSent), because mochi publishes wills
//     without calling OnPublish.
//   - The hub's own messages (acks, retained configurations) go out through
//     the server's inline client (Publish).
//
// Station messages are still delivered to any network subscriber, as a
// broker must; who may publish and subscribe to what is decided by the
// client's identity.
//
// # Identity
//
// With Options.TLS the listener speaks TLS and the TLS configuration
// decides who may connect (pki.ServerTLS: a client certificate of the
// district's CA, not on its revocation list). The certificate's common
// name is then the client's identity (as Mosquitto's
// use_identity_as_username): a station's certificate has CN = its station
// ID, the hub's CN = Options.HubIdentity. A station must connect with the
// client ID "station-{id}" (so it cannot take over another station's
// session), may publish only to its own checkins, heartbeat and status
// topics and subscribe only to its own acks, config and status topics; a
// publish outside them is refused (MQTT 3.1.1 clients are disconnected,
// as the protocol has no negative PUBACK), a subscription gets a failure
// code. The hub's identity may do everything. Handle receives the
// identity with each message, so the hub can check the topic against it
// as well. Without TLS the seam Options.Authenticate/Authorize decides
// (nil: everything allowed), and the identity handed over is "".
//
// Retained messages are kept in memory only: after a restart the hub
// publishes every station's configuration again, and stations publish
// their status again when they reconnect.
package mochi

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/wire"
)

// Options configure a Broker.
type Options struct {
	// Listen is the TCP address to listen on, e.g. "127.0.0.1:1883";
	// "127.0.0.1:0" picks a free port (see Broker.Addr). Required.
	Listen string

	// Handle receives every message published by a client (not by the hub
	// itself) on a station topic of a kind stations send (checkins,
	// status, heartbeat), and every such last will. It runs synchronously
	// in the publishing client's goroutine, before the broker answers the
	// client's PUBACK, so it must not wait on that client. from is the
	// publisher's identity (its certificate's CN) with TLS, "" without.
	// Required.
	Handle func(from, topic string, payload []byte)

	// TLS makes the listener a TLS listener; it should require and verify
	// client certificates (pki.ServerTLS), whose CN becomes the client's
	// identity and fixes its topics (see the package doc). Nil: plain TCP.
	TLS *tls.Config

	// HubIdentity is the CN that may publish and subscribe everywhere.
	// Default "vetnet-hub" (pki.HubIdentity).
	HubIdentity string

	// Authenticate decides whether a client may connect, without TLS.
	// Nil allows every client.
	Authenticate func(clientID, username string, password []byte) bool

	// Authorize decides whether a client may publish (write) to or
	// subscribe to (read) topic, without TLS. Nil allows everything.
	// With TLS the identity's ACL decides (see the package doc).
	Authorize func(clientID, username, topic string, write bool) bool

	// MaxPendingWrites is how many messages may wait to be written to one
	// client before the broker drops more for it. mochi's default, 8,192,
	// costs a 64 KiB queue per connection allocated up front (640 MB at
	// 10,000 stations); a station receives an ack per batch and its
	// retained configuration, so the default here is 64. A dropped ack
	// costs a resend and nothing else. Default 64.
	MaxPendingWrites int

	// Logf receives the broker's warnings and errors. Default: discarded.
	Logf func(format string, args ...any)
}

// Broker is a running embedded broker.
type Broker struct {
	srv    *mqtt.Server
	ln     net.Listener
	addr   net.Addr
	closed atomic.Bool
}

// Open starts a broker listening on opts.Listen. Errors: EINVALID
// (missing options), EUNAVAILABLE (the address cannot be listened on).
func Open(opts Options) (*Broker, error) {
	if opts.Listen == "" || opts.Handle == nil {
		return nil, vetnet.Errorz(vetnet.EINVALID, "内置消息服务器缺少监听地址或处理函数", "The embedded broker needs a listen address and a handler.")
	}
	// Listening here, before mochi sees the listener, is what makes ":0"
	// safe: the port is ours from this moment, and Addr reports it.
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, vetnet.Wrap(vetnet.EUNAVAILABLE, err, "消息服务器端口无法监听", "The broker cannot listen on "+opts.Listen+".")
	}
	addr := ln.Addr()
	if opts.TLS != nil {
		ln = tls.NewListener(ln, opts.TLS)
	}
	if opts.HubIdentity == "" {
		opts.HubIdentity = "vetnet-hub"
	}
	caps := mqtt.NewDefaultServerCapabilities()
	// mochi expires retained messages after a day by default; a station's
	// configuration must stay retained until the hub replaces it.
	caps.MaximumMessageExpiryInterval = 0
	if opts.MaxPendingWrites <= 0 {
		opts.MaxPendingWrites = 64
	}
	caps.MaximumClientWritesPending = int32(opts.MaxPendingWrites)
	srv := mqtt.New(&mqtt.Options{
		InlineClient: true,
		Capabilities: caps,
		Logger:       slog.New(slog.NewTextHandler(logWriter{opts.Logf}, &slog.HandlerOptions{Level: slog.LevelWarn, ReplaceAttr: withholdPackets})),
	})
	if err := srv.AddHook(&hook{opts: opts}, nil); err != nil {
		ln.Close()
		return nil, vetnet.Wrap(vetnet.EINTERNAL, err, "消息服务器初始化失败", "The broker could not be set up.")
	}
	if err := srv.AddListener(&listener{id: "tcp", ln: ln}); err != nil {
		ln.Close()
		return nil, vetnet.Wrap(vetnet.EINTERNAL, err, "消息服务器初始化失败", "The broker could not be set up.")
	}
	if err := srv.Serve(); err != nil {
		srv.Close()
		return nil, vetnet.Wrap(vetnet.EINTERNAL, err, "消息服务器启动失败", "The broker could not start.")
	}
	return &Broker{srv: srv, ln: ln, addr: addr}, nil
}

// Addr returns the address the broker listens on, with the real port.
func (b *Broker) Addr() string { return b.addr.String() }

// Disconnect closes the connections of network clients whose certificate
// revoked reports revoked (a stolen device cut off as soon as the CRL
// lists it), and returns how many it closed. Without TLS it does nothing.
func (b *Broker) Disconnect(revoked func(*x509.Certificate) bool) int {
	n := 0
	for _, cl := range b.srv.Clients.GetAll() {
		if cl.Net.Inline || cl.Closed() {
			continue
		}
		if c := peerCert(cl); c != nil && revoked(c) {
			b.srv.DisconnectClient(cl, packets.ErrNotAuthorized)
			cl.Stop(packets.ErrNotAuthorized)
			n++
		}
	}
	return n
}

// peerCert returns the client's certificate, nil without TLS.
func peerCert(cl *mqtt.Client) *x509.Certificate {
	tc, ok := cl.Net.Conn.(*tls.Conn)
	if !ok {
		return nil
	}
	if cs := tc.ConnectionState(); len(cs.PeerCertificates) > 0 {
		return cs.PeerCertificates[0]
	}
	return nil
}

// Up reports whether the broker is running.
func (b *Broker) Up() bool { return !b.closed.Load() }

// Clients returns the number of connected network clients.
func (b *Broker) Clients() int {
	n := 0
	for _, cl := range b.srv.Clients.GetAll() {
		if !cl.Net.Inline && !cl.Closed() {
			n++
		}
	}
	return n
}

// Publish sends a message from the hub to subscribers, retained if asked.
// Errors: EUNAVAILABLE (the broker is closed), EINTERNAL.
func (b *Broker) Publish(topic string, payload []byte, retain bool, qos byte) error {
	if b.closed.Load() {
		return vetnet.Errorz(vetnet.EUNAVAILABLE, "消息服务器已关闭", "The broker is closed.")
	}
	if err := b.srv.Publish(topic, payload, retain, qos); err != nil {
		return vetnet.Wrap(vetnet.EINTERNAL, err, "消息发布失败", "The message could not be published.")
	}
	return nil
}

// Close disconnects every client and stops the broker. Safe to call twice.
func (b *Broker) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	return b.srv.Close()
}

// hook hands station messages to the hub and holds the auth seam.
type hook struct {
	mqtt.HookBase
	opts Options
}

func (h *hook) ID() string { return "vetnet-hub" }

func (h *hook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnPublish, mqtt.OnWillSent}, []byte{b})
}

func (h *hook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	if h.opts.TLS == nil {
		if h.opts.Authenticate == nil {
			return true
		}
		return h.opts.Authenticate(cl.ID, string(pk.Connect.Username), pk.Connect.Password)
	}
	c := peerCert(cl)
	if c == nil || c.Subject.CommonName == "" {
		return false
	}
	id := c.Subject.CommonName
	if id != h.opts.HubIdentity && cl.ID != "station-"+id {
		h.logf("mqtt broker: %s refused: client ID %q is not station-%s", id, cl.ID, id)
		return false
	}
	// The identity replaces whatever user name the client sent, as
	// Mosquitto's use_identity_as_username does.
	cl.Properties.Username = []byte(id)
	return true
}

func (h *hook) logf(format string, a ...any) {
	if h.opts.Logf != nil {
		h.opts.Logf(format, a...)
	}
}

// identity is the client's certificate CN with TLS, "" without.
func (h *hook) identity(cl *mqtt.Client) string {
	if h.opts.TLS == nil {
		return ""
	}
	return string(cl.Properties.Username)
}

func (h *hook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if h.opts.TLS == nil {
		if h.opts.Authorize == nil {
			return true
		}
		return h.opts.Authorize(cl.ID, string(cl.Properties.Username), topic, write)
	}
	id := h.identity(cl)
	if id == h.opts.HubIdentity {
		return true
	}
	ok := Allowed(id, topic, write)
	if !ok {
		h.logf("mqtt broker: %s may not %s %s", id, map[bool]string{true: "publish to", false: "subscribe to"}[write], topic)
	}
	return ok
}

// Allowed is a station's ACL: whether station may publish (write) to or
// subscribe to (read) topic. deploy/mosquitto/acl says the same for
// Mosquitto.
func Allowed(station, topic string, write bool) bool {
	if station == "" || vetnet.ValidateStationID(station) != nil {
		return false
	}
	kind, ok := strings.CutPrefix(topic, wire.Root+"/st/"+station+"/")
	if !ok {
		return false
	}
	switch wire.Kind(kind) {
	case wire.KindCheckIns, wire.KindHeartbeat:
		return write
	case wire.KindAcks, wire.KindConfig, wire.KindMeetings:
		return !write
	case wire.KindStatus:
		return true
	}
	return false
}

func (h *hook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if !cl.Net.Inline && ingested(pk.TopicName) {
		h.opts.Handle(h.identity(cl), pk.TopicName, pk.Payload)
	}
	return pk, nil
}

func (h *hook) OnWillSent(cl *mqtt.Client, pk packets.Packet) {
	if ingested(pk.TopicName) {
		h.opts.Handle(h.identity(cl), pk.TopicName, pk.Payload)
	}
}

// ingested reports whether topic is a station topic the hub consumes.
// Topics under vs/v1/st/ that do not parse are handed over too, so the
// hub counts them as bad topics; the hub's own kinds (acks, config,
// meetings) are not.
func ingested(topic string) bool {
	if !strings.HasPrefix(topic, wire.Root+"/st/") {
		return false
	}
	switch {
	case strings.HasSuffix(topic, "/"+string(wire.KindAcks)), strings.HasSuffix(topic, "/"+string(wire.KindConfig)),
		strings.HasSuffix(topic, "/"+string(wire.KindMeetings)):
		return false
	}
	return true
}

// listener is a mochi listener on a net.Listener opened by Open.
//
// It keeps the connections it accepted until mochi is done with them:
// mochi closes only the clients it has registered, which it does after
// their CONNECT, so a connection accepted just before Close and
// registered just after would live on and keep Close (and the hub's clean
// stop) waiting for it forever. Close closes those too.
type listener struct {
	id    string
	ln    net.Listener
	log   *slog.Logger
	once  sync.Once
	mu    sync.Mutex
	end   bool
	conns map[net.Conn]struct{}
}

var _ listeners.Listener = (*listener)(nil)

func (l *listener) Init(log *slog.Logger) error { l.log = log; return nil }
func (l *listener) ID() string                  { return l.id }
func (l *listener) Address() string             { return l.ln.Addr().String() }
func (l *listener) Protocol() string            { return "tcp" }

func (l *listener) Serve(establish listeners.EstablishFn) {
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			return // closed
		}
		l.mu.Lock()
		if l.end {
			l.mu.Unlock()
			conn.Close()
			return
		}
		if l.conns == nil {
			l.conns = map[net.Conn]struct{}{}
		}
		l.conns[conn] = struct{}{}
		l.mu.Unlock()
		go func() {
			defer func() {
				l.mu.Lock()
				delete(l.conns, conn)
				l.mu.Unlock()
			}()
			if err := establish(l.id, conn); err != nil && l.log != nil {
				l.log.Debug("connection ended", "error", err)
			}
		}()
	}
}

func (l *listener) Close(closeClients listeners.CloseFn) {
	l.once.Do(func() {
		l.mu.Lock()
		l.end = true
		l.mu.Unlock()
		l.ln.Close()
		closeClients(l.id)
		l.mu.Lock()
		for c := range l.conns {
			c.Close()
		}
		l.mu.Unlock()
	})
}

// withholdPackets keeps packets out of the broker's log: mochi logs the
// whole packet of a failed publish, payload included, and a check-in
// batch's payload holds ID numbers and names (found by the end-to-end
// scan for unmasked identities, TestNoPersonalDataLeaks).
func withholdPackets(_ []string, a slog.Attr) slog.Attr {
	switch a.Key {
	case "pk", "packet", "payload", "data":
		return slog.String(a.Key, "(withheld: may hold personal data)")
	}
	return a
}

// logWriter turns slog's text lines into Logf calls.
type logWriter struct{ logf func(string, ...any) }

func (w logWriter) Write(p []byte) (int, error) {
	if w.logf != nil {
		w.logf("mqtt broker: %s", strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

var _ io.Writer = logWriter{}
