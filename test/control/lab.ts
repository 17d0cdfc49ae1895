// The captured BIRD lab (test/fixtures/bird/configs, see its README) as ControlModel data, for golden and client tests.
// Counts, names, attributes come from the lab's configs/state; times are fed per fixture (timesFrom).

import type {
  ConfigureResult,
  ControlModel,
  Family,
  InterfaceView,
  MemoryView,
  ProtocolActionResult,
  ProtocolView,
  RouteChangeStats,
  RouteView,
  StatusView,
} from '../../src/control/model.js';

/** The BIRD 1.6.8 captures, inside the repository (provenance in test/fixtures/bird/README.md). */
export const FIXTURES = new URL('../fixtures/bird/', import.meta.url).pathname;

/** A local time on the capture day (the fixtures print local times). */
export function at(hms: string): Date {
  const [h, m, s] = hms.split(':').map(Number);
  return new Date(2026, 10, 27, h ?? 0, m ?? 0, s ?? 0);
}

/** The tests' clock: a fixed time on the capture day, never the wall clock (BIRD's `iso short` prints the
 *  time of day only within 20 hours of "now", so a real clock would change the replies from one day to the
 *  next). Tests that need another "now" pass their own. */
export const labClock = (): Date => at('10:17:21');

/** Parse any time text the fixtures contain back into a Date (local time, or epoch seconds). */
export function parseFixtureTime(t: string): Date {
  let m: RegExpExecArray | null;
  if ((m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)$/.exec(t)) !== null)
    return new Date(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  if ((m = /^(\d\d)-(\d\d)-(\d{4}) (\d\d):(\d\d):(\d\d)$/.exec(t)) !== null)
    return new Date(+m[3]!, +m[2]! - 1, +m[1]!, +m[4]!, +m[5]!, +m[6]!);
  if (/^\d{9,}$/.test(t)) return new Date(Number(t) * 1000);
  if (/^\d\d:\d\d(:\d\d)?$/.test(t)) return at(t);
  throw new Error(`unknown time text ${t}`);
}

/** Times (and timer remainders) as one capture printed them; everything else is lab data. */
export interface LabTimes {
  now: Date;
  protocolSince: Map<string, Date>;
  routeSince: Map<string, Date>;
  hold: Map<string, number>;
  keepalive: Map<string, number>;
  connectDelay: Map<string, number>;
  lastReboot?: Date;
  lastReconfiguration?: Date;
}

const TIME = String.raw`(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|\d\d-\d\d-\d{4} \d\d:\d\d:\d\d|\S+)`;

