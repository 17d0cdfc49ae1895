// Every control-socket command against the running reflector's real state: a real reflector process with real
// BIRD 2 peers, queried with the real `birdc -s` (BIRD 1.6's client, as Calico's tooling runs it). The oracle
// is the other side's own view: the BIRD nodes' `show protocols all` / `show route`, the kernel (`ip addr`,
// /proc/<pid>/status), not a model fed by the test.
//
// Command → test here (other live coverage in parentheses):
//   show protocols                     'show protocols / show protocols all …'
//   show protocols all [name]          'show protocols / show protocols all …'
//   show route                         'show route [all|for|protocol|count|export] …'
//   show route all                     'show route [all|for|protocol|count|export] …'
//   show route for <addr>              'show route [all|for|protocol|count|export] …'
//   show route protocol <name>         'show route [all|for|protocol|count|export] …'
//   show route count                   'show route [all|for|protocol|count|export] …' (test/app/observability)
//   show route export <name>           'show route [all|for|protocol|count|export] …'
//   show status                        'show status, show memory, show interfaces, show symbols …'
//   show memory                        'show status, show memory, show interfaces, show symbols …'
//   show interfaces                    'show status, show memory, show interfaces, show symbols …'
//   show symbols                       'show status, show memory, show interfaces, show symbols …'
//   restrict (birdc -r)                'restrict: changing commands refused …'
//   disable / enable                   'disable, enable, restart …' (test/reflector/reflect-bird)
//   restart                            'disable, enable, restart …'
//   reload in / reload out             'reload in / reload out …' (test/reflector/reflect-bird: reload in)
//   configure                          'configure …'
import test from 'ava';
import { sameInstant } from '../helpers/bird-time.js';
import type { Daemon } from '../session/daemons.js';
import { runChild } from '../helpers/child.js';
import { claimLoopbackNet } from '../helpers/net.js';
import { birdc2, rssBytes, startBird2Node, startReflector, until, type Reflector } from '../hardening/lab.js';

const procs: Array<Daemon | Reflector> = [];
test.after.always(async () => {
  await Promise.all(procs.map((p) => p.stop()));
});

let RR = '';
let A = '';
let B = '';
let C = '';
let NODE = '';
const BLOCK_A = '10.231.1.0/24';
const BLOCK_B = '10.231.2.0/24';
const BLOCK_C = '10.231.3.0/24';
const name = (ip: string): string => `Global_${ip.replaceAll('.', '_')}`;
const keys = (hosts: Record<string, string>): Record<string, unknown> => {
  const k: Record<string, unknown> = {
    '/calico/bgp/v1/global/as_num': '64512',
    [`/calico/bgp/v1/global/peer_v4/${RR}`]: { ip: RR, as_num: '64512' },
  };
  for (const [h, ip] of Object.entries(hosts)) k[`/calico/bgp/v1/host/${h}/ip_addr_v4`] = ip;
  return k;
};

let rr: Reflector;
let a: Daemon;
let b: Daemon;

/** Our control socket through the real birdc (BIRD 1.6's client); `restricted` runs `birdc -r`. */
function ours(cmd: string, restricted = false): string {
  const r = runChild('/usr/sbin/birdc', [...(restricted ? ['-r'] : []), '-s', rr.sock, ...cmd.split(' ')], { encoding: 'utf8', timeout: 10_000 });
  return (r.stdout ?? '') + (r.stderr ?? '');
}

/** BIRD's view of its session to us: state line and its channel's route counts. */
function birdSession(n: Daemon): { state: string; since: string; imported: number; exported: number; text: string } {
  const text = birdc2(n, 'show', 'protocols', 'all', NODE);
  const head = new RegExp(`^${NODE}\\s+BGP\\s+\\S+\\s+(\\S+)\\s+(\\S+ ?\\S*?)\\s+(\\S+)`, 'm').exec(text);
  const counts = /Routes:\s+(\d+) imported, (\d+) exported/.exec(text);
  return {
    state: /BGP state:\s+(\S+)/.exec(text)?.[1] ?? 'absent', since: head?.[2] ?? '', imported: Number(counts?.[1] ?? -1),
    exported: Number(counts?.[2] ?? -1), text,
  };
}
const birdPrefixes = (n: Daemon): string[] =>
  [...birdc2(n, 'show', 'route', 'protocol', NODE).matchAll(/^(\d+\.\d+\.\d+\.\d+\/\d+)\s/gm)].map((m) => m[1]!).sort();
