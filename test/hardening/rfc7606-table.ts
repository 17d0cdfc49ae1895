// The expected reaction to malformed UPDATEs, written from the RFCs' text (RFC 7606, RFC 4271 §6, RFC 4760,
// RFC 8092), not from our codec: each class of malformation, the section that governs it, the reaction it
// prescribes, and a generator of messages of that class. The fuzz test (fuzz.test.ts) draws classes from this
// table and compares the live reflector's behaviour with the reaction listed here.
//
// Messages are built here byte by byte (not with src/wire) so that the oracle shares no code with the
// reflector. The session is iBGP, IPv4 unicast, with the 4-octet AS capability on both sides.

/** What the receiver must do (RFC 7606 §2 names the approaches). */
export type Reaction =
  /** The session goes down with a NOTIFICATION of `code` (and `subcode` where the RFC fixes one). */
  | { kind: 'session-reset'; code: number; subcode?: number }
  /** The prefixes of the UPDATE are handled as withdrawn (§2 "treat-as-withdraw"). */
  | { kind: 'treat-as-withdraw' }
  /** The malformed attribute is dropped, the rest of the UPDATE applied (§2 "attribute discard"). */
  | { kind: 'attribute-discard'; type: number }
  /** The UPDATE is applied as sent (a control, or a rule that keeps the first copy or marks Partial). */
  | { kind: 'accepted'; check?: 'first-med' | 'partial' | 'dropped-optional' };

export interface MalformationClass {
  name: string;
  /** Where the RFC says so. */
  cite: string;
  reaction: Reaction;
  /**
   * Where this project deliberately reacts otherwise than the RFC text (a reviewed decision, stated here so
   * that the divergence is visible): the reaction the fuzz test then expects, and why.
   */
  deviation?: { reaction: Reaction; why: string };
  /** An UPDATE announcing `prefix` (a /24, as a uint32) with this malformation; `r` is a [0,1) source. */
  make(prefix: number, nextHop: number, r: () => number): Buffer;
}

// ---- an independent little encoder ------------------------------------------------------------------------

export const T = 0x40; // Transitive
export const O = 0x80; // Optional
export const P = 0x20; // Partial
const EXT = 0x10;

export const MED = 4;
/** The MED of the valid announcement each mutant replaces; mutants carry MUTANT_MED. */
export const VALID_MED = 1;
export const MUTANT_MED = 2;

export function attr(flags: number, type: number, value: Buffer): Buffer {
  if (value.length > 255 || (flags & EXT) !== 0) {
    const h = Buffer.alloc(4);
    h[0] = flags | EXT;
    h[1] = type;
    h.writeUInt16BE(value.length, 2);
    return Buffer.concat([h, value]);
  }
  return Buffer.concat([Buffer.from([flags, type, value.length]), value]);
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** An IPv4 prefix in NLRI encoding. */
export function nlri(addr: number, len: number): Buffer {
  const octets = Math.ceil(len / 8);
  return Buffer.concat([Buffer.from([len]), u32(addr).subarray(0, octets)]);
}

/** A whole UPDATE message: header, withdrawn routes, path attributes, NLRI; lengths as given or computed. */
export function update(p: { withdrawn?: Buffer; attrs: Buffer; nlri: Buffer; withdrawnLen?: number; attrsLen?: number }): Buffer {
  const w = p.withdrawn ?? Buffer.alloc(0);
  const wl = Buffer.alloc(2);
  wl.writeUInt16BE(p.withdrawnLen ?? w.length);
  const al = Buffer.alloc(2);
  al.writeUInt16BE(p.attrsLen ?? p.attrs.length);
  const body = Buffer.concat([wl, w, al, p.attrs, p.nlri]);
  const h = Buffer.alloc(19, 0xff);
  h.writeUInt16BE(19 + body.length, 16);
  h[18] = 2;
  return Buffer.concat([h, body]);
}

export const ORIGIN = (v = 0): Buffer => attr(T, 1, Buffer.from([v]));
export const AS_PATH = (asns: number[] = [65001]): Buffer =>
  attr(T, 2, asns.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([2, asns.length]), ...asns.map(u32)]));
