// The HTTP endpoint on METRICS_LISTEN: /metrics (prom-client's registry plus the per-session text), /healthz (process alive), /readyz (datastore
// synced and BGP listening). Nothing else is served; every other path is 404.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { MetricsModel } from './model.js';
import { SessionExposition } from './session-text.js';

export interface MetricsServer {
  /** The bound address (useful when port 0 was asked for). */
  address(): AddressInfo;
  close(): Promise<void>;
}

/** Splits "host:port", "[v6]:port" or ":port" (all addresses). */
export function parseListen(listen: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen);
  if (!m) throw new Error(`"${listen}" is not host:port`);
  const host = m[1] ?? (m[2] === '' ? undefined : m[2]);
  return { host, port: Number(m[3]) };
}

export async function startMetricsServer(listen: string, registry: Registry, model: MetricsModel): Promise<MetricsServer> {
  const { host, port } = parseListen(listen);
  const sessionText = new SessionExposition();
  const server = http.createServer((req, res) => {
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address: () => server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
