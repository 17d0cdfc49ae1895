// Joins each BGP session to the reflector (events in, UPDATEs out) and keeps what the operator views need
// about it beyond the session itself: when its state last changed, how often it flapped, whether an operator
// disabled it from the control socket.
import type { BgpSession } from '../session/session.js';
import type { Reflector } from '../reflector/reflector.js';
import type { RibPeer } from '../rib/types.js';
import { peerKey } from '../peers/reconcile.js';
import { systemClock, type Clock } from '../clock.js';

export interface SessionRecord {
  session: BgpSession;
  peer: RibPeer;
  /** Time of the last state change (BIRD's "since" column). */
  since: Date;
  flaps: number;
  /** Disabled by `birdc disable NAME`: kept stopped until enabled or re-created by the datastore. */
  disabled: boolean;
  /** Operator message of the last disable/restart. */
  message?: string;
  lastDownReason?: string;
}

export class SessionBook {
  private readonly records = new Map<string, SessionRecord>();

  /** clock: stamps each record's "since" (state changes), so the control socket's times follow one clock. */
  constructor(
    private readonly reflector: Reflector,
    readonly clock: Clock = systemClock,
  ) {}

  /** SessionManager onCreate hook: wire one new session to the reflector. */
  attach(session: BgpSession): void {
    const peer: RibPeer = {
      name: session.spec.name,
      spec: session.spec,
      send: (buf) => session.send(buf),
      // An UPDATE error that RFC 7606 says must reset the session (e.g. a malformed MP_REACH_NLRI).
      resetSession: (err) => {
        session.reportUpdateError(err);
      },
      // The import policy's prefix limit closes the session through this; its log lines carry the session's fields.
      ceaseAndHold: (subcode, data, hold, reason) => session.ceaseAndHold(subcode, data, hold, reason),
      log: session.log,
    };
    const rec: SessionRecord = { session, peer, since: this.clock(), flaps: 0, disabled: false };
    this.records.set(peerKey(session.spec), rec);
    session.on('state', () => {
      rec.since = this.clock();
    });
    session.on('established', (neg) => this.reflector.peerUp(peer, neg));
    // The whole inbound chain (import policy, Adj-RIB-In, decision) is the engine's: src/reflector/inbound.ts.
    session.on('update', (msg) => this.reflector.handleUpdate(peer, msg));
    session.on('route-refresh', (m) => this.reflector.handleRouteRefresh(peer, m));
    session.on('drain', () => this.reflector.handleDrain(peer));
    session.on('down', (reason, info) => {
      rec.lastDownReason = reason;
      if (this.reflector.isUp(peer.name)) {
        rec.flaps++;
        this.reflector.peerDown(peer, { graceful: info.graceful });
      }
    });
  }

  /** SessionManager onRemove hook. */
  detach(session: BgpSession): void {
    const key = peerKey(session.spec);
    if (this.records.get(key)?.session === session) {
      this.records.delete(key);
      this.reflector.forgetPeer(session.spec.name);
    }
    session.removeAllListeners();
  }

  all(): SessionRecord[] {
    return [...this.records.values()];
  }

  ofFamily(family: 4 | 6): SessionRecord[] {
    return this.all()
      .filter((r) => r.session.spec.family === family)
      .sort((a, b) => (a.session.spec.name < b.session.spec.name ? -1 : a.session.spec.name > b.session.spec.name ? 1 : 0));
  }

  byName(family: 4 | 6, name: string): SessionRecord | undefined {
    return this.records.get(peerKey({ family, name }));
  }
}
