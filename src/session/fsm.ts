// The RFC 4271 §8 finite state machine of one BGP connection as a pure transition function, plus the
// timer values (§10 jitter, the large OpenSent hold time) and the FSM-error subcodes of RFC 6608.
import { DEFAULTS } from '../config/defaults.js';
import { CeaseSubcode, ErrorCode } from '../wire/types.js';

export type BgpState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

/** RFC 4271 §8.2.2: the hold timer while waiting for the peer's OPEN ("large value, 4 minutes suggested"). */
export const LARGE_HOLD_TIME = 240;

/** RFC 6608 FSM error subcodes: an unexpected message in OpenSent, OpenConfirm, Established. */
export const enum FsmSubcode {
  UNSPECIFIED = 0,
  UNEXPECTED_IN_OPENSENT = 1,
  UNEXPECTED_IN_OPENCONFIRM = 2,
  UNEXPECTED_IN_ESTABLISHED = 3,
}

export type TimerName = 'hold' | 'keepalive';

/** Events of §8.1 that reach one connection (connection set-up itself is handled by the session). */
export type FsmEvent =
  | { type: 'TcpConnectionConfirmed' } // Event 16/17: the transport is up (either direction)
  | { type: 'TcpConnectionFails'; reason: string } // Event 18
  | { type: 'ManualStop'; subcode: number; data: Uint8Array; reason: string } // Event 2 (with a Cease subcode)
  | { type: 'HoldTimerExpires' } // Event 10
  | { type: 'KeepaliveTimerExpires' } // Event 11
  | { type: 'BGPOpen'; holdTime: number; keepaliveTime: number } // Event 19: a valid OPEN, already negotiated
  | { type: 'BGPHeaderErr' | 'BGPOpenMsgErr' | 'UpdateMsgErr'; code: number; subcode: number; data: Uint8Array; reason: string } // 21, 22, 28
  | { type: 'OpenCollisionDump' } // Event 23
  | { type: 'NotifMsg'; reason: string } // Event 25
  | { type: 'KeepAliveMsg' } // Event 26
  | { type: 'UpdateMsg' } // Event 27
  | { type: 'RouteRefreshMsg' }; // RFC 2918 (handled like an UPDATE for the FSM)

export type FsmAction =
  | { do: 'send-open' }
  | { do: 'send-keepalive' }
  | { do: 'send-notification'; code: number; subcode: number; data: Uint8Array }
  /** seconds > 0 (re)starts the timer with that interval, 0 stops it, -1 restarts it with its current interval. */
  | { do: 'timer'; timer: TimerName; seconds: number }
  | { do: 'established' }
  | { do: 'deliver-update' }
  | { do: 'deliver-route-refresh' }
  /** Release the connection: close the socket, stop all timers; reason is for the log and 'down'. */
  | { do: 'close'; reason: string };

export interface Transition {
  state: BgpState;
  actions: FsmAction[];
}

const EMPTY = new Uint8Array(0);

function fsmError(state: BgpState, what: string): Transition {
  const subcode = state === 'OpenSent' ? FsmSubcode.UNEXPECTED_IN_OPENSENT
    : state === 'OpenConfirm' ? FsmSubcode.UNEXPECTED_IN_OPENCONFIRM
      : state === 'Established' ? FsmSubcode.UNEXPECTED_IN_ESTABLISHED : FsmSubcode.UNSPECIFIED;
  return {
    state: 'Idle',
    actions: [
      { do: 'send-notification', code: ErrorCode.FSM, subcode, data: EMPTY },
      { do: 'close', reason: `FSM error: ${what} in ${state}` },
    ],
  };
}

function notifyAndClose(code: number, subcode: number, data: Uint8Array, reason: string): Transition {
  return { state: 'Idle', actions: [{ do: 'send-notification', code, subcode, data }, { do: 'close', reason }] };
}

/**
 * One step of the §8.2.2 FSM for a connection. `state` Connect or Active means "transport not up yet".
 * The caller validates and negotiates an OPEN before raising BGPOpen (or BGPOpenMsgErr), and runs
 * collision detection (§6.8) on entering OpenConfirm, raising OpenCollisionDump for the loser.
 */
