// Our own graceful restart (RFC 4724 §4.1), as a route reflector does it: routes flow from the first session
// on; only End-of-RIB is deferred. Pure core (no timers, no I/O) so the decision engine can take it as is.
//
// Why End-of-RIB and not route selection. §4.1 has the Restarting Speaker defer its route selection until it
// has End-of-RIB from all its peers (less those with the R bit or without the capability) or its
// Selection_Deferral_Timer runs out, and only then send its routes followed by End-of-RIB. That rule keeps a
// router that forwards traffic from installing and advertising a half-learnt table. A reflector forwards
// nothing, and its receiving speakers (§4.2) keep what it advertised before the restart as stale until its
// End-of-RIB: a route it sends early simply replaces the stale copy (same prefix, same path id), and nothing a
// helper holds is removed before that marker. So what the deferral protects is carried by the End-of-RIB
// alone, and that is what we defer: every change goes out at once (no node waits for the last peer to connect),
// and End-of-RIB to a peer waits until every configured peer (the datastore's session list, not "whoever is
// up now") is back and has sent its own End-of-RIB, bounded by the deferral time. A peer that is still away
// thus keeps its pre-restart routes at every helper until it is back, or until the deferral time is up —
// the same bound a helper would give that peer had it restarted itself with our advertised restart time.
//
// End-of-RIB is sent at once to a peer that holds nothing of ours to flush: one without the graceful restart
// capability (it dropped our routes when the session went) and one that restarted itself (R bit: it lost its
// RIB). The latter is also the peer that waits for our End-of-RIB before its own route selection (§4.1), so
// sending it at once means no two restarting speakers wait for each other; we may then wait for its
// End-of-RIB as for anyone else.
//
// A first start cannot be told from a restart (nothing survives a container restart, and a helper does not
// say whether it holds our routes), and need not be: on a first start nobody holds stale routes of ours, so a
// deferred End-of-RIB removes nothing and delays nothing a peer uses; the peers that wait for it (R bit) get
// it at once.

/** What the plan needs to know about one session (one per BIRD protocol name). */
export interface PeerProgress {
  name: string;
  up: boolean;
  /** The peer advertised the graceful restart capability on this session. */
  gracefulRestart: boolean;
  /** Its capability had the Restart State (R) bit: it restarted itself. */
  restarting: boolean;
  /** End-of-RIB received for every family of the session. */
  endOfRibIn: boolean;
}

/** True when End-of-RIB may go to this peer right after its initial table, whatever the plan's state. */
export function endOfRibAtOnce(p: Pick<PeerProgress, 'gracefulRestart' | 'restarting'>): boolean {
  return !p.gracefulRestart || p.restarting;
}

/**
 * Are we back in sync with every configured peer? `expected` null = the datastore has not given its session
 * list yet (then nobody can say who is missing: not done). A configured peer counts once it is up and has sent
 * End-of-RIB; one without graceful restart counts once it is up (it sends no marker it would owe us).
 */
export function restartComplete(expected: ReadonlySet<string> | null, peers: readonly PeerProgress[]): { done: boolean; waitingFor: string[] } {
  if (expected === null) return { done: false, waitingFor: [] };
  const byName = new Map(peers.map((p) => [p.name, p]));
  const waitingFor: string[] = [];
  for (const name of expected) {
    const p = byName.get(name);
    if (p === undefined || !p.up || (p.gracefulRestart && !p.endOfRibIn)) waitingFor.push(name);
  }
  waitingFor.sort();
  return { done: waitingFor.length === 0, waitingFor };
}

/** The deferral's state: started at our start, ended once (complete, or the deferral time is up). */
export class EndOfRibDeferral {
  private expected: Set<string> | null = null;
  private active: boolean;
  readonly deadline: number;

  /** deferring false: we know nobody holds our routes (tests, an operator's choice): nothing is deferred. */
  constructor(deferring: boolean, readonly deferralMs: number, startedAt: number) {
    this.active = deferring;
    this.deadline = startedAt + deferralMs;
  }

  get deferring(): boolean {
    return this.active;
  }

  /** The configured sessions' names (every datastore snapshot); a peer removed from it is no longer awaited. */
  setExpected(names: Iterable<string>): void {
    this.expected = new Set(names);
  }

  /** Whether End-of-RIB to this peer is held now. */
  holds(p: Pick<PeerProgress, 'gracefulRestart' | 'restarting'>): boolean {
    return this.active && !endOfRibAtOnce(p);
  }

  /**
   * Re-evaluates after an event (a peer up or down, an End-of-RIB, a new session list, the timer). Returns why
   * the deferral ends now, or null while it goes on (and always once it has ended).
   */
  evaluate(peers: readonly PeerProgress[], now: number): { why: string; waitingFor: string[] } | null {
    if (!this.active) return null;
    const c = restartComplete(this.expected, peers);
    if (c.done) {
      this.active = false;
      return { why: 'every configured peer is back and sent End-of-RIB', waitingFor: [] };
    }
    if (now >= this.deadline) {
      this.active = false;
      return { why: 'restart deferral time is up', waitingFor: this.expected === null ? ['(no datastore snapshot yet)'] : c.waitingFor };
    }
    return null;
  }
}
