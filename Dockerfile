# Drop-in replacement for calico/routereflector. Build and run steps are scripts that CI also runs outside Docker
# (scripts/build.sh, scripts/entrypoint.sh, scripts/healthcheck.mjs), so what this file runs is tested.
# Node 24: the active LTS (Node 20 reached its end of life in April 2026). CI runs the suite on Node 24 too (.ci/run).
FROM node:24-bookworm-slim AS build
WORKDIR /app
# g++, make and python3 build the TCP-MD5/GTSM addon (native/) with npm's bundled node-gyp.
RUN apt-get update && apt-get install -y --no-install-recommends g++ make python3 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
RUN sh scripts/build.sh
COPY native ./native
RUN node native/build.mjs

FROM node:24-bookworm-slim
WORKDIR /app
# The variables the reflector reads (README "Configuration" has defaults and details; test/deploy/dockerfile-env
# checks this list against the code). Every etcd variable may also be given with a CALICO_ prefix.
#   Identity:      IP (required), IP6 (IPv6 off when unset), BGP_PORT, NODENAME (else HOSTNAME, which the
#                  runtime sets: which Calico Node this reflector is)
#   Datastore:     DATASTORE_TYPE, ETCD_ENDPOINTS, ETCD_AUTHORITY, ETCD_SCHEME, ETCD_CA_CERT_FILE, ETCD_CERT_FILE,
#                  ETCD_KEY_FILE, ETCD_USERNAME, ETCD_PASSWORD, ETCD_ALLOW_INSECURE_CREDENTIALS, KUBECONFIG,
#                  NAMESPACE, DATASTORE_FILE, DATASTORE_FILE_MAX_BYTES, RR_REGISTER, RR_CLUSTER_ID, RR_REGISTER_TTL
#   Sockets:       SOCKET_DIR, SOCKET_OWNER, SOCKET_GROUP, SOCKET_MODE, BIRD_TIMEFORMAT
#   Observability: METRICS_LISTEN, LOG_LEVEL, LOG_FORMAT
#   Limits:        MAX_PREFIXES, MAX_PREFIXES_WARNING_PERCENT, MAX_PREFIXES_IDLE_HOLD, MAX_AS_PATH_LENGTH,
#                  OUTBOUND_QUEUE_LIMIT, MAX_PENDING_CONNECTIONS, TTL_SECURITY, IDLE_HOLD_BASE, IDLE_HOLD_CAP
#   Restart:       GRACEFUL_RESTART_TIME, RESTART_DEFERRAL_TIME
#   Paths:         ADD_PATHS (off, all or N: ADD-PATH, RFC 7911)
#   Node itself:   NODE_OPTIONS (a semi-space flag there replaces the reflector's own young-generation setting)
#   Set by Kubernetes for the in-cluster service account: KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT
#   Set below:     NODE_ENV, MALLOC_ARENA_MAX (glibc, not the reflector)
# MALLOC_ARENA_MAX=2: glibc's per-thread arenas otherwise keep freed memory after session churn (see native/README
# and the cycles test), which shows as RSS growth that is not a leak.
# METRICS_LISTEN is not set: the endpoint listens on IP:9180, not on every interface (README).
ENV NODE_ENV=production \
    SOCKET_DIR=/sockets \
    MALLOC_ARENA_MAX=2
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/native/tcp_md5/build/Release/tcp_sockopt.node ./native/tcp_md5/build/Release/tcp_sockopt.node
COPY scripts/entrypoint.sh scripts/healthcheck.mjs ./scripts/
# Runs as uid/gid 65534 (nobody). Binding port 179 needs CAP_NET_BIND_SERVICE, and Kubernetes gives a non-root
# container no ambient capabilities, so the node binary carries it as a file capability (gained when the
# entrypoint execs node, if the bounding set has it and no_new_privs is off, as the manifest asks). setcap comes from
# libcap2-bin, removed again afterwards; /sockets belongs to that user so the control sockets can be created.
RUN apt-get update && apt-get install -y --no-install-recommends libcap2-bin \
    && setcap cap_net_bind_service=+ep "$(readlink -f "$(command -v node)")" \
    && getcap "$(readlink -f "$(command -v node)")" | grep -q cap_net_bind_service \
    && apt-get purge -y libcap2-bin && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /sockets && chown 65534:65534 /sockets
USER 65534:65534
VOLUME ["/sockets"]
EXPOSE 179/tcp 9180/tcp
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 CMD ["node", "scripts/healthcheck.mjs"]
ENTRYPOINT ["/app/scripts/entrypoint.sh"]
CMD ["node", "dist/main.js"]
