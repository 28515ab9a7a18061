package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vetnet/vetnet/cloud/web"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

// Broker is the kind of broker a run uses.
type Broker string

const (
	// BrokerEmbedded is the hub's own broker (the default deployment).
	BrokerEmbedded Broker = "embedded"
	// BrokerMosquitto is a private Mosquitto the harness starts.
	BrokerMosquitto Broker = "mosquitto"
)

// FaultKind names a kind of fault.
type FaultKind string

// The kinds of fault; see the package documentation.
const (
	AgentKill     FaultKind = "agent-kill"
	BrokerRestart FaultKind = "broker-restart"
	HubRestart    FaultKind = "hub-restart"
	LinkCut       FaultKind = "link-cut"
)

// Kinds are all kinds of fault, in report order.
var Kinds = []FaultKind{AgentKill, BrokerRestart, HubRestart, LinkCut}

// Defaults of Config.
const (
	DefaultStations      = 4
	DefaultCheckIns      = 2000
	DefaultFaultsPerKind = 2
	DefaultDesks         = 2
	DefaultDownMin       = 300 * time.Millisecond
	DefaultDownMax       = 2 * time.Second
	DefaultTrafficLimit  = 30 * time.Minute
	DefaultDrainLimit    = 3 * time.Minute
	DefaultAckTimeout    = 3 * time.Second
	DefaultMaxBackoff    = 6 * time.Second
	DefaultReconnect     = time.Second
)

// Config configures a Run. Zero fields take the defaults.
type Config struct {
	Stations      int         // stations, each with its own agent; default 4
	CheckIns      int         // check-in requests in all, across the stations; default 2,000
	FaultsPerKind int         // faults of each kind; default 2
	Kinds         []FaultKind // kinds to inject; default all (Kinds)
	Broker        Broker      // default BrokerEmbedded
	Seed          uint64      // chooses the fault plan, victims, visitors; default 1
	// Desks is the number of staff desks per station typing ID numbers,
	// each with one request at a time, besides the station's card kiosk.
	// Default 2.
	Desks int
	// DownMin and DownMax bound how long a fault lasts (a process down, a
	// link cut), chosen at random for each. Default 300 ms and 2 s.
	DownMin, DownMax time.Duration
	// TrafficLimit bounds the traffic and fault phase; past it the run
	// stops the traffic, still drains and checks, and reports itself
	// incomplete. Default 30 min.
	TrafficLimit time.Duration
	// DrainLimit bounds the wait for every outbox to empty. Default 3 min.
	DrainLimit time.Duration
	// The agents' timeouts (edge-agent -ack-timeout, -max-backoff,
	// -reconnect). Defaults 3 s, 6 s and 1 s: shorter than in the field,
	// so that a run spends its time on faults rather than on backoff.
	AckTimeout, MaxBackoff, Reconnect time.Duration
	// Dir is the work directory (binaries, registry, data, logs). Default:
	// a new temporary directory, removed after a passing run.
	Dir string
	// Bin is a directory holding the hub and edge-agent binaries. Default:
	// build them with go build into Dir/bin.
	Bin string
	// Logf receives progress. Default: discarded.
	Logf func(format string, args ...any)
}

