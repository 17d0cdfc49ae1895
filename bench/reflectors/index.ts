// The registry of reflectors the runner knows, by their --reflectors key; adding a daemon is one driver
// module beside this file plus one entry here.
import { bird1, bird2 } from './bird.js';
import { frr } from './frr.js';
import { gobgp } from './gobgp.js';
import { ours } from './ours.js';
import type { ReflectorDriver } from './types.js';

export const DRIVERS: Record<string, ReflectorDriver> = { ours, bird2, bird1, gobgp, frr };
export type { ReflectorDriver, RrConfig, RunningReflector, RrFault } from './types.js';
