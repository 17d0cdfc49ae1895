// A fuzzing peer over a live session: a few thousand mutated UPDATEs (byte flips, attribute lengths and flags,
// truncation, appended bytes, bad headers), reconnecting after each reset, while a BIRD 2 node stays up. For
// every input the reaction must be the RFC 4271 / RFC 7606 one: a NOTIFICATION with the code/subcode our
// codec gives for it when it needs a session reset (header errors code 1, UPDATE errors code 3), and no reset
// for treat-as-withdraw, attribute-discard or valid input. The process stays up; BIRD's session is untouched.
import test from 'ava';
import type { Daemon } from '../session/daemons.js';
import { Framer } from '../../src/session/framer.js';
import {
  AFI_IPV4, AsPathSegmentType, AttrType, ATTR_FLAG_OPTIONAL, ATTR_FLAG_TRANSITIVE, buildUpdates, DEFAULT_CONTEXT, encodeAttributes,
  isBgpError, scanUpdate, type PathAttribute,
} from '../../src/wire/index.js';
import { protocols, sleep, startBird2Node, startReflector, until, type Reflector } from './lab.js';
import { endOfRib, ip4, rawPeer } from './raw.js';
import type { Speaker } from '../session/speaker.js';
import { claimLoopbackNet } from '../helpers/net.js';

const NET = await claimLoopbackNet();

const RR = NET.host(1);
const BIRD = NET.host(2);
const FUZZER = NET.host(10);
const COUNT = Number(process.env.FUZZ_COUNT ?? 5000);
const daemons: Daemon[] = [];
let rr: Reflector | undefined;

test.after.always(async () => {
  await Promise.all([...daemons.map((d) => d.stop()), rr?.stop()]);
});

/** xorshift32: the same mutants on every run (FUZZ_SEED to vary). */
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

function templates(): Buffer[] {
  const T = ATTR_FLAG_TRANSITIVE;
  const O = ATTR_FLAG_OPTIONAL;
  const sets: PathAttribute[][] = [
    [
      { type: AttrType.ORIGIN, flags: T, origin: 0 },
      { type: AttrType.AS_PATH, flags: T, segments: [{ type: AsPathSegmentType.AS_SEQUENCE, asns: [65001, 65002] }] },
      { type: AttrType.NEXT_HOP, flags: T, nextHop: FUZZER },
      { type: AttrType.MULTI_EXIT_DISC, flags: O, med: 10 },
      { type: AttrType.LOCAL_PREF, flags: T, localPref: 100 },
      { type: AttrType.COMMUNITIES, flags: O | T, communities: [0xfde80001, 0xfde80002] },
    ],
    [
      { type: AttrType.ORIGIN, flags: T, origin: 2 },
      { type: AttrType.AS_PATH, flags: T, segments: [] },
      { type: AttrType.NEXT_HOP, flags: T, nextHop: FUZZER },
      { type: AttrType.LOCAL_PREF, flags: T, localPref: 200 },
      { type: AttrType.ORIGINATOR_ID, flags: O, originatorId: '10.9.9.9' },
      { type: AttrType.CLUSTER_LIST, flags: O, clusterList: ['10.8.8.8'] },
    ],
  ];
  const out: Buffer[] = [];
  sets.forEach((attrs, i) => {
    const prefixes = { addrs: Array.from({ length: 6 }, (_, k) => ip4(10, 170 + i, k, 0)), lens: [24, 24, 24, 25, 23, 32] };
    out.push(...buildUpdates({ attrs: encodeAttributes(attrs, DEFAULT_CONTEXT), afi: AFI_IPV4, prefixes, ctx: DEFAULT_CONTEXT }));
  });
  out.push(...buildUpdates({ afi: AFI_IPV4, withdrawals: { addrs: [ip4(10, 170, 0, 0), ip4(10, 171, 1, 0)], lens: [24, 24] }, ctx: DEFAULT_CONTEXT }));
  return out;
}

function setLen(b: Buffer): Buffer {
  b.writeUInt16BE(b.length, 16);
  return b;
}

