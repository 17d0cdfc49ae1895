// A fuzzing peer over a live session: malformed UPDATEs drawn by class from an RFC 7606 table written from the
// RFCs' text (rfc7606-table.ts, not our codec), while a BIRD 2 node and a raw observer stay clients of the
// reflector. For each class the table gives the reaction; the observed side is the real reflector's: the
// fuzzer's session closed with that NOTIFICATION, or kept; the prefix withdrawn (treat-as-withdraw), replaced
// without the bad attribute (attribute discard) or replaced as sent, as the observer receives it; at the end
// BIRD's table holds exactly what the observer holds, and BIRD's session was never reset.
import test from 'ava';
import type { Socket } from 'node:net';
import type { Daemon } from '../session/daemons.js';
import type { Speaker } from '../session/speaker.js';
import { claimLoopbackNet } from '../helpers/net.js';
import { birdc2, protocols, sleep, startBird2Node, startReflector, until, type Reflector } from './lab.js';
import { endOfRib, rawPeer } from './raw.js';
import { applyUpdate, expectedReaction, MED, MUTANT_MED, P, TABLE, VALID_MED, validUpdate, type MalformationClass, type SeenRoute } from './rfc7606-table.js';

const NET = await claimLoopbackNet();
const [RR, BIRD, FUZZER, OBSERVER] = [NET.host(1), NET.host(2), NET.host(10), NET.host(11)];
// Fixed count and seed (rng(0x7606) below): every run draws the same mutants, whatever the caller's shell holds.
const COUNT = 1500;
const BATCH = 16;
const daemons: Daemon[] = [];
let rr: Reflector | undefined;

test.after.always(async () => {
  await Promise.all([...daemons.map((d) => d.stop()), rr?.stop()]);
});

/** xorshift32: the same mutants on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const ip4 = (s: string): number => s.split('.').reduce((a, o) => ((a << 8) | Number(o)) >>> 0, 0);
const text = (p: number): string => `${p >>> 24}.${(p >>> 16) & 255}.${(p >>> 8) & 255}.${p & 255}/24`;
/** The fuzz prefixes: /24s of 10.176.0.0/12, reused round robin. */
const BASE = ip4('10.176.0.0');
const prefixAt = (k: number): number => (BASE + (k % 4096) * 256) >>> 0;

/** The reflector's UPDATEs to a raw client, read with the table module's own reader (not our framer). */
function observe(sock: Socket, table: Map<string, SeenRoute>): void {
  let buf = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 19) {
      const len = buf.readUInt16BE(16);
      if (len < 19 || buf.length < len) break;
      const msg = buf.subarray(0, len);
      buf = buf.subarray(len);
      if (msg[18] === 2) applyUpdate(table, msg);
    }
  });
}

const med = (r: SeenRoute | undefined): number | undefined => r?.attrs.get(MED)?.value.readUInt32BE(0);

/** Whether the observer's view of `p` matches what the class's reaction prescribes; a reason if not. */
function mismatch(c: MalformationClass, r: SeenRoute | undefined): string | undefined {
  const x = expectedReaction(c);
  if (x.kind === 'treat-as-withdraw') return r === undefined ? undefined : `still present (MED ${med(r)})`;
  if (r === undefined) return 'withdrawn';
  if (med(r) !== MUTANT_MED) return `MED ${med(r)}, not the mutant's ${MUTANT_MED}`;
  if (x.kind === 'attribute-discard') return r.attrs.has(x.type) ? `attribute ${x.type} not discarded` : undefined;
  if (x.kind === 'accepted' && x.check === 'partial') {
    const a = r.attrs.get(201);
    return a === undefined ? 'optional transitive attribute dropped' : (a.flags & P) === 0 ? 'Partial bit not set' : undefined;
  }
  if (x.kind === 'accepted' && x.check === 'dropped-optional') return r.attrs.has(202) ? 'optional non-transitive attribute passed on' : undefined;
  return undefined;
}

