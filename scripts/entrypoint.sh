#!/bin/sh
# The image's entrypoint, also started by test/container/entrypoint.test.ts outside Docker exactly as the image
# would: check the one variable the seed's users must set, prepare the socket folder, then exec the reflector
# (as PID 1 it receives SIGTERM directly and closes every session with a Cease).
set -eu
APP_DIR="${APP_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
: "${SOCKET_DIR:=/sockets}"
export SOCKET_DIR
mkdir -p "$SOCKET_DIR"
if [ -z "${IP:-}" ] && { [ -n "${ETCD_ENDPOINTS:-}" ] || [ -n "${ETCD_AUTHORITY:-}" ] || [ -n "${DATASTORE_TYPE:-}" ]; }; then
  echo "IP: not set; set it to this reflector's IPv4 address (its router ID), as with calico/routereflector" >&2
  exit 2
fi
cd "$APP_DIR"
if [ "$#" -eq 0 ]; then
  set -- node dist/main.js
fi
exec "$@"