export function transition(state: BgpState, ev: FsmEvent): Transition {
  if (state === 'Idle') return { state, actions: [] }; // a closed connection ignores everything

  switch (ev.type) {
    case 'ManualStop':
      if (state === 'Connect' || state === 'Active') return { state: 'Idle', actions: [{ do: 'close', reason: ev.reason }] };
      return notifyAndClose(ErrorCode.CEASE, ev.subcode, ev.data, ev.reason);
    case 'TcpConnectionFails':
      return { state: 'Idle', actions: [{ do: 'close', reason: ev.reason }] };
    case 'OpenCollisionDump':
      return notifyAndClose(ErrorCode.CEASE, CeaseSubcode.CONNECTION_COLLISION_RESOLUTION, EMPTY, 'connection collision resolution');
    case 'NotifMsg':
      return { state: 'Idle', actions: [{ do: 'close', reason: ev.reason }] };
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
    case 'UpdateMsgErr':
      return notifyAndClose(ev.code, ev.subcode, ev.data, ev.reason);
    default:
      break;
  }

  switch (state) {
    case 'Connect':
    case 'Active':
      if (ev.type === 'TcpConnectionConfirmed') {
        return { state: 'OpenSent', actions: [{ do: 'send-open' }, { do: 'timer', timer: 'hold', seconds: LARGE_HOLD_TIME }] };
      }
      return { state, actions: [] };

    case 'OpenSent':
      if (ev.type === 'BGPOpen') {
        return {
          state: 'OpenConfirm',
          actions: [
            { do: 'send-keepalive' },
            { do: 'timer', timer: 'keepalive', seconds: ev.keepaliveTime },
            { do: 'timer', timer: 'hold', seconds: ev.holdTime },
          ],
        };
      }
      if (ev.type === 'HoldTimerExpires') return notifyAndClose(ErrorCode.HOLD_TIMER_EXPIRED, 0, EMPTY, 'hold timer expired in OpenSent');
      if (ev.type === 'KeepaliveTimerExpires') return { state, actions: [] };
      return fsmError(state, messageName(ev.type));

    case 'OpenConfirm':
      if (ev.type === 'KeepAliveMsg') return { state: 'Established', actions: [{ do: 'timer', timer: 'hold', seconds: -1 }, { do: 'established' }] };
      if (ev.type === 'KeepaliveTimerExpires') return { state, actions: [{ do: 'send-keepalive' }, { do: 'timer', timer: 'keepalive', seconds: -1 }] };
      if (ev.type === 'HoldTimerExpires') return notifyAndClose(ErrorCode.HOLD_TIMER_EXPIRED, 0, EMPTY, 'hold timer expired in OpenConfirm');
      return fsmError(state, messageName(ev.type));

    case 'Established':
      switch (ev.type) {
        case 'KeepAliveMsg':
          return { state, actions: [{ do: 'timer', timer: 'hold', seconds: -1 }] };
        case 'UpdateMsg':
          return { state, actions: [{ do: 'timer', timer: 'hold', seconds: -1 }, { do: 'deliver-update' }] };
        case 'RouteRefreshMsg':
          return { state, actions: [{ do: 'timer', timer: 'hold', seconds: -1 }, { do: 'deliver-route-refresh' }] };
        case 'KeepaliveTimerExpires':
          return { state, actions: [{ do: 'send-keepalive' }, { do: 'timer', timer: 'keepalive', seconds: -1 }] };
        case 'HoldTimerExpires':
          return notifyAndClose(ErrorCode.HOLD_TIMER_EXPIRED, 0, EMPTY, 'hold timer expired');
        default:
          return fsmError(state, messageName(ev.type));
      }
  }
}

function messageName(t: FsmEvent['type']): string {
  switch (t) {
    case 'BGPOpen': return 'OPEN';
    case 'KeepAliveMsg': return 'KEEPALIVE';
    case 'UpdateMsg': return 'UPDATE';
    case 'RouteRefreshMsg': return 'ROUTE-REFRESH';
    case 'TcpConnectionConfirmed': return 'second transport confirmation';
    default: return t;
  }
}

/**
 * §10: ConnectRetry and Keepalive timers (and the idle hold) are jittered by a random factor in
 * 0.75..1.0 so that many sessions started together do not fire in lockstep. Returns milliseconds.
 */
export function jitterMs(seconds: number, random: () => number = Math.random): number {
  return Math.round(seconds * 1000 * (0.75 + 0.25 * random()));
}

/**
 * Idle hold after an error (RFC 4271 §8.1.1 DampPeerOscillations): exponential from `base`, capped.
 * `failures` counts consecutive sessions that went down without staying up.
 */
export function idleHoldSeconds(failures: number, base: number = DEFAULTS.IDLE_HOLD_BASE.value, cap: number = DEFAULTS.IDLE_HOLD_CAP.value): number {
  if (failures <= 0) return 0;
  return Math.min(cap, base * 2 ** Math.min(failures - 1, 20));
}
