// Graceful restart (issue 15): what we advertise and how long our End-of-RIB waits after a start.
//   GRACEFUL_RESTART_TIME   the restart time in our graceful restart capability (RFC 4724 §3): how long the
//                           nodes keep our routes as stale while we are away (1..4095 s; BIRD's default).
//   RESTART_DEFERRAL_TIME   after our start, the longest End-of-RIB to a node waits for every configured peer
//                           to be back and send its End-of-RIB; at that time the nodes drop what a peer still
//                           away announced before our restart (1..GRACEFUL_RESTART_TIME s; default: the same as
//                           GRACEFUL_RESTART_TIME). Routes themselves are never held (src/reflector/restart-plan.ts).
import { DEFAULTS } from './defaults.js';
import { ConfigError, EnvReader, type Env } from './fields.js';

export interface GracefulRestartConfig {
  restartTimeSeconds: number;
  deferralSeconds: number;
}

export const GRACEFUL_RESTART_DEFAULTS: Readonly<GracefulRestartConfig> = {
  restartTimeSeconds: DEFAULTS.GRACEFUL_RESTART_TIME.value,
  deferralSeconds: DEFAULTS.GRACEFUL_RESTART_TIME.value,
};

export function readGracefulRestart(r: EnvReader): GracefulRestartConfig {
  const restartTimeSeconds = r.int('GRACEFUL_RESTART_TIME', 1, 4095) ?? DEFAULTS.GRACEFUL_RESTART_TIME.value;
  const deferralSeconds = r.int('RESTART_DEFERRAL_TIME', 1, restartTimeSeconds) ?? restartTimeSeconds;
  return { restartTimeSeconds, deferralSeconds };
}

/** This area alone (tests); throws ConfigError naming every bad variable. loadConfig reads it with the rest. */
export function loadGracefulRestartConfig(env: Env): GracefulRestartConfig {
  const r = new EnvReader(env);
  const c = readGracefulRestart(r);
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return c;
}
