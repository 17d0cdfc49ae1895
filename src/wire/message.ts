// decodeMessage/encodeMessage: one whole BGP message (header included) to and from the model of types.ts,
// dispatching on the header type to the per-message modules.
import { BgpError } from './errors.js';
import { frameLength } from './header.js';
import { decodeKeepalive, decodeNotification, decodeRouteRefresh, encodeKeepalive, encodeNotification, encodeRouteRefresh } from './notification.js';
import { decodeOpen, encodeOpen } from './open.js';
import { decodeUpdate, encodeUpdate } from './update.js';
import { ErrorCode, HeaderSubcode, HEADER_LEN, MessageType } from './types.js';
import type { BgpMessage, CodecContext } from './types.js';
import { copyBytes } from './util.js';

/**
 * Decodes one whole message. Throws only BgpError: header errors, OPEN/ROUTE-REFRESH structure errors and
 * UPDATE errors whose RFC 7606 action is session reset. Treat-as-withdraw and attribute-discard are reported
 * on the returned UpdateMessage (treatAsWithdraw, discarded).
 */
export function decodeMessage(msg: Uint8Array, ctx: CodecContext): BgpMessage {
  const len = frameLength(msg, 0, ctx.maxMessageLen);
  if (len === 0 || len !== msg.length) {
    const said = msg.length >= HEADER_LEN ? `says ${(msg[16]! << 8) | msg[17]!} octets` : 'is missing';
    throw new BgpError(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH,
      `message length field ${said} but ${msg.length} octets were given`,
      { data: msg.length >= HEADER_LEN ? copyBytes(msg, 16, 18) : new Uint8Array(0), offset: 16 });
  }
  switch (msg[18]) {
    case MessageType.OPEN: return decodeOpen(msg);
    case MessageType.UPDATE: return decodeUpdate(msg, ctx);
    case MessageType.NOTIFICATION: return decodeNotification(msg);
    case MessageType.KEEPALIVE: return decodeKeepalive(msg);
    default: return decodeRouteRefresh(msg); // frameLength admits no other type
  }
}

export function encodeMessage(msg: BgpMessage, ctx: CodecContext): Buffer {
  switch (msg.type) {
    case MessageType.OPEN: return encodeOpen(msg);
    case MessageType.UPDATE: return encodeUpdate(msg, ctx);
    case MessageType.NOTIFICATION: return encodeNotification(msg.code, msg.subcode, msg.data);
    case MessageType.KEEPALIVE: return encodeKeepalive();
    case MessageType.ROUTE_REFRESH: return encodeRouteRefresh(msg);
  }
}
