// ADD-PATH end to end (issue 20, RFC 7911), in a network namespace this test creates: three BIRD 2 nodes announce
// the same /32 (and the same IPv6 /128) with different next hops on a link of the namespace; through our reflector
// (ADD_PATHS=all) a BIRD 2 node with `add paths rx` and `merge paths` gets all three, and its kernel table holds one
// ECMP route with three next hops; a BIRD 2 node without ADD-PATH gets the one best path. Withdrawing one path
// leaves the other two everywhere. Oracles: BIRD's `show route`, the kernel's routing table (`ip route`), and the
// RFC 4271 decision order for the single best path (lowest BGP identifier among otherwise equal paths).
import test from 'ava';
import { renameSync, writeFileSync } from 'node:fs';
import { runChild } from '../helpers/child.js';
import { netnsName } from '../helpers/net.js';
import { birdc, createNetns, deleteNetns, startBird2WithConfig, startReflector6, waitFor, type Proc, type ReflectorProc } from './e2e-lab.js';

const NS = netnsName('rrap');
const RR = '127.64.0.1';
const RR6 = 'fd64::1';
const AS = 64512;
const ANYCAST4 = '192.0.2.10/32';
const ANYCAST6 = '2001:db8:ec::10/128';
/** Announcers a, b, c: router IDs 127.64.0.11-13; next hops on the namespace's link nh0: 100.64.0.11-13 / fd64:ffff::11-13. */
const ANNOUNCERS = [11, 12, 13];
const RX = 14; // ADD-PATH receiver with merge paths into the kernel
const PLAIN = 15; // no ADD-PATH

const procs: Proc[] = [];
test.after.always(async () => {
  for (const p of procs.reverse()) await p.stop();
  deleteNetns(NS);
});

const ip = (n: number) => `127.64.0.${n}`;
const ip6 = (n: number) => `fd64::${n}`;
const nh4 = (n: number) => `100.64.0.${n}`;
const nh6 = (n: number) => `fd64:ffff::${n}`;