const ourPrefixes = (text: string): string[] => [...text.matchAll(/^(?:\d{4}[- ])?(\d+\.\d+\.\d+\.\d+\/\d+)\s/gm)].map((m) => m[1]!).sort();
/** BIRD 2's channel statistics: `Import updates: received …` / `Export updates: sent …` (first column). */
const counter = (n: Daemon, dir: 'Import' | 'Export'): number =>
  Number(new RegExp(`${dir} updates:\\s+(\\d+)`).exec(birdc2(n, 'show', 'protocols', 'all', NODE))?.[1] ?? -1);

test.before(async () => {
  const net = await claimLoopbackNet();
  [RR, A, B, C] = [net.host(1), net.host(2), net.host(3), net.host(4)];
  NODE = `Node_${RR.replaceAll('.', '_')}`;
  rr = startReflector(RR, keys({ a: A, b: B }), { IDLE_HOLD_CAP: '1', LOG_LEVEL: 'warn' });
  a = startBird2Node({ ip: A, rr: RR, block: BLOCK_A });
  b = startBird2Node({ ip: B, rr: RR, block: BLOCK_B });
  procs.push(rr, a, b);
  await until('both BIRD nodes Established with routes', () =>
    birdSession(a).state === 'Established' && birdSession(b).state === 'Established' && birdPrefixes(a).includes(BLOCK_B) && birdPrefixes(b).includes(BLOCK_A) ? true : undefined, 60_000, 200);
});

test.serial('show protocols / show protocols all: our sessions as the BIRD nodes see them', (t) => {
  const list = ours('show protocols');
  for (const n of [A, B]) t.regex(list, new RegExp(`${name(n)}\\s+BGP\\s+\\S+\\s+up\\s+.*Established`));
  for (const [n, d] of [[A, a], [B, b]] as const) {
    const all = ours(`show protocols all ${name(n)}`);
    const bird = birdSession(d);
    t.regex(all, new RegExp(`Neighbor address: ${n.replaceAll('.', '\\.')}`));
    t.regex(all, /BGP state:\s+Established/);
    // What BIRD exported to us is what we say we imported from it, and the other way round.
    t.is(Number(/Routes:\s+(\d+) imported/.exec(all)?.[1]), bird.exported, `${name(n)}: our imported = BIRD's exported`);
    t.is(Number(/(\d+) exported/.exec(all)?.[1]), bird.imported, `${name(n)}: our exported = BIRD's imported`);
    t.regex(bird.text, new RegExp(`Neighbor ID:\\s+${RR.replaceAll('.', '\\.')}`), 'BIRD sees our router ID');
  }
});

test.serial('show route [all|for|protocol|count|export]: the routes the BIRD nodes exported and received', (t) => {
  // BIRD's exports: its own block (the static) announced to us; what we hold is their union.
  t.deepEqual(ourPrefixes(ours('show route')), [BLOCK_A, BLOCK_B].sort());
  const all = ours('show route all');
  t.regex(all, new RegExp(`${BLOCK_A.replace('.', '\\.')}[^]*?BGP\\.next_hop: ${A.replaceAll('.', '\\.')}`), 'next hop as BIRD set it (next hop self)');
  t.deepEqual(ourPrefixes(ours(`show route for ${BLOCK_A.replace('0/24', '77')}`)), [BLOCK_A]);
  t.deepEqual(ourPrefixes(ours(`show route protocol ${name(B)}`)), [BLOCK_B]);
  const exported = birdSession(a).exported + birdSession(b).exported;
  t.regex(ours('show route count'), new RegExp(`^(?:\\d{4}[- ])?${exported} of ${exported} routes for ${exported} networks`, 'm'), 'count = what the BIRD nodes exported');
  // What we export to B is exactly what B's BIRD received from us.
  t.deepEqual(ourPrefixes(ours(`show route export ${name(B)}`)), birdPrefixes(b));
  t.deepEqual(birdPrefixes(b), [BLOCK_A]);
});

