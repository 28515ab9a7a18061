#!/usr/bin/env bash
# Makes sure the services the tests talk to are running on this machine:
# Mosquitto on 127.0.0.1:1883 and PostgreSQL on 127.0.0.1:5432. Starts them
# when they are not listening.
set -euo pipefail

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! listening 1883; then
  echo "services: starting Mosquitto on 127.0.0.1:1883"
  conf=/etc/mosquitto/mosquitto.conf
  if [ -f "$conf" ]; then mosquitto -d -c "$conf"; else mosquitto -d -p 1883; fi
  for _ in $(seq 50); do listening 1883 && break; sleep 0.1; done
  listening 1883 || { echo "services: Mosquitto did not start" >&2; exit 1; }
fi

# PostgreSQL on 127.0.0.1:5432 (the PostgreSQL store's tests and the hub
# replica test): started when installed and not listening.
if ! listening 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "services: starting PostgreSQL"
    for c in $(pg_lsclusters -h 2>/dev/null | awk '{print $1 "/" $2}'); do pg_ctlcluster "${c%/*}" "${c#*/}" start || true; done
    for _ in $(seq 100); do listening 5432 && break; sleep 0.1; done
  fi
  listening 5432 || echo "services: PostgreSQL is not listening on 127.0.0.1:5432; its tests will fail under make test" >&2
fi
