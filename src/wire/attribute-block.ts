// Whole path attribute blocks (the bytes between Total Path Attribute Length and the NLRI): structured
// decode/encode, and raw edits (find, set, remove). The RFC 4456 rewrite is reflect-rewrite.ts.
import { attributesFromAs2, attributesToAs2 } from './as-path.js';
import { ATTRIBUTES, encodeAttribute } from './attributes.js';
import { BgpError } from './errors.js';
import { AttrType, ATTR_FLAG_EXTENDED_LENGTH, ErrorCode, UpdateSubcode } from './types.js';
import type { CodecContext, PathAttribute } from './types.js';
import { putU16, u16, u32, copyBytes } from './util.js';

/** Location of one attribute in a block: header at `start`, value [valueStart, end). */
export interface RawAttribute {
  type: number;
  flags: number;
  start: number;
  valueStart: number;
  end: number;
}

/** Calls cb for each attribute of a block; throws BgpError (session reset) when the block is not well framed. */
export function forEachRawAttribute(block: Uint8Array, cb: (a: RawAttribute) => void): void {
  let o = 0;
  while (o < block.length) {
    const flags = block[o]!;
    const hdr = flags & ATTR_FLAG_EXTENDED_LENGTH ? 4 : 3;
    if (o + hdr > block.length) throw framing(o);
    const vlen = hdr === 4 ? u16(block, o + 2) : block[o + 2]!;
    if (o + hdr + vlen > block.length) throw framing(o);
    cb({ type: block[o + 1]!, flags, start: o, valueStart: o + hdr, end: o + hdr + vlen });
    o += hdr + vlen;
  }
}

/**
 * An allocation-free, non-throwing cursor over the attributes of a block, for the paths that run per route
 * (decision inputs, export checks, AS_PATH limit): `reset()` then `while (c.next())` reads type, flags and the
 * value bounds. It stops at the end of the block or at the first attribute whose header or value overruns it;
 * `malformed` tells the two apart. forEachRawAttribute is the throwing, callback form of the same walk.
 */
export class RawAttributeCursor {
  type = 0;
  flags = 0;
  start = 0;
  valueStart = 0;
  end = 0;
  /** True when the walk stopped at an attribute that overruns the block. */
  malformed = false;
  private block: Uint8Array = new Uint8Array(0);
  private limit = 0;
  private pos = 0;

  /** Walks block[from, to). */
  reset(block: Uint8Array, from = 0, to = block.length): this {
    this.block = block;
    this.pos = from;
    this.limit = to;
    this.malformed = false;
    return this;
  }

  next(): boolean {
    const b = this.block;
    const o = this.pos;
    if (o >= this.limit) return false;
    const flags = b[o]!;
    const hdr = flags & ATTR_FLAG_EXTENDED_LENGTH ? 4 : 3;
    if (o + hdr > this.limit) return this.fail();
    const len = hdr === 4 ? u16(b, o + 2) : b[o + 2]!;
    if (o + hdr + len > this.limit) return this.fail();
    this.type = b[o + 1]!;
    this.flags = flags;
    this.start = o;
    this.valueStart = o + hdr;
    this.end = o + hdr + len;
    this.pos = this.end;
    return true;
  }

  get valueLength(): number {
    return this.end - this.valueStart;
  }

  /** The value as an unsigned 32-bit number (ORIGINATOR_ID, LOCAL_PREF, MED, NEXT_HOP); the caller checked the length. */
  u32(): number {
    return u32(this.block, this.valueStart);
  }

  private fail(): false {
    this.malformed = true;
    this.pos = this.limit;
    return false;
  }
}

const scratchCursor = new RawAttributeCursor();

/** Does the CLUSTER_LIST of a raw block hold id (uint32)? False when absent or when the block is not well framed. */
export function rawClusterListIncludes(block: Uint8Array, id: number): boolean {
  const c = scratchCursor.reset(block);
  while (c.next()) {
    if (c.type !== AttrType.CLUSTER_LIST) continue;
    for (let q = c.valueStart; q + 4 <= c.end; q += 4) if (u32(block, q) === id >>> 0) return true;
    return false;
  }
  return false;
}

/** The IPv4 NEXT_HOP of a raw block as uint32, or -1 when there is none of 4 octets. */
export function rawNextHopV4(block: Uint8Array): number {
  const c = scratchCursor.reset(block);
  while (c.next()) if (c.type === AttrType.NEXT_HOP && c.valueLength === 4) return c.u32();
  return -1;
}

