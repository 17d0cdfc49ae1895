// OPEN message (RFC 4271 §4.2) with optional parameters, capabilities (RFC 5492) and the RFC 9072 extended
// optional parameters length. The semantic checks of RFC 4271 §6.2 are the session's (src/session/negotiate.ts).
import { struct, u8, u16be, u32be } from '@solana/buffer-layout';
import { BgpError } from './errors.js';
import { decodeCapability, encodeCapabilityValue } from './capabilities.js';
import { newMessage } from './header.js';
import { ErrorCode, HeaderSubcode, HEADER_LEN, MessageType } from './types.js';
import type { Capability, OpenMessage, OptionalParameter } from './types.js';
import { u16, copyBytes } from './util.js';
import { ipv4ToUint32, uint32ToIpv4 } from '../net/address.js';

/** The fixed part after the header: version, My AS, Hold Time, BGP Identifier, Opt Parm Len. */
interface OpenFixed {
  version: number;
  myAs: number;
  holdTime: number;
  bgpId: number;
  optParmLen: number;
}
const OPEN_FIXED = struct<OpenFixed>([u8('version'), u16be('myAs'), u16be('holdTime'), u32be('bgpId'), u8('optParmLen')]);
const OPEN_FIXED_LEN = OPEN_FIXED.span; // 10

export const PARAM_CAPABILITIES = 2;
/** RFC 9072: Non-Ext OP Type value announcing the extended form. */
export const PARAM_EXTENDED_LENGTH = 255;

function openError(msg: string, offset: number): BgpError {
  return new BgpError(ErrorCode.OPEN_MESSAGE, 0, msg, { offset });
}

function decodeCapabilities(msg: Uint8Array, start: number, end: number): Capability[] {
  const caps: Capability[] = [];
  let o = start;
  while (o < end) {
    if (o + 2 > end) throw openError(`capability header at offset ${o} is cut short by the end of its optional parameter`, o);
    const code = msg[o]!;
    const len = msg[o + 1]!;
    if (o + 2 + len > end) throw openError(`capability ${code} claims ${len} octets but overruns its optional parameter`, o);
    caps.push(decodeCapability(code, msg.subarray(o + 2, o + 2 + len)));
    o += 2 + len;
  }
  return caps;
}

/** Decodes a whole OPEN message (header included; the header was already checked by frameLength). */
export function decodeOpen(msg: Uint8Array): OpenMessage {
  const f = OPEN_FIXED.decode(msg, HEADER_LEN);
  let o = HEADER_LEN + OPEN_FIXED_LEN;
  let end: number;
  let extended = false;
  let lenSize = 1;
  if (f.optParmLen !== 0 && msg[o] === PARAM_EXTENDED_LENGTH) {
    // RFC 9072 §2: Non-Ext OP Type 255 means a 2-octet Extended Opt. Parm. Length follows.
    if (msg.length < o + 3) throw openError('RFC 9072 extended optional parameters length is cut short', o);
    extended = true;
    lenSize = 2;
    end = o + 3 + u16(msg, o + 1);
    o += 3;
  } else {
    end = o + f.optParmLen;
  }
  if (end !== msg.length) {
    throw new BgpError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH,
      `OPEN optional parameters length says the message has ${end} octets but it has ${msg.length}`,
      { data: copyBytes(msg, 16, 18), offset: 16 });
  }
  const parameters: OptionalParameter[] = [];
  while (o < end) {
    if (o + 1 + lenSize > end) throw openError(`optional parameter header at offset ${o} is cut short`, o);
    const type = msg[o]!;
    const len = lenSize === 2 ? u16(msg, o + 1) : msg[o + 1]!;
    const vs = o + 1 + lenSize;
    if (vs + len > end) throw openError(`optional parameter ${type} claims ${len} octets but overruns the parameters`, o);
    if (type === PARAM_CAPABILITIES) parameters.push({ type: 2, capabilities: decodeCapabilities(msg, vs, vs + len) });
    else parameters.push({ type, value: copyBytes(msg, vs, vs + len) });
    o = vs + len;
  }
  return {
    type: MessageType.OPEN,
    version: f.version,
    myAs: f.myAs,
    holdTime: f.holdTime,
    bgpId: uint32ToIpv4(f.bgpId),
    parameters,
    extendedParameters: extended,
  };
}

function isCapabilityParam(p: OptionalParameter): p is { type: 2; capabilities: Capability[] } {
  return p.type === PARAM_CAPABILITIES && 'capabilities' in p;
}

function paramValue(p: OptionalParameter): Uint8Array {
  if (isCapabilityParam(p)) {
    const parts = p.capabilities.map((c) => {
      const v = encodeCapabilityValue(c);
      if (v.length > 255) throw new RangeError(`capability ${c.code} value of ${v.length} octets exceeds 255`);
      return Buffer.concat([Uint8Array.of(c.code, v.length), v]);
    });
    return Buffer.concat(parts);
  }
  return (p as { value: Uint8Array }).value;
}

export function encodeOpen(m: OpenMessage): Buffer {
  const lenSize = m.extendedParameters ? 2 : 1;
  const params = m.parameters.map((p) => {
    const v = paramValue(p);
    if (v.length > (lenSize === 2 ? 0xffff : 0xff)) throw new RangeError(`optional parameter ${p.type} of ${v.length} octets is too long; use extendedParameters`);
    const b = Buffer.alloc(1 + lenSize + v.length);
    b[0] = p.type;
    if (lenSize === 2) b.writeUInt16BE(v.length, 1);
    else b[1] = v.length;
    b.set(v, 1 + lenSize);
    return b;
  });
  const body = Buffer.concat(params);
  const prefix = m.extendedParameters ? 3 : 0;
  if (!m.extendedParameters && body.length > 255) throw new RangeError(`optional parameters of ${body.length} octets need extendedParameters (RFC 9072)`);
  const msg = newMessage(MessageType.OPEN, HEADER_LEN + OPEN_FIXED_LEN + prefix + body.length);
  OPEN_FIXED.encode({
    version: m.version,
    myAs: m.myAs,
    holdTime: m.holdTime,
    bgpId: ipv4ToUint32(m.bgpId),
    optParmLen: m.extendedParameters ? 255 : body.length,
  }, msg, HEADER_LEN);
  let o = HEADER_LEN + OPEN_FIXED_LEN;
  if (m.extendedParameters) {
    msg[o] = PARAM_EXTENDED_LENGTH;
    msg.writeUInt16BE(body.length, o + 1);
    o += 3;
  }
  msg.set(body, o);
  return msg;
}

/** All capabilities of all capability parameters, in wire order. */
export function openCapabilities(open: OpenMessage): Capability[] {
  const out: Capability[] = [];
  for (const p of open.parameters) if (isCapabilityParam(p)) out.push(...p.capabilities);
  return out;
}

/** The speaker's real AS: the 4-octet AS capability when present (RFC 6793), else My AS. */
export function openAs(open: OpenMessage): number {
  for (const c of openCapabilities(open)) if (c.kind === 'as4') return c.as;
  return open.myAs;
}