test.serial('show status, show memory, show interfaces, show symbols: the process and the kernel', (t) => {
  const status = ours('show status');
  t.regex(status, /BIRD .* ready|Daemon is up and running/);
  t.regex(status, new RegExp(`Router ID is ${RR.replaceAll('.', '\\.')}`), 'the router ID BIRD sees');
  t.regex(birdSession(a).text, new RegExp(`Neighbor ID:\\s+${RR.replaceAll('.', '\\.')}`));
  // show memory's total is the process's resident set (src/app/control-adapter.ts), read here from /proc.
  const mem = /Total:\s+([\d.]+)\s+(B|kB|MB|GB)/.exec(ours('show memory'));
  t.truthy(mem, 'a Total line');
  const scale = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[mem![2] as 'B' | 'kB' | 'MB' | 'GB'];
  const total = Number(mem![1]) * scale;
  const rss = rssBytes(rr.proc.pid!);
  t.true(total > rss / 2 && total < rss * 2, `show memory total ${total} vs VmRSS ${rss}`);
  // Interfaces: the kernel's IPv4 interfaces (ip -o -4 addr), each with its addresses.
  const ifs = ours('show interfaces');
  const kernel = runChild('/usr/sbin/ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8', timeout: 10_000 }).stdout.trim().split('\n').map((l) => l.split(/\s+/));
  for (const f of kernel) {
    t.true(ifs.includes(f[1]!), `interface ${f[1]} listed`);
    t.true(ifs.includes(f[3]!), `address ${f[3]} listed`);
  }
  const sym = ours('show symbols');
  for (const n of [A, B]) t.regex(sym, new RegExp(`${name(n)}\\s+protocol`));
});

test.serial('restrict: changing commands refused, BIRD\'s session untouched', async (t) => {
  const before = birdSession(a);
  t.regex(ours(`disable ${name(A)}`, true), /Access denied/);
  t.regex(ours(`restart ${name(A)}`, true), /Access denied/);
  t.regex(ours('configure', true), /Access denied/);
  t.regex(ours('show protocols', true), new RegExp(name(A)), 'show commands still work');
  await new Promise((r) => setTimeout(r, 1500));
  const after = birdSession(a);
  t.is(after.state, 'Established');
  t.true(sameInstant(after.since, before.since), `BIRD saw no reset (${before.since} -> ${after.since})`);
});

test.serial('disable, enable, restart: BIRD sees its session go down and come back, and the routes with it', async (t) => {
  t.regex(ours(`disable ${name(A)}`), new RegExp(`${name(A)}: disabled`));
  await until('BIRD A sees the session down', () => (birdSession(a).state !== 'Established' ? true : undefined), 20_000);
  await until('B lost A\'s block', () => (!birdPrefixes(b).includes(BLOCK_A) ? true : undefined), 20_000);
  t.pass();
  t.regex(ours(`enable ${name(A)}`), new RegExp(`${name(A)}: enabled`));
  await until('BIRD A Established again', () => (birdSession(a).state === 'Established' ? true : undefined), 30_000);
  await until('B has A\'s block again', () => (birdPrefixes(b).includes(BLOCK_A) ? true : undefined), 30_000);
  const before = birdSession(b).since;
  const aSince = birdSession(a).since;
  t.regex(ours(`restart ${name(B)}`), new RegExp(`${name(B)}: restarted`));
  await until('BIRD B re-established after the restart', () => {
    const s = birdSession(b);
    return s.state === 'Established' && !sameInstant(s.since, before) ? true : undefined;
  }, 30_000);
  await until('B has A\'s block after the restart', () => (birdPrefixes(b).includes(BLOCK_A) ? true : undefined), 30_000);
  t.true(sameInstant(birdSession(a).since, aSince), 'A was not restarted');
});

test.serial('reload in / reload out: BIRD re-sends its routes to us (route refresh), we re-send ours to BIRD', async (t) => {
  const exportsA = counter(a, 'Export');
  // BIRD prints nothing per protocol for a reload that worked.
  t.notRegex(ours(`reload in ${name(A)}`), /failed|error|denied|syntax/i);
  await until('A re-exported on our ROUTE-REFRESH', () => (counter(a, 'Export') > exportsA ? true : undefined), 20_000);
  const importsB = counter(b, 'Import');
  t.notRegex(ours(`reload out ${name(B)}`), /failed|error|denied|syntax/i);
  await until('B received our table again', () => (counter(b, 'Import') > importsB ? true : undefined), 20_000);
  t.deepEqual(birdPrefixes(b), [BLOCK_A], 'nothing else changed at B');
  t.pass();
});

test.serial('configure: a peer added to the datastore comes up, as the new BIRD node sees it', async (t) => {
  const c = startBird2Node({ ip: C, rr: RR, block: BLOCK_C });
  procs.push(c);
  const sinceA = birdSession(a).since;
  rr.write(keys({ a: A, b: B, c: C }));
  t.regex(ours('configure'), /Reconfigured/);
  await until('BIRD C Established', () => (birdSession(c).state === 'Established' ? true : undefined), 30_000);
  await until('A has C\'s block', () => (birdPrefixes(a).includes(BLOCK_C) ? true : undefined), 30_000);
  t.true(sameInstant(birdSession(a).since, sinceA), 'the other sessions untouched');
  t.regex(ours('configure check'), /Configuration OK/);
});