func (c *Config) defaults() error {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Stations, DefaultStations)
	def(&c.CheckIns, DefaultCheckIns)
	def(&c.FaultsPerKind, DefaultFaultsPerKind)
	def(&c.Desks, DefaultDesks)
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defd(&c.DownMin, DefaultDownMin)
	defd(&c.DownMax, DefaultDownMax)
	defd(&c.TrafficLimit, DefaultTrafficLimit)
	defd(&c.DrainLimit, DefaultDrainLimit)
	defd(&c.AckTimeout, DefaultAckTimeout)
	defd(&c.MaxBackoff, DefaultMaxBackoff)
	defd(&c.Reconnect, DefaultReconnect)
	if len(c.Kinds) == 0 {
		c.Kinds = append([]FaultKind(nil), Kinds...)
	}
	for _, k := range c.Kinds {
		if !validKind(k) {
			return fmt.Errorf("unknown fault kind %q (want %v)", k, Kinds)
		}
	}
	if c.Broker == "" {
		c.Broker = BrokerEmbedded
	}
	if c.Broker != BrokerEmbedded && c.Broker != BrokerMosquitto {
		return fmt.Errorf("unknown broker %q (want embedded or mosquitto)", c.Broker)
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.DownMax < c.DownMin {
		return fmt.Errorf("the longest fault (%v) is shorter than the shortest (%v)", c.DownMax, c.DownMin)
	}
	if c.Stations > 999 {
		return fmt.Errorf("at most 999 stations")
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	return nil
}

func validKind(k FaultKind) bool {
	for _, v := range Kinds {
		if v == k {
			return true
		}
	}
	return false
}

// Fault is one fault injected.
type Fault struct {
	Kind   FaultKind
	At     time.Duration // since the traffic began
	Target string        // station IDs, "hub" or "mosquitto"
	Detail string        // what was done
	Down   time.Duration // how long the target was down or cut
	Back   time.Duration // how long it took to answer again after the restart
}

// Report is the outcome of a Run.
type Report struct {
	Config   Config
	Machine  string
	Started  time.Time
	Setup    time.Duration // build and start
	Traffic  time.Duration // traffic and faults
	Drain    time.Duration // from the end of traffic to every outbox empty
	Total    time.Duration
	Faults   []Fault
	Stations []StationResult
	HubTotal int // rows at the hub, all stations
	// Problems are failures outside the stations' verdicts: a process
	// that died by itself, an outbox that did not drain, a run that did
	// not reach its targets.
	Problems []string
	Dir      string // work directory with the logs (kept after a failure)
}

// Totals sums the stations.
func (r *Report) Totals() StationResult {
	t := StationResult{Station: "total"}
	for _, s := range r.Stations {
		t.Made += s.Made
		t.Done += s.Done
		t.Replays += s.Replays
		t.Unknown += s.Unknown
		t.Refused += s.Refused
		t.Committed += s.Committed
		t.Stored += s.Stored
		t.Lost += s.Lost
		t.Doubled += s.Doubled
		t.Gaps += s.Gaps
		t.Beyond += s.Beyond
		t.Extra += s.Extra
		t.Depth += s.Depth
		t.Rejected += s.Rejected
	}
	return t
}

// FaultCounts counts the faults injected by kind.
func (r *Report) FaultCounts() map[FaultKind]int {
	n := map[FaultKind]int{}
	for _, f := range r.Faults {
		n[f.Kind]++
	}
	return n
}

// OK is the pass condition of the whole run: every station's verdict
// passes, the hub holds no rows of other stations, every planned fault
// was injected, every request was made, and nothing else went wrong.
func (r *Report) OK() bool {
	if len(r.Problems) > 0 || len(r.Stations) == 0 {
		return false
	}
	for _, s := range r.Stations {
		if !s.OK() {
			return false
		}
	}
	return true
}

// Run runs the harness once (see the package documentation) and returns
// its report. The error is for a run that could not be set up or checked
// at all; a run that found a loss returns a report whose OK is false.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, rep: &Report{Config: cfg, Started: time.Now(), Machine: machine(cfg.Broker)}}
	tmp := cfg.Dir == ""
	if tmp {
		d, err := os.MkdirTemp("", "vetnet-faults-")
		if err != nil {
			return nil, err
		}
		r.cfg.Dir = d
	}
	r.rep.Dir = r.cfg.Dir
	defer r.stopAll()
	if err := r.setUp(ctx); err != nil {
		return r.rep, err
	}
	r.rep.Setup = time.Since(r.rep.Started)
	if err := r.traffic(ctx); err != nil {
		return r.rep, err
	}
	if err := r.check(ctx); err != nil {
		return r.rep, err
	}
	r.rep.Total = time.Since(r.rep.Started)
	r.stopAll()
	if tmp && r.rep.OK() {
		os.RemoveAll(r.cfg.Dir)
	}
	return r.rep, nil
}

