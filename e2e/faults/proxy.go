package faults

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// CutMode is how a Proxy cuts its link.
type CutMode string

const (
	// CutReset closes every connection at once (both ends see the
	// connection drop) and closes each new one as soon as it is accepted,
	// until Restore: a cable pulled, a router rebooted.
	CutReset CutMode = "reset"
	// CutBlackhole stops moving bytes in both directions without closing
	// anything: connections stay open and new ones are accepted but hear
	// nothing, until Restore lets everything through again (what was sent
	// meanwhile arrives late, a close included). Either end may give up
	// first by its own timeouts: a partition, or a NAT that forgot the
	// flow.
	CutBlackhole CutMode = "blackhole"
)

// Proxy is a TCP proxy in front of one address whose link can be cut and
// restored. It stands between a station's agent and the broker, so that a
// test decides when the station's network fails.
type Proxy struct {
	target string
	ln     net.Listener

	mu    sync.Mutex
	mode  CutMode // "" while the link is up
	open  chan struct{}
	conns map[*pipe]struct{}

	accepted, cuts atomic.Int64
	wg             sync.WaitGroup
	closed         atomic.Bool
}

type pipe struct{ down, up net.Conn }

func (p *pipe) close() {
	p.down.Close()
	if p.up != nil {
		p.up.Close()
	}
}

// NewProxy listens on a free loopback port and forwards every connection
// to target (host:port). The target need not be up: a connection to it
// that fails closes the client's connection, as a refused one would.
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{target: target, ln: ln, open: make(chan struct{}), conns: map[*pipe]struct{}{}}
	close(p.open)
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is where the proxy listens (host:port).
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Accepted counts the connections the proxy accepted.
func (p *Proxy) Accepted() int64 { return p.accepted.Load() }

// Cuts counts the cuts.
func (p *Proxy) Cuts() int64 { return p.cuts.Load() }

// Cut cuts the link in the given mode until Restore. Cutting a link that
// is cut already changes nothing.
func (p *Proxy) Cut(mode CutMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode != "" {
		return
	}
	p.cuts.Add(1)
	p.mode = mode
	p.open = make(chan struct{})
	if mode == CutReset {
		for c := range p.conns {
			c.close()
		}
	}
}

// Restore lets traffic through again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == "" {
		return
	}
	p.mode = ""
	close(p.open)
}

// IsCut reports whether the link is cut now.
func (p *Proxy) IsCut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode != ""
}

// Close stops listening and closes every connection.
func (p *Proxy) Close() error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	err := p.ln.Close()
	p.Restore()
	p.mu.Lock()
	for c := range p.conns {
		c.close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if p.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		p.accepted.Add(1)
		p.wg.Add(1)
		go p.handle(c)
	}
}

// gate returns the channel closed while the link is up, and whether new
// connections are refused now.
func (p *Proxy) gate() (<-chan struct{}, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.open, p.mode == CutReset
}

func (p *Proxy) handle(down net.Conn) {
	defer p.wg.Done()
	pp := &pipe{down: down}
	open, refuse := p.gate()
	if refuse || p.closed.Load() {
		down.Close()
		return
	}
	select {
	case <-open:
	default:
		// Blackholed: hold the connection, silent, until the link is back.
		// The client may give up meanwhile; then it is gone when we look.
		p.track(pp, true)
		defer p.track(pp, false)
		<-open
		if _, refuse := p.gate(); refuse || p.closed.Load() {
			down.Close()
			return
		}
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		down.Close()
		return
	}
	pp.up = up
	p.mu.Lock()
	if p.mode == CutReset || p.closed.Load() {
		p.mu.Unlock()
		pp.close()
		return
	}
	p.conns[pp] = struct{}{}
	p.mu.Unlock()
	defer p.track(pp, false)
	done := make(chan struct{}, 2)
	go func() { p.copy(up, down); done <- struct{}{} }()
	go func() { p.copy(down, up); done <- struct{}{} }()
	<-done
	pp.close()
	<-done
}

func (p *Proxy) track(pp *pipe, add bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		p.conns[pp] = struct{}{}
	} else {
		delete(p.conns, pp)
	}
}

// copy moves bytes from src to dst, holding them while the link is
// blackholed. It returns when either side fails; the caller closes both.
func (p *Proxy) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			open, _ := p.gate()
			<-open
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			// The sender closed: so does the other side, once the link
			// lets the news through.
			open, _ := p.gate()
			<-open
			return
		}
	}
}
