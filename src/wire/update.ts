// UPDATE message (RFC 4271 §4.3, RFC 4760, RFC 7911) to and from the structured model. Decoding is built on
// walkUpdate (update-scan.ts), so decodeMessage and scanUpdate give the same RFC 7606 outcome for any input.
import { ATTRIBUTES } from './attributes.js';
import { encodeAttribute } from './attributes.js';
import { newMessage } from './header.js';
import { decodePrefixes, encodedPrefixesLength, writePrefixes } from './nlri.js';
import { ScannedUpdate, walkUpdate } from './update-scan.js';
import { AFI_IPV4, ATTR_FLAG_EXTENDED_LENGTH, HEADER_LEN, MessageType } from './types.js';
import type { CodecContext, PathAttribute, UpdateMessage } from './types.js';
import { u16, copyBytes } from './util.js';

const scratch = new ScannedUpdate();

export function decodeUpdate(msg: Uint8Array, ctx: CodecContext): UpdateMessage {
  const s = walkUpdate(msg, ctx, scratch, false);
  const attributes: PathAttribute[] = new Array<PathAttribute>(s.attrCount);
  for (let i = 0; i < s.attrCount; i++) {
    const o = s.attrOffsets[i]!;
    const flags = msg[o]!;
    const type = msg[o + 1]!;
    const hdr = flags & ATTR_FLAG_EXTENDED_LENGTH ? 4 : 3;
    const vs = o + hdr;
    const ve = vs + (hdr === 4 ? u16(msg, o + 2) : msg[o + 2]!);
    const d = ATTRIBUTES[type];
    attributes[i] = d ? d.decode(msg, vs, ve, flags, ctx) : { type, flags, value: copyBytes(msg, vs, ve), unknown: true };
  }
  const m: UpdateMessage = {
    type: MessageType.UPDATE,
    withdrawn: decodePrefixes(msg, s.withdrawnStart, s.withdrawnEnd, AFI_IPV4, ctx.addPathV4),
    attributes,
    nlri: decodePrefixes(msg, s.nlriStart, s.nlriEnd, AFI_IPV4, ctx.addPathV4),
  };
  if (s.treatAsWithdraw) m.treatAsWithdraw = s.treatAsWithdraw;
  if (s.discarded) m.discarded = s.discarded;
  return m;
}

export function encodeUpdate(m: UpdateMessage, ctx: CodecContext): Buffer {
  const attrs = m.attributes.map((a) => encodeAttribute(a, ctx));
  let attrLen = 0;
  for (const a of attrs) attrLen += a.length;
  const wLen = encodedPrefixesLength(m.withdrawn, ctx.addPathV4);
  const nLen = encodedPrefixesLength(m.nlri, ctx.addPathV4);
  const total = HEADER_LEN + 2 + wLen + 2 + attrLen + nLen;
  if (total > ctx.maxMessageLen) throw new RangeError(`UPDATE of ${total} octets exceeds the maximum message length ${ctx.maxMessageLen}`);
  const b = newMessage(MessageType.UPDATE, total);
  let o = HEADER_LEN;
  b.writeUInt16BE(wLen, o);
  o = writePrefixes(b, o + 2, m.withdrawn, ctx.addPathV4);
  b.writeUInt16BE(attrLen, o);
  o += 2;
  for (const a of attrs) { b.set(a, o); o += a.length; }
  writePrefixes(b, o, m.nlri, ctx.addPathV4);
  return b;
}
