#!/usr/bin/env bash
# The scale-out figures of docs/performance.md ("Scale-out"): the hub and
# the station simulator as separate processes, memory read from /proc.
#
#   scripts/scale-bench.sh ingest      # 1,000 stations drain backlogs: into PostgreSQL, then the embedded store
#   scripts/scale-bench.sh stations    # 10,000 stations, heartbeat 30 s: hub (embedded broker) and Mosquitto memory
#   scripts/scale-bench.sh storm       # 10,000 stations off at once and back together, with backlogs
#                                      # (BROKER=mosquitto: on a Mosquitto of its own, the hub subscribed)
#
# PG (default postgres://postgres@127.0.0.1:5432/test) is used for ingest;
# each run uses a schema of its own and drops it.
set -euo pipefail
cd "$(dirname "$0")/.."
PG=${PG:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
N=${N:-10000}
W=$(mktemp -d /tmp/vetnet-scale.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
go build -o "$W/" ./cloud/cmd/hub ./e2e/cmd/simulate

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mem() { awk -v k="$2" '$1==k":" {print $2}' "/proc/$1/status"; } # kB
wait_http() { for _ in $(seq 300); do curl -sf "$1" >/dev/null && return 0; sleep 0.2; done; return 1; }
machine() {
  echo "machine: $(nproc) CPUs visible ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem/ {print $2}') GB;" \
       "load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

# hub ARGS...: starts the hub in the background; sets HUB_PID, HUB_HTTP.
hub() {
  HUB_HTTP=127.0.0.1:$(free_port)
  "$W/hub" -http "$HUB_HTTP" -admin-password scale-bench-password -heartbeat 30 "$@" >"$W/hub.log" 2>&1 &
  HUB_PID=$!
  wait_http "http://$HUB_HTTP/healthz" || { cat "$W/hub.log"; exit 1; }
}

ingest() {
  local stations=1000 backlog=${BACKLOG:-200}
  "$W/simulate" -registry "$W/reg.toml" -n $stations -prefix ing
  for store in postgres embedded; do
    local port schema=bench_$RANDOM$RANDOM
    port=$(free_port)
    if [ $store = postgres ]; then
      hub -data "$W/d-$store" -stations "$W/reg.toml" -mqtt 127.0.0.1:$port -store "$PG" -store-schema $schema
    else
      hub -data "$W/d-$store" -stations "$W/reg.toml" -mqtt 127.0.0.1:$port
    fi
    machine
    echo "ingest into $store: $stations stations, $backlog check-ins each, batches of 50"
    "$W/simulate" -broker tcp://127.0.0.1:$port -n $stations -prefix ing -backlog $backlog -batch 50 -duration 1s -drain \
      -hub-metrics "http://$HUB_HTTP/metrics" | grep -E '^(ingest|total|every|all)'
    echo "hub memory: VmHWM $(mem $HUB_PID VmHWM) kB"
    kill $HUB_PID; wait $HUB_PID || true
    [ $store = postgres ] && psql "$PG" -qc "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1 || true
  done
}

stations() {
  local dur=${DURATION:-150s}
  "$W/simulate" -registry "$W/reg.toml" -n "$N" -prefix mem
  # 1. The hub with its embedded broker.
  local port
  port=$(free_port)
  hub -data "$W/d-mem" -stations "$W/reg.toml" -mqtt 127.0.0.1:$port
  sleep 2
  local idle
  idle=$(mem $HUB_PID VmRSS)
  machine
  echo "hub (embedded broker), $N stations registered, none connected: VmRSS $idle kB"
  "$W/simulate" -broker tcp://127.0.0.1:$port -n "$N" -prefix mem -heartbeat 30 -rate 0.001 -spread 30s -duration "$dur" \
    -hub-metrics "http://$HUB_HTTP/metrics" >"$W/sim.log" &
  local sim=$!
  sleep "${dur%s}"
  grep -E '^(the hub|all)' "$W/sim.log" || true
  tail -1 "$W/sim.log" | grep -v '^total' || true
  local rss hwm conn
  rss=$(mem $HUB_PID VmRSS); hwm=$(mem $HUB_PID VmHWM)
  conn=$(grep '^t=' "$W/sim.log" | tail -1 | sed -n 's/.* connected=\([0-9]*\).*/\1/p')
  echo "hub (embedded broker), $conn of $N stations connected: VmRSS $rss kB, VmHWM $hwm kB; per connected station $(( (rss - idle) * 1024 / (conn > 0 ? conn : 1) )) bytes"
  wait $sim || true
  kill $HUB_PID; wait $HUB_PID || true

  # 2. Mosquitto as the broker, the hub subscribed to it.
  port=$(free_port)
  printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_connections -1\npersistence false\n' "$port" >"$W/mosquitto.conf"
  mosquitto -c "$W/mosquitto.conf" >"$W/mosquitto.log" 2>&1 &
  local mq=$!
  sleep 1
  hub -data "$W/d-mq" -stations "$W/reg.toml" -broker tcp://127.0.0.1:$port
  sleep 2
  local mqidle hubidle
  mqidle=$(mem $mq VmRSS); hubidle=$(mem $HUB_PID VmRSS)
  echo "mosquitto $(mosquitto -h 2>/dev/null | head -1 | awk '{print $3}'), only the hub connected: VmRSS $mqidle kB; hub (external broker): VmRSS $hubidle kB"
  "$W/simulate" -broker tcp://127.0.0.1:$port -n "$N" -prefix mem -heartbeat 30 -rate 0.001 -spread 30s -duration "$dur" \
    -hub-metrics "http://$HUB_HTTP/metrics" >"$W/sim.log" &
  sim=$!
  sleep "${dur%s}"
  grep -E '^(the hub|all)' "$W/sim.log" || true
  local mqrss
  mqrss=$(mem $mq VmRSS); rss=$(mem $HUB_PID VmRSS)
  echo "mosquitto, $N stations connected: VmRSS $mqrss kB, per connection $(( (mqrss - mqidle) * 1024 / N )) bytes"
  echo "hub (external broker), $N stations: VmRSS $rss kB, per station $(( (rss - hubidle) * 1024 / N )) bytes"
  wait $sim || true
  kill $HUB_PID $mq; wait || true
}

storm() {
  "$W/simulate" -registry "$W/reg.toml" -n "$N" -prefix storm
  local port mq=""
  port=$(free_port)
  if [ "${BROKER:-embedded}" = mosquitto ]; then
    printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_connections -1\npersistence false\n' "$port" >"$W/mosquitto.conf"
    mosquitto -c "$W/mosquitto.conf" >"$W/mosquitto.log" 2>&1 &
    mq=$!
    sleep 1
    hub -data "$W/d-storm" -stations "$W/reg.toml" -broker tcp://127.0.0.1:$port
  else
    hub -data "$W/d-storm" -stations "$W/reg.toml" -mqtt 127.0.0.1:$port
  fi
  machine
  echo "broker: ${BROKER:-embedded}"
  echo "storm: $N stations connect, at 60 s all go off for 30 s and make ${STORM_BACKLOG:-5} check-ins each, then all come back at once"
  "$W/simulate" -broker tcp://127.0.0.1:$port -n "$N" -prefix storm -heartbeat 30 -spread 30s -storm-at 60s -storm-for 30s \
    -storm-backlog "${STORM_BACKLOG:-5}" -duration 180s -drain -hub-metrics "http://$HUB_HTTP/metrics" | grep -vE '^t='
  echo "hub memory: VmHWM $(mem $HUB_PID VmHWM) kB"
  kill $HUB_PID $mq; wait || true
}

for what in "${@:-ingest}"; do "$what"; done
