// Limits and security (issue 10). Every variable is optional; the defaults are in defaults.ts.
//   MAX_PREFIXES                  default maximum prefixes per AFI from one peer (0 = no limit); a peer entry's
//                                 `max_prefixes` overrides it for that peer.
//   MAX_PREFIXES_WARNING_PERCENT  log a warning (and set the metric field) at this % of the limit.
//   MAX_PREFIXES_IDLE_HOLD        seconds a peer stays down after Cease 1 "maximum prefixes".
//   MAX_AS_PATH_LENGTH            AS_PATH length (AS count) above which an UPDATE is treated as withdraw
//                                 (0 = no limit); src/app/as-path-limit.ts rewrites it as a withdrawal.
//   OUTBOUND_QUEUE_LIMIT          bytes a peer's outbound socket queue may hold before it is watched; stuck
//                                 at or above it for its hold time = Cease 8.
//   MAX_PENDING_CONNECTIONS       accepted connections not yet in OpenConfirm, at most.
//   TTL_SECURITY                  GTSM (RFC 5082) for every peer by default; a peer entry's `ttl_security`
//                                 overrides it.
//   IDLE_HOLD_BASE, IDLE_HOLD_CAP idle hold after a session failure: IDLE_HOLD_BASE seconds, doubled per
//                                 consecutive failure, at most IDLE_HOLD_CAP (a cap of 0 turns the backoff
//                                 off, for tests that flap one peer on purpose).
import { DEFAULTS } from './defaults.js';
import { ConfigError, EnvReader, type Env } from './fields.js';

export interface HardeningConfig {
  maxPrefixes: number;
  maxPrefixesWarningPercent: number;
  maxPrefixesIdleHoldSeconds: number;
  maxAsPathLength: number;
  outboundQueueLimitBytes: number;
  maxPendingConnections: number;
  ttlSecurity: boolean;
  idleHoldBaseSeconds: number;
  idleHoldCapSeconds: number;
}

export const HARDENING_DEFAULTS: Readonly<HardeningConfig> = {
  maxPrefixes: DEFAULTS.MAX_PREFIXES.value,
  maxPrefixesWarningPercent: DEFAULTS.MAX_PREFIXES_WARNING_PERCENT.value,
  maxPrefixesIdleHoldSeconds: DEFAULTS.MAX_PREFIXES_IDLE_HOLD.value,
  maxAsPathLength: DEFAULTS.MAX_AS_PATH_LENGTH.value,
  outboundQueueLimitBytes: DEFAULTS.OUTBOUND_QUEUE_LIMIT.value,
  maxPendingConnections: DEFAULTS.MAX_PENDING_CONNECTIONS.value,
  ttlSecurity: DEFAULTS.TTL_SECURITY.value,
  idleHoldBaseSeconds: DEFAULTS.IDLE_HOLD_BASE.value,
  idleHoldCapSeconds: DEFAULTS.IDLE_HOLD_CAP.value,
};

export function readHardening(r: EnvReader): HardeningConfig {
  const d = HARDENING_DEFAULTS;
  return {
    maxPrefixes: r.int('MAX_PREFIXES', 0, 0xffffffff) ?? d.maxPrefixes,
    maxPrefixesWarningPercent: r.int('MAX_PREFIXES_WARNING_PERCENT', 1, 100) ?? d.maxPrefixesWarningPercent,
    maxPrefixesIdleHoldSeconds: r.int('MAX_PREFIXES_IDLE_HOLD', 1, 86400) ?? d.maxPrefixesIdleHoldSeconds,
    maxAsPathLength: r.int('MAX_AS_PATH_LENGTH', 0, 4096) ?? d.maxAsPathLength,
    outboundQueueLimitBytes: r.int('OUTBOUND_QUEUE_LIMIT', 65536, 1 << 30) ?? d.outboundQueueLimitBytes,
    maxPendingConnections: r.int('MAX_PENDING_CONNECTIONS', 1, 1_000_000) ?? d.maxPendingConnections,
    ttlSecurity: r.bool('TTL_SECURITY') ?? d.ttlSecurity,
    idleHoldBaseSeconds: r.int('IDLE_HOLD_BASE', 1, 3600) ?? d.idleHoldBaseSeconds,
    idleHoldCapSeconds: r.int('IDLE_HOLD_CAP', 0, 86400) ?? d.idleHoldCapSeconds,
  };
}

/** This area alone (tests); throws ConfigError naming every bad variable. loadConfig reads it with the rest. */
export function loadHardeningConfig(env: Env): HardeningConfig {
  const r = new EnvReader(env);
  const c = readHardening(r);
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return c;
}
