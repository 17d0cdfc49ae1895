// Whole path attribute blocks (the bytes between Total Path Attribute Length and the NLRI): structured
// decode/encode, and raw edits (find, set, remove). The RFC 4456 rewrite itself is route policy: src/reflector/policy.ts.
import { attributesFromAs2, attributesToAs2 } from './as-path.js';
import { ATTRIBUTES, encodeAttribute } from './attributes.js';
import { BgpError } from './errors.js';
import { ATTR_FLAG_EXTENDED_LENGTH, ErrorCode, UpdateSubcode } from './types.js';
import type { CodecContext, PathAttribute } from './types.js';
import { putU16, u16, copyBytes } from './util.js';

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
