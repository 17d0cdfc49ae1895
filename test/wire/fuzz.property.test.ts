// Robustness: random bytes and mutated valid messages never make decodeMessage or scanUpdate throw anything
// but BgpError, never hang, and the two always reach the same RFC 7606 outcome.
import test from 'ava';
import fc from 'fast-check';
import {
  BgpError, decodeMessage, encodeMessage, forEachPrefixV4, forEachPrefixV6, frameLength, scanUpdate, ScannedUpdate,
  type BgpMessage, type CodecContext, type UpdateMessage,
} from '../../src/wire/index.js';
import { ctxArb, messageArb, updateArb } from './arbitraries.js';
import { expectSame } from './helpers.js';
import { fixedSeeds } from '../helpers/property.js';

fixedSeeds('test/wire/fuzz.property.test.ts');

const RUNS = Number(process.env.WIRE_PROPERTY_RUNS ?? 1);
const SLOW_MS = 10_000; // one message of at most 64 KiB: anything near this is a hang, not load
const scratch = new ScannedUpdate();
let executed = 0;

function attempt<T>(f: () => T): T | BgpError {
  try {
    return f();
  } catch (e) {
    if (e instanceof BgpError) return e;
    throw e; // anything else is a failure
  }
}

/** All the invariants for one input; throws on violation. */
function check(bytes: Uint8Array, ctx: CodecContext): void {
  executed++;
  const t0 = performance.now();
  const d = attempt(() => decodeMessage(bytes, ctx));
  const framed = attempt(() => frameLength(bytes, 0, ctx.maxMessageLen));
  if (typeof framed === 'number' && framed === bytes.length && bytes[18] === 2) {
    const s = attempt(() => scanUpdate(bytes, ctx, scratch));
    if (d instanceof BgpError || s instanceof BgpError) {
      if (!(d instanceof BgpError && s instanceof BgpError)) throw new Error(`decodeMessage ${d instanceof BgpError ? 'threw' : 'returned'} but scanUpdate ${s instanceof BgpError ? 'threw' : 'returned'}`);
      expectSame([d.code, d.subcode, d.action], [s.code, s.subcode, s.action], 'error');
    } else {
      const u = d as UpdateMessage;
      expectSame(u.treatAsWithdraw?.subcode, s.treatAsWithdraw?.subcode, 'treat-as-withdraw');
      expectSame(u.discarded?.length, s.discarded?.length, 'discarded');
      expectSame(u.attributes.length, s.attrCount, 'attribute count');
      // Validated ranges are safe to walk.
      let n = 0;
      forEachPrefixV4(bytes, s.withdrawnStart, s.withdrawnEnd, ctx.addPathV4, () => n++);
      forEachPrefixV4(bytes, s.nlriStart, s.nlriEnd, ctx.addPathV4, () => n++);
      expectSame(n, u.withdrawn.length + u.nlri.length, 'IPv4 prefix count');
      const walk = (afi: number, st: number, en: number) => {
        if (afi === 1) forEachPrefixV4(bytes, st, en, ctx.addPathV4, () => n++);
        else if (afi === 2) forEachPrefixV6(bytes, st, en, ctx.addPathV6, () => n++);
      };
      if (s.mpReachSafi === 1 || s.mpReachSafi === 2) walk(s.mpReachAfi, s.mpReachStart, s.mpReachEnd);
      if (s.mpUnreachSafi === 1 || s.mpUnreachSafi === 2) walk(s.mpUnreachAfi, s.mpUnreachStart, s.mpUnreachEnd);
    }
  }
  if (!(d instanceof BgpError)) {
    // Whatever decodes must re-encode, and a clean decoding is a fixed point.
    const again = encodeMessage(d, ctx);
    const u = d as Partial<UpdateMessage>;
    if (u.treatAsWithdraw === undefined && u.discarded === undefined) expectSame(decodeMessage(again, ctx), d, 'decode(encode(decode(x)))');
  }
  const ms = performance.now() - t0;
  if (ms > SLOW_MS) throw new Error(`one message took ${ms.toFixed(0)} ms`);
}

