// The operator contract: every environment variable (design.md §1 plus the issues' additions) parsed and
// validated into one typed Config, one sub-object per area. Every bad variable of every area is collected
// and thrown as one ConfigError, each problem naming its variable. Defaults: defaults.ts; --help: help.ts.
import { chooseDatastore, readDatastore, type DatastoreOptions, type DatastoreSettings } from './datastore.js';
import { DEFAULTS } from './defaults.js';
import { ConfigError, EnvReader, type Env } from './fields.js';
import { readAddPaths, type AddPathsConfig } from './add-paths.js';
import { readGracefulRestart, type GracefulRestartConfig } from './graceful-restart.js';
import { readHardening, type HardeningConfig } from './hardening.js';
import { readIdentity, type IdentityConfig } from './identity.js';
import { readObservability, type ObservabilityConfig } from './observability.js';

export { ConfigError, parseBool, parseListen, parsePort, type Env, type HostPort } from './fields.js';
export { DEFAULTS, VARIABLE_NAMES, defaultText, type VariableName } from './defaults.js';
export type { IdentityConfig } from './identity.js';
export type { DatastoreOptions, DatastoreSettings, DatastoreType, EtcdConfig, RegistrationConfig } from './datastore.js';
export { parseBirdTimeformat, type BirdTimeformat, type LogFormat, type LogLevel, type MetricsListen, type ObservabilityConfig } from './observability.js';
export { HARDENING_DEFAULTS, loadHardeningConfig, type HardeningConfig } from './hardening.js';
export { GRACEFUL_RESTART_DEFAULTS, loadGracefulRestartConfig, type GracefulRestartConfig } from './graceful-restart.js';
export { loadAddPathsConfig, type AddPathsConfig } from './add-paths.js';

/** Kept for their importers; the values live in defaults.ts. */
export const DEFAULT_SECRET_NAMESPACE = DEFAULTS.NAMESPACE.value;
export { DEFAULT_METRICS_PORT } from './defaults.js';

export interface Config {
  identity: IdentityConfig;
  datastore: DatastoreSettings;
  observability: ObservabilityConfig;
  hardening: HardeningConfig;
  gracefulRestart: GracefulRestartConfig;
  addPaths: AddPathsConfig;
  /** Informational lines about defaults that were chosen; the app logs them at start. */
  notes: string[];
  /** Risky settings that were accepted (credentials over plain http); logged at warn level at start. */
  warnings: string[];
}

export type LoadConfigOptions = DatastoreOptions;

/** Reads every area from `env`; throws one ConfigError listing every bad variable. */
export function loadConfig(env: Env, options: LoadConfigOptions = {}): Config {
  const r = new EnvReader(env);
  const choice = chooseDatastore(r);
  const identity = readIdentity(r, choice.embeddedDefault);
  const datastore = readDatastore(r, choice, options);
  const observability = readObservability(r, identity.ip);
  const hardening = readHardening(r);
  const gracefulRestart = readGracefulRestart(r);
  const addPaths = readAddPaths(r);
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return { identity, datastore, observability, hardening, gracefulRestart, addPaths, notes: r.notes, warnings: r.warnings };
}
