package faults

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// MosquittoConf is the configuration of the harness's private Mosquitto:
// loopback only, anonymous, no persistence (a restart loses retained
// messages and sessions, the hardest case for the stations), and queues
// large enough that a hub that falls behind does not see messages dropped
// in normal running (dropped ones would be resent after the ack timeout;
// correct, only slower).
const MosquittoConf = `# Written by the vetnet fault harness; a private broker, never the machine's.
listener %d 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 100000
max_inflight_messages 100
log_dest stderr
log_type error
log_type warning
log_type notice
`

// NewMosquitto returns the Process of a private Mosquitto listening on
// 127.0.0.1:port, with its configuration written to dir/mosquitto.conf and
// its log to dir/mosquitto.log. Errors: no mosquitto program on the PATH
// (or in /usr/sbin), or dir cannot be written.
func NewMosquitto(dir string, port int) (*Process, error) {
	path, err := MosquittoPath()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(MosquittoConf, port)), 0o644); err != nil {
		return nil, err
	}
	return &Process{Name: "mosquitto", Path: path, Args: []string{"-c", conf}, Log: filepath.Join(dir, "mosquitto.log")}, nil
}

// MosquittoPath finds the mosquitto program.
func MosquittoPath() (string, error) {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("mosquitto is not installed (apt-get install mosquitto)")
}
