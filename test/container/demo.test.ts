// `npm run demo` is what a newcomer runs first: it must show every simulated node Established and every
// node's blocks reflected to the others, in BIRD's format, and exit 0.
import test from 'ava';
import { runChild } from '../helpers/child.js';
import { claimLoopbackNet } from '../helpers/net.js';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NET = await claimLoopbackNet();

test('npm run demo reflects every simulated node\'s blocks and shows them as birdc would', (t) => {
  const r = runChild('npm', ['run', '--silent', 'demo'], {
    cwd: ROOT, encoding: 'utf8', timeout: 90_000, env: { DEMO_IP: NET.host(1), DEMO_NODES: '3' },
  });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /3 nodes Established/);
  t.regex(r.stdout, /holds all the others' blocks: yes/);
  const established = r.stdout.match(/^Global_127_71_0_\d+ +BGP +master +up .*Established/gm) ?? [];
  t.is(established.length, 3);
  const best = r.stdout.match(/^10\.\S+\/26 +via 100\.64\.0\.\d+ on \S+ \[Global_127_71_0_\d+ .*\] \* \(100\) \[i\]$/gm) ?? [];
  t.is(best.length, 6, 'three nodes × two /26 blocks, each the best route');
});