type run struct {
	cfg Config
	rep *Report

	hub      *Process
	hubHTTP  string
	adminPW  string // the hub's administrator password, for reading its API
	brokerAt string // host:port the proxies forward to
	mosq     *Process
	stations []*station

	budget       *budget
	trafficStart time.Time

	mu       sync.Mutex // guards rep.Faults and rep.Problems while traffic runs
	stopOnce sync.Once
}

// station is one station under test: its agent, its link and its ledger.
type station struct {
	id       string
	api      string
	proxy    *Proxy
	agent    *Process
	client   *localapi.Client
	tr       *http.Transport
	services []string
	ledger   *Ledger
	up       atomic.Bool  // the agent runs and answers; kiosks wait otherwise
	inflight atomic.Int64 // check-in requests waiting for their answer
}

func (r *run) logf(format string, args ...any) { r.cfg.Logf(format, args...) }

func (r *run) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.rep.Problems = append(r.rep.Problems, msg)
	r.mu.Unlock()
	r.logf("PROBLEM: %s", msg)
}

// setUp builds the binaries, writes the registry, and starts the broker,
// the hub, the proxies and the agents.
func (r *run) setUp(ctx context.Context) error {
	cfg := r.cfg
	bin := cfg.Bin
	if bin == "" {
		bin = filepath.Join(cfg.Dir, "bin")
		r.logf("building the hub and the edge agent into %s", bin)
		if err := Build(ctx, bin); err != nil {
			return err
		}
	}
	hubBin, agentBin := filepath.Join(bin, "hub"), filepath.Join(bin, "edge-agent")
	for _, p := range []string{hubBin, agentBin} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("no binary: %w", err)
		}
	}
	logs := filepath.Join(cfg.Dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return err
	}
	ids, reg, err := writeRegistry(cfg.Dir, cfg.Stations, cfg.Seed)
	if err != nil {
		return err
	}
	ports, err := freePorts(3 + cfg.Stations)
	if err != nil {
		return err
	}
	r.hubHTTP = fmt.Sprintf("127.0.0.1:%d", ports[0])
	r.brokerAt = fmt.Sprintf("127.0.0.1:%d", ports[1])
	r.adminPW = "faults-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	hubArgs := []string{"-data", filepath.Join(cfg.Dir, "hub"), "-http", r.hubHTTP, "-stations", reg, "-heartbeat", "5",
		"-admin-password", r.adminPW}
	if cfg.Broker == BrokerMosquitto {
		m, err := NewMosquitto(cfg.Dir, ports[1])
		if err != nil {
			return err
		}
		m.Log = filepath.Join(logs, "mosquitto.log")
		r.mosq = m
		if err := m.Start(); err != nil {
			return err
		}
		if err := waitTCP(ctx, r.brokerAt, 20*time.Second); err != nil {
			return fmt.Errorf("mosquitto did not come up: %w", err)
		}
		hubArgs = append(hubArgs, "-broker", "tcp://"+r.brokerAt)
	} else {
		hubArgs = append(hubArgs, "-mqtt", r.brokerAt)
	}
	r.hub = &Process{Name: "hub", Path: hubBin, Args: hubArgs, Log: filepath.Join(logs, "hub.log")}
	if err := r.startHub(ctx); err != nil {
		return err
	}
	for i, id := range ids {
		p, err := NewProxy(r.brokerAt)
		if err != nil {
			return err
		}
		st := &station{id: id, api: fmt.Sprintf("127.0.0.1:%d", ports[3+i]), proxy: p, ledger: NewLedger()}
		st.tr = &http.Transport{MaxIdleConnsPerHost: cfg.Desks + 4}
		st.client = &localapi.Client{BaseURL: "http://" + st.api, HTTP: &http.Client{Timeout: 30 * time.Second, Transport: st.tr}}
		st.agent = &Process{Name: "agent " + id, Path: agentBin, Log: filepath.Join(logs, "agent-"+id+".log"), Args: []string{
			"-station", id, "-data", filepath.Join(cfg.Dir, "stations", id), "-broker", "tcp://" + p.Addr(),
			"-api", st.api, "-registry", reg, "-sim", "-heartbeat", "5s",
			"-ack-timeout", cfg.AckTimeout.String(), "-max-backoff", cfg.MaxBackoff.String(), "-reconnect", cfg.Reconnect.String(),
		}}
		r.stations = append(r.stations, st)
		if err := st.agent.Start(); err != nil {
			return err
		}
	}
	for _, st := range r.stations {
		if err := waitHTTP(ctx, "http://"+st.api+localapi.PathHealth, 30*time.Second); err != nil {
			return fmt.Errorf("agent %s did not come up: %w", st.id, err)
		}
		st.up.Store(true)
	}
	// Every station online and configured before the traffic starts, so
	// that the first faults hit a running system.
	deadline := time.Now().Add(60 * time.Second)
	for _, st := range r.stations {
		for {
			s, err := st.client.Status(ctx)
			if err == nil && s.Online && len(s.Station.Services) > 0 {
				st.services = s.Station.Services
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("station %s did not come online: %v", st.id, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	r.logf("%d stations online through their proxies; hub http://%s; %s broker at %s", len(r.stations), r.hubHTTP, cfg.Broker, r.brokerAt)
	return nil
}

func (r *run) startHub(ctx context.Context) error {
	if err := r.hub.Start(); err != nil {
		return err
	}
	if err := waitHTTP(ctx, "http://"+r.hubHTTP+"/healthz", 60*time.Second); err != nil {
		return fmt.Errorf("the hub did not come up: %w", err)
	}
	return nil
}

// stopAll stops every process the run started, agents first.
func (r *run) stopAll() {
	r.stopOnce.Do(func() {
		var wg sync.WaitGroup
		for _, st := range r.stations {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st.agent.Stop(10 * time.Second)
				st.proxy.Close()
				st.tr.CloseIdleConnections()
			}()
		}
		wg.Wait()
		if r.hub != nil && !r.hub.Stop(15*time.Second) {
			r.problem("the hub did not stop within 15 s of SIGTERM at the end (see %s)", r.hub.Log)
		}
		if r.mosq != nil {
			r.mosq.Stop(5 * time.Second)
		}
	})
}

// Build builds the hub and the edge agent into dir with the go command,
// from the module this package belongs to.
func Build(ctx context.Context, dir string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out, err := exec.CommandContext(ctx, goBin, "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return errors.New("not inside the vetnet module: run from the repository")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", dir+string(filepath.Separator), "./cloud/cmd/hub", "./edge-agent/cmd/edge-agent")
	cmd.Dir = filepath.Dir(mod)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, b)
	}
	return nil
}