export const NEXT_HOP = (nh: number): Buffer => attr(T, 3, u32(nh));
export const MED_ATTR = (v: number): Buffer => attr(O, MED, u32(v));
export const LOCAL_PREF = (v = 100): Buffer => attr(T, 5, u32(v));

/** The attributes of a valid route: ORIGIN, AS_PATH, NEXT_HOP, MED (`med`), LOCAL_PREF. */
export function validAttrs(nextHop: number, med: number): Buffer[] {
  return [ORIGIN(), AS_PATH(), NEXT_HOP(nextHop), MED_ATTR(med), LOCAL_PREF()];
}

/** A valid announcement (what each mutant then replaces). */
export function validUpdate(prefix: number, nextHop: number, med = VALID_MED): Buffer {
  return update({ attrs: Buffer.concat(validAttrs(nextHop, med)), nlri: nlri(prefix, 24) });
}

const pick = <X>(r: () => number, xs: readonly X[]): X => xs[Math.floor(r() * xs.length)]!;
const bytes = (r: () => number, n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
/** A length other than the allowed ones, from 0..12. */
const badLen = (r: () => number, ok: (n: number) => boolean): number => pick(r, Array.from({ length: 13 }, (_, i) => i).filter((n) => !ok(n)));

/** The mutant's attributes: the valid set with MUTANT_MED, one replaced (by index) or extra ones appended. */
function mutantAttrs(nextHop: number, replace: Record<number, Buffer | null> = {}, extra: Buffer[] = []): Buffer {
  const base = validAttrs(nextHop, MUTANT_MED).map((a, i) => (i in replace ? replace[i] : a)).filter((a): a is Buffer => a !== null);
  return Buffer.concat([...base, ...extra]);
}
const I = { ORIGIN: 0, AS_PATH: 1, NEXT_HOP: 2, MED: 3, LOCAL_PREF: 4 };
const withAttrs = (prefix: number, attrs: Buffer): Buffer => update({ attrs, nlri: nlri(prefix, 24) });

const TAW: Reaction = { kind: 'treat-as-withdraw' };
/** RFC 4271 §6.3: "Malformed Attribute List" is subcode 1, "Unrecognized Well-known Attribute" 2,
 *  "Invalid Network Field" 10; header errors (§6.1) are code 1 with subcodes 1 (not synchronized), 2 (bad
 *  length), 3 (bad type). */
const RESET = (code: number, subcode?: number): Reaction => (subcode === undefined ? { kind: 'session-reset', code } : { kind: 'session-reset', code, subcode });

export const TABLE: readonly MalformationClass[] = [
  {
    name: 'valid (control)', cite: 'RFC 4271 §9', reaction: { kind: 'accepted' },
    make: (p, nh) => withAttrs(p, mutantAttrs(nh)),
  },
  {
    name: 'ORIGIN length not 1', cite: 'RFC 7606 §7.1', reaction: TAW,
    make: (p, nh, r) => withAttrs(p, mutantAttrs(nh, { [I.ORIGIN]: attr(T, 1, Buffer.alloc(badLen(r, (n) => n === 1), 0)) })),
  },
  {
    name: 'ORIGIN value undefined', cite: 'RFC 7606 §7.1', reaction: TAW,
    make: (p, nh, r) => withAttrs(p, mutantAttrs(nh, { [I.ORIGIN]: ORIGIN(3 + Math.floor(r() * 253)) })),
  },
  {
    name: 'AS_PATH segment overrun', cite: 'RFC 7606 §7.2', reaction: TAW,
    // The segment claims more ASNs than the attribute holds.
    make: (p, nh, r) => withAttrs(p, mutantAttrs(nh, { [I.AS_PATH]: attr(T, 2, Buffer.concat([Buffer.from([2, 2 + Math.floor(r() * 5)]), u32(65001)])) })),
  },
  {
    name: 'AS_PATH underrun (one octet after the last segment)', cite: 'RFC 7606 §7.2', reaction: TAW,
    make: (p, nh, r) => withAttrs(p, mutantAttrs(nh, { [I.AS_PATH]: attr(T, 2, Buffer.concat([Buffer.from([2, 1]), u32(65001), bytes(r, 1)])) })),
  },
  {
    name: 'AS_PATH segment length zero', cite: 'RFC 7606 §7.2', reaction: TAW,
    make: (p, nh) => withAttrs(p, mutantAttrs(nh, { [I.AS_PATH]: attr(T, 2, Buffer.from([2, 0])) })),
  },
  {
    name: 'NEXT_HOP length not 4', cite: 'RFC 7606 §7.3', reaction: TAW,
    make: (p, nh, r) => withAttrs(p, mutantAttrs(nh, { [I.NEXT_HOP]: attr(T, 3, Buffer.alloc(badLen(r, (n) => n === 4), 10)) })),
  },
  {
    name: 'MULTI_EXIT_DISC length not 4', cite: 'RFC 7606 §7.4', reaction: TAW,
    make: (p, nh, r) => withAttrs(p, mutantAttrs(nh, { [I.MED]: attr(O, MED, Buffer.alloc(badLen(r, (n) => n === 4), 0)) })),
  },
  {
    name: 'LOCAL_PREF length not 4 (internal peer)', cite: 'RFC 7606 §7.5', reaction: TAW,
    make: (p, nh, r) => withAttrs(p, mutantAttrs(nh, { [I.LOCAL_PREF]: attr(T, 5, Buffer.alloc(badLen(r, (n) => n === 4), 0)) })),
  },
  {
    name: 'ATOMIC_AGGREGATE length not 0', cite: 'RFC 7606 §7.6', reaction: { kind: 'attribute-discard', type: 6 },
    make: (p, nh, r) => withAttrs(p, mutantAttrs(nh, {}, [attr(T, 6, bytes(r, 1 + Math.floor(r() * 6)))])),
  },
  {
    name: 'AGGREGATOR length not 8 (4-octet AS negotiated)', cite: 'RFC 7606 §7.7', reaction: { kind: 'attribute-discard', type: 7 },
    make: (p, nh, r) => withAttrs(p, mutantAttrs(nh, {}, [attr(O | T, 7, bytes(r, badLen(r, (n) => n === 8)))])),
  },
  {
    name: 'COMMUNITIES length 0 or not a multiple of 4', cite: 'RFC 7606 §7.8', reaction: TAW,
    make: (p, nh, r) => withAttrs(p, mutantAttrs(nh, {}, [attr(O | T, 8, bytes(r, badLen(r, (n) => n > 0 && n % 4 === 0)))])),
  },
  {
    name: 'ORIGINATOR_ID length not 4', cite: 'RFC 7606 §7.9', reaction: TAW,
    make: (p, nh, r) => withAttrs(p, mutantAttrs(nh, {}, [attr(O, 9, bytes(r, badLen(r, (n) => n === 4)))])),
  },
  {
    name: 'CLUSTER_LIST length 0 or not a multiple of 4', cite: 'RFC 7606 §7.10', reaction: TAW,
    make: (p, nh, r) => withAttrs(p, mutantAttrs(nh, {}, [attr(O, 10, bytes(r, badLen(r, (n) => n > 0 && n % 4 === 0)))])),
  },
  {
    name: 'EXTENDED_COMMUNITIES length not a multiple of 8', cite: 'RFC 7606 §7.14', reaction: TAW,
    make: (p, nh, r) => withAttrs(p, mutantAttrs(nh, {}, [attr(O | T, 16, bytes(r, pick(r, [1, 4, 7, 9, 12, 15])))])),
  },
  {
    name: 'LARGE_COMMUNITY length not a non-zero multiple of 12', cite: 'RFC 8092 §6', reaction: TAW,
    make: (p, nh, r) => withAttrs(p, mutantAttrs(nh, {}, [attr(O | T, 32, bytes(r, pick(r, [0, 4, 8, 11, 13, 20])))])),
  },
  {
    name: 'well-known attribute with the Optional bit set', cite: 'RFC 7606 §3 (c)', reaction: TAW,
    make: (p, nh, r) => {
      const which = pick(r, [I.ORIGIN, I.AS_PATH, I.NEXT_HOP, I.LOCAL_PREF]);
      const a = Buffer.from(validAttrs(nh, MUTANT_MED)[which]!);
      a[0] = a[0]! | O;
      return withAttrs(p, mutantAttrs(nh, { [which]: a }));
    },
  },
  {
    name: 'MULTI_EXIT_DISC with the Transitive bit set', cite: 'RFC 7606 §3 (c)', reaction: TAW,
    make: (p, nh) => withAttrs(p, mutantAttrs(nh, { [I.MED]: attr(O | T, MED, u32(MUTANT_MED)) })),
  },
  {
    name: 'well-known mandatory attribute missing', cite: 'RFC 7606 §3 (d)', reaction: TAW,
    make: (p, nh, r) => withAttrs(p, mutantAttrs(nh, { [pick(r, [I.ORIGIN, I.AS_PATH, I.NEXT_HOP])]: null })),
  },
  {
    name: 'an attribute twice (MULTI_EXIT_DISC): the first kept', cite: 'RFC 7606 §3 (g)', reaction: { kind: 'accepted', check: 'first-med' },
    make: (p, nh) => withAttrs(p, mutantAttrs(nh, {}, [MED_ATTR(MUTANT_MED + 1)])),
  },
  {
    name: 'MP_UNREACH_NLRI twice', cite: 'RFC 7606 §3 (g)', reaction: RESET(3, 1),
    make: (p, nh) => {
      const unreach = attr(O, 15, Buffer.from([0, 1, 1, 24, 10, 254, 1]));
      return withAttrs(p, Buffer.concat([mutantAttrs(nh), unreach, unreach]));
    },
  },
  {
    name: 'last attribute overruns the Total Path Attribute Length', cite: 'RFC 7606 §4', reaction: TAW,
    make: (p, nh, r) => {
      // A COMMUNITIES whose length claims 1..8 octets more than the block holds; the NLRI stays where the
      // total length says.
      const over = 1 + Math.floor(r() * 8);
      return withAttrs(p, Buffer.concat([mutantAttrs(nh), Buffer.from([O | T, 8, 4 + over]), u32(0xfde80001)]));
    },
  },
  {
    name: 'fewer than 3 octets left for an attribute', cite: 'RFC 7606 §4', reaction: TAW,
    make: (p, nh, r) => withAttrs(p, Buffer.concat([mutantAttrs(nh), bytes(r, 1 + Math.floor(r() * 2))])),
  },
  {
    name: 'Withdrawn Routes Length past the message', cite: 'RFC 7606 §4, RFC 4271 §6.3', reaction: RESET(3, 1),
    make: (p, nh, r) => {
      const attrs = mutantAttrs(nh);
      return update({ attrs, nlri: nlri(p, 24), withdrawnLen: attrs.length + 8 + Math.floor(r() * 50) });
    },
  },
  {
    name: 'Total Path Attribute Length past the message', cite: 'RFC 7606 §4, RFC 4271 §6.3', reaction: RESET(3, 1),
    make: (p, nh, r) => {
      const attrs = mutantAttrs(nh);
      return update({ attrs, nlri: nlri(p, 24), attrsLen: attrs.length + 5 + Math.floor(r() * 50) });
    },
  },
  {
    name: 'NLRI prefix length over 32', cite: 'RFC 7606 §5.3 and §3 (j), RFC 4271 §6.3', reaction: RESET(3, 10),
    make: (p, nh, r) => update({ attrs: mutantAttrs(nh), nlri: Buffer.concat([nlri(p, 24), Buffer.from([33 + Math.floor(r() * 200)]), bytes(r, 4)]) }),
  },
  {
    name: 'NLRI ends mid-prefix', cite: 'RFC 7606 §5.3 and §3 (j), RFC 4271 §6.3', reaction: RESET(3, 10),
    make: (p, nh, r) => update({ attrs: mutantAttrs(nh), nlri: Buffer.concat([nlri(p, 24), Buffer.from([24]), bytes(r, Math.floor(r() * 3))]) }),
  },
  {
    name: 'MP_REACH_NLRI next-hop length past the attribute', cite: 'RFC 7606 §7.11 and §5.3 (session reset or AFI/SAFI disable)', reaction: RESET(3),
    make: (p, nh, r) => withAttrs(p, mutantAttrs(nh, {}, [attr(O, 14, Buffer.concat([Buffer.from([0, 1, 1, 40 + Math.floor(r() * 200)]), u32(nh), Buffer.from([0, 24, 10, 254, 2])]))])),
  },
  {
    name: 'MP_UNREACH_NLRI prefix cut short', cite: 'RFC 7606 §7.12 and §5.3 (session reset or AFI/SAFI disable)', reaction: RESET(3),
    make: (p, nh) => withAttrs(p, mutantAttrs(nh, {}, [attr(O, 15, Buffer.from([0, 1, 1, 24, 10]))])),
  },
  {
    name: 'unrecognized well-known attribute', cite: 'RFC 4271 §6.3 (not revised by RFC 7606)', reaction: RESET(3, 2),
    deviation: {
      reaction: TAW,
      why: 'src/wire/update-scan.ts treats it as withdraw: an attribute type one speaker does not know must not reset a whole Calico mesh (BIRD withdraws such routes too)',
    },
    make: (p, nh, r) => withAttrs(p, mutantAttrs(nh, {}, [attr(T, 200 + Math.floor(r() * 50), bytes(r, 4))])),
  },
  {
    name: 'unrecognized optional transitive attribute: passed on with Partial set', cite: 'RFC 4271 §5 and §9', reaction: { kind: 'accepted', check: 'partial' },
    make: (p, nh, r) => withAttrs(p, mutantAttrs(nh, {}, [attr(O | T, 201, bytes(r, 4))])),
  },
  {
    name: 'unrecognized optional non-transitive attribute: not passed on', cite: 'RFC 4271 §5 and §9', reaction: { kind: 'accepted', check: 'dropped-optional' },
    make: (p, nh, r) => withAttrs(p, mutantAttrs(nh, {}, [attr(O, 202, bytes(r, 4))])),
  },
  {
    name: 'header marker not all ones', cite: 'RFC 4271 §6.1', reaction: RESET(1, 1),
    make: (p, nh, r) => {
      const m = withAttrs(p, mutantAttrs(nh));
      m[Math.floor(r() * 16)] = Math.floor(r() * 255);
      return m;
    },
  },
  {
    name: 'header length under 19', cite: 'RFC 4271 §6.1', reaction: RESET(1, 2),
    make: (p, nh, r) => {
      const m = withAttrs(p, mutantAttrs(nh));
      m.writeUInt16BE(Math.floor(r() * 19), 16);
      return m;
    },
  },
  {
    name: 'header type undefined', cite: 'RFC 4271 §6.1', reaction: RESET(1, 3),
    make: (p, nh, r) => {
      const m = withAttrs(p, mutantAttrs(nh));
      m[18] = pick(r, [0, 6, 7, 42, 255]);
      return m;
    },
  },
];

/** The reaction the live test expects for a class: the RFC's, or the stated deviation. */
export function expectedReaction(c: MalformationClass): Reaction {
  return c.deviation?.reaction ?? c.reaction;
}

// ---- the observer's side: an independent UPDATE reader ---------------------------------------------------

export interface SeenRoute {
  /** Attribute type → flags and value. */
  attrs: Map<number, { flags: number; value: Buffer }>;
}

/** Applies one UPDATE (a whole message) to a table prefix text → route. */
export function applyUpdate(table: Map<string, SeenRoute>, msg: Buffer): void {
  const prefixes = (b: Buffer): string[] => {
    const out: string[] = [];
    for (let i = 0; i < b.length; ) {
      const len = b[i]!;
      const n = Math.ceil(len / 8);
      const a = Buffer.alloc(4);
      b.copy(a, 0, i + 1, i + 1 + n);
      out.push(`${[...a].join('.')}/${len}`);
      i += 1 + n;
    }
    return out;
  };
  const wl = msg.readUInt16BE(19);
  for (const p of prefixes(msg.subarray(21, 21 + wl))) table.delete(p);
  const al = msg.readUInt16BE(21 + wl);
  const block = msg.subarray(23 + wl, 23 + wl + al);
  const attrs = new Map<number, { flags: number; value: Buffer }>();
  for (let i = 0; i < block.length; ) {
    const flags = block[i]!;
    const type = block[i + 1]!;
    const ext = (flags & EXT) !== 0;
    const len = ext ? block.readUInt16BE(i + 2) : block[i + 2]!;
    const start = i + (ext ? 4 : 3);
    attrs.set(type, { flags, value: Buffer.from(block.subarray(start, start + len)) });
    i = start + len;
  }
  for (const p of prefixes(msg.subarray(23 + wl + al))) table.set(p, { attrs });
}
