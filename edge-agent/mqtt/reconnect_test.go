package mqtt_test

import (
	"io"
	"math/rand/v2"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/vetnet/vetnet/edge-agent/mqtt"
	"github.com/vetnet/vetnet/edge-agent/mqtt/mqtttest"
)

// chaosFront stands before a broker. While chaos is set, each connection
// at random: is accepted with a CONNACK and dropped without answering the
// subscriptions; hangs and is dropped; or reaches the broker late and is
// dropped after a while. Otherwise it reaches the broker, a little late.
func chaosFront(t *testing.T, broker string, chaos *atomic.Bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	sleep := func(maxMS int) { time.Sleep(time.Duration(rand.IntN(maxMS)) * time.Millisecond) }
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				wild := chaos.Load()
				if wild {
					switch rand.IntN(3) {
					case 0:
						if _, err := packets.ReadPacket(c); err != nil { // CONNECT
							return
						}
						if packets.NewControlPacket(packets.Connack).Write(c) != nil {
							return
						}
						sleep(300)
						return
					case 1:
						sleep(1500)
						return
					}
				}
				sleep(500)
				up, err := net.Dial("tcp", broker)
				if err != nil {
					return
				}
				defer up.Close()
				if wild && rand.IntN(2) == 0 {
					go func() {
						sleep(2000)
						c.Close()
						up.Close()
					}()
				}
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
	return "tcp://" + ln.Addr().String()
}

// TestReconnectUnderChaos: connections that drop at every stage (before
// the CONNACK, between the CONNACK and the SUBACKs, soon after) while
// Paho reconnects. Once the link is sound again every uplink must end up
// connected: none may give up. (An uplink that dropped the connection
// itself after a failed subscription used to race Paho's reconnection
// and stay offline for good.)
func TestReconnectUnderChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("15 s")
	}
	b := mqtttest.NewBroker(t)
	var chaos atomic.Bool
	chaos.Store(true)
	url := chaosFront(t, b.Addr, &chaos)
	var ups []*mqtt.Uplink
	for i := 0; i < 20; i++ {
		u, err := mqtt.Open(mqtt.Options{Broker: url, StationID: uniqueStation(), Agent: "test", HeartbeatS: 5,
			KeepAlive: 2 * time.Second, RetryInterval: 100 * time.Millisecond, MaxReconnectInterval: 500 * time.Millisecond,
			PublishTimeout: 500 * time.Millisecond, ConnectTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = u.Close() })
		ups = append(ups, u)
	}
	time.Sleep(10 * time.Second)
	chaos.Store(false)
	deadline := time.Now().Add(20 * time.Second)
	for {
		down := 0
		for _, u := range ups {
			if !u.Connected() {
				down++
			}
		}
		if down == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d uplinks still offline 20 s after the link became sound", down, len(ups))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
