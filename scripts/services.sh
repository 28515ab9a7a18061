#!/usr/bin/env bash
# Makes sure the services the tests talk to are running on this machine:
# Mosquitto on 127.0.0.1:1883. Starts it when it is not listening.
set -euo pipefail

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! listening 1883; then
  echo "services: starting Mosquitto on 127.0.0.1:1883"
  conf=/etc/mosquitto/mosquitto.conf
  if [ -f "$conf" ]; then mosquitto -d -c "$conf"; else mosquitto -d -p 1883; fi
  for _ in $(seq 50); do listening 1883 && break; sleep 0.1; done
  listening 1883 || { echo "services: Mosquitto did not start" >&2; exit 1; }
fi
