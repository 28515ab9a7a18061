// Command simulate connects many simulated stations to a hub's broker
// (package e2e/sim: the agent's uplink, the real wire encoding, an
// in-memory outbox) and reports what they made, what the hub
// acknowledged and what waits, once a second.
//
//	simulate -registry sim.toml -n 10000            # write a registry for the hub, and exit
//	hub -stations sim.toml -mqtt 127.0.0.1:1883 ...
//	simulate -broker tcp://127.0.0.1:1883 -n 10000 -heartbeat 30 -rate 0.001 -duration 5m
//
// Load: -backlog gives every station check-ins to deliver when it first
// connects (ingest at full speed); -rate makes more while it runs.
// Outages: -outage-every and -outage-for take stations off one by one;
// -storm-at takes every station off at once and brings them all back
// together after -storm-for, and the report says how long until all were
// connected again and their outboxes empty. With -drain it stops making
// check-ins after -duration and waits until every outbox is empty (exit
// status 1 if that does not happen within -drain-limit).
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vetnet/vetnet/e2e/sim"
)

func main() {
	fs := flag.NewFlagSet("simulate", flag.ExitOnError)
	broker := fs.String("broker", "tcp://127.0.0.1:1883", "the hub's broker")
	n := fs.Int("n", 1000, "stations")
	prefix := fs.String("prefix", "sim", "station ID prefix (the district centre's ID)")
	regOut := fs.String("registry", "", "write the registry of the stations to this file (for hub -stations) and exit")
	hb := fs.Int("heartbeat", 30, "heartbeat interval, seconds")
	rate := fs.Float64("rate", 0, "check-ins per station per second")
	backlog := fs.Int("backlog", 0, "check-ins each station holds when it first connects")
	batch := fs.Int("batch", 50, "most check-ins per batch")
	ackTimeout := fs.Duration("ack-timeout", 10*time.Second, "resend a batch not acknowledged within this")
	spread := fs.Duration("spread", 0, "first connections spread over this window")
	outageEvery := fs.Duration("outage-every", 0, "mean time between one station's outages (0: none)")
	outageFor := fs.Duration("outage-for", 30*time.Second, "length of an outage")
	stormAt := fs.Duration("storm-at", 0, "take every station off at this time (0: no storm)")
	stormFor := fs.Duration("storm-for", 10*time.Second, "how long the storm keeps them off")
	stormBacklog := fs.Int("storm-backlog", 0, "check-ins each station makes while the storm keeps it off")
	duration := fs.Duration("duration", time.Minute, "how long to make check-ins")
	drain := fs.Bool("drain", false, "after -duration, stop making check-ins and wait for every outbox to empty")
	drainLimit := fs.Duration("drain-limit", 10*time.Minute, "with -drain: give up after this")
	hubMetrics := fs.String("hub-metrics", "", "the hub's /metrics URL: report how many stations the hub sees online")
	fs.Parse(os.Args[1:])

	stations := sim.District(*prefix, *n)
	if *regOut != "" {
		f, err := os.Create(*regOut)
		if err == nil {
			err = sim.WriteRegistry(f, stations)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "simulate:", err)
			os.Exit(1)
		}
		return
	}
	start := time.Now()
	s, err := sim.Start(sim.Options{Broker: *broker, Stations: stations, HeartbeatS: *hb, Rate: *rate, Backlog: *backlog,
		BatchMax: *batch, AckTimeout: *ackTimeout, Spread: *spread, OutageEvery: *outageEvery, OutageFor: *outageFor})
	if err != nil {
		fmt.Fprintln(os.Stderr, "simulate:", err)
		os.Exit(1)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last sim.Totals
	var allConnected, drained time.Duration
	var stormed, firstAck, hubOnline time.Time
	var firstAcked int64
	storm := time.After(*stormAt)
	if *stormAt <= 0 {
		storm = nil
	}
	end := time.After(*duration)
	stopping := false
	var limit <-chan time.Time
	code := 0
loop:
	for {
		select {
		case <-sig:
			break loop
		case <-storm:
			fmt.Printf("storm: every station off for %v, making %d check-ins each meanwhile\n", *stormFor, *stormBacklog)
			s.Storm(*stormFor, *stormBacklog)
			stormed = time.Now().Add(*stormFor)
			allConnected, drained = 0, 0
		case <-end:
			if !*drain {
				break loop
			}
			s.StopMaking()
			stopping = true
			limit = time.After(*drainLimit)
		case <-limit:
			fmt.Println("drain: outboxes not empty within the limit")
			code = 1
			break loop
		case <-tick.C:
			t := s.Totals()
			el := time.Since(start)
			online := ""
			if *hubMetrics != "" {
				n := onlineAtHub(*hubMetrics)
				online = fmt.Sprintf(" hub_online=%d", n)
				if n == t.Stations && hubOnline.IsZero() {
					hubOnline = time.Now()
					ref := start
					if !stormed.IsZero() {
						ref = stormed
					}
					fmt.Printf("the hub sees all %d stations online %.1fs after the %s\n", n, hubOnline.Sub(ref).Seconds(), what(stormed))
				}
				if n < t.Stations {
					hubOnline = time.Time{}
				}
			}
			if firstAck.IsZero() && t.Acked > 0 {
				firstAck, firstAcked = time.Now(), t.Acked
			}
			fmt.Printf("t=%6.1fs stations=%d connected=%d made=%d acked=%d outbox=%d acked/s=%d batches=%d resent=%d outages=%d%s\n",
				el.Seconds(), t.Stations, t.Connected, t.Made, t.Acked, t.Outbox, t.Acked-last.Acked, t.Batches, t.Resent, t.Outages, online)
			last = t
			ref := start
			if !stormed.IsZero() {
				ref = stormed
			}
			if time.Now().After(ref) {
				if allConnected == 0 && t.Connected == t.Stations {
					allConnected = time.Since(ref)
					fmt.Printf("all %d stations connected %.1fs after the %s\n", t.Stations, allConnected.Seconds(), what(stormed))
				}
				if allConnected != 0 && drained == 0 && t.Outbox == 0 {
					drained = time.Since(ref)
					fmt.Printf("every outbox empty %.1fs after the %s\n", drained.Seconds(), what(stormed))
				}
			}
			if stopping && t.Outbox == 0 {
				break loop
			}
		}
	}
	t := s.Totals()
	if !firstAck.IsZero() && t.Outbox == 0 && t.Acked > firstAcked {
		d := time.Since(firstAck)
		fmt.Printf("ingest: %d check-ins acknowledged in %.1fs after the first report with an ack: %.0f check-ins/s\n",
			t.Acked-firstAcked, d.Seconds(), float64(t.Acked-firstAcked)/d.Seconds())
	}
	fmt.Printf("total: stations=%d made=%d acked=%d outbox=%d in %.1fs\n", t.Stations, t.Made, t.Acked, t.Outbox, time.Since(start).Seconds())
	s.Close()
	os.Exit(code)
}

// onlineAtHub reads vetnet_hub_stations{state="online"} from the hub's
// metrics; -1 when it cannot.
func onlineAtHub(url string) int {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, `vetnet_hub_stations{state="online"} `); ok {
			n, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(n)
		}
	}
	return -1
}

func what(stormed time.Time) string {
	if stormed.IsZero() {
		return "start"
	}
	return "storm ended"
}
