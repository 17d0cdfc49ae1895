// NOTIFICATION (RFC 4271 §4.5), KEEPALIVE (§4.4) and ROUTE-REFRESH (RFC 2918, RFC 7313 subtypes) messages,
// and the shutdown communication carried in Cease/Administrative Shutdown|Reset (RFC 8203, RFC 9003).
import { BgpError } from './errors.js';
import { newMessage } from './header.js';
import { CeaseSubcode, ErrorCode, HEADER_LEN, MessageType } from './types.js';
import type { KeepaliveMessage, NotificationMessage, RouteRefreshMessage } from './types.js';
import { u16, copyBytes } from './util.js';

export const MAX_SHUTDOWN_MESSAGE_LEN = 255; // RFC 9003 (RFC 8203 allowed 128)

/** RFC 7313 Message Subtype of ROUTE-REFRESH. */
export const enum RouteRefreshSubtype {
  NORMAL = 0,
  BORR = 1,
  EORR = 2,
}

/** ROUTE-REFRESH Message Error subcode (RFC 7313 §5). */
export const ROUTE_REFRESH_INVALID_LENGTH = 1;

const KEEPALIVE = (() => { const b = newMessage(MessageType.KEEPALIVE, HEADER_LEN); return b; })();

/** A fresh 19-octet KEEPALIVE. */
export function encodeKeepalive(): Buffer {
  return Buffer.from(KEEPALIVE);
}

export function decodeKeepalive(_msg: Uint8Array): KeepaliveMessage {
  return { type: MessageType.KEEPALIVE };
}

export function encodeNotification(code: number, subcode: number, data: Uint8Array = new Uint8Array(0)): Buffer {
  const msg = newMessage(MessageType.NOTIFICATION, HEADER_LEN + 2 + data.length);
  msg[HEADER_LEN] = code;
  msg[HEADER_LEN + 1] = subcode;
  msg.set(data, HEADER_LEN + 2);
  return msg;
}

export function decodeNotification(msg: Uint8Array): NotificationMessage {
  return { type: MessageType.NOTIFICATION, code: msg[HEADER_LEN]!, subcode: msg[HEADER_LEN + 1]!, data: copyBytes(msg, HEADER_LEN + 2) };
}

/** UTF-8 octets of `message` cut at a character boundary so that they fit `max` octets. */
function truncateUtf8(message: string, max: number): Buffer {
  const b = Buffer.from(message, 'utf8');
  if (b.length <= max) return b;
  let end = max;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--; // do not split a multi-octet character
  return b.subarray(0, end);
}

/**
 * Cease NOTIFICATION with a shutdown communication (RFC 8203/9003): subcode 2 (Administrative Shutdown)
 * or 4 (Administrative Reset); the message is UTF-8, truncated to 255 octets on a character boundary.
 */
export function encodeShutdownNotification(subcode: number, message: string): Buffer {
  return encodeNotification(ErrorCode.CEASE, subcode, shutdownData(message));
}

/** The data field of that NOTIFICATION: length octet + the UTF-8 message, truncated as above. */
export function shutdownData(message: string): Buffer {
  const text = truncateUtf8(message, MAX_SHUTDOWN_MESSAGE_LEN);
  const data = Buffer.alloc(1 + text.length);
  data[0] = text.length;
  data.set(text, 1);
  return data;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The shutdown communication in the data of a Cease/Administrative Shutdown|Reset NOTIFICATION,
 * or undefined when there is none or it is not well formed (length mismatch, invalid UTF-8).
 */
export function decodeShutdownMessage(data: Uint8Array): string | undefined {
  if (data.length < 1) return undefined;
  const len = data[0]!;
  if (len === 0 || 1 + len > data.length) return undefined;
  try {
    return utf8.decode(data.subarray(1, 1 + len));
  } catch {
    return undefined;
  }
}

/** True for the Cease subcodes that may carry a shutdown communication. */
export function carriesShutdownMessage(code: number, subcode: number): boolean {
  return code === ErrorCode.CEASE && (subcode === CeaseSubcode.ADMINISTRATIVE_SHUTDOWN || subcode === CeaseSubcode.ADMINISTRATIVE_RESET);
}

export function encodeRouteRefresh(m: RouteRefreshMessage): Buffer {
  const extra = m.orf ?? new Uint8Array(0);
  const msg = newMessage(MessageType.ROUTE_REFRESH, HEADER_LEN + 4 + extra.length);
  msg.writeUInt16BE(m.afi, HEADER_LEN);
  msg[HEADER_LEN + 2] = m.subtype;
  msg[HEADER_LEN + 3] = m.safi;
  msg.set(extra, HEADER_LEN + 4);
  return msg;
}

export function decodeRouteRefresh(msg: Uint8Array): RouteRefreshMessage {
  const subtype = msg[HEADER_LEN + 2]!;
  if (msg.length !== HEADER_LEN + 4 && (subtype === RouteRefreshSubtype.BORR || subtype === RouteRefreshSubtype.EORR)) {
    // RFC 7313 §5: data is the complete ROUTE-REFRESH message.
    throw new BgpError(ErrorCode.ROUTE_REFRESH, ROUTE_REFRESH_INVALID_LENGTH,
      `ROUTE-REFRESH ${subtype === 1 ? 'BoRR' : 'EoRR'} must be 23 octets, got ${msg.length}`, { data: copyBytes(msg), offset: 16 });
  }
  const m: RouteRefreshMessage = { type: MessageType.ROUTE_REFRESH, afi: u16(msg, HEADER_LEN), safi: msg[HEADER_LEN + 3]!, subtype };
  if (msg.length > HEADER_LEN + 4) m.orf = copyBytes(msg, HEADER_LEN + 4);
  return m;
}
