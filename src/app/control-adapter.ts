// The ControlModel the BIRD-compatible sockets read: sessions, routes and actions of the running reflector,
// expressed in the control socket's view types. Reads are snapshots taken when a command runs.
import os from 'node:os';
import type {
  BgpSessionView, ConfigureResult, ControlModel, Family, InterfaceView, MemoryView, ProtocolActionResult,
  ProtocolView, RouteView, SessionError, StatusView,
} from '../control/model.js';
import { deviceProtocol, emptyRouteChangeStats } from '../control/model.js';
import type { Reflector, RouteView as RibRouteView } from '../reflector/reflector.js';
import { mayReflect } from '../reflector/policy.js';
import { AFI_IPV4, AFI_IPV6, CeaseSubcode, MessageType, SAFI_UNICAST } from '../wire/types.js';
import { encodeRouteRefresh } from '../wire/notification.js';
import { routeAttributes } from './route-attributes.js';
import { addressValue, mask, parsePrefixValue } from '../net/prefix.js';
import type { SessionBook, SessionRecord } from './session-book.js';
import { systemClock, type Clock } from '../clock.js';

export interface ControlAdapterDeps {
  routerId: string;
  startedAt: Date;
  reflector: Reflector;
  book: SessionBook;
  /** Re-reads the datastore (`configure`); `check` only validates. */
  configure(mode: 'apply' | 'check'): Promise<ConfigureResult>;
  lastReconfiguration(): Date;
  shuttingDown(): boolean;
  /** Printed after BIRD's version in `show status` (StatusView.software); unset: BIRD's line as is. */
  software?: string;
  /** Stamps enable/disable times (default the wall clock); the same clock as the book's and the sockets'. */
  clock?: Clock;
  /** Per datastore resource, its set fields that are not applied (Calico v3 resources). */
  notApplied?: () => ReadonlyArray<{ resource: string; fields: readonly string[] }>;
}

const FSM_TO_PROTOCOL_STATE = { Established: 'up' } as const;

function protocolState(rec: SessionRecord): ProtocolView['state'] {
  if (rec.disabled) return 'down';
  return rec.session.state === 'Established' ? FSM_TO_PROTOCOL_STATE.Established : 'start';
}

function bgpView(rec: SessionRecord): BgpSessionView {
  const s = rec.session;
  const spec = s.spec;
  const neg = s.negotiated;
  const view: BgpSessionView = {
    state: rec.disabled ? 'Down' : s.state,
    neighborAddress: spec.neighborAddress,
    neighborAs: spec.peerAs,
  };
  if (neg !== null && s.state === 'Established') {
    const afi = spec.family === 6 ? 2 : 1;
    view.neighborId = neg.peerBgpId;
    view.neighborCapabilities = {
      routeRefresh: neg.routeRefresh,
      enhancedRouteRefresh: neg.enhancedRouteRefresh,
      gracefulRestart: neg.gracefulRestart === null ? undefined : neg.gracefulRestart.peerRestarting ? 'able' : 'aware',
      fourOctetAs: neg.as4,
      addPathReceive: neg.addPath.tx[afi] === true,
      addPathSend: neg.addPath.rx[afi] === true,
      extendedMessages: neg.extendedMessage,
    };
    view.session = {
      internal: spec.peerAs === spec.localAs,
      multihop: true,
      routeReflectorClient: spec.routeReflectorClient,
      routeServerClient: false,
      fourOctetAs: neg.as4,
      addPathReceive: neg.addPath.rx[afi] === true,
      addPathSend: neg.addPath.tx[afi] === true,
      extendedMessages: neg.extendedMessage,
    };
    view.sourceAddress = spec.localAddress;
    if (neg.holdTime > 0) {
      view.holdTimer = { remaining: Math.round(s.timerRemaining('hold') ?? neg.holdTime), length: neg.holdTime };
      view.keepaliveTimer = { remaining: Math.round(s.timerRemaining('keepalive') ?? neg.keepaliveTime), length: neg.keepaliveTime };
    }
  }
  const err = s.lastError ?? rec.lastDownReason;
  if (err !== undefined && err !== null && !rec.disabled && s.state !== 'Established') view.lastError = sessionError(err);
  return view;
}

/** Node's errno codes as the C library's strerror() words them, the text BIRD shows after "Socket:". */
const STRERROR: Record<string, string> = {
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EPIPE: 'Broken pipe',
};

/**
 * The session's last reason as BIRD classifies it: a NOTIFICATION received or sent (BIRD prints its RFC text),
 * a socket error in strerror() words ("socket error: connect ECONNREFUSED 10.0.0.2:179" → "Connection refused"),
 * or another local reason as it is.
 */
