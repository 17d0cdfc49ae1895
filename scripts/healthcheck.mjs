// HEALTHCHECK of the image: GET /healthz on METRICS_LISTEN (a host of 0.0.0.0, :: or empty means loopback);
// without METRICS_LISTEN the reflector listens on IP:9180 (127.0.0.1 when IP is not set either).
const listen = process.env.METRICS_LISTEN ?? `${process.env.IP || '127.0.0.1'}:9180`;
const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen);
if (!m) { console.error(`METRICS_LISTEN: "${listen}" is not host:port`); process.exit(1); }
let host = m[1] ?? m[2];
if (host === '' || host === '0.0.0.0') host = '127.0.0.1';
if (host === '::') host = '::1';
const url = `http://${host.includes(':') ? `[${host}]` : host}:${m[3]}/healthz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  console.error(`${url}: ${err}`);
  process.exit(1);
}