function frame(type: number, body: Uint8Array): Uint8Array {
  const b = new Uint8Array(19 + body.length);
  b.fill(0xff, 0, 16);
  b[16] = (b.length >> 8) & 0xff;
  b[17] = b.length & 0xff;
  b[18] = type;
  b.set(body, 19);
  return b;
}

test.after(() => { console.log(`wire fuzz: ${executed} inputs checked`); });

// Split into chunks: ava's timeout counts from the last finished test, and a loaded CI box is slow.
const CHUNKS = 5;

for (let chunk = 1; chunk <= CHUNKS; chunk++) test(`random bytes: framed with a valid header, and fully random (${chunk}/${CHUNKS})`, (t) => {
  fc.assert(fc.property(ctxArb, fc.oneof(
    { arbitrary: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.uint8Array({ maxLength: 120 })).map(([ty, body]) => frame(ty, body)), weight: 8 },
    // UPDATE-shaped: plausible withdrawn/attribute lengths, random content.
    { arbitrary: fc.tuple(fc.nat(12), fc.uint8Array({ maxLength: 12 }), fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 20 }))
      .map(([wl, w, a, n]) => frame(2, Uint8Array.from([0, wl, ...w.subarray(0, wl), ...new Uint8Array(Math.max(0, wl - w.length)), 0, a.length, ...a, ...n]))), weight: 8 },
    { arbitrary: fc.uint8Array({ maxLength: 60 }), weight: 1 },
  ), (ctx, bytes) => { check(bytes, ctx); }), { numRuns: (35000 / CHUNKS) * RUNS });
  t.pass();
});

// A pool of valid messages to mutate, drawn once (drawing is the expensive part).
const pool: [CodecContext, Uint8Array][] = fc.sample(ctxArb.chain((ctx) => fc.tuple(fc.constant(ctx), fc.oneof(
  { arbitrary: updateArb(ctx) as fc.Arbitrary<BgpMessage>, weight: 4 }, { arbitrary: messageArb(ctx), weight: 1 },
))), { numRuns: 800, seed: 7606 }).map(([ctx, m]) => [ctx, Uint8Array.from(encodeMessage(m, ctx))]);

const mutation = fc.record({
  which: fc.nat(pool.length - 1),
  kind: fc.constantFrom('set', 'set', 'set', 'truncate', 'insert', 'splice', 'length'),
  pos: fc.nat(),
  bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }),
  count: fc.integer({ min: 1, max: 4 }),
  ctxFlip: fc.nat(15),
});

for (let chunk = 1; chunk <= 2 * CHUNKS; chunk++) test(`mutated valid messages (${chunk}/${2 * CHUNKS})`, (t) => {
  fc.assert(fc.property(mutation, ({ which, kind, pos, bytes, count, ctxFlip }) => {
    const [ctx0, orig] = pool[which]!;
    // Sometimes decode under the wrong session assumptions (ADD-PATH, AS size), as a confused peer would make us.
    const ctx = ctxFlip === 0 ? { ...ctx0, addPathV4: !ctx0.addPathV4, addPathV6: !ctx0.addPathV6 } : ctxFlip === 1 ? { ...ctx0, as4: !ctx0.as4 } : ctx0;
    let b = Uint8Array.from(orig);
    const body = Math.max(1, b.length - 19);
    const at = 19 + (pos % body);
    switch (kind) {
      case 'set':
        for (let i = 0; i < count; i++) b[19 + ((pos * (i + 7) + i * 31) % body)] = bytes[i % bytes.length]!;
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'insert':
        b = Uint8Array.from([...b.subarray(0, at), ...bytes, ...b.subarray(at)]);
        break;
      case 'splice':
        b = Uint8Array.from([...b.subarray(0, at), ...bytes, ...b.subarray(Math.min(b.length, at + count * 3))]);
        break;
      case 'length': // an inner length field off by a little: the most common real-world bug
        b[at] = (b[at]! + (bytes[0]! & 1 ? 1 : 255)) & 0xff;
        break;
    }
    if (kind !== 'length' || bytes[0]! & 2) {
      if (b.length <= 0xffff && b.length >= 19) { b[16] = b.length >> 8; b[17] = b.length & 0xff; }
    }
    check(b, ctx);
  }), { numRuns: (70000 / (2 * CHUNKS)) * RUNS });
  t.pass();
});
