// Maximum AS_PATH length (MAX_AS_PATH_LENGTH): an UPDATE whose AS_PATH is longer is treated as withdraw
// (RFC 7606 §2 semantics) by rewriting it into a withdrawal of the same NLRI before the reflector sees it.
import { scanUpdate, ScannedUpdate } from '../wire/update-scan.js';
import { AttrType, ATTR_FLAG_EXTENDED_LENGTH, ATTR_FLAG_OPTIONAL, HEADER_LEN, MessageType, type CodecContext } from '../wire/types.js';

/**
 * RFC 4271 §9.1.2.2 path length: each AS of an AS_SEQUENCE (and confederation sequence) counts one, a whole
 * AS_SET one. Returns -1 when the UPDATE has no AS_PATH or it does not parse (the reflector reports that).
 */
export function asPathLength(msg: Uint8Array, ctx: CodecContext): number {
  if (msg.length < HEADER_LEN + 4 || msg[18] !== MessageType.UPDATE) return -1;
  const wlen = (msg[19]! << 8) | msg[20]!;
  let o = 21 + wlen;
  if (o + 2 > msg.length) return -1;
  const alen = (msg[o]! << 8) | msg[o + 1]!;
  o += 2;
  const end = Math.min(o + alen, msg.length);
  const asSize = ctx.as4 ? 4 : 2;
  while (o + 3 <= end) {
    const flags = msg[o]!;
    const type = msg[o + 1]!;
    const ext = (flags & ATTR_FLAG_EXTENDED_LENGTH) !== 0;
    const len = ext ? (o + 4 <= end ? (msg[o + 2]! << 8) | msg[o + 3]! : -1) : msg[o + 2]!;
    if (len < 0) return -1;
    const v = o + (ext ? 4 : 3);
    if (v + len > end) return -1;
    if (type === AttrType.AS_PATH) {
      let n = 0;
      for (let p = v; p + 2 <= v + len;) {
        const segType = msg[p]!;
        const count = msg[p + 1]!;
        n += segType === 1 || segType === 4 ? 1 : count; // AS_SET, AS_CONFED_SET count as one
        p += 2 + count * asSize;
      }
      return n;
    }
    o = v + len;
  }
  return -1;
}

/**
 * The same UPDATE as a withdrawal: IPv4 NLRI moved to the withdrawn routes, MP_REACH_NLRI turned into
 * MP_UNREACH_NLRI of the same AFI/SAFI and NLRI (path identifiers, if any, carried as they are), every other
 * attribute dropped. undefined when the UPDATE does not scan (the reflector then gives the proper reaction).
 */
export function asWithdrawal(msg: Uint8Array, ctx: CodecContext, scratch = new ScannedUpdate()): Buffer | undefined {
  let s: ScannedUpdate;
  try {
    s = scanUpdate(msg, ctx, scratch);
  } catch {
    return undefined;
  }
  const withdrawn = Buffer.concat([msg.subarray(s.withdrawnStart, s.withdrawnEnd), msg.subarray(s.nlriStart, s.nlriEnd)]);
  const attrs: Buffer[] = [];
  const mpAttr = (afi: number, safi: number, nlri: Uint8Array): Buffer => {
    const body = Buffer.alloc(3 + nlri.length);
    body.writeUInt16BE(afi, 0);
    body.writeUInt8(safi, 2);
    body.set(nlri, 3);
    const h = Buffer.from([ATTR_FLAG_OPTIONAL | ATTR_FLAG_EXTENDED_LENGTH, AttrType.MP_UNREACH_NLRI, body.length >> 8, body.length & 0xff]);
    return Buffer.concat([h, body]);
  };
  if (s.hasMpUnreach && s.mpUnreachEnd >= s.mpUnreachStart) attrs.push(mpAttr(s.mpUnreachAfi, s.mpUnreachSafi, msg.subarray(s.mpUnreachStart, s.mpUnreachEnd)));
  if (s.hasMpReach && s.mpReachEnd > s.mpReachStart) {
    if (s.hasMpUnreach && s.mpUnreachAfi === s.mpReachAfi && s.mpUnreachSafi === s.mpReachSafi) {
      attrs[0] = mpAttr(s.mpReachAfi, s.mpReachSafi, Buffer.concat([msg.subarray(s.mpUnreachStart, s.mpUnreachEnd), msg.subarray(s.mpReachStart, s.mpReachEnd)]));
    } else {
      attrs.push(mpAttr(s.mpReachAfi, s.mpReachSafi, msg.subarray(s.mpReachStart, s.mpReachEnd)));
    }
  }
  const attrBlock = Buffer.concat(attrs);
  const len = HEADER_LEN + 2 + withdrawn.length + 2 + attrBlock.length;
  if (len > ctx.maxMessageLen) return undefined;
  const out = Buffer.alloc(len, 0xff);
  out.writeUInt16BE(len, 16);
  out.writeUInt8(MessageType.UPDATE, 18);
  out.writeUInt16BE(withdrawn.length, 19);
  withdrawn.copy(out, 21);
  out.writeUInt16BE(attrBlock.length, 21 + withdrawn.length);
  attrBlock.copy(out, 23 + withdrawn.length);
  return out;
}

/** Per-peer filter: the message to hand to the reflector (the original, or its withdrawal when too long). */
export class AsPathLimit {
  private readonly scratch = new ScannedUpdate();
  /** UPDATEs treated as withdraw, per peer name. */
  readonly treated = new Map<string, number>();

  constructor(readonly maxLength: number) {}

  filter(peer: string, msg: Buffer, ctx: CodecContext, onFirst?: (length: number) => void): Buffer {
    if (this.maxLength <= 0) return msg;
    const n = asPathLength(msg, ctx);
    if (n <= this.maxLength) return msg;
    const w = asWithdrawal(msg, ctx, this.scratch);
    if (w === undefined) return msg;
    const count = (this.treated.get(peer) ?? 0) + 1;
    this.treated.set(peer, count);
    if (count === 1) onFirst?.(n);
    return w;
  }

  forget(peer: string): void {
    this.treated.delete(peer);
  }
}