/** One mutant of a template, and what was done (for the failure message). */
function mutate(tpl: Buffer, r: () => number): { msg: Buffer; how: string } {
  const b = Buffer.from(tpl);
  const body = (): number => 19 + Math.floor(r() * (b.length - 19));
  const k = Math.floor(r() * 10);
  switch (k) {
    case 0:
    case 1:
    case 2: {
      const n = 1 + Math.floor(r() * 3);
      for (let i = 0; i < n; i++) b[body()] = Math.floor(r() * 256);
      return { msg: b, how: `flip ${n} bytes` };
    }
    case 3: {
      // An attribute length octet: the attribute block starts after the withdrawn routes.
      const wlen = b.readUInt16BE(19);
      const at = 23 + wlen + 2 + Math.floor(r() * 4) * 3;
      if (at < b.length) b[at] = Math.floor(r() * 256);
      return { msg: b, how: `attribute length at ${at}` };
    }
    case 4: {
      const wlen = b.readUInt16BE(19);
      const at = 23 + wlen + Math.floor(r() * 6) * 3;
      if (at < b.length) b[at] = [0x00, 0x20, 0x40, 0x80, 0xc0, 0xe0, 0x50, 0x10][Math.floor(r() * 8)]!;
      return { msg: b, how: `attribute flags at ${at}` };
    }
    case 5: {
      const cut = 1 + Math.floor(r() * Math.min(20, b.length - 19));
      return { msg: setLen(Buffer.from(b.subarray(0, b.length - cut))), how: `truncated by ${cut}` };
    }
    case 6: {
      const extra = Buffer.from(Array.from({ length: 1 + Math.floor(r() * 12) }, () => Math.floor(r() * 256)));
      return { msg: setLen(Buffer.concat([b, extra])), how: `appended ${extra.length} bytes` };
    }
    case 7: {
      // Total path attribute length or withdrawn routes length.
      const wlen = b.readUInt16BE(19);
      if (r() < 0.5) b.writeUInt16BE(Math.floor(r() * (b.length + 8)), 19);
      else b.writeUInt16BE(Math.floor(r() * (b.length + 8)), 21 + wlen);
      return { msg: b, how: 'field length' };
    }
    case 8: {
      const h = Math.floor(r() * 3);
      if (h === 0) b[Math.floor(r() * 16)] = Math.floor(r() * 255);
      else if (h === 1) b.writeUInt16BE(Math.floor(r() * 19), 16);
      else b[18] = [0, 6, 7, 42, 255][Math.floor(r() * 5)]!;
      return { msg: b, how: ['marker', 'header length', 'type'][h]! };
    }
    default: {
      // The NLRI: a prefix length octet out of range or a prefix cut short.
      const at = b.length - 1 - Math.floor(r() * Math.min(12, b.length - 24));
      b[at] = [33, 40, 255, 0, 24][Math.floor(r() * 5)]!;
      return { msg: b, how: `NLRI byte at ${at}` };
    }
  }
}

type Expect = { reset: true; code: number; subcode: number } | { reset: false; kind: string };

/** The RFC 4271 / 7606 reaction for one message, from our framer and scanner (what the session uses). */
function expected(msg: Buffer): Expect {
  const f = new Framer(4096);
  f.push(msg);
  let m: Buffer | null;
  try {
    m = f.next();
  } catch (e) {
    if (!isBgpError(e)) throw e;
    return { reset: true, code: e.code, subcode: e.subcode };
  }
  if (m === null || m.length !== msg.length) throw new Error('mutant not self-delimiting');
  try {
    const s = scanUpdate(m, DEFAULT_CONTEXT);
    return { reset: false, kind: s.treatAsWithdraw !== undefined ? 'treat-as-withdraw' : s.discarded !== undefined ? 'attribute-discard' : 'accepted' };
  } catch (e) {
    if (!isBgpError(e)) throw e;
    return { reset: true, code: e.code, subcode: e.subcode };
  }
}

async function connect(): Promise<Speaker> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const sp = await rawPeer(FUZZER, RR, 90, false);
    await sp.waitFor(() => sp.established || sp.closed, 5000, 'Established').catch(() => undefined);
    if (sp.established) {
      endOfRib(sp);
      return sp;
    }
    sp.destroy();
    await sleep(20);
  }
  throw new Error('the fuzzer could not get a session');
}

