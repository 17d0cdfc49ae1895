// The 19-octet BGP message header (RFC 4271 §4.1): marker, length, type; framing of a byte stream
// into whole messages and the header checks of RFC 4271 §6.1 (plus RFC 8654 for extended messages).
import { BgpError } from './errors.js';
import { ErrorCode, HeaderSubcode, HEADER_LEN, MAX_MESSAGE_LEN, MessageType } from './types.js';

export const MARKER_LEN = 16;

/** Smallest and largest legal total length for each message type (before the session maximum applies). */
const MIN_LEN: Record<number, number> = {
  [MessageType.OPEN]: 29,
  [MessageType.UPDATE]: 23,
  [MessageType.NOTIFICATION]: 21,
  [MessageType.KEEPALIVE]: 19,
  [MessageType.ROUTE_REFRESH]: 23,
};

function lengthField(buf: Uint8Array, offset: number): Uint8Array {
  return Uint8Array.of(buf[offset + 16]!, buf[offset + 17]!);
}

/**
 * Length of the message starting at `offset` if all of it is in `buf`, 0 if more bytes are needed.
 * Throws BgpError (code 1) for a bad marker, a length below 19 or above maxLen, a length that is wrong
 * for the message type, or an unknown type. OPEN and KEEPALIVE never exceed 4096 (RFC 8654 §4).
 */
export function frameLength(buf: Uint8Array, offset: number, maxLen: number): number {
  if (buf.length - offset < HEADER_LEN) return 0;
  for (let i = 0; i < MARKER_LEN; i++) {
    if (buf[offset + i] !== 0xff) {
      throw new BgpError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED,
        `message header marker is not all ones (octet ${i} is 0x${buf[offset + i]!.toString(16)}): stream out of sync`, { offset: offset + i });
    }
  }
  const len = (buf[offset + 16]! << 8) | buf[offset + 17]!;
  const type = buf[offset + 18]!;
  if (len < HEADER_LEN || len > maxLen) {
    throw new BgpError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH,
      `message length ${len} is outside 19..${maxLen}`, { data: lengthField(buf, offset), offset: offset + 16 });
  }
  const min = MIN_LEN[type];
  if (min === undefined) {
    throw new BgpError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_TYPE,
      `unknown message type ${type}`, { data: Uint8Array.of(type), offset: offset + 18 });
  }
  const max = type === MessageType.KEEPALIVE ? HEADER_LEN : type === MessageType.OPEN ? MAX_MESSAGE_LEN : maxLen;
  if (len < min || len > max) {
    throw new BgpError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH,
      `message length ${len} is invalid for a ${typeName(type)} message (${min}..${max})`, { data: lengthField(buf, offset), offset: offset + 16 });
  }
  return buf.length - offset >= len ? len : 0;
}

export function typeName(type: number): string {
  switch (type) {
    case MessageType.OPEN: return 'OPEN';
    case MessageType.UPDATE: return 'UPDATE';
    case MessageType.NOTIFICATION: return 'NOTIFICATION';
    case MessageType.KEEPALIVE: return 'KEEPALIVE';
    case MessageType.ROUTE_REFRESH: return 'ROUTE-REFRESH';
    default: return `type-${type}`;
  }
}

/** Writes marker, length and type at the start of `buf` (which must be exactly the message). */
export function writeHeader(buf: Uint8Array, type: number): void {
  if (buf.length > 0xffff) throw new RangeError(`BGP message of ${buf.length} octets exceeds 65535`);
  buf.fill(0xff, 0, MARKER_LEN);
  buf[16] = buf.length >>> 8;
  buf[17] = buf.length & 0xff;
  buf[18] = type;
}

/** A Buffer of `len` octets with the header already written. */
export function newMessage(type: number, len: number): Buffer {
  const buf = Buffer.alloc(len);
  writeHeader(buf, type);
  return buf;
}