export function sessionError(reason: string): SessionError {
  const received = /received NOTIFICATION (\d+)\/(\d+)/.exec(reason);
  if (received !== null) return { kind: 'notificationReceived', code: Number(received[1]), subcode: Number(received[2]) };
  if (/hold timer expired/i.test(reason)) return { kind: 'notificationSent', code: 4, subcode: 0 };
  if (/connection closed by peer/.test(reason)) return { kind: 'socket', message: 'Connection closed' };
  const errno = /\b(E[A-Z]+)\b/.exec(reason);
  if (errno !== null && STRERROR[errno[1]] !== undefined) return { kind: 'socket', message: STRERROR[errno[1]] };
  return { kind: 'misc', message: reason };
}

/** The interface a next hop is reached through: the one whose subnet holds it, else the one holding our address. */
function interfaceFor(address: string, fallbackLocal: string): string {
  const ifs = os.networkInterfaces();
  let holder: string | undefined;
  for (const [name, addrs] of Object.entries(ifs)) {
    for (const a of addrs ?? []) {
      if (a.address === fallbackLocal) holder = name;
      if (a.cidr !== null && sameSubnet(address, a.cidr)) return name;
    }
  }
  return holder ?? 'lo';
}

/** True when the address lies inside the interface subnet "net/len" (host bits of net ignored). */
function sameSubnet(address: string, cidr: string): boolean {
  const family = address.includes(':') ? 6 : 4;
  const net = parsePrefixValue(cidr, family);
  const value = addressValue(address, family);
  if (net === undefined || value === undefined) return false;
  const m = mask(family, net.length);
  return (value & m) === (net.value & m);
}

export class ControlAdapter implements ControlModel {
  constructor(private readonly d: ControlAdapterDeps) {}

  status(): StatusView {
    return {
      routerId: this.d.routerId,
      lastReboot: this.d.startedAt,
      lastReconfiguration: this.d.lastReconfiguration(),
      phase: this.d.shuttingDown() ? 'shuttingDown' : 'running',
      ...(this.d.software !== undefined ? { software: this.d.software } : {}),
    };
  }

  protocols(family: Family): ProtocolView[] {
    const out: ProtocolView[] = [deviceProtocol(this.d.startedAt)];
    for (const rec of this.d.book.ofFamily(family)) out.push(this.protocolView(rec, family));
    return out;
  }

  private protocolView(rec: SessionRecord, family: Family): ProtocolView {
    const name = rec.session.spec.name;
    const counts = this.d.reflector.routeStats(name, family);
    const c = this.d.reflector.peerCounters(name);
    const stats = emptyRouteChangeStats();
    if (c !== undefined) {
      const rejected = c.loopsRejected + (c.malformed['treat-as-withdraw'] ?? 0);
      stats.importUpdates = { received: c.prefixesAnnounced, rejected, filtered: 0, ignored: 0, accepted: Math.max(0, c.prefixesAnnounced - rejected) };
      stats.importWithdraws = { received: c.prefixesWithdrawn, rejected: 0, ignored: 0, accepted: c.prefixesWithdrawn };
    }
    const from = new Set(rec.session.spec.sourceKeys);
    const notApplied = (this.d.notApplied?.() ?? []).filter((n) => from.has(n.resource)).map((n) => `${n.resource}: ${n.fields.join(', ')}`);
    return {
      name,
      kind: 'BGP',
      table: 'master',
      description: 'Connection to BGP peer', // the original's bgp_template, so bird_exporter labels stay the same
      ...(notApplied.length > 0 ? { notApplied: notApplied.join('; ') } : {}),
      state: protocolState(rec),
      since: rec.since,
      message: rec.message,
      preference: 100,
      importFilter: 'ACCEPT',
      exportFilter: 'ACCEPT',
      routes: { imported: counts.imported, exported: counts.exported, preferred: counts.preferred },
      stats,
      bgp: bgpView(rec),
    };
  }

  routes(family: Family): Iterable<RouteView> {
    return this.collect(family, () => true);
  }

  exportedRoutes(family: Family, name: string): Iterable<RouteView> | undefined {
    const target = this.d.book.byName(family, name);
    if (target === undefined) return undefined;
    const toClient = target.session.spec.routeReflectorClient;
    return this.collect(family, (r, from) => r.primary && r.from !== name && (from === undefined || mayReflect(from.session.spec.routeReflectorClient, toClient)));
  }