function framing(o: number): BgpError {
  return new BgpError(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `path attribute at offset ${o} overruns the attribute block`, { offset: o });
}

export function findRawAttribute(block: Uint8Array, type: number): RawAttribute | undefined {
  let found: RawAttribute | undefined;
  forEachRawAttribute(block, (a) => { if (found === undefined && a.type === type) found = a; });
  return found;
}

/**
 * Structured attributes of a block. Unknown types are kept raw with their flags. A malformed known attribute
 * throws BgpError carrying its RFC 7606 action (this is for blocks already accepted by scanUpdate).
 */
export function decodeAttributes(block: Uint8Array, ctx: CodecContext): PathAttribute[] {
  const out: PathAttribute[] = [];
  forEachRawAttribute(block, (a) => {
    const d = ATTRIBUTES[a.type];
    if (d === undefined) {
      out.push({ type: a.type, flags: a.flags, value: copyBytes(block, a.valueStart, a.end), unknown: true });
      return;
    }
    const p = d.check(block, a.valueStart, a.end, ctx);
    if (p !== undefined) {
      throw new BgpError(ErrorCode.UPDATE_MESSAGE, p.subcode, p.reason, { action: d.action, data: copyBytes(block, a.start, a.end), offset: a.start });
    }
    out.push(d.decode(block, a.valueStart, a.end, a.flags, ctx));
  });
  return out;
}

/** Encodes attributes in the given order, with their flags (extended length added where needed). */
export function encodeAttributes(attrs: readonly PathAttribute[], ctx: CodecContext): Buffer {
  return Buffer.concat(attrs.map((a) => encodeAttribute(a, ctx)));
}

/**
 * A 4-octet-form block (as scanUpdate and the RIB hold them) rewritten for a 2-octet AS peer (RFC 6793
 * §4.2.2): AS_PATH with AS_TRANS plus AS4_PATH, AGGREGATOR with AS_TRANS plus AS4_AGGREGATOR, when needed.
 */
export function attributeBlockToAs2(block: Uint8Array): Buffer {
  const as4 = { as4: true, addPathV4: false, addPathV6: false, maxMessageLen: 65535 };
  return encodeAttributes(attributesToAs2(decodeAttributes(block, as4)), { ...as4, as4: false });
}

/**
 * A block decoded on a 2-octet AS session turned into its 4-octet form (RFC 6793 §4.2.3: AS4_PATH merged into
 * AS_PATH, AS4_AGGREGATOR into AGGREGATOR). scanUpdate already does this for its `attrs`.
 */
export function attributeBlockFromAs2(block: Uint8Array): Buffer {
  const as2 = { as4: false, addPathV4: false, addPathV6: false, maxMessageLen: 65535 };
  return encodeAttributes(attributesFromAs2(decodeAttributes(block, as2)), { ...as2, as4: true });
}

/** Header + value bytes for one attribute given raw. */
export function rawAttribute(type: number, flags: number, value: Uint8Array): Uint8Array {
  const ext = (flags & ATTR_FLAG_EXTENDED_LENGTH) !== 0 || value.length > 255;
  const hdr = ext ? 4 : 3;
  const b = new Uint8Array(hdr + value.length);
  b[0] = flags | (ext ? ATTR_FLAG_EXTENDED_LENGTH : 0);
  b[1] = type;
  if (ext) putU16(b, 2, value.length);
  else b[2] = value.length;
  b.set(value, hdr);
  return b;
}

/**
 * The block with attribute `type` set to (flags, value): replaces the first occurrence in place, or inserts
 * it before the first attribute with a higher type code (the conventional ascending order).
 */
export function setRawAttribute(block: Uint8Array, type: number, flags: number, value: Uint8Array): Buffer {
  const attr = rawAttribute(type, flags, value);
  let at = -1;
  let cut = -1;
  let insertAt = block.length;
  forEachRawAttribute(block, (a) => {
    if (a.type === type && at < 0) { at = a.start; cut = a.end; }
    if (a.type > type && insertAt === block.length) insertAt = a.start;
  });
  if (at >= 0) return Buffer.concat([block.subarray(0, at), attr, block.subarray(cut)]);
  return Buffer.concat([block.subarray(0, insertAt), attr, block.subarray(insertAt)]);
}

/** The block without any attribute of `type`. */
export function removeRawAttribute(block: Uint8Array, type: number): Buffer {
  const parts: Uint8Array[] = [];
  forEachRawAttribute(block, (a) => { if (a.type !== type) parts.push(block.subarray(a.start, a.end)); });
  return Buffer.concat(parts);
}
