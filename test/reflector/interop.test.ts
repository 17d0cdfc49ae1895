// Reflection through every BGP implementation CI installs: BIRD 2, GoBGP, ExaBGP, FRR (bgpd -Z) and OpenBGPD
// are iBGP route-reflector clients of our reflector (one process, file datastore, cluster ID from its rr_v4
// entry). Each announces one prefix with a next hop outside 127/8, a community and a large community; each must
// see every other implementation's prefix, in its own CLI's view, with the NEXT_HOP the originator set,
// ORIGINATOR_ID = the originator's router ID, CLUSTER_LIST = [our cluster ID] and both communities unchanged, and
// never its own prefix back. Then each withdraws in turn and every other view loses exactly that prefix.
import test from 'ava';
import { claimLoopbackNet, freePort } from '../helpers/net.js';
import { until } from '../helpers/until.js';
import {
  checkInstalled, clientKeys, expectedView, gobgpAnnounce, startBird2Client, startExabgpClient, startFrrClient, startGobgpClient, startOpenbgpdClient,
  startReflector, type Announce, type Client, type Proc, type RouteView,
} from './interop-lab.js';

const AS = 64512;
// Not the reflector's router ID (its address), so CLUSTER_LIST proves the configured cluster ID is used.
const CLUSTER_ID = '10.255.0.1';

const procs: Proc[] = [];
const clients: Client[] = [];
const timings: string[] = [];
let stopping = false;

test.after.always(async () => {
  stopping = true;
  await Promise.all(procs.map((p) => p.stop()));
});

function sorted(m: Map<string, RouteView>): Record<string, RouteView> {
  return Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

async function views(): Promise<Map<Client, Map<string, RouteView>>> {
  const out = new Map<Client, Map<string, RouteView>>();
  await Promise.all(clients.map(async (c) => out.set(c, await c.view())));
  return out;
}

/** Each client's view, or why it could not be read yet (a daemon still starting has no CLI socket). */
async function tryViews(): Promise<Map<Client, Map<string, RouteView> | Error>> {
  const out = new Map<Client, Map<string, RouteView> | Error>();
  await Promise.all(clients.map(async (c) => out.set(c, await c.view().catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))))));
  return out;
}

/** Waits until every client's view holds exactly the prefixes `present(client)`; the error says who lacks what. */
async function converge(what: string, present: (c: Client) => string[], ms: number): Promise<void> {
  let last = '';
  try {
    await until(what, async () => {
      const v = await tryViews();
      const wrong = clients.flatMap((c) => {
        const view = v.get(c);
        if (view instanceof Error) return [`${c.impl}: ${view.message}`];
        const want = present(c).sort();
        const have = [...(view?.keys() ?? [])].sort();
        return want.join() === have.join() ? [] : [`${c.impl} has [${have.join(', ')}], wants [${want.join(', ')}]`];
      });
      last = wrong.join('; ');
      return wrong.length === 0 ? true : undefined;
    }, ms, 250);
  } catch (err) {
    const logs = procs.map((p) => `--- ${p.name} ---\n${p.output().slice(-1500)}`).join('\n');
    throw new Error(`${(err as Error).message}: ${last}\n${logs}`);
  }
}

const others = (c: Client, withdrawn: ReadonlySet<string>): string[] =>
  clients.filter((o) => o !== c && !withdrawn.has(o.spec.prefix)).map((o) => o.spec.prefix);

test.before(async () => {
  checkInstalled();
  const t0 = Date.now();
  const net = await claimLoopbackNet();
  const rr = net.host(1);
  const spec = (n: number): Announce => ({
    ip: net.host(n), rr, as: AS, prefix: `10.70.${n}.0/26`, nextHop: `100.64.0.${n}`, community: [AS, 100 + n], largeCommunity: [AS, n, 7],
  });
  const hosts = { bird2: net.host(11), gobgp: net.host(12), exabgp: net.host(13), frr: net.host(14), openbgpd: net.host(15) };
  procs.push(startReflector(rr, CLUSTER_ID, clientKeys(rr, AS, CLUSTER_ID, hosts)));
  const gobgpApi = await freePort(hosts.gobgp);
  const gobgp = startGobgpClient(spec(12), gobgpApi);
  clients.push(startBird2Client(spec(11)), gobgp, startExabgpClient(spec(13)), startFrrClient(spec(14)), startOpenbgpdClient(spec(15)));
  procs.push(...clients);
  for (const c of clients) {
    c.proc.once('exit', (code, sig) => {
      if (!stopping) timings.push(`${c.impl} exited early (${code ?? sig})`);
    });
  }
  await until('gobgpd to accept the route through its API', async () => {
    try {
      await gobgpAnnounce(gobgp, gobgpApi);
      return true;
    } catch {
      return undefined;
    }
  }, 15_000, 200);
  await converge('every client to hold the other four implementations\' prefixes', (c) => others(c, new Set()), 45_000);
  timings.push(`all five clients converged ${Date.now() - t0} ms after start`);
});

const IMPLS = ['BIRD 2', 'GoBGP', 'ExaBGP', 'FRR', 'OpenBGPD'];

for (const impl of IMPLS) {
  test.serial(`${impl}'s own view: every other implementation's route with its next hop, ORIGINATOR_ID, CLUSTER_LIST [cluster ID] and communities`, async (t) => {
    t.log(timings.join('; '));
    const receiver = clients.find((c) => c.impl === impl);
    if (receiver === undefined) throw new Error(`no ${impl} client`);
    const want = new Map(clients.filter((c) => c !== receiver).map((c) => [c.spec.prefix, expectedView(c.spec, CLUSTER_ID)]));
    const have = await receiver.view();
    t.deepEqual(sorted(have), sorted(want));
    t.false(have.has(receiver.spec.prefix), 'a client never gets its own route back');
  });
}

test.serial('each implementation withdraws its prefix in turn; every other view loses exactly that one', async (t) => {
  const withdrawn = new Set<string>();
  for (const c of clients) {
    const t0 = Date.now();
    await c.withdraw();
    withdrawn.add(c.spec.prefix);
    await converge(`${c.impl}'s withdrawal of ${c.spec.prefix} to reach every other client`, (r) => others(r, withdrawn), 20_000);
    t.log(`${c.impl} withdrawal seen by all others in ${Date.now() - t0} ms`);
  }
  const left = await views();
  for (const c of clients) t.deepEqual(sorted(left.get(c) ?? new Map<string, RouteView>()), {}, `${c.impl} still holds routes`);
});
