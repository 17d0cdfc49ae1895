// Two whole-UPDATE helpers for the import policy's MAX_AS_PATH_LENGTH check (src/reflector/as-path-limit.ts):
// the AS_PATH length of an UPDATE as received, and the same UPDATE rewritten as a withdrawal of its NLRI
// (RFC 7606 §2 treat-as-withdraw semantics). Bytes only; the policy (limit, counters, log) is the caller's.
import { RawAttributeCursor } from './attribute-block.js';
import { AsPathTally } from './as-path.js';
import { scanUpdate, ScannedUpdate } from './update-scan.js';
import { AttrType, ATTR_FLAG_EXTENDED_LENGTH, ATTR_FLAG_OPTIONAL, HEADER_LEN, MessageType, type CodecContext } from './types.js';
import { u16 } from './util.js';

const cursor = new RawAttributeCursor();
const tally = new AsPathTally();

/**
 * RFC 4271 §9.1.2.2 path length: each AS of an AS_SEQUENCE (and confederation sequence) counts one, a whole
 * AS_SET one. Returns -1 when the UPDATE has no AS_PATH or it does not parse (the reflector reports that).
 */
export function asPathLength(msg: Uint8Array, ctx: CodecContext): number {
  if (msg.length < HEADER_LEN + 4 || msg[18] !== MessageType.UPDATE) return -1;
  const attrsAt = HEADER_LEN + 2 + u16(msg, HEADER_LEN);
  if (attrsAt + 2 > msg.length) return -1;
  const start = attrsAt + 2;
  const end = Math.min(start + u16(msg, attrsAt), msg.length);
  const c = cursor.reset(msg, start, end);
  while (c.next()) {
    if (c.type !== AttrType.AS_PATH) continue;
    const t = tally.read(msg, c.valueStart, c.end, ctx.as4 ? 4 : 2);
    return t.sequenceAses + t.confedSequenceAses + t.otherAses + t.sets + t.confedSets;
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