// writeRegistry writes a district centre and n town stations under it,
// with IDs unique to the seed and the moment.
func writeRegistry(dir string, n int, seed uint64) (ids []string, path string, err error) {
	prefix := fmt.Sprintf("ft%x", (uint64(time.Now().UnixNano())^seed)&0xffffff)
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by the vetnet fault harness.\n\n[[station]]\nid = %q\nname = \"故障测试区退役军人服务中心\"\nname_en = \"Fault test district\"\nlevel = \"district\"\n", prefix)
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("%s-s%03d", prefix, i)
		ids = append(ids, id)
		fmt.Fprintf(&b, "\n[[station]]\nid = %q\nname = \"故障测试站%03d\"\nname_en = \"Fault test station %d\"\nlevel = \"town\"\nparent = %q\n", id, i, i, prefix)
	}
	path = filepath.Join(dir, "stations.toml")
	return ids, path, os.WriteFile(path, []byte(b.String()), 0o644)
}

// freePorts picks n distinct loopback ports that are free now, below the
// kernel's ephemeral range. A process that is restarted listens on the
// same port again; an ephemeral port could meanwhile be handed to one of
// the harness's own connections or listeners (it happened: a proxy got
// an agent's API port), a port below the range never is.
func freePorts(n int) ([]int, error) {
	lo, hi := 20000, ephemeralLow()
	if hi-lo < 4*n {
		return nil, fmt.Errorf("no room for %d ports below the ephemeral range (%d)", n, hi)
	}
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries > 100*n {
			return nil, fmt.Errorf("found only %d free ports in %d..%d", len(ports), lo, hi)
		}
		p := lo + rand.IntN(hi-lo)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		lns = append(lns, l) // held until all are picked: no port twice
		ports = append(ports, p)
	}
	return ports, nil
}

