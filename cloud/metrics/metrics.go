// Package metrics is a small registry of counters and gauges written in
// the Prometheus text exposition format (version 0.0.4). It covers what
// the hub exposes on /metrics without pulling in the Prometheus client
// library and its dependencies: counters with labels, and gauges whose
// values are read from a function when scraped.
package metrics

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Registry holds metric families in registration order.
type Registry struct {
	mu       sync.Mutex
	families []family
	names    map[string]bool
}

type family interface {
	write(w io.Writer) error
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{names: map[string]bool{}} }

func (r *Registry) add(name string, f family) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names[name] {
		panic("metrics: " + name + " registered twice")
	}
	r.names[name] = true
	r.families = append(r.families, f)
}

// Counter registers a counter family. Its name should end in _total.
// Label values are given, in the order of labels, to Add and Inc.
func (r *Registry) Counter(name, help string, labels ...string) *Counter {
	c := &Counter{name: name, help: help, labels: labels, values: map[string]*counterValue{}}
	r.add(name, c)
	return c
}

// Sample is one value of a gauge family.
type Sample struct {
	Labels []string // values, in the order of the family's labels
	Value  float64
}

// GaugeFunc registers a gauge family whose samples f returns at each
// scrape. f must be safe for concurrent use and fast.
func (r *Registry) GaugeFunc(name, help string, labels []string, f func() []Sample) {
	r.add(name, &gaugeFunc{name: name, help: help, labels: labels, f: f})
}

// WriteTo writes every family in the text format.
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	fams := append([]family(nil), r.families...)
	r.mu.Unlock()
	cw := &countWriter{w: w}
	for _, f := range fams {
		if err := f.write(cw); err != nil {
			return cw.n, err
		}
	}
	return cw.n, nil
}

// ContentType is the media type of WriteTo's output.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Counter is a family of monotonic counters.
type Counter struct {
	name, help string
	labels     []string
	mu         sync.Mutex
	values     map[string]*counterValue
}

type counterValue struct {
	labels []string
	n      uint64
}

// Add adds n to the counter with the given label values.
func (c *Counter) Add(n uint64, labelValues ...string) {
	if len(labelValues) != len(c.labels) {
		panic(fmt.Sprintf("metrics: %s takes %d label values, got %d", c.name, len(c.labels), len(labelValues)))
	}
	key := strings.Join(labelValues, "\xff")
	c.mu.Lock()
	v, ok := c.values[key]
	if !ok {
		v = &counterValue{labels: append([]string(nil), labelValues...)}
		c.values[key] = v
	}
	v.n += n
	c.mu.Unlock()
}

// Inc adds one.
func (c *Counter) Inc(labelValues ...string) { c.Add(1, labelValues...) }

// Value returns the counter with the given label values.
func (c *Counter) Value(labelValues ...string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.values[strings.Join(labelValues, "\xff")]; ok {
		return v.n
	}
	return 0
}

// Sum returns the sum over all label values.
func (c *Counter) Sum() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var s uint64
	for _, v := range c.values {
		s += v.n
	}
	return s
}

func (c *Counter) write(w io.Writer) error {
	c.mu.Lock()
	samples := make([]Sample, 0, len(c.values))
	for _, v := range c.values {
		samples = append(samples, Sample{Labels: v.labels, Value: float64(v.n)})
	}
	c.mu.Unlock()
	if len(c.labels) == 0 && len(samples) == 0 {
		samples = append(samples, Sample{})
	}
	return writeFamily(w, c.name, c.help, "counter", c.labels, samples)
}

type gaugeFunc struct {
	name, help string
	labels     []string
	f          func() []Sample
}

func (g *gaugeFunc) write(w io.Writer) error {
	return writeFamily(w, g.name, g.help, "gauge", g.labels, g.f())
}

func writeFamily(w io.Writer, name, help, typ string, labels []string, samples []Sample) error {
	sort.Slice(samples, func(i, j int) bool {
		return strings.Join(samples[i].Labels, "\xff") < strings.Join(samples[j].Labels, "\xff")
	})
	var b strings.Builder
	fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(help), name, typ)
	for _, s := range samples {
		b.WriteString(name)
		if len(labels) > 0 {
			b.WriteByte('{')
			for i, l := range labels {
				if i > 0 {
					b.WriteByte(',')
				}
				v := ""
				if i < len(s.Labels) {
					v = s.Labels[i]
				}
				fmt.Fprintf(&b, "%s=\"%s\"", l, escapeLabel(v))
			}
			b.WriteByte('}')
		}
		b.WriteByte(' ')
		b.WriteString(formatValue(s.Value))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeHelp(s string) string  { return helpEscaper.Replace(s) }
func escapeLabel(s string) string { return labelEscaper.Replace(s) }

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
