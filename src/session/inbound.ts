// What one received message means to the FSM: the §8.1 event it raises (Events 21, 22, 25, 26, 27 and
// ROUTE-REFRESH), decoded with the connection's codec context. An OPEN is returned decoded, since it must be
// negotiated (and checked against the FSM state) before it becomes Event 19 or 22.
import { isBgpError } from '../wire/errors.js';
import { decodeMessage } from '../wire/message.js';
import { carriesShutdownMessage, decodeShutdownMessage } from '../wire/notification.js';
import { MessageType, type CodecContext, type OpenMessage, type RouteRefreshMessage } from '../wire/types.js';
import type { FsmEvent } from './fsm-connection.js';
import { describeNotification } from './notification-text.js';

export type Inbound =
  | { kind: 'event'; ev: FsmEvent; rr?: RouteRefreshMessage }
  | { kind: 'open'; open: OpenMessage }
  | { kind: 'ignore' };

/** The FSM event of a whole message (header included). An UPDATE is not decoded here (the reflector does). */
export function inboundEvent(msg: Buffer, ctx: CodecContext): Inbound {
  const type = msg[18];
  if (type === MessageType.UPDATE) return { kind: 'event', ev: { type: 'UpdateMsg' } };
  let m;
  try {
    m = decodeMessage(msg, ctx);
  } catch (e) {
    if (!isBgpError(e)) throw e;
    const reason = `malformed ${type === MessageType.OPEN ? 'OPEN' : 'message'}: ${e.message}`;
    return { kind: 'event', ev: { type: type === MessageType.OPEN ? 'BGPOpenMsgErr' : 'BGPHeaderErr', code: e.code, subcode: e.subcode, data: e.data, reason } };
  }
  switch (m.type) {
    case MessageType.OPEN:
      return { kind: 'open', open: m };
    case MessageType.NOTIFICATION: {
      const text = describeNotification(m.code, m.subcode);
      const shutdown = carriesShutdownMessage(m.code, m.subcode) ? decodeShutdownMessage(m.data) : undefined;
      return { kind: 'event', ev: { type: 'NotifMsg', reason: `received NOTIFICATION ${m.code}/${m.subcode} (${text})${shutdown !== undefined ? `: "${shutdown}"` : ''}` } };
    }
    case MessageType.KEEPALIVE:
      return { kind: 'event', ev: { type: 'KeepAliveMsg' } };
    case MessageType.ROUTE_REFRESH:
      return { kind: 'event', ev: { type: 'RouteRefreshMsg' }, rr: m };
    default:
      return { kind: 'ignore' };
  }
}
