// The running sessions by peer key ("4/Node_10_0_1_5"): applies a reconcile plan (start, stop with Cease
// "peer de-configured", restart with "other configuration change") and answers the listener's lookups.
import { peerKey, type ReconcilePlan } from '../peers/reconcile.js';
import type { PeerSpec } from '../peers/peer-spec.js';
import { CeaseSubcode } from '../wire/types.js';
import { normalizeRemoteAddress, type BgpListener } from './listener.js';
import { BgpSession, type SessionOptions } from './session.js';

export interface SessionManagerHooks {
  /** Called for every new session before it starts: attach 'update'/'established'/'down' listeners here. */
  onCreate?: (s: BgpSession) => void;
  /** Called after a session was stopped and dropped (its 'down' has already been emitted). */
  onRemove?: (s: BgpSession) => void;
}

export class SessionManager {
  private readonly byKey = new Map<string, BgpSession>();
  private readonly byAddress = new Map<string, BgpSession>();
  private listener: BgpListener | undefined;

  constructor(private readonly hooks: SessionManagerHooks = {}, private readonly options: SessionOptions = {}) {}

  get(key: string): BgpSession | undefined {
    return this.byKey.get(key);
  }

  sessions(): BgpSession[] {
    return [...this.byKey.values()];
  }

  /** The running specs keyed by peer key: the `running` argument of planReconcile(). */
  running(): Map<string, PeerSpec> {
    const m = new Map<string, PeerSpec>();
    for (const [k, s] of this.byKey) m.set(k, s.spec);
    return m;
  }

  /** For BgpListener.setLookup(): the session configured for a remote address. */
  readonly lookup = (remoteAddress: string): BgpSession | undefined => this.byAddress.get(normalizeRemoteAddress(remoteAddress));

  /**
   * Joins the listener to this manager: its lookups come from here, and each session's TCP-MD5 key is set
   * on the listening sockets while the session exists (the app calls this instead of setLookup).
   */
  bindListener(listener: BgpListener): void {
    this.listener = listener;
    listener.setLookup(this.lookup);
    for (const s of this.byKey.values()) {
      this.setKey(s, s.spec.password);
      if (s.gtsm) listener.useTtl255();
    }
  }

  /** Applies a plan; unchanged sessions are not touched (their uptime does not reset). */
  async apply(plan: ReconcilePlan): Promise<void> {
    const stopping: Promise<void>[] = [];
    for (const spec of plan.stop) stopping.push(this.remove(spec, CeaseSubcode.PEER_DECONFIGURED));
    for (const { from } of plan.restart) stopping.push(this.remove(from, CeaseSubcode.OTHER_CONFIGURATION_CHANGE));
    await Promise.all(stopping);
    for (const { to } of plan.restart) this.add(to);
    for (const spec of plan.start) this.add(spec);
  }

  /** Stops every session (SIGTERM): Cease/Administrative Shutdown with an RFC 8203 message. */
  async stopAll(message = 'shutting down'): Promise<void> {
    const all = [...this.byKey.values()];
    await Promise.all(all.map((s) => s.stop(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, message)));
    for (const s of all) this.forget(s);
  }

  private add(spec: PeerSpec): void {
    const key = peerKey(spec);
    if (this.byKey.has(key)) return;
    const s = new BgpSession(spec, this.options);
    this.byKey.set(key, s);
    this.byAddress.set(normalizeRemoteAddress(spec.neighborAddress), s);
    this.hooks.onCreate?.(s);
    if (s.gtsm) this.listener?.useTtl255();
    if (spec.password !== undefined && s.securityProblem() === undefined && !this.setKey(s, spec.password)) return;
    s.start();
  }

  /** False (and the session left unstarted, with the error as its last error) when the key cannot be set. */
  private setKey(s: BgpSession, password: string | undefined): boolean {
    if (this.listener === undefined) return true;
    try {
      this.listener.setPeerPassword(s.spec.family, s.spec.neighborAddress, password, s.spec.name);
      return true;
    } catch (e) {
      s.log.error(`session ${s.spec.name} not started: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  }

  private async remove(spec: PeerSpec, subcode: number): Promise<void> {
    const s = this.byKey.get(peerKey(spec));
    if (!s) return;
    await s.stop(subcode);
    this.forget(s);
  }

  private forget(s: BgpSession): void {
    const key = peerKey(s.spec);
    if (this.byKey.get(key) !== s) return;
    this.byKey.delete(key);
    const addr = normalizeRemoteAddress(s.spec.neighborAddress);
    if (this.byAddress.get(addr) === s) {
      this.byAddress.delete(addr);
      if (s.spec.password !== undefined) this.setKey(s, undefined);
    }
    this.hooks.onRemove?.(s);
  }
}