  /** Routes in table order, the best route of each network first (BIRD lists the primary route first). */
  private *collect(family: Family, keep: (r: RibRouteView, from: SessionRecord | undefined) => boolean): Generator<RouteView> {
    let pending: RouteView[] = [];
    let prefix: string | undefined;
    const nhIface = new Map<string, string>();
    for (const r of this.d.reflector.routes(family)) {
      if (r.prefix !== prefix) {
        yield* pending;
        pending = [];
        prefix = r.prefix;
      }
      const from = this.d.book.byName(family, r.from);
      if (!keep(r, from)) continue;
      const view = this.routeView(r, from, nhIface);
      if (r.primary) pending.unshift(view);
      else pending.push(view);
    }
    yield* pending;
  }

  private routeView(r: RibRouteView, from: SessionRecord | undefined, nhIface: Map<string, string>): RouteView {
    const nextHops = r.nextHop === '' ? [] : r.nextHop.split(' ');
    const gateway = nextHops[0] ?? '';
    let iface = nhIface.get(gateway);
    if (iface === undefined) {
      iface = interfaceFor(gateway, from?.session.spec.localAddress ?? '');
      nhIface.set(gateway, iface);
    }
    return {
      prefix: r.prefix,
      destination: { kind: 'router', gateway, iface },
      protocol: r.from,
      // A session holding routes last changed state when it became Established: the book stamped that time.
      since: from?.since ?? this.d.startedAt,
      fromAddress: from?.session.spec.neighborAddress,
      best: r.primary,
      preference: 100,
      source: 'BGP',
      bgp: { attributes: routeAttributes(r.decoded, nextHops), stale: r.stale },
    };
  }

  async enable(family: Family, name: string): Promise<ProtocolActionResult> {
    const rec = this.d.book.byName(family, name);
    if (rec === undefined || !rec.disabled) return 'already';
    rec.disabled = false;
    rec.message = undefined;
    rec.since = (this.d.clock ?? systemClock)();
    rec.session.start();
    return 'done';
  }

  async disable(family: Family, name: string): Promise<ProtocolActionResult> {
    const rec = this.d.book.byName(family, name);
    if (rec === undefined || rec.disabled) return 'already';
    rec.disabled = true;
    rec.since = (this.d.clock ?? systemClock)();
    await rec.session.stop(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, 'disabled by the operator');
    return 'done';
  }

  async restart(family: Family, name: string): Promise<void> {
    const rec = this.d.book.byName(family, name);
    if (rec === undefined) return;
    await rec.session.stop(CeaseSubcode.ADMINISTRATIVE_RESET, 'restarted by the operator');
    rec.disabled = false;
    rec.session.start();
  }

  /** `reload in` asks the peer for its routes again (RFC 2918), `reload out` re-sends ours from the Adj-RIB-Out. */
  reload(family: Family, name: string, direction: 'in' | 'out' | 'both'): void {
    const rec = this.d.book.byName(family, name);
    if (rec === undefined || rec.session.state !== 'Established') return;
    const afi = family === 6 ? AFI_IPV6 : AFI_IPV4;
    if (direction !== 'out' && rec.session.negotiated?.routeRefresh === true) {
      rec.session.send(encodeRouteRefresh({ type: MessageType.ROUTE_REFRESH, afi, safi: SAFI_UNICAST, subtype: 0 }));
    }
    if (direction !== 'in') this.d.reflector.handleRouteRefresh(rec.peer, { afi, safi: SAFI_UNICAST, subtype: 0 });
  }

  configure(mode: 'apply' | 'check'): Promise<ConfigureResult> {
    return this.d.configure(mode);
  }

  memory(): MemoryView {
    // Node does not account per table as BIRD does: the JS heap stands for the routing tables, the interned
    // attribute bytes for the route attributes, and the total is the process's resident set.
    const m = process.memoryUsage();
    return { routingTables: m.heapUsed, routeAttributes: this.d.reflector.attrs.bytes, roaTables: 0, protocols: 0, total: m.rss };
  }

  interfaces(family: Family): InterfaceView[] {
    const out: InterfaceView[] = [];
    let index = 1;
    for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
      const mine = (addrs ?? []).filter((a) => (family === 4 ? a.family === 'IPv4' : a.family === 'IPv6'));
      const loopback = (addrs ?? []).some((a) => a.internal);
      out.push({
        name, index: index++, up: true, multiAccess: !loopback, broadcast: !loopback, multicast: !loopback, adminUp: true,
        linkUp: true, loopback, ignored: false, mtu: loopback ? 65536 : 1500,
        addresses: mine.map((a, i) => ({
          prefix: a.cidr ?? `${a.address}/${family === 4 ? 32 : 128}`,
          primary: i === 0,
          scope: loopback ? 'host' : a.address.startsWith('fe80') ? 'link' : 'univ',
        })),
      });
    }
    return out;
  }
}