test('thousands of mutated UPDATEs: the right reaction to each, the process and the BIRD session unharmed', async (t) => {
  t.timeout(170_000);
  const P = '/calico/bgp/v1';
  rr = startReflector(RR, {
    [`${P}/global/as_num`]: '64512',
    [`${P}/global/peer_v4/${RR}`]: { ip: RR, as_num: '64512' },
    [`${P}/host/bird/ip_addr_v4`]: BIRD,
    [`${P}/host/fuzzer/ip_addr_v4`]: FUZZER,
  }, { IDLE_HOLD_CAP: '0', LOG_LEVEL: 'warn' });
  const bird = startBird2Node({ ip: BIRD, rr: RR, block: '10.175.0.0/24' });
  daemons.push(bird);
  await until('the BIRD node Established', () => (protocols(rr!.sock).get(`Global_${NET.under(2)}`)?.info === 'Established' ? true : undefined), 30_000);
  const birdSince = protocols(rr.sock).get(`Global_${NET.under(2)}`)?.since;

  const r = rng(Number(process.env.FUZZ_SEED ?? 0x5eed));
  const tpls = templates();
  const tally: Record<string, number> = {};
  const count = (k: string): void => {
    tally[k] = (tally[k] ?? 0) + 1;
  };
  let sp = await connect();
  let unchecked: string[] = [];
  const started = Date.now();
  for (let i = 0; i < COUNT; i++) {
    const { msg, how } = mutate(tpls[Math.floor(r() * tpls.length)]!, r);
    const exp = expected(msg);
    if (!exp.reset) {
      sp.write(msg);
      count(exp.kind);
      unchecked.push(`#${i} ${how}: ${msg.toString('hex')}`);
      if (unchecked.length < 40) continue;
    } else {
      sp.write(msg);
    }
    // Check: a reset input closes the session with exactly its NOTIFICATION; the inputs before it did not.
    if (exp.reset) {
      await until(`the reset for #${i}`, () => (sp.closed ? true : undefined), 5000, 2).catch(() => undefined);
      const n = sp.notifications();
      if (!sp.closed || n.length !== 1 || n[0]!.code !== exp.code || n[0]!.subcode !== exp.subcode) {
        t.fail(`#${i} (${how}) expected NOTIFICATION ${exp.code}/${exp.subcode}, got ${n.map((x) => `${x.code}/${x.subcode}`).join(',') || 'none'} (closed ${sp.closed}); before it: ${unchecked.slice(-3).join(' | ')}; msg ${msg.toString('hex')}`);
        return;
      }
      count(`reset ${exp.code}/${exp.subcode}`);
      unchecked = [];
      sp = await connect();
    } else {
      await sleep(5);
      if (sp.closed || sp.notifications().length > 0) {
        t.fail(`a non-reset input reset the session: ${sp.notifications().map((x) => `${x.code}/${x.subcode}`).join(',')}; one of ${unchecked.join(' | ')}`);
        return;
      }
      unchecked = [];
    }
    if (rr.proc.exitCode !== null) break;
  }
  await sleep(500);
  t.false(sp.closed, 'the last session is still up');
  sp.destroy();
  const secs = (Date.now() - started) / 1000;
  t.log(`${COUNT} mutants in ${secs.toFixed(1)} s: ${Object.entries(tally).sort().map(([k, v]) => `${k} ${v}`).join(', ')}`);
  t.is(rr.proc.exitCode, null, 'the reflector process is still running');
  const p = protocols(rr.sock).get(`Global_${NET.under(2)}`);
  t.is(p?.info, 'Established');
  t.is(p?.since, birdSince, 'the BIRD session was never reset');
  const resets = Object.entries(tally).filter(([k]) => k.startsWith('reset')).reduce((a, [, v]) => a + v, 0);
  t.true(resets > COUNT / 10 && resets < COUNT, 'the mutants exercised both kinds of reaction');
  t.true((tally['treat-as-withdraw'] ?? 0) > 0, 'some inputs were treated as withdraw');
});
