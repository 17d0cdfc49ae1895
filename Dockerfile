# Drop-in replacement for calico/routereflector. Build and run steps are scripts that CI also runs outside Docker
# (scripts/build.sh, scripts/entrypoint.sh, scripts/healthcheck.mjs), so what this file runs is tested.
FROM node:20-bookworm-slim AS build
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

FROM node:20-bookworm-slim
WORKDIR /app
# MALLOC_ARENA_MAX=2: glibc's per-thread arenas otherwise keep freed memory after session churn (see native/README
# and the cycles test), which shows as RSS growth that is not a leak.
ENV NODE_ENV=production \
    SOCKET_DIR=/sockets \
    METRICS_LISTEN=:9180 \
    MALLOC_ARENA_MAX=2
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/native/tcp_md5/build/Release/tcp_sockopt.node ./native/tcp_md5/build/Release/tcp_sockopt.node
COPY scripts/entrypoint.sh scripts/healthcheck.mjs ./scripts/
VOLUME ["/sockets"]
EXPOSE 179/tcp 9180/tcp
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 CMD ["node", "scripts/healthcheck.mjs"]
ENTRYPOINT ["/app/scripts/entrypoint.sh"]
CMD ["node", "dist/main.js"]
