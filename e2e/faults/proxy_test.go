package faults

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// echoServer answers each line with the same line.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func dialProxy(t *testing.T, p *Proxy) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

// roundTrip sends a line and returns the answer, or an error after wait.
func roundTrip(c net.Conn, r *bufio.Reader, line string, wait time.Duration) (string, error) {
	c.SetDeadline(time.Now().Add(wait))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	s, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return s[:len(s)-1], nil
}

func TestProxy(t *testing.T) {
	p, err := NewProxy(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	t.Run("reset", func(t *testing.T) {
		c, r := dialProxy(t, p)
		if got, err := roundTrip(c, r, "hello", 5*time.Second); err != nil || got != "hello" {
			t.Fatalf("through the proxy: %q, %v", got, err)
		}
		p.Cut(CutReset)
		if !p.IsCut() {
			t.Fatal("not cut")
		}
		if _, err := roundTrip(c, r, "lost", 5*time.Second); err == nil {
			t.Fatal("an open connection survived a reset")
		}
		c2, r2 := dialProxy(t, p)
		if _, err := roundTrip(c2, r2, "refused", 5*time.Second); err == nil {
			t.Fatal("a new connection got through a reset link")
		}
		p.Restore()
		c3, r3 := dialProxy(t, p)
		if got, err := roundTrip(c3, r3, "back", 5*time.Second); err != nil || got != "back" {
			t.Fatalf("after restore: %q, %v", got, err)
		}
	})

	t.Run("blackhole", func(t *testing.T) {
		c, r := dialProxy(t, p)
		if got, err := roundTrip(c, r, "before", 5*time.Second); err != nil || got != "before" {
			t.Fatalf("before the cut: %q, %v", got, err)
		}
		p.Cut(CutBlackhole)
		if _, err := roundTrip(c, r, "held", 300*time.Millisecond); err == nil {
			t.Fatal("bytes got through a blackholed link")
		}
		c2, r2 := dialProxy(t, p)
		if _, err := roundTrip(c2, r2, "new", 300*time.Millisecond); err == nil {
			t.Fatal("a new connection got through a blackholed link")
		}
		p.Restore()
		// What was sent during the cut arrives late; the connections
		// were never closed.
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if got, err := r.ReadString('\n'); err != nil || got != "held\n" {
			t.Fatalf("held line: %q, %v", got, err)
		}
		c2.SetDeadline(time.Now().Add(5 * time.Second))
		if got, err := r2.ReadString('\n'); err != nil || got != "new\n" {
			t.Fatalf("new connection's line: %q, %v", got, err)
		}
		if got, err := roundTrip(c, r, "again", 5*time.Second); err != nil || got != "again" {
			t.Fatalf("after restore: %q, %v", got, err)
		}
	})

	t.Run("target down", func(t *testing.T) {
		q, err := NewProxy(freeAddr(t))
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		c, r := dialProxy(t, q)
		if _, err := roundTrip(c, r, "nobody", 5*time.Second); err == nil {
			t.Fatal("an answer from a target that is down")
		}
	})
	if p.Cuts() != 2 || p.Accepted() < 4 {
		t.Errorf("cuts %d, accepted %d", p.Cuts(), p.Accepted())
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestFreePorts(t *testing.T) {
	ports, err := freePorts(30)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] || p < 20000 || p >= ephemeralLow() {
			t.Fatalf("port %d: repeated or outside 20000..%d (%v)", p, ephemeralLow(), ports)
		}
		seen[p] = true
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Fatalf("port %d is not free: %v", p, err)
		}
		l.Close()
	}
}
