// End to end: two of our reflectors in an iBGP mesh (Mesh_ sessions), each serving one BIRD node. First with
// different cluster IDs (routes cross the mesh), then sharing one (BIRD 1.6 behaviour, projectcalico/calico#2735).
import path from 'node:path';
import test from 'ava';
import { bgpRoutes, birdc, sleep, startBird16Node, startBird2Node, startReflector, waitFor, type BirdNode, type Proc, type ReflectorProc } from './e2e-lab.js';
import { claimLoopbackNet } from '../helpers/net.js';

const NET = await claimLoopbackNet();

const R1 = NET.host(2);
const R2 = NET.host(3);
const procs: Proc[] = [];
test.after.always(async () => {
  for (const p of procs) await p.stop();
});

function keys(c1: string, c2: string): Record<string, unknown> {
  return {
    '/calico/bgp/v1/global/as_num': '64512',
    [`/calico/bgp/v1/rr_v4/${R1}`]: { ip: R1, cluster_id: c1 },
    [`/calico/bgp/v1/rr_v4/${R2}`]: { ip: R2, cluster_id: c2 },
    '/calico/bgp/v1/host/a/ip_addr_v4': NET.host(101),
    [`/calico/bgp/v1/host/a/peer_v4/${R1}`]: { ip: R1, as_num: '64512' },
    '/calico/bgp/v1/host/c/ip_addr_v4': NET.host(103),
    [`/calico/bgp/v1/host/c/peer_v4/${R2}`]: { ip: R2, as_num: '64512' },
  };
}

let r1: ReflectorProc;
let r2: ReflectorProc;
let a: BirdNode;
let c: BirdNode;

test.before(async () => {
  r1 = startReflector(R1, keys('1.0.0.1', '1.0.0.2'));
  r2 = startReflector(R2, keys('1.0.0.1', '1.0.0.2'));
  a = startBird2Node({ ip: NET.host(101), rr: R1, blocks: ['10.61.1.0/26'], community: [64512, 11] });
  c = startBird16Node({ ip: NET.host(103), rr: R2, blocks: ['10.61.3.0/26'] });
  procs.push(r1, r2, a, c);
});

const route = (n: BirdNode, p: string) => bgpRoutes(n).find((r) => r.prefix === p);
const ours = (r: ReflectorProc, ...cmd: string[]) => birdc({ socket: path.join(r.socketDir, 'bird.ctl'), bird2: false }, ...cmd);

/** On failure, what the reflectors said (their logs) helps more than a timeout. */
function diagnose(t: { log: (...a: unknown[]) => void }): void {
  for (const r of [r1, r2]) {
    t.log(ours(r, 'show', 'protocols'));
    t.log(r.output().split('\n').filter((l) => !/-> (Connect|Active)|Active ->|Connect ->/.test(l)).slice(-20).join('\n'));
  }
  t.log(birdc(a, 'show', 'protocols'), birdc(c, 'show', 'protocols'));
}

test.serial('different cluster IDs: routes cross the mesh with both cluster IDs and the original next hop', async (t) => {
  const atC = await waitFor('a\'s block at c', () => route(c, '10.61.1.0/26'), 60_000).catch((e: unknown) => { diagnose(t); throw e; });
  t.is(atC.attrs.get('BGP.next_hop'), NET.host(101));
  t.is(atC.attrs.get('BGP.originator_id'), NET.host(101));
  t.is(atC.attrs.get('BGP.cluster_list'), '1.0.0.2 1.0.0.1');
  t.is(atC.attrs.get('BGP.community'), '(64512,11)');
  const atA = await waitFor('c\'s block at a', () => route(a, '10.61.3.0/26'), 30_000);
  t.is(atA.attrs.get('BGP.next_hop'), NET.host(103));
  t.is(atA.attrs.get('BGP.cluster_list'), '1.0.0.1 1.0.0.2');
  t.regex(ours(r1, 'show', 'protocols'), new RegExp(String.raw`Mesh_${NET.under(3)}\s+BGP\s+\S+\s+up`));
});

test.serial('one shared cluster ID: each reflector keeps the other\'s routes but does not pass them to its clients', async (t) => {
  // Fresh reflector processes with the shared ID (changing it live restarts every session at once, and two
  // reflectors restarting their Mesh_ session together is the sessions' business, tested there).
  await r1.stop('SIGTERM');
  await r2.stop('SIGTERM');
  r1 = startReflector(R1, keys('1.0.0.1', '1.0.0.1'));
  r2 = startReflector(R2, keys('1.0.0.1', '1.0.0.1'));
  procs.push(r1, r2);
  await waitFor('a\'s block gone from c', () => route(c, '10.61.1.0/26') === undefined, 60_000);
  await waitFor('c\'s block gone from a', () => route(a, '10.61.3.0/26') === undefined, 30_000);
  await waitFor('the mesh up again', () => new RegExp(String.raw`Mesh_${NET.under(3)}\s+BGP\s+\S+\s+up`).test(ours(r1, 'show', 'protocols')), 60_000);
  // r2 still learns a's block over the mesh (accepted from a non-client, as BIRD 1.6 does)...
  const table = await waitFor('a\'s block in r2\'s table', () => {
    const out = ours(r2, 'show', 'route', 'all', '10.61.1.0/26');
    return out.includes('10.61.1.0/26') ? out : undefined;
  }, 30_000);
  t.regex(table, new RegExp(String.raw`Mesh_${NET.under(2)}`));
  t.regex(table, /BGP.cluster_list: 1.0.0.1/);
  // ...while both nodes are connected again and still do not see each other's block.
  await waitFor('nodes\' sessions back', () => /Established/.test(birdc(c, 'show', 'protocols', 'all')) && /Established/.test(birdc(a, 'show', 'protocols', 'all')), 30_000);
  // r2 sends its table over the mesh only after its own restart hold, so wait for it rather than look once.
  const fromMesh = await waitFor('c\'s block in r1\'s table over the mesh', () => {
    const out = ours(r1, 'show', 'route', 'all', '10.61.3.0/26');
    return new RegExp(`Mesh_${NET.under(3)}`).test(out) ? out : undefined;
  }, 30_000);
  t.regex(fromMesh, new RegExp(String.raw`Mesh_${NET.under(3)}`));
  await sleep(6500); // past the reflectors' restart hold (End-of-RIB + 5 s settle)
  t.is(route(c, '10.61.1.0/26'), undefined);
  t.is(route(a, '10.61.3.0/26'), undefined);
});
