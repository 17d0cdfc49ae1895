#!/usr/bin/env bash
# Installs the real daemons and tools the tests use, from Debian's packages. Idempotent and quick when done.
# BIRD 1.6 (bird, bird6, birdc, birdcl) is installed as a package; BIRD 2 conflicts with it, so its package is
# unpacked into /opt/bird2 (binaries in /opt/bird2/usr/sbin).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# Never let a package start its daemon on this machine (they would take port 179).
if [ ! -f /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
fi

PKGS=(bird gobgpd exabgp frr openbgpd etcd-server etcd-client tshark tcpdump prometheus-bird-exporter iproute2 libssh-4 libreadline8 curl libcap2-bin)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x /opt/bird2/usr/sbin/bird ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && { apt-get download -qq bird2 >/dev/null 2>&1 || { apt-get update -qq && apt-get download -qq bird2 >/dev/null; }; })
  mkdir -p /opt/bird2
  dpkg -x "$tmp"/bird2_*.deb /opt/bird2
  rm -rf "$tmp"
fi

# Debian's kubectl (package kubernetes-client) for the Kubernetes datastore tests. Unpacked, like BIRD 2,
# because it conflicts with other kubectl packages a machine may have; the tests look in /opt first.
if [ ! -x /opt/kubernetes-client/usr/bin/kubectl ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && { apt-get download -qq kubernetes-client >/dev/null 2>&1 || { apt-get update -qq && apt-get download -qq kubernetes-client >/dev/null; }; })
  mkdir -p /opt/kubernetes-client
  dpkg -x "$tmp"/kubernetes-client_*.deb /opt/kubernetes-client
  rm -rf "$tmp"
fi

# Packaged daemons must not be running (a package may have started one despite policy-rc.d). Only the daemons of
# packages this run installed, and only those whose parent is init, as a package's start script leaves them:
# re-running the script never touches daemons that tests (ours or a concurrent run's) started.
declare -A DAEMONS=([bird]="bird bird6" [frr]="bgpd zebra watchfrr" [openbgpd]="bgpd" [gobgpd]="gobgpd" [etcd-server]="etcd")
for p in "${missing[@]}"; do
  for d in ${DAEMONS[$p]:-}; do pkill -x -P 1 "$d" 2>/dev/null || true; done
done
/opt/bird2/usr/sbin/bird --version 2>&1 | head -1
bird --version 2>&1 | head -1