test('malformed UPDATEs by RFC 7606 class: the reaction the RFC prescribes, seen at a raw client and at BIRD; BIRD unharmed', async (t) => {
  t.timeout(240_000);
  const P_ = '/calico/bgp/v1';
  rr = startReflector(RR, {
    [`${P_}/global/as_num`]: '64512',
    [`${P_}/global/peer_v4/${RR}`]: { ip: RR, as_num: '64512' },
    [`${P_}/host/bird/ip_addr_v4`]: BIRD,
    [`${P_}/host/fuzzer/ip_addr_v4`]: FUZZER,
    [`${P_}/host/observer/ip_addr_v4`]: OBSERVER,
  }, { IDLE_HOLD_CAP: '0', LOG_LEVEL: 'warn' });
  const bird = startBird2Node({ ip: BIRD, rr: RR, block: '10.175.0.0/24' });
  daemons.push(bird);
  const birdName = `Global_${NET.under(2)}`;
  await until('the BIRD node Established', () => (protocols(rr!.sock).get(birdName)?.info === 'Established' ? true : undefined), 30_000);
  const birdSince = protocols(rr.sock).get(birdName)?.since;

  const seen = new Map<string, SeenRoute>();
  const obs = await until('the observer Established', async () => {
    const sp = await rawPeer(OBSERVER, RR, 90, false);
    await sp.waitFor(() => sp.established || sp.closed, 5000, 'Established').catch(() => undefined);
    if (sp.established) return sp;
    sp.destroy();
    return undefined;
  }, 30_000, 200);
  observe(obs.socket, seen);
  endOfRib(obs);
  const fuzzSeen = (): string[] => [...seen.keys()].filter((k) => k.startsWith('10.1') && (ip4(k.split('/')[0]!) & 0xfff00000) === BASE);

  const connect = async (): Promise<Speaker> =>
    until('a fuzzer session', async () => {
      const sp = await rawPeer(FUZZER, RR, 90, false);
      await sp.waitFor(() => sp.established || sp.closed, 5000, 'Established').catch(() => undefined);
      if (sp.established) {
        endOfRib(sp);
        return sp;
      }
      sp.destroy();
      await sleep(20);
      return undefined;
    }, 30_000, 10);

  const r = rng(0x7606);
  const nh = ip4(FUZZER);
  const tally = new Map<string, number>();
  const failures: string[] = [];
  let k = 0;
  let sp = await connect();
  for (let done = 0; done < COUNT && failures.length === 0 && rr.proc.exitCode === null; ) {
    // A batch: up to BATCH mutants that keep the session, then perhaps one that resets it.
    const batch: { c: MalformationClass; p: number }[] = [];
    let reset: { c: MalformationClass; p: number } | undefined;
    while (batch.length < BATCH && reset === undefined && done < COUNT) {
      const c = TABLE[Math.floor(r() * TABLE.length)]!;
      const m = { c, p: prefixAt(k++) };
      done++;
      if (expectedReaction(c).kind === 'session-reset') reset = m;
      else batch.push(m);
    }
    // Valid announcements first (MED VALID_MED), so that every reaction changes something visible.
    for (const m of [...batch, ...(reset ? [reset] : [])]) sp.write(validUpdate(m.p, nh, VALID_MED));
    await until('the valid announcements at the observer', () => ([...batch, ...(reset ? [reset] : [])].every((m) => med(seen.get(text(m.p))) === VALID_MED) ? true : undefined), 10_000, 5);
    for (const m of batch) sp.write(m.c.make(m.p, nh, r));
    // A sentinel after the mutants: once it is reflected, so are the reactions to everything before it.
    const sentinel = prefixAt(k++);
    sp.write(validUpdate(sentinel, nh, VALID_MED));
    const settled = await until('the batch reflected', () => (seen.has(text(sentinel)) && batch.every((m) => mismatch(m.c, seen.get(text(m.p))) === undefined) ? true : undefined), 5000, 5).catch(() => false);
    if (sp.closed || sp.notifications().length > 0) {
      failures.push(`a batch without a reset class reset the session (${sp.notifications().map((n) => `${n.code}/${n.subcode}`).join(',')}): ${batch.map((m) => m.c.name).join('; ')}`);
      break;
    }
    if (settled !== true) {
      for (const m of batch) {
        const why = mismatch(m.c, seen.get(text(m.p)));
        if (why !== undefined) failures.push(`${m.c.name} (${m.c.cite}, ${expectedReaction(m.c).kind}) for ${text(m.p)}: ${why}`);
      }
    }
    for (const m of batch) tally.set(m.c.name, (tally.get(m.c.name) ?? 0) + 1);
    if (reset !== undefined) {
      const x = expectedReaction(reset.c);
      if (x.kind !== 'session-reset') throw new Error('unreachable');
      const msg = reset.c.make(reset.p, nh, r);
      sp.write(msg);
      await until(`the reset for ${reset.c.name}`, () => (sp.closed ? true : undefined), 5000, 2).catch(() => undefined);
      const n = sp.notifications();
      if (!sp.closed || n.length !== 1 || n[0]!.code !== x.code || (x.subcode !== undefined && n[0]!.subcode !== x.subcode)) {
        failures.push(`${reset.c.name} (${reset.c.cite}): expected NOTIFICATION ${x.code}/${x.subcode ?? 'any'}, got ${n.map((y) => `${y.code}/${y.subcode}`).join(',') || 'none'} (closed ${sp.closed}); msg ${msg.toString('hex')}`);
        break;
      }
      // The session's routes are withdrawn from the clients (RFC 4271 §8.2.2: the Adj-RIB-In goes with it).
      await until('the reset session\'s routes withdrawn at the observer', () => (fuzzSeen().length === 0 ? true : undefined), 10_000, 10).catch(() => {
        failures.push(`after ${reset!.c.name}: ${fuzzSeen().length} fuzz routes still at the observer`);
      });
      tally.set(reset.c.name, (tally.get(reset.c.name) ?? 0) + 1);
      sp = await connect();
    }
  }
  t.deepEqual(failures, [], 'every class got the reaction of the table');
  for (const c of TABLE.filter((x) => x.deviation !== undefined)) t.log(`deviation from ${c.cite} for "${c.name}": ${c.deviation!.why}`);
  t.log(`${k} prefixes; per class: ${[...tally].sort().map(([c, v]) => `${c} ${v}`).join('; ')}`);
  t.is(tally.size, TABLE.length, 'every class of the table was drawn');
  t.is(rr.proc.exitCode, null, 'the reflector process is still running');
  t.false(sp.closed, 'the last fuzzer session is up');

  // BIRD's own table holds exactly the fuzz routes the observer holds (both are clients of the reflector).
  const expected = fuzzSeen().sort();
  const birdView = await until('BIRD agrees with the observer', () => {
    const out = birdc2(bird, 'show', 'route', 'where', 'net', '~', '[', '10.176.0.0/12+', ']');
    const got = [...out.matchAll(/^(10\.\d+\.\d+\.\d+\/24)\s/gm)].map((m) => m[1]!).sort();
    return got.length === expected.length && got.every((p, i) => p === expected[i]) ? got : undefined;
  }, 20_000, 200).catch(() => undefined);
  t.truthy(birdView, `BIRD's fuzz routes equal the observer's ${expected.length}`);
  const p = protocols(rr.sock).get(birdName);
  t.is(p?.info, 'Established');
  t.is(p?.since, birdSince, 'the BIRD session was never reset');
  t.regex(birdc2(bird, 'show', 'protocols', 'all'), /BGP state:\s+Established/);
  sp.destroy();
  obs.destroy();
});
