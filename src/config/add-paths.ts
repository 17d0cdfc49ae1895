// ADD-PATH send (issue 20, RFC 7911):
//   ADD_PATHS   off (default): one best path per prefix to every peer, as BIRD 1.6 and the original did;
//               all: every path the export rules allow, to peers that negotiated receiving several paths;
//               N (1…64): the best N of those. Peers that cannot receive several paths get the best one either way.
// A peer's own datastore entry can override it (src/peers/peer-spec.ts PeerSpec.addPaths; README "ADD-PATH").
import { ADD_PATHS_MAX_N, parseAddPaths, type AddPathsMode } from '../peers/peer-spec.js';
import { DEFAULTS } from './defaults.js';
import { ConfigError, EnvReader, type Env } from './fields.js';

export interface AddPathsConfig {
  mode: AddPathsMode;
}

export function readAddPaths(r: EnvReader): AddPathsConfig {
  const v = r.get('ADD_PATHS');
  if (v === undefined) return { mode: DEFAULTS.ADD_PATHS.value };
  const mode = parseAddPaths(v.value);
  if (mode === undefined) {
    r.bad(v.name, `"${v.value}" is not off, all or a number of paths 1-${ADD_PATHS_MAX_N}`);
    return { mode: DEFAULTS.ADD_PATHS.value };
  }
  return { mode };
}

/** This area alone (tests); throws ConfigError naming the variable. loadConfig reads it with the rest. */
export function loadAddPathsConfig(env: Env): AddPathsConfig {
  const r = new EnvReader(env);
  const c = readAddPaths(r);
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return c;
}
