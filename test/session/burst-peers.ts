// Child process for the burst test: N in-test speakers (see speaker.ts) that connect to the reflector all
// at once when told "go" on stdin, and report on stdout when every one of them is Established.
import { Speaker } from './speaker.js';

const [rr, count, as] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
const addrs: string[] = [];
for (let i = 0; i < count; i++) addrs.push(`127.30.${1 + (i >> 8)}.${i & 0xff}`);
const speakers: Speaker[] = [];

process.stdin.setEncoding('utf8');
process.stdin.on('data', (d: string) => {
  if (!d.includes('go')) return;
  const t0 = performance.now();
  let done = 0;
  for (const a of addrs) {
    Speaker.connect(a, rr, 179, { as, bgpId: a, holdTime: 90, autoKeepalive: true }).then((sp) => {
      speakers.push(sp);
      void sp.waitFor(() => sp.established, 30_000, 'established').then(() => {
        if (++done === addrs.length) process.stdout.write(`${JSON.stringify({ established: done, ms: performance.now() - t0 })}\n`);
      });
    }, (e: Error) => process.stdout.write(`${JSON.stringify({ error: `${a}: ${e.message}` })}\n`));
  }
});
process.stdout.write('ready\n');
