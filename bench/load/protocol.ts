// Messages between the bench runner and the load speaker child process (Node IPC, JSON).
// One request, one reply with the same id; the speaker never sends anything unasked.
import type { PlanSpec } from './plan.js';

export interface SpeakerConfig {
  plan: PlanSpec;
  remote: string; // reflector address
  remote6?: string; // reflector IPv6 address (Calico plan with ipv6)
  port: number;
  asn: number;
  clusterId: string; // every reflected route must carry it in CLUSTER_LIST
  holdTime: number;
  /**
   * Load split over several speaker processes: this one drives only the sessions with idx % count === index
   * (dials them, answers their KEEPALIVEs, writes their announcements, counts and verifies what they receive),
   * but tracks every session's announced state so each of its clients knows its exact target.
   */
  shard?: { index: number; count: number };
}

export type SpeakerRequest =
  | { id: number; op: 'setup'; config: SpeakerConfig }
  | { id: number; op: 'connect'; timeoutMs: number; sessions?: number[]; resume?: boolean }
  | { id: number; op: 'connectState' } // split load: are all this worker's wanted sessions still Established?
  | { id: number; op: 'endConnect' } // split load: every worker is up; a session closed from now on is lost
  | { id: number; op: 'settle'; timeoutMs: number }
  | { id: number; op: 'announce'; sessions: number[] | 'all'; timeoutMs: number; quietMs?: number }
  | { id: number; op: 'withdraw'; sessions: number[] | 'all'; timeoutMs: number; quietMs?: number }
  | { id: number; op: 'churn'; sessions: number[]; intervalMs: number; durationMs: number; timeoutMs: number }
  | { id: number; op: 'close' };

/** Outcome of one send-and-wait step; timing is measured inside the speaker on one clock. */
export interface StepResult {
  ok: boolean; // every receiver holds exactly the expected prefixes with the expected attributes
  ms: number; // first byte written -> last receiver at target (or until the timeout; after a quiet stop: the last UPDATE)
  timedOut: boolean; // the step hit its timeout (a cut-off: "did not finish")
  /** ADD-PATH plan only: paths per prefix held by the receivers at the end (mean, minimum), sessions with ADD-PATH. */
  pathsPerPrefix?: number;
  pathsPerPrefixMin?: number;
  addPathSessions?: number;
  errors: string[]; // first few problems (missing, unexpected, wrong attributes, lost sessions)
  updatesReceived: number; // UPDATE messages received by all receivers during the step
  prefixesReceived: number; // NLRI + withdrawn prefixes received during the step
  speakerCpuMs: number; // the speaker's own CPU time during the step
  speakerElu: number; // the speaker's event-loop utilisation during the step (1.0 = saturated; several workers: the highest)
  speakerElus?: number[]; // per load worker (split load only)
  speakerCpuMsEach?: number[];
  /**
   * CLOCK_MONOTONIC (process.hrtime, system-wide on Linux, so every worker reads the same clock) in ms: the
   * first byte this speaker wrote (or when the request arrived if it wrote nothing), and when its last
   * receiver reached its target (or the step ended). The coordinator's ms = max(end) - min(start of writers).
   */
  startMono: number;
  endMono: number;
  wrote: boolean;
}

export interface ConnectResult {
  ok: boolean;
  ms: number; // first connect -> all sessions Established
  timedOut: boolean;
  redials: number;
  redialCauses: Record<string, number>; // e.g. { ECONNRESET: 3, 'NOTIFICATION 6/5 in opensent': 1 }
  errors: string[];
  startMono: number; // first dial, CLOCK_MONOTONIC ms (see StepResult)
  endMono: number; // last session Established (or the timeout)
  speakerElu: number; // during the connect step
  speakerElus?: number[];
}

export interface SettleResult {
  ms: number; // until every session got End-of-RIB, or the timeout
  endOfRib: number; // sessions that got it
  sessions: number;
}

export interface ChurnResult extends StepResult {
  windowMs: number;
  toggles: number; // withdraw or re-announce events sent
  delivered: number; // prefix state changes seen by receivers during the window
  deliveredPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  samples: number;
}

export interface SetupResult {
  sessions: number;
  prefixes: number;
  updates: number;
  buildMs: number;
}

export type SpeakerReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
