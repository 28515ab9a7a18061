package sdnotify_test

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/vetnet/vetnet/internal/sdnotify"
)

// listen plays systemd's side: a unixgram socket the service writes to.
func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func read(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 256)
	n, err := c.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(b[:n])
}

func TestNotify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	c := listen(t, path)
	t.Setenv("NOTIFY_SOCKET", path)
	for _, msg := range []string{sdnotify.Ready, sdnotify.Watchdog, sdnotify.Stopping} {
		if ok, err := sdnotify.Notify(msg); !ok || err != nil {
			t.Fatalf("%s: %v %v", msg, ok, err)
		}
		if got := read(t, c); got != msg {
			t.Fatalf("got %q, want %q", got, msg)
		}
	}
}

func TestNotifyAbstract(t *testing.T) {
	name := "@vetnet-sdnotify-test-" + strconv.Itoa(os.Getpid())
	c := listen(t, "\x00"+name[1:])
	if ok, err := sdnotify.NotifySocket(name, sdnotify.Ready); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if got := read(t, c); got != sdnotify.Ready {
		t.Fatal(got)
	}
}

func TestNotifyWithoutSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if ok, err := sdnotify.Notify(sdnotify.Ready); ok || err != nil {
		t.Fatal(ok, err)
	}
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "gone"))
	if ok, err := sdnotify.Notify(sdnotify.Ready); ok || err == nil {
		t.Fatal("no error for a missing socket")
	}
}

func TestWatchdogInterval(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "30000000")
	t.Setenv("WATCHDOG_PID", "")
	if d := sdnotify.WatchdogInterval(); d != 30*time.Second {
		t.Fatal(d)
	}
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()+1))
	if d := sdnotify.WatchdogInterval(); d != 0 {
		t.Fatal("a watchdog for another process", d)
	}
	t.Setenv("WATCHDOG_PID", "")
	t.Setenv("WATCHDOG_USEC", "")
	if d := sdnotify.WatchdogInterval(); d != 0 {
		t.Fatal(d)
	}
}
