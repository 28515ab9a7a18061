// Package sdnotify speaks systemd's notification protocol (sd_notify(3))
// without libsystemd: a datagram of "KEY=VALUE" lines sent to the unix
// socket named by $NOTIFY_SOCKET. A unit with Type=notify waits for
// READY=1; with WatchdogSec= systemd restarts the service when WATCHDOG=1
// does not come within that time.
package sdnotify

import (
	"net"
	"os"
	"strconv"
	"time"
)

// Messages.
const (
	Ready     = "READY=1"
	Stopping  = "STOPPING=1"
	Watchdog  = "WATCHDOG=1"
	Reloading = "RELOADING=1"
)

// Notify sends state to the socket of $NOTIFY_SOCKET. It reports false,
// nil when the variable is unset (not started by systemd, or not a notify
// unit): callers need not care. A name beginning with '@' is in the
// abstract namespace.
func Notify(state string) (bool, error) {
	return NotifySocket(os.Getenv("NOTIFY_SOCKET"), state)
}

// NotifySocket sends state to the socket at path ("" does nothing).
func NotifySocket(path, state string) (bool, error) {
	if path == "" {
		return false, nil
	}
	addr := &net.UnixAddr{Name: path, Net: "unixgram"}
	if path[0] == '@' {
		addr.Name = "\x00" + path[1:]
	}
	c, err := net.DialUnix("unixgram", nil, addr)
	if err != nil {
		return false, err
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return false, err
	}
	return true, nil
}

// WatchdogInterval returns how often systemd expects WATCHDOG=1 (from
// $WATCHDOG_USEC, for this process per $WATCHDOG_PID); 0 when no watchdog
// is set. Send at half this interval.
func WatchdogInterval() time.Duration {
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0
	}
	us, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || us <= 0 {
		return 0
	}
	return time.Duration(us) * time.Microsecond
}
