// Child process for the burst test: N lightweight speakers (OPEN/KEEPALIVE only, bytes from the codec, framing
// by src/session/framer) that connect to the reflector all at once on "go" (stdin) and report on stdout.
import net from 'node:net';
import { Framer } from '../../src/session/framer.js';
import { encodeKeepalive, encodeOpen } from '../../src/wire/index.js';
import { MessageType } from '../../src/wire/types.js';
import { makeOpen } from './speaker.js';

const [rr, count, as] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
// The /24 prefixes the test claimed for the nodes, 249 hosts (.1–.249) each, numbered as in load.test.ts.
const nets = (process.argv[5] ?? '').split(',');
const nodes: { addr: string; open: Buffer }[] = [];
for (let i = 0; i < count; i++) {
  const addr = `${nets[Math.floor(i / 249)]!}.${1 + (i % 249)}`;
  nodes.push({ addr, open: encodeOpen(makeOpen({ as, bgpId: addr, holdTime: 90 })) });
}
const KEEPALIVE = encodeKeepalive();
const sockets: net.Socket[] = [];

function report(o: object): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

process.stdin.setEncoding('utf8');
process.stdin.on('data', (d: string) => {
  if (!d.includes('go')) return;
  const t0 = performance.now();
  let connected = 0;
  let connectedMs = 0;
  let established = 0;
  for (const { addr, open } of nodes) {
    const sock = net.connect({ host: rr, port: 179, localAddress: addr, noDelay: true });
    sockets.push(sock);
    const framer = new Framer();
    let sawOpen = false;
    let up = false;
    sock.on('connect', () => {
      sock.write(open);
      if (++connected === nodes.length) connectedMs = performance.now() - t0;
    });
    sock.on('data', (chunk: Buffer) => {
      framer.push(chunk);
      for (let m = framer.next(); m; m = framer.next()) {
        const type = m[18];
        if (type === MessageType.OPEN && !sawOpen) {
          sawOpen = true;
          sock.write(KEEPALIVE);
        } else if (type === MessageType.KEEPALIVE && sawOpen && !up) {
          up = true;
          if (++established === nodes.length) report({ established, ms: performance.now() - t0, connectedMs, issuedMs });
        } else if (type === MessageType.NOTIFICATION) {
          report({ error: `${addr}: NOTIFICATION ${m[19]}/${m[20]}` });
        }
      }
    });
    sock.on('error', (e) => report({ error: `${addr}: ${e.message}` }));
  }
  const issuedMs = performance.now() - t0;
  // Keep the sessions alive (hold 90 s) for as long as the test looks at them.
  setInterval(() => {
    for (const s of sockets) if (s.writable) s.write(KEEPALIVE);
  }, 20_000).unref();
});
process.stdout.write('ready\n');
