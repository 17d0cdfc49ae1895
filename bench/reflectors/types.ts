// What every reflector under test looks like to the runner: an equivalent RR configuration in,
// running processes out (pids for CPU/RSS, stop). One module per daemon sits beside this file.

export interface RrFault {
  /** Client address whose export filter drops `dropPrefix` (harness self-test: the run must be invalid). */
  client: string;
  dropPrefix: string;
}

export interface RrConfig {
  address: string; // listen and router ID, e.g. 127.70.0.1
  port: number;
  asn: number; // iBGP: clients are in the same AS
  clusterId: string;
  holdTime: number;
  clients: string[]; // every one an RR client
  /** IPv6 (Calico's bird6 sessions): the reflector's IPv6 address and one client session per address. */
  address6?: string;
  clients6?: string[];
  /** Run the daemon inside this network namespace (the harness makes it for IPv6). */
  netns?: string;
  workDir: string; // a fresh mkdtemp directory for config, sockets, logs
  fault?: RrFault;
  /**
   * ADD-PATH (RFC 7911) workload: send every path to `send` clients (they offer receive), accept several
   * paths from `receive` ones. Drivers without such a configuration are skipped (`addPath` in the driver).
   */
  addPath?: { send: string[]; receive: string[] };
}

export interface RunningReflector {
  pids: number[]; // every process of the reflector (BIRD 1.6 with IPv6 is bird + bird6); CPU and RSS are summed
  /** Kills the daemon (SIGTERM, then SIGKILL after a grace period) and waits for it to go. */
  stop(): Promise<void>;
  /** Last lines of the daemon's own output, for error reports. */
  logTail(): string;
}

export interface ReflectorDriver {
  name: string; // the --reflectors key: ours, bird2, bird1, gobgp, frr
  label: string; // table heading
  /** Undefined when it can run here; otherwise why it is skipped. */
  unavailable(): string | undefined;
  version(): string;
  start(cfg: RrConfig): Promise<RunningReflector>;
  /** True when start() honours RrConfig.addPath. */
  addPath?: boolean;
}

export function protoName(addr: string): string {
  return `c_${addr.replace(/[^0-9A-Za-z]/g, '_')}`;
}