function sh(...args: string[]): string {
  const r = runChild('/usr/sbin/ip', ['-n', NS, ...args], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const sessions = (n: number, channel4: string, channel6: string) => `
protocol bgp rr4 {
  local ${ip(n)} as ${AS}; neighbor ${RR} as ${AS}; multihop; strict bind yes;
  hold time 30; connect delay time 1; connect retry time 2; error wait time 1,4; graceful restart on;
  ipv4 { ${channel4} };
}
protocol bgp rr6 {
  local ${ip6(n)} as ${AS}; neighbor ${RR6} as ${AS}; multihop; strict bind yes;
  hold time 30; connect delay time 1; connect retry time 2; error wait time 1,4; graceful restart on;
  ipv6 { ${channel6} };
}
`;

function announcerConfig(n: number): string {
  return `router id ${ip(n)};
protocol device { scan time 2; }
protocol static s4 { ipv4; route ${ANYCAST4} via ${nh4(n)}; }
protocol static s6 { ipv6; route ${ANYCAST6} via ${nh6(n)}; }
${sessions(n,
    `import all; export where proto = "s4"; next hop address ${nh4(n)};`,
    `import all; export where proto = "s6"; next hop address ${nh6(n)};`)}`;
}

function receiverConfig(n: number, addPaths: boolean): string {
  const rx = addPaths ? 'add paths rx;' : '';
  const kernel = addPaths
    ? `protocol kernel k4 { ipv4 { import none; export where source = RTS_BGP; }; merge paths on; }
protocol kernel k6 { ipv6 { import none; export where source = RTS_BGP; }; merge paths on; }`
    : '';
  return `router id ${ip(n)};
protocol device { scan time 2; }
protocol direct { ipv4; ipv6; interface "nh0"; }
${kernel}
${sessions(n, `import all; export none; gateway recursive; ${rx}`, `import all; export none; gateway recursive; ${rx}`)}`;
}

let baseKeys: Record<string, unknown> = {};
type Bird = ReturnType<typeof startBird2WithConfig>;
const birds = new Map<number, Bird>();

/** Next hops of the BGP routes BIRD holds for a prefix (`show route <prefix> all` route lines). */
function nextHopsAt(n: number, prefix: string): string[] {
  const out = birdc(birds.get(n) as Bird, 'show', 'route', 'for', prefix, 'all');
  const hops: string[] = [];
  for (const m of out.matchAll(/BGP\.next_hop:\s+(\S+)/g)) hops.push(m[1]);
  return hops.sort();
}

/** Next hops of the kernel's route for a prefix in the namespace (one `via` per ECMP leg). */
function kernelHops(family: 4 | 6, prefix: string): string[] {
  const out = sh(family === 4 ? '-4' : '-6', 'route', 'show', prefix.replace(/\/(32|128)$/, ''));
  return [...out.matchAll(/via (?:inet6 )?(\S+)/g)].map((m) => m[1]).sort();
}

test.before(async () => {
  createNetns(NS, [RR6, ...[...ANNOUNCERS, RX, PLAIN].map(ip6)]);
  // The next hops' link: a veth pair inside the namespace (this kernel has no dummy driver), both ends up.
  sh('link', 'add', 'nh0', 'type', 'veth', 'peer', 'name', 'nh1');
  sh('addr', 'add', `${nh4(1)}/24`, 'dev', 'nh0');
  sh('-6', 'addr', 'add', `${nh6(1)}/64`, 'dev', 'nh0', 'nodad');
  sh('link', 'set', 'nh1', 'up');
  sh('link', 'set', 'nh0', 'up');
  // As the seed's README registers a reflector: a global peer entry naming it, so every host is its client.
  const keys: Record<string, unknown> = {
    '/calico/bgp/v1/global/as_num': String(AS),
    [`/calico/bgp/v1/global/peer_v4/${RR}`]: { ip: RR, as_num: String(AS) },
    [`/calico/bgp/v1/global/peer_v6/${RR6}`]: { ip: RR6, as_num: String(AS) },
  };
  for (const n of [...ANNOUNCERS, RX, PLAIN]) {
    keys[`/calico/bgp/v1/host/h${n}/ip_addr_v4`] = ip(n);
    keys[`/calico/bgp/v1/host/h${n}/ip_addr_v6`] = ip6(n);
  }
  baseKeys = keys;
  procs.push(startReflector6(RR, RR6, NS, keys, undefined, { ADD_PATHS: 'all' }));
  for (const n of ANNOUNCERS) birds.set(n, startBird2WithConfig(`a${n}`, announcerConfig(n), NS));
  birds.set(RX, startBird2WithConfig('rx', receiverConfig(RX, true), NS));
  birds.set(PLAIN, startBird2WithConfig('plain', receiverConfig(PLAIN, false), NS));
  for (const b of birds.values()) procs.push(b.proc);
  try {
    await waitFor('three IPv4 and three IPv6 paths at the ADD-PATH node', () => nextHopsAt(RX, ANYCAST4).length === 3 && nextHopsAt(RX, ANYCAST6).length === 3, 60_000, 250);
  } catch (e) {
    // What each daemon saw, to tell a session problem from a path problem.
    for (const [n, b] of birds) console.error(`--- bird ${n}\n${birdc(b, 'show', 'protocols', 'all')}\n${birdc(b, 'show', 'route', 'all')}\n${b.proc.output()}`);
    console.error(`--- reflector\n${procs[0].output()}`);
    throw e;
  }
});

test.serial('the ADD-PATH node gets all three paths, and its kernel one ECMP route with three next hops', async (t) => {
  t.deepEqual(nextHopsAt(RX, ANYCAST4), ANNOUNCERS.map(nh4).sort());
  t.deepEqual(nextHopsAt(RX, ANYCAST6), ANNOUNCERS.map(nh6).sort());
  const k4 = await waitFor('IPv4 ECMP route in the kernel', () => (kernelHops(4, ANYCAST4).length === 3 ? kernelHops(4, ANYCAST4) : undefined), 20_000, 250);
  t.deepEqual(k4, ANNOUNCERS.map(nh4).sort());
  const k6 = await waitFor('IPv6 ECMP route in the kernel', () => (kernelHops(6, ANYCAST6).length === 3 ? kernelHops(6, ANYCAST6) : undefined), 20_000, 250);
  t.deepEqual(k6, ANNOUNCERS.map(nh6).sort());
});

test.serial('a node without ADD-PATH gets the one best path (lowest BGP identifier among equal paths)', (t) => {
  t.deepEqual(nextHopsAt(PLAIN, ANYCAST4), [nh4(11)]);
  t.deepEqual(nextHopsAt(PLAIN, ANYCAST6), [nh6(11)]);
  // An announcer without ADD-PATH gets the best path unless it is its own (RFC 4456 §8: not back to its
  // originator): the best is a's own, so a gets nothing; b and c get a's.
  t.deepEqual(nextHopsAt(11, ANYCAST4), []);
  t.deepEqual(nextHopsAt(12, ANYCAST4), [nh4(11)]);
  t.deepEqual(nextHopsAt(13, ANYCAST6), [nh6(11)]);
});

test.serial('our control socket lists every path and counts them', (t) => {
  const sock = `${(procs[0] as ReflectorProc).socketDir}/bird.ctl`;
  const r = runChild('birdc', ['-s', sock, 'show', 'route', 'for', ANYCAST4, 'all'], { encoding: 'utf8', timeout: 5000 });
  const hops = [...r.stdout.matchAll(/BGP\.next_hop:\s+(\S+)/g)].map((m) => m[1]).sort();
  t.deepEqual(hops, ANNOUNCERS.map(nh4).sort(), r.stdout);
  // As BIRD 1.6 lists several routes of one network: the prefix on the first line, the others indented below,
  // one marked best (`*`).
  const brief = runChild('birdc', ['-s', sock, 'show', 'route', 'for', ANYCAST4], { encoding: 'utf8', timeout: 5000 }).stdout;
  const lines = brief.split('\n').filter((l) => /\[Global_/.test(l));
  t.is(lines.length, 3, brief);
  t.true(lines[0].startsWith(ANYCAST4), brief);
  t.true(lines.slice(1).every((l) => /^\s+via /.test(l)), brief);
  t.is(lines.filter((l) => l.includes('] * ')).length, 1, brief);
  const count = runChild('birdc', ['-s', sock, 'show', 'route', 'count'], { encoding: 'utf8', timeout: 5000 }).stdout;
  // Three paths of one network from the announcers (the receivers announce nothing).
  t.regex(count, /3 of 3 routes for 1 networks/, count);
});

test.serial('withdrawing one path leaves the other two everywhere; the plain node moves to the next best', async (t) => {
  const a = birds.get(11) as Bird;
  t.regex(birdc(a, 'disable', 's4'), /disabled/);
  t.regex(birdc(a, 'disable', 's6'), /disabled/);
  const rest4 = [nh4(12), nh4(13)];
  const rest6 = [nh6(12), nh6(13)];
  await waitFor('two paths left at the ADD-PATH node and in its kernel', () =>
    nextHopsAt(RX, ANYCAST4).join() === rest4.join() && nextHopsAt(RX, ANYCAST6).join() === rest6.join() &&
    kernelHops(4, ANYCAST4).join() === rest4.join() && kernelHops(6, ANYCAST6).join() === rest6.join(), 20_000, 250);
  await waitFor('the plain node on the next best path', () => nextHopsAt(PLAIN, ANYCAST4).join() === nh4(12) && nextHopsAt(PLAIN, ANYCAST6).join() === nh6(12), 20_000, 250);
  // The new best is b's own: b gets nothing, c gets b's path, a (its path gone) gets b's.
  await waitFor('the announcers on the new best path', () => nextHopsAt(12, ANYCAST4).length === 0 && nextHopsAt(13, ANYCAST4).join() === nh4(12) && nextHopsAt(11, ANYCAST4).join() === nh4(12), 20_000, 250);
  t.regex(birdc(a, 'enable', 's4'), /enabled/);
  t.regex(birdc(a, 'enable', 's6'), /enabled/);
  await waitFor('three paths again', () => nextHopsAt(RX, ANYCAST4).length === 3 && kernelHops(4, ANYCAST4).length === 3 && nextHopsAt(RX, ANYCAST6).length === 3, 20_000, 250);
  t.pass();
});

test.serial('a per-peer add_paths in the datastore replaces ADD_PATHS for that node: the best 2 of 3', async (t) => {
  // A node-specific peer entry for the receiver's host (the v1 keys' per-peer field, README "Per-peer ADD-PATH"):
  // its session becomes Node_127_64_0_14 with ADD-PATH limited to 2 paths.
  const r = procs[0] as ReflectorProc;
  const keys = { ...baseKeys, [`/calico/bgp/v1/host/h${RX}/peer_v4/${RR}`]: { ip: RR, as_num: String(AS), add_paths: '2' } };
  writeFileSync(`${r.datastore}.tmp`, JSON.stringify(keys));
  renameSync(`${r.datastore}.tmp`, r.datastore);
  // The best two by the decision process: equal paths, lowest BGP identifiers first (a and b).
  const best2 = [nh4(11), nh4(12)];
  await waitFor('two IPv4 paths at the receiver and in its kernel', () => nextHopsAt(RX, ANYCAST4).join() === best2.join() && kernelHops(4, ANYCAST4).join() === best2.join(), 30_000, 250);
  // IPv6 has no such entry: still every path.
  t.deepEqual(nextHopsAt(RX, ANYCAST6), ANNOUNCERS.map(nh6).sort());
  const protocols = runChild('birdc', ['-s', `${r.socketDir}/bird.ctl`, 'show', 'protocols'], { encoding: 'utf8', timeout: 5000 }).stdout;
  t.regex(protocols, new RegExp(`Node_127_64_0_${RX}\\s+BGP\\s+\\S+\\s+up`), protocols);
});

test.serial('route refresh per path: BIRD asks for our table again and gets every path again', async (t) => {
  const rx = birds.get(RX) as Bird;
  // BIRD's received-updates counter of a session (`Import updates:` first column).
  const received = (proto: string): number => Number(/Import updates:\s+(\d+)/.exec(birdc(rx, 'show', 'protocols', 'all', proto))?.[1] ?? NaN);
  const before = { v4: nextHopsAt(RX, ANYCAST4), v6: nextHopsAt(RX, ANYCAST6), r4: received('rr4'), r6: received('rr6') };
  t.is(before.v6.length, 3);
  t.is(before.v4.length, 2);
  // `reload in` makes BIRD send ROUTE-REFRESH; with RFC 7313 it marks our routes stale at BoRR and drops the
  // ones we do not send again before EoRR.
  t.regex(birdc(rx, 'reload', 'in', 'rr6'), /reload/i);
  t.regex(birdc(rx, 'reload', 'in', 'rr4'), /reload/i);
  // Every path arrives again (3 IPv6, the best 2 IPv4), and nothing is flushed at EoRR.
  await waitFor('the table sent again', () => received('rr6') === before.r6 + 3 && received('rr4') === before.r4 + 2, 10_000, 100);
  await new Promise((res) => setTimeout(res, 500));
  t.deepEqual(nextHopsAt(RX, ANYCAST6), before.v6);
  t.deepEqual(nextHopsAt(RX, ANYCAST4), before.v4);
  t.deepEqual(kernelHops(6, ANYCAST6), ANNOUNCERS.map(nh6).sort());
});

test.serial('graceful restart per path: an announcer killed and restarted never takes its path away from the others', async (t) => {
  const a = birds.get(11) as Bird;
  const r = procs[0] as ReflectorProc;
  const v4 = [nh4(11), nh4(12)]; // the receiver's best 2 since the per-peer test
  const v6 = ANNOUNCERS.map(nh6).sort();
  t.deepEqual(nextHopsAt(RX, ANYCAST6), v6);
  // SIGKILL: the TCP connection closes without a NOTIFICATION, so we keep a's paths as stale (RFC 4724 §4.2).
  await a.proc.stop('SIGKILL');
  const lost: string[] = [];
  const sample = (when: string) => {
    if (nextHopsAt(RX, ANYCAST6).join() !== v6.join()) lost.push(`${when}: IPv6 ${nextHopsAt(RX, ANYCAST6).join()}`);
    if (nextHopsAt(RX, ANYCAST4).join() !== v4.join()) lost.push(`${when}: IPv4 ${nextHopsAt(RX, ANYCAST4).join()}`);
    if (kernelHops(6, ANYCAST6).length !== 3) lost.push(`${when}: kernel IPv6 ${kernelHops(6, ANYCAST6).join()}`);
  };
  for (let i = 0; i < 10; i++) {
    await new Promise((res) => setTimeout(res, 200));
    sample(`away ${i}`);
  }
  const again = startBird2WithConfig('a11', announcerConfig(11), NS, a.dir);
  birds.set(11, again);
  procs.push(again.proc);
  const ours = () => runChild('birdc', ['-s', `${r.socketDir}/bird.ctl`, 'show', 'protocols'], { encoding: 'utf8', timeout: 5000 }).stdout;
  for (let i = 0; i < 100 && !/Global_127_64_0_11\s+BGP\s+\S+\s+up/.test(ours()); i++) {
    sample(`back ${i}`);
    await new Promise((res) => setTimeout(res, 200));
  }
  t.regex(ours(), /Global_127_64_0_11\s+BGP\s+\S+\s+up/);
  // After its End-of-RIB the stale paths are replaced by the repeated ones: still the same paths everywhere.
  for (let i = 0; i < 10; i++) {
    await new Promise((res) => setTimeout(res, 200));
    sample(`after ${i}`);
  }
  t.deepEqual(lost, []);
  t.deepEqual(nextHopsAt(PLAIN, ANYCAST6), [nh6(11)]);
});