// ephemeralLow is the first port of the kernel's ephemeral range.
func ephemeralLow() int {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 1024 {
				return n
			}
		}
	}
	return 32768
}

// machine describes where the run ran, for the report.
func machine(b Broker) string {
	model := "unknown CPU"
	if f, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(f), "\n") {
			if strings.HasPrefix(line, "model name") {
				if i := strings.Index(line, ":"); i >= 0 {
					model = strings.TrimSpace(line[i+1:])
				}
				break
			}
		}
	}
	kernel := ""
	if f, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(f))
	}
	s := fmt.Sprintf("%d CPUs (%s)%s, %s", runtime.NumCPU(), model, kernel, runtime.Version())
	if b == BrokerMosquitto {
		if p, err := MosquittoPath(); err == nil {
			if out, _ := exec.Command(p, "-h").CombinedOutput(); len(out) > 0 {
				s += ", " + strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
			}
		}
	}
	return s
}

// hubRows reads every check-in of a station from the hub's API, page by
// page, signed in as the hub's administrator.
func hubRows(ctx context.Context, httpAddr, password, station string) ([]Row, int, error) {
	c, err := web.SignIn(ctx, "http://"+httpAddr, "admin", password)
	if err != nil {
		return nil, 0, fmt.Errorf("sign in at the hub: %w", err)
	}
	var out []Row
	cursor := ""
	total := 0
	for {
		q := url.Values{"limit": {"500"}}
		if station != "" {
			q.Set("station", station)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			CheckIns []Row  `json:"checkins"`
			Next     string `json:"next"`
			Total    int    `json:"total"`
		}
		if err := c.Get(ctx, "/api/v1/checkins?"+q.Encode(), &page); err != nil {
			return nil, 0, fmt.Errorf("GET /api/v1/checkins: %w", err)
		}
		if cursor == "" {
			total = page.Total
		}
		out = append(out, page.CheckIns...)
		if page.Next == "" || station == "" {
			return out, total, nil
		}
		cursor = page.Next
	}
}

// budget hands out the check-in requests of a run, and holds the traffic
// back when it would run ahead of the fault plan.
type budget struct {
	mu      sync.Mutex
	cond    *sync.Cond
	issued  int
	limit   int
	total   int
	stopped bool
}

func newBudget(total, limit int) *budget {
	b := &budget{total: total, limit: min(limit, total)}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// take reserves one request; false when none is left or the traffic
// stopped.
func (b *budget) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for !b.stopped && b.issued >= b.limit && b.issued < b.total {
		b.cond.Wait()
	}
	if b.stopped || b.issued >= b.total {
		return false
	}
	b.issued++
	return true
}

// giveBack returns a reservation that was not used (the request never
// reached the agent).
func (b *budget) giveBack() {
	b.mu.Lock()
	b.issued--
	b.mu.Unlock()
	b.cond.Broadcast()
}

func (b *budget) setLimit(n int) {
	b.mu.Lock()
	b.limit = min(n, b.total)
	b.mu.Unlock()
	b.cond.Broadcast()
}

func (b *budget) stop() {
	b.mu.Lock()
	b.stopped = true
	b.mu.Unlock()
	b.cond.Broadcast()
}

func (b *budget) done() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.issued
}

// pick returns a duration in [lo, hi].
func pick(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
}
