# Drop-in replacement for calico/routereflector. Build and run steps are scripts that CI also runs outside Docker
# (scripts/build.sh, scripts/entrypoint.sh, scripts/healthcheck.mjs), so what this file runs is tested.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
RUN sh scripts/build.sh

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    SOCKET_DIR=/sockets \
    METRICS_LISTEN=:9180
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY scripts/entrypoint.sh scripts/healthcheck.mjs ./scripts/
VOLUME ["/sockets"]
EXPOSE 179/tcp 9180/tcp
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 CMD ["node", "scripts/healthcheck.mjs"]
ENTRYPOINT ["/app/scripts/entrypoint.sh"]
CMD ["node", "dist/main.js"]
