// A separate process that plays a BGP peer flooding the reflector: OPEN + KEEPALIVE, then on "go" (stdin)
// writes a prebuilt stream of UPDATEs (a file) and keeps sending KEEPALIVEs. Plain JS: no build step.
import fs from 'node:fs';
import net from 'node:net';

const [host, port, local, openHex, blobPath] = process.argv.slice(2);
const open = Buffer.from(openHex, 'hex');
const ka = Buffer.alloc(19, 0xff);
ka.writeUInt16BE(19, 16);
ka[18] = 4;
const blob = fs.readFileSync(blobPath);

const sock = net.connect({ host, port: Number(port), localAddress: local });
sock.setNoDelay(true);
sock.on('connect', () => sock.write(Buffer.concat([open, ka])));
sock.on('data', () => undefined); // drain what the reflector sends
sock.on('close', () => process.exit(0));
sock.on('error', (e) => { console.error(`flood peer: ${e.message}`); process.exit(1); });
setInterval(() => sock.write(ka), 1000);
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  if (!d.includes('go')) return;
  const t0 = Date.now();
  sock.write(blob, () => process.stdout.write(`written ${blob.length} ${Date.now() - t0}\n`));
});
