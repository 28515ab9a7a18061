package mochi

import (
	"net"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// TestCloseWithConnectionBeingEstablished: a station's connection that
// the broker accepted but had not registered yet when Close began (its
// CONNECT comes while the broker closes) must not keep the broker, and
// so the hub's clean stop, waiting forever.
func TestCloseWithConnectionBeingEstablished(t *testing.T) {
	b, err := Open(Options{Listen: "127.0.0.1:0", Handle: func(string, string, []byte) {}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(100 * time.Millisecond) // accepted, waiting for its CONNECT

	closed := make(chan struct{})
	go func() {
		b.Close()
		close(closed)
	}()
	time.Sleep(100 * time.Millisecond)
	cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	cp.ProtocolName, cp.ProtocolVersion, cp.CleanSession, cp.Keepalive = "MQTT", 4, true, 30
	cp.ClientIdentifier = "station-late"
	_ = cp.Write(c) // may fail: the connection may be closed already

	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close still waits for a connection that was being established")
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	for {
		if _, err := c.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the late connection is still open after Close")
			}
			break
		}
	}
}