export function timesFrom(text: string): LabTimes {
  const t: LabTimes = {
    now: labClock(),
    protocolSince: new Map(),
    routeSince: new Map(),
    hold: new Map(),
    keepalive: new Map(),
    connectDelay: new Map(),
  };
  let proto = '';
  let prefix = '';
  for (const raw of text.split('\n')) {
    const l = raw.replace(/^(\d{4}[- ]| {5}(?=\S)| )/, '');
    let m: RegExpExecArray | null;
    if ((m = new RegExp(String.raw`^(\S+) +(BGP|Kernel|Device|Direct|Static) +(\S+) +(\S+) +${TIME}`).exec(l)) !== null) {
      proto = m[1]!;
      t.protocolSince.set(proto, parseFixtureTime(m[5]!));
    } else if ((m = new RegExp(String.raw`^(\S*) +.*?\[(\S+) ${TIME}(?: from \S+)?\]`).exec(l)) !== null) {
      if (m[1] !== '') prefix = m[1]!;
      t.routeSince.set(`${prefix} ${m[2]!}`, parseFixtureTime(m[3]!));
    } else if ((m = /^ *Hold timer: +(\d+)\//.exec(l)) !== null) t.hold.set(proto, Number(m[1]));
    else if ((m = /^ *Keepalive timer: +(\d+)\//.exec(l)) !== null) t.keepalive.set(proto, Number(m[1]));
    else if ((m = /^ *Connect delay: +(\d+)\//.exec(l)) !== null) t.connectDelay.set(proto, Number(m[1]));
    else if ((m = /^Current server time is (.+)$/.exec(l)) !== null) t.now = parseFixtureTime(m[1]!);
    else if ((m = /^Last reboot on (.+)$/.exec(l)) !== null) t.lastReboot = parseFixtureTime(m[1]!);
    else if ((m = /^Last reconfiguration on (.+)$/.exec(l)) !== null) t.lastReconfiguration = parseFixtureTime(m[1]!);
  }
  return t;
}

type Counts = [number, number, number, number, number];

function stats(iu: Counts, iw: [number, number, number, number], eu: [number, number, number, number], ew: [number, number]): RouteChangeStats {
  return {
    importUpdates: { received: iu[0], rejected: iu[1], filtered: iu[2], ignored: iu[3], accepted: iu[4] },
    importWithdraws: { received: iw[0], rejected: iw[1], ignored: iw[2], accepted: iw[3] },
    exportUpdates: { received: eu[0], rejected: eu[1], filtered: eu[2], accepted: eu[3] },
    exportWithdraws: { received: ew[0], accepted: ew[1] },
  };
}

const ZERO = stats([0, 0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0]);

function plain(name: string, kind: ProtocolView['kind'], preference: number, exportFilter: string, routes: [number, number, number], s: RouteChangeStats): ProtocolView {
  return {
    name,
    kind,
    table: 'master',
    state: 'up',
    since: at('10:16:10'),
    preference,
    importFilter: 'ACCEPT',
    exportFilter,
    routes: { imported: routes[0], exported: routes[1], preferred: routes[2] },
    stats: s,
  };
}

const CAPS = {
  routeRefresh: true,
  enhancedRouteRefresh: true,
  gracefulRestart: 'able' as const,
  longLivedGracefulRestart: 'aware' as const,
  fourOctetAs: true,
  addPathReceive: true,
  addPathSend: true,
  extendedMessages: false,
};

function established(name: string, neighbor: string, neighborId: string, source: string, rrClient: boolean, routes: [number, number, number], s: RouteChangeStats): ProtocolView {
  return {
    name,
    kind: 'BGP',
    table: 'master',
    state: 'up',
    since: at('10:16:12'),
    description: 'Connection to BGP peer',
    preference: 100,
    importFilter: 'ACCEPT',
    exportFilter: 'calico_export_to_bgp_peers',
    routes: { imported: routes[0], exported: routes[1], preferred: routes[2] },
    stats: s,
    bgp: {
      state: 'Established',
      neighborAddress: neighbor,
      neighborAs: 64512,
      neighborId,
      neighborCapabilities: CAPS,
      session: {
        internal: true,
        multihop: true,
        routeReflectorClient: rrClient,
        routeServerClient: false,
        fourOctetAs: true,
        addPathReceive: true,
        addPathSend: true,
        extendedMessages: false,
      },
      sourceAddress: source,
      holdTimer: { remaining: 180, length: 240 },
      keepaliveTimer: { remaining: 60, length: 80 },
    },
  };
}

function activeRefused(name: string, neighbor: string, message: string): ProtocolView {
  return {
    name,
    kind: 'BGP',
    table: 'master',
    state: 'start',
    since: at('10:16:10'),
    description: 'Connection to BGP peer',
    preference: 100,
    importFilter: 'ACCEPT',
    exportFilter: 'calico_export_to_bgp_peers',
    routes: { imported: 0, exported: 0, preferred: 0 },
    stats: ZERO,
    bgp: {
      state: 'Active',
      neighborAddress: neighbor,
      neighborAs: 64512,
      connectDelay: { remaining: 1, length: 2 },
      lastError: { kind: 'socket', message },
    },
  };
}

function disabledGlobal(): ProtocolView {
  return {
    name: 'Global_127_0_0_14',
    kind: 'BGP',
    table: 'master',
    state: 'down',
    since: at('10:16:27'),
    description: 'Disabled global peer',
    preference: 100,
    importFilter: 'ACCEPT',
    exportFilter: 'calico_export_to_bgp_peers',
    routes: { imported: 0, exported: 0, preferred: 0 },
    stats: ZERO,
    bgp: { state: 'Down', neighborAddress: '127.0.0.14', neighborAs: 64513 },
  };
}

function bgpRoute(prefix: string, protocol: string, from: string, nextHop: string, extra: Partial<NonNullable<RouteView['bgp']>['attributes']> = {}, resolution: NonNullable<RouteView['bgp']>['nextHopResolution'] = { reachable: false }, destination: RouteView['destination'] = { kind: 'unreachable' }): RouteView {
  return {
    prefix,
    destination,
    protocol,
    since: at('10:16:12'),
    fromAddress: from,
    best: true,
    preference: 100,
    source: 'BGP',
    bgp: {
      attributes: { origin: 'IGP', asPath: [], nextHop: [nextHop], localPref: 100, ...extra },
      nextHopResolution: resolution,
    },
  };
}

function staticRoute(prefix: string, destination: RouteView['destination']): RouteView {
  return { prefix, destination, protocol: 'static1', since: at('10:16:54'), best: true, preference: 200, source: 'static' };
}

function directRoute(prefix: string, iface: string): RouteView {
  return { prefix, destination: { kind: 'device', iface }, protocol: 'direct1', since: at('10:16:10'), best: true, preference: 240, source: 'device' };
}

export interface LabData {
  routerId: string;
  protocols: ProtocolView[];
  routes: RouteView[];
  exports: Record<string, string[]>;
  interfaces: InterfaceView[];
  memory: MemoryView;
}

const iface = (name: string, index: number, loopback: boolean, addresses: InterfaceView['addresses']): InterfaceView => ({
  name,
  index,
  up: true,
  multiAccess: true,
  broadcast: !loopback,
  multicast: !loopback,
  adminUp: true,
  linkUp: true,
  loopback,
  ignored: loopback,
  mtu: loopback ? 65536 : 1500,
  addresses,
});

/** `rr` (bird, IPv4) of the lab. */
export function rrV4(): LabData {
  return {
    routerId: '10.0.0.10',
    protocols: [
      plain('kernel1', 'Kernel', 10, 'calico_kernel_programming', [0, 0, 0], stats([0, 0, 0, 0, 0], [0, 0, 0, 0], [13, 3, 10, 0], [2, 0])),
      plain('device1', 'Device', 240, 'REJECT', [0, 0, 0], ZERO),
      plain('direct1', 'Direct', 240, 'REJECT', [2, 0, 2], stats([3, 0, 0, 0, 3], [1, 0, 0, 1], [0, 0, 0, 0], [0, 0])),
      plain('static1', 'Static', 200, 'REJECT', [2, 0, 2], stats([3, 1, 0, 0, 2], [0, 0, 1, 0], [0, 0, 0, 0], [0, 0])),
      established('Mesh_127_0_0_11', '127.0.0.11', '10.0.0.11', '127.0.0.10', true, [2, 4, 2], stats([4, 0, 0, 2, 2], [0, 0, 0, 0], [11, 2, 3, 6], [3, 2])),
      established('Mesh_127_0_0_12', '127.0.0.12', '10.0.0.12', '127.0.0.10', true, [2, 4, 2], stats([4, 0, 0, 2, 2], [0, 0, 0, 0], [11, 2, 3, 6], [3, 2])),
      activeRefused('Node_127_0_0_13', '127.0.0.13', 'Connection refused'),
      disabledGlobal(),
    ],
    routes: [
      directRoute('10.0.0.0/24', 'eth0'),
      directRoute('10.0.1.0/24', 'eth1'),
      bgpRoute('10.65.2.64/26', 'Mesh_127_0_0_12', '127.0.0.12', '127.0.0.12'),
      bgpRoute('10.65.2.0/26', 'Mesh_127_0_0_12', '127.0.0.12', '127.0.0.12'),
      staticRoute('10.65.0.64/26', { kind: 'blackhole' }),
      staticRoute('10.65.0.0/26', { kind: 'blackhole' }),
      bgpRoute('10.65.1.64/26', 'Mesh_127_0_0_11', '127.0.0.11', '127.0.0.11'),
      bgpRoute('10.65.1.0/26', 'Mesh_127_0_0_11', '127.0.0.11', '127.0.0.11'),
    ],
    exports: {
      Mesh_127_0_0_11: ['10.65.2.64/26', '10.65.2.0/26', '10.65.0.64/26', '10.65.0.0/26'],
      Mesh_127_0_0_12: ['10.65.0.64/26', '10.65.0.0/26', '10.65.1.64/26', '10.65.1.0/26'],
    },
    interfaces: [
      iface('lo', 1, true, [{ prefix: '127.0.0.1/8', primary: true, scope: 'host' }]),
      iface('eth1', 2, false, [{ prefix: '10.0.1.11/24', primary: true, scope: 'site' }]),
      iface('eth0', 3, false, [{ prefix: '10.0.0.10/24', primary: true, scope: 'site' }]),
    ],
    memory: { routingTables: 35 * 1024, routeAttributes: 9984, roaTables: 192, protocols: 34 * 1024, total: 123 * 1024 },
  };
}

/** `rr6` (bird6, IPv6) of the lab. */
export function rrV6(): LabData {
  return {
    routerId: '10.0.0.10',
    protocols: [
      plain('kernel1', 'Kernel', 10, 'REJECT', [0, 0, 0], stats([0, 0, 0, 0, 0], [0, 0, 0, 0], [10, 4, 6, 0], [0, 0])),
      plain('device1', 'Device', 240, 'REJECT', [0, 0, 0], ZERO),
      plain('direct1', 'Direct', 240, 'REJECT', [4, 0, 4], stats([4, 0, 0, 0, 4], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0])),
      plain('static1', 'Static', 200, 'REJECT', [2, 0, 2], stats([3, 0, 0, 0, 3], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0])),
      established('Mesh_fd00__11', 'fd00::11', '10.0.0.11', 'fd00::10', true, [2, 1, 2], stats([2, 0, 0, 0, 2], [2, 0, 2, 0], [15, 2, 11, 2], [0, 5])),
      activeRefused('Node_fd00__13', 'fd00::13', 'Network is unreachable'),
    ],
    routes: [
      bgpRoute('fd00:65:1::40/122', 'Mesh_fd00__11', 'fd00::11', 'fd00::11'),
      bgpRoute('fd00:65:1::/122', 'Mesh_fd00__11', 'fd00::11', 'fd00::11'),
      staticRoute('fd00::/64', { kind: 'router', gateway: 'fd00:10::1', iface: 'eth0' }),
      directRoute('fd00::10/128', 'lo'),
      directRoute('fd00:10::/64', 'eth0'),
      directRoute('fd00::11/128', 'lo'),
      directRoute('fd00::12/128', 'lo'),
      staticRoute('fd00:65::/122', { kind: 'blackhole' }),
    ],
    exports: { Mesh_fd00__11: ['fd00:65::/122'] },
    interfaces: [
      iface('lo', 1, true, [
        { prefix: 'fd00::10/128', primary: true, scope: 'site' },
        { prefix: 'fd00::11/128', primary: false, scope: 'site' },
        { prefix: 'fd00::12/128', primary: false, scope: 'site' },
        { prefix: '::1/128', primary: false, scope: 'host' },
      ]),
      iface('eth1', 2, false, [{ prefix: 'fe80::cc0a:a1ff:febf:fc44/64', primary: true, scope: 'link' }]),
      iface('eth0', 3, false, [
        { prefix: 'fd00:10::10/64', primary: true, scope: 'site' },
        { prefix: 'fe80::2866:efff:fe8d:cf17/64', primary: false, scope: 'link' },
      ]),
    ],
    memory: { routingTables: 35 * 1024, routeAttributes: 9800, roaTables: 192, protocols: 23 * 1024, total: 112 * 1024 },
  };
}

/** `node11` (bird, IPv4): an RR client receiving reflected routes. */
export function node11V4(): LabData {
  const reflected = { originatorId: '10.0.0.12', clusterList: ['1.0.0.1'] };
  return {
    routerId: '10.0.0.11',
    protocols: [
      plain('device1', 'Device', 240, 'REJECT', [0, 0, 0], ZERO),
      plain('static1', 'Static', 200, 'REJECT', [2, 0, 2], stats([3, 1, 0, 0, 2], [0, 0, 1, 0], [0, 0, 0, 0], [0, 0])),
      established('Node_127_0_0_10', '127.0.0.10', '10.0.0.10', '127.0.0.11', false, [4, 2, 4], stats([4, 0, 0, 0, 4], [0, 0, 0, 0], [6, 4, 0, 2], [0, 0])),
    ],
    routes: [
      bgpRoute('10.65.2.64/26', 'Node_127_0_0_10', '127.0.0.10', '127.0.0.12', reflected),
      bgpRoute('10.65.2.0/26', 'Node_127_0_0_10', '127.0.0.10', '127.0.0.12', reflected),
      bgpRoute('10.65.0.64/26', 'Node_127_0_0_10', '127.0.0.10', '127.0.0.10'),
      bgpRoute('10.65.0.0/26', 'Node_127_0_0_10', '127.0.0.10', '127.0.0.10'),
      staticRoute('10.65.1.64/26', { kind: 'blackhole' }),
      staticRoute('10.65.1.0/26', { kind: 'blackhole' }),
    ],
    exports: {},
    interfaces: [],
    memory: { routingTables: 0, routeAttributes: 0, roaTables: 0, protocols: 0, total: 0 },
  };
}

/** `node11_6` (bird6): learns fd00:65::/122 with a resolvable next hop of unknown IGP metric. */
export function node11V6(): LabData {
  return {
    routerId: '10.0.0.11',
    protocols: [
      plain('device1', 'Device', 240, 'REJECT', [0, 0, 0], ZERO),
      plain('static1', 'Static', 200, 'REJECT', [3, 0, 3], stats([4, 0, 0, 0, 4], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0])),
      established('Node_fd00__10', 'fd00::10', '10.0.0.10', 'fd00::11', false, [1, 2, 1], stats([2, 0, 0, 1, 1], [5, 0, 5, 0], [10, 3, 5, 2], [0, 2])),
    ],
    routes: [
      staticRoute('fd00:65:1::40/122', { kind: 'blackhole' }),
      staticRoute('fd00:65:1::/122', { kind: 'blackhole' }),
      staticRoute('fd00::/64', { kind: 'router', gateway: 'fd00:10::1', iface: 'eth0' }),
      bgpRoute('fd00:65::/122', 'Node_fd00__10', 'fd00::10', 'fd00::10', {}, { reachable: true }, { kind: 'router', gateway: 'fd00:10::1', iface: 'eth0' }),
    ],
    exports: {},
    interfaces: [],
    memory: { routingTables: 0, routeAttributes: 0, roaTables: 0, protocols: 0, total: 0 },
  };
}

/** Apply one capture's times to the lab data (protocol since, route since, timer remainders). */
export function withTimes(d: LabData, t: LabTimes): LabData {
  const protocols = d.protocols.map((p) => {
    const q: ProtocolView = { ...p, since: t.protocolSince.get(p.name) ?? p.since };
    if (p.bgp !== undefined) {
      const b = { ...p.bgp };
      const h = t.hold.get(p.name);
      const k = t.keepalive.get(p.name);
      const c = t.connectDelay.get(p.name);
      if (h !== undefined && b.holdTimer !== undefined) b.holdTimer = { ...b.holdTimer, remaining: h };
      if (k !== undefined && b.keepaliveTimer !== undefined) b.keepaliveTimer = { ...b.keepaliveTimer, remaining: k };
      if (c !== undefined && b.connectDelay !== undefined) b.connectDelay = { ...b.connectDelay, remaining: c };
      q.bgp = b;
    }
    return q;
  });
  const routes = d.routes.map((r) => ({ ...r, since: t.routeSince.get(`${r.prefix} ${r.protocol}`) ?? r.since }));
  return { ...d, protocols, routes };
}

/** A ControlModel holding lab data; enable/disable/restart change the protocol rows like BIRD would. */
export class LabModel implements ControlModel {
  readonly calls: string[] = [];
  lastReboot = at('10:16:11');
  lastReconfiguration = at('10:16:28');
  configureResult: ConfigureResult = { ok: true };

  constructor(
    readonly data: Partial<Record<Family, LabData>>,
    private readonly clock: () => Date = labClock,
  ) {}

  private of(family: Family): LabData {
    const d = this.data[family];
    if (d === undefined) throw new Error(`no data for family ${family}`);
    return d;
  }

  status(): StatusView {
    const d = this.data[4] ?? this.data[6];
    return { routerId: d?.routerId ?? '0.0.0.0', lastReboot: this.lastReboot, lastReconfiguration: this.lastReconfiguration, phase: 'running' };
  }

  protocols(family: Family): ProtocolView[] {
    return this.of(family).protocols;
  }

  routes(family: Family): Iterable<RouteView> {
    return this.of(family).routes;
  }

  exportedRoutes(family: Family, name: string): Iterable<RouteView> | undefined {
    const d = this.of(family);
    if (!d.protocols.some((p) => p.name === name)) return undefined;
    const want = new Set(d.exports[name] ?? []);
    return d.routes.filter((r) => want.has(r.prefix));
  }

  private replace(family: Family, name: string, f: (p: ProtocolView) => ProtocolView): void {
    const d = this.of(family);
    d.protocols = d.protocols.map((p) => (p.name === name ? f(p) : p));
  }

  enable(family: Family, name: string): ProtocolActionResult {
    this.calls.push(`enable ${family} ${name}`);
    const p = this.of(family).protocols.find((x) => x.name === name);
    if (p === undefined || p.state !== 'down') return 'already';
    this.replace(family, name, (x) => ({ ...x, state: 'up', since: this.clock(), bgp: x.bgp && { ...x.bgp, state: 'Established' } }));
    return 'done';
  }

  disable(family: Family, name: string): ProtocolActionResult {
    this.calls.push(`disable ${family} ${name}`);
    const p = this.of(family).protocols.find((x) => x.name === name);
    if (p === undefined || p.state === 'down') return 'already';
    this.replace(family, name, (x) => ({ ...x, state: 'down', since: this.clock(), bgp: x.bgp && { state: 'Down', neighborAddress: x.bgp.neighborAddress, neighborAs: x.bgp.neighborAs } }));
    return 'done';
  }

  restart(family: Family, name: string): void {
    this.calls.push(`restart ${family} ${name}`);
  }

  reload(family: Family, name: string, direction: 'in' | 'out' | 'both'): void {
    this.calls.push(`reload ${direction} ${family} ${name}`);
  }

  async configure(mode: 'apply' | 'check'): Promise<ConfigureResult> {
    this.calls.push(`configure ${mode}`);
    return this.configureResult;
  }

  memory(): MemoryView {
    return (this.data[4] ?? this.data[6])!.memory;
  }

  interfaces(family: Family): InterfaceView[] {
    return this.of(family).interfaces;
  }
}
