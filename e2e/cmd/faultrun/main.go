// Command faultrun is the long form of the fault test: it runs the hub and
// many edge agents as real processes, drives check-ins at every station
// through the agents' local APIs while it kills agents, restarts the
// broker and the hub and cuts links, then checks that the hub holds
// exactly once every check-in a kiosk was told was done. It prints a
// report and exits 1 if anything was lost or doubled.
//
//	go run ./e2e/cmd/faultrun -stations 20 -checkins 100000 -faults 10 -broker embedded
//	go run ./e2e/cmd/faultrun -stations 20 -checkins 100000 -faults 10 -broker mosquitto
//
// Run it from the repository (it builds cloud/cmd/hub and
// edge-agent/cmd/edge-agent with go build unless -bin names a directory
// holding them). See docs/reliability.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/vetnet/vetnet/e2e/faults"
)

func main() {
	cfg, verbose, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "faultrun:", err)
		os.Exit(2)
	}
	logger := log.New(os.Stderr, "faultrun: ", log.Ltime)
	cfg.Logf = logger.Printf
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := faults.Run(ctx, cfg)
	if rep != nil && len(rep.Stations) > 0 {
		rep.WriteText(os.Stdout, verbose)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "faultrun:", err)
		if rep != nil {
			fmt.Fprintln(os.Stderr, "faultrun: logs in", rep.Dir)
		}
		os.Exit(1)
	}
	if !rep.OK() {
		fmt.Fprintln(os.Stderr, "faultrun: logs in", rep.Dir)
		os.Exit(1)
	}
}

func parseFlags(args []string) (faults.Config, bool, error) {
	var c faults.Config
	fs := flag.NewFlagSet("faultrun", flag.ContinueOnError)
	fs.IntVar(&c.Stations, "stations", 20, "stations, each with its own edge agent")
	fs.IntVar(&c.CheckIns, "checkins", 100000, "check-in requests in all, spread over the stations")
	fs.IntVar(&c.FaultsPerKind, "faults", 10, "faults of each kind")
	kinds := fs.String("kinds", "", "fault kinds, comma-separated (default all: agent-kill,broker-restart,hub-restart,link-cut)")
	broker := fs.String("broker", "embedded", "broker: embedded (the hub's own) or mosquitto (a private one on a free port)")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the fault plan, the victims and the visitors")
	fs.IntVar(&c.Desks, "desks", faults.DefaultDesks, "staff desks per station typing ID numbers, besides the card kiosk")
	fs.DurationVar(&c.DownMin, "down-min", 500*time.Millisecond, "shortest fault (process down, link cut)")
	fs.DurationVar(&c.DownMax, "down-max", 5*time.Second, "longest fault")
	fs.DurationVar(&c.TrafficLimit, "limit", faults.DefaultTrafficLimit, "time limit of the traffic and faults")
	fs.DurationVar(&c.DrainLimit, "drain-limit", faults.DefaultDrainLimit, "time limit for the outboxes to empty at the end")
	fs.DurationVar(&c.AckTimeout, "ack-timeout", faults.DefaultAckTimeout, "agents' -ack-timeout")
	fs.DurationVar(&c.MaxBackoff, "max-backoff", faults.DefaultMaxBackoff, "agents' -max-backoff")
	fs.DurationVar(&c.Reconnect, "reconnect", faults.DefaultReconnect, "agents' -reconnect")
	fs.StringVar(&c.Dir, "dir", "", "work directory (data, logs); default a temporary one, removed after a pass")
	fs.StringVar(&c.Bin, "bin", "", "directory with the hub and edge-agent binaries; default build them")
	verbose := fs.Bool("v", true, "list every fault in the report")
	if err := fs.Parse(args); err != nil {
		return c, false, err
	}
	if fs.NArg() > 0 {
		return c, false, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.Broker = faults.Broker(*broker)
	if *kinds != "" {
		for _, k := range strings.Split(*kinds, ",") {
			c.Kinds = append(c.Kinds, faults.FaultKind(strings.TrimSpace(k)))
		}
	}
	return c, *verbose, nil
}
