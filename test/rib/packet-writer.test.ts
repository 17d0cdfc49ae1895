// PacketWriter.withdrawSlots (withdrawals read from the prefix index, as the group stream writes them): what it
// writes, decoded by the codec's UPDATE scanner (src/wire/update-scan.ts, nlri.ts: the receive path, not the
// writer), is exactly the prefixes and path identifiers asked for, in order, in UPDATEs of at most the message
// size; and it is the same byte string as the key-based withdraw() of the same prefixes.
import test from 'ava';
import fc from 'fast-check';
import { PacketWriter } from '../../src/rib/update-group-packet.js';
import { PrefixIndexV4, PrefixIndexV6 } from '../../src/rib/prefix-index.js';
import { scanUpdate } from '../../src/wire/update-scan.js';
import { forEachPrefixV4, forEachPrefixV6 } from '../../src/wire/nlri.js';
import { AFI_IPV4, AFI_IPV6, DEFAULT_CONTEXT } from '../../src/wire/types.js';
import { v6Key, type PrefixKey } from '../../src/net/prefix.js';
import { fixedSeeds } from '../helpers/property.js';

fixedSeeds('test/rib/packet-writer.test.ts');

interface Seen {
  prefix: string;
  pathId: number;
}

/** Splits the writer's bytes into messages and decodes each one's withdrawals with the codec's scanner. */
function decodeWithdrawals(bytes: Buffer, afi: number, addPath: boolean, maxLen: number): { seen: Seen[]; messages: number; tooLong: number } {
  const ctx = { ...DEFAULT_CONTEXT, addPathV4: addPath, addPathV6: addPath, maxMessageLen: maxLen };
  const seen: Seen[] = [];
  let o = 0;
  let messages = 0;
  let tooLong = 0;
  while (o < bytes.length) {
    const len = bytes.readUInt16BE(o + 16);
    if (len > maxLen) tooLong++;
    const msg = bytes.subarray(o, o + len);
    const s = scanUpdate(msg, ctx);
    if (afi === AFI_IPV4) {
      forEachPrefixV4(msg, s.withdrawnStart, s.withdrawnEnd, addPath, (addr, l, id) => seen.push({ prefix: `${addr >>> 0}/${l}`, pathId: id }));
    } else {
      forEachPrefixV6(msg, s.mpUnreachStart, s.mpUnreachEnd, addPath, (buf, off, l, id) => seen.push({ prefix: `6:${JSON.stringify(v6Key(buf, off, l))}`, pathId: id }));
    }
    messages++;
    o += len;
  }
  return { seen, messages, tooLong };
}

const maskV4 = (addr: number, len: number): number => (len === 0 ? 0 : (addr & (0xffffffff << (32 - len))) >>> 0);

test('IPv4: withdrawSlots writes the indexed prefixes (every length, both halves of the space), split to the message size', (t) => {
  fc.assert(fc.property(
    fc.array(fc.record({ addr: fc.nat({ max: 0xffffffff }), len: fc.integer({ min: 0, max: 32 }) }), { minLength: 1, maxLength: 3000 }),
    fc.boolean(), fc.constantFrom(4096, 65535),
    (prefixes, addPath, maxLen) => {
      const idx = new PrefixIndexV4();
      const slots: number[] = [];
      const want: Seen[] = [];
      const keys: PrefixKey[] = [];
      const ids: number[] = [];
      for (const [i, p] of prefixes.entries()) {
        const addr = maskV4(p.addr, p.len);
        const s = idx.insert(addr, p.len);
        slots.push(s);
        keys.push(idx.keyOf(s));
        ids.push((i * 2654435761) >>> 0);
        want.push({ prefix: `${addr}/${p.len}`, pathId: addPath ? ids[i] : 0 });
      }
      const w = new PacketWriter(AFI_IPV4, maxLen, addPath, 64);
      w.withdrawSlots(slots, 0, slots.length, idx, -1, addPath ? ids : undefined);
      const got = decodeWithdrawals(w.bytes(), AFI_IPV4, addPath, maxLen);
      const k = new PacketWriter(AFI_IPV4, maxLen, addPath, 64);
      k.withdraw(keys, 0, keys.length, -1, addPath ? ids : undefined);
      return JSON.stringify(got.seen) === JSON.stringify(want) && got.tooLong === 0 && got.messages === w.messages
        && w.withdrawn === slots.length && w.prefixes === slots.length && w.bytes().equals(k.bytes());
    },
  ), { numRuns: 60 });
  t.pass();
});

test('IPv6: withdrawSlots writes the indexed prefixes in MP_UNREACH_NLRI, split to the message size', (t) => {
  fc.assert(fc.property(
    fc.array(fc.record({ bytes: fc.uint8Array({ minLength: 16, maxLength: 16 }), len: fc.integer({ min: 0, max: 128 }) }), { minLength: 1, maxLength: 1500 }),
    fc.boolean(),
    (prefixes, addPath) => {
      const idx = new PrefixIndexV6();
      const slots: number[] = [];
      const keys: PrefixKey[] = [];
      const want: Seen[] = [];
      const ids: number[] = [];
      for (const [i, p] of prefixes.entries()) {
        const b = Uint8Array.from(p.bytes);
        // Host bits cleared, as a received prefix is stored.
        for (let bit = p.len; bit < 128; bit++) b[bit >> 3] &= ~(0x80 >> (bit & 7));
        const key = v6Key(b, 0, p.len);
        slots.push(idx.insertKey(key));
        keys.push(key);
        ids.push(i + 1);
        want.push({ prefix: `6:${JSON.stringify(key)}`, pathId: addPath ? i + 1 : 0 });
      }
      const w = new PacketWriter(AFI_IPV6, 4096, addPath, 64);
      w.withdrawSlots(slots, 0, slots.length, idx, 3, addPath ? ids : undefined);
      const got = decodeWithdrawals(w.bytes(), AFI_IPV6, addPath, 4096);
      const k = new PacketWriter(AFI_IPV6, 4096, addPath, 64);
      k.withdraw(keys, 0, keys.length, 3, addPath ? ids : undefined);
      // The run excludes peer 3: it gets nothing of it, everyone else all of it.
      return JSON.stringify(got.seen) === JSON.stringify(want) && got.tooLong === 0 && w.bytes().equals(k.bytes())
        && w.bytesFor(3).length === 0 && w.bytesFor(2).equals(w.bytes()) && w.countsFor(3).withdrawn === 0;
    },
  ), { numRuns: 40 });
  t.pass();
});
