// The HTTP endpoint on METRICS_LISTEN: /metrics (prom-client's registry plus the per-session text), /healthz (process alive), /readyz (datastore
// synced and BGP listening). Nothing else is served; every other path is 404.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, type Registry } from 'prom-client';
import type { MetricsModel } from './model.js';
import { SessionExposition } from './session-text.js';

/**
 * Bounds of the endpoint, which anyone who can reach the address may open connections to: at most
 * maxConnections at a time (more are closed at once and counted), and a client that has not sent its request
 * headers within headersTimeoutMs, or the whole request within requestTimeoutMs, is disconnected.
 */
export interface MetricsServerOptions {
  maxConnections?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this long. */
  keepAliveTimeoutMs?: number;
}

export const METRICS_MAX_CONNECTIONS = 64;
export const METRICS_HEADERS_TIMEOUT_MS = 5000;
export const METRICS_REQUEST_TIMEOUT_MS = 10_000;
const METRICS_KEEPALIVE_TIMEOUT_MS = 5000;

export interface MetricsServer {
  /** The bound address (useful when port 0 was asked for). */
  address(): AddressInfo;
  /** Connections open now, and refused so far because maxConnections were open. */
  connections(): { open: number; refused: number };
  close(): Promise<void>;
}

/** Splits "host:port", "[v6]:port" or ":port" (all addresses). */
export function parseListen(listen: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen);
  if (!m) throw new Error(`"${listen}" is not host:port`);
  const host = m[1] ?? (m[2] === '' ? undefined : m[2]);
  return { host, port: Number(m[3]) };
}

export async function startMetricsServer(listen: string, registry: Registry, model: MetricsModel, opts: MetricsServerOptions = {}): Promise<MetricsServer> {
  const { host, port } = parseListen(listen);
  const sessionText = new SessionExposition();
  const headersTimeout = opts.headersTimeoutMs ?? METRICS_HEADERS_TIMEOUT_MS;
  let refused = 0;
  let open = 0;
  const refusedName = 'bgp_rr_metrics_connections_refused_total';
  const refusedCounter = (registry.getSingleMetric(refusedName) as Counter | undefined) ?? new Counter({
    name: refusedName,
    help: 'Connections to the metrics endpoint closed at once because its connection limit was reached',
    registers: [registry],
  });
  const server = http.createServer({
    headersTimeout,
    requestTimeout: opts.requestTimeoutMs ?? METRICS_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? METRICS_KEEPALIVE_TIMEOUT_MS,
    // How often Node looks for connections past headersTimeout/requestTimeout (its default, 30 s, would let a
    // slow client stay six times longer than the limit).
    connectionsCheckingInterval: Math.max(250, Math.min(1000, Math.floor(headersTimeout / 2))),
  }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text + sessionText.text(model.sessions())),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${String(err)}\n`),
      );
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/readyz') {
      const d = model.datastore();
      const listening = model.listening();
      const ready = d.synced && listening;
      const body = `datastore ${d.source}: ${d.synced ? 'synced' : 'not synced'}${d.lastError ? ` (${d.lastError})` : ''}\nbgp listener: ${listening ? 'listening' : 'not listening'}\n`;
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(body);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  server.maxConnections = opts.maxConnections ?? METRICS_MAX_CONNECTIONS;
  server.on('drop', () => {
    refused++;
    refusedCounter.inc();
  });
  server.on('connection', (sock) => {
    open++;
    sock.once('close', () => open--);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address: () => server.address() as AddressInfo,
    connections: () => ({ open, refused }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
