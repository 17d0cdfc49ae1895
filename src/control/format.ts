// BIRD 1.6.8 CLI text for each `show` reply, made from the ControlModel views (pure, no I/O).
// Column widths, labels and codes follow what BIRD 1.6.8 printed (captured from BIRD 1.6.8, see test/fixtures/bird/README.md).
// Over 400 lines on purpose: every reply shares the same column, time and address helpers, and reading the
// formats side by side against the captures is how they are checked.

import type {
  AsPathSegment,
  BgpRouteAttributes,
  BgpSessionView,
  ExtendedCommunity,
  InterfaceView,
  MemoryView,
  NeighborCapabilities,
  ProtocolView,
  RouteView,
  SessionError,
  SessionProperties,
  StatusView,
} from './model.js';
import { BIRD_VERSION, final, line, type ReplyLine } from './reply.js';
import { formatTime, type TimeFormats } from './timefmt.js';

export interface FormatContext {
  timeFormats: TimeFormats;
  /** "Current server time"; also the reference for relative/limit time formats. */
  now: Date;
}

const padEnd = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const padStart = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

// ---------------------------------------------------------------- show status

export function statusReply(v: StatusView, ctx: FormatContext): ReplyLine[] {
  const t = (d: Date): string => formatTime(ctx.timeFormats.base, d, ctx.now);
  const phase =
    v.phase === 'shuttingDown'
      ? 'Shutdown in progress'
      : v.phase === 'reconfiguring'
        ? 'Reconfiguration in progress'
        : 'Daemon is up and running';
  return [
    line(1000, v.software !== undefined ? `BIRD ${BIRD_VERSION} (${v.software})` : `BIRD ${BIRD_VERSION}`),
    line(1011, `Router ID is ${v.routerId}`),
    line(1011, `Current server time is ${t(ctx.now)}`),
    line(1011, `Last reboot on ${t(v.lastReboot)}`),
    line(1011, `Last reconfiguration on ${t(v.lastReconfiguration)}`),
    final(13, phase),
  ];
}

// ---------------------------------------------------------------- show protocols

export const PROTOCOLS_HEADER = 'name     proto    table    state  since       info';

/** RFC 4271 §4.5 NOTIFICATION code/subcode texts as BIRD 1.6 names them. */
const NOTIFICATION_TEXT: Record<string, string> = {
  '1.0': 'Invalid message header',
  '1.1': 'Connection not synchronized',
  '1.2': 'Bad message length',
  '1.3': 'Bad message type',
  '2.0': 'Invalid OPEN message',
  '2.1': 'Unsupported version number',
  '2.2': 'Bad peer AS',
  '2.3': 'Bad BGP identifier',
  '2.4': 'Unsupported optional parameter',
  '2.5': 'Authentication failure',
  '2.6': 'Unacceptable hold time',
  '2.7': 'Required capability missing',
  '2.8': 'No supported AFI/SAFI',
  '3.0': 'Invalid UPDATE message',
  '3.1': 'Malformed attribute list',
  '3.2': 'Unrecognized well-known attribute',
  '3.3': 'Missing mandatory attribute',
  '3.4': 'Invalid attribute flags',
  '3.5': 'Invalid attribute length',
  '3.6': 'Invalid ORIGIN attribute',
  '3.7': 'AS routing loop',
  '3.8': 'Invalid NEXT_HOP attribute',
  '3.9': 'Optional attribute error',
  '3.10': 'Invalid network field',
  '3.11': 'Malformed AS_PATH',
  '4.0': 'Hold timer expired',
  '5.0': 'Finite state machine error',
  '5.1': 'Unexpected message in OpenSent state',
  '5.2': 'Unexpected message in OpenConfirm state',
  '5.3': 'Unexpected message in Established state',
  '6.0': 'Cease',
  '6.1': 'Maximum number of prefixes reached',
  '6.2': 'Administrative shutdown',
  '6.3': 'Peer de-configured',
  '6.4': 'Administrative reset',
  '6.5': 'Connection rejected',
  '6.6': 'Other configuration change',
  '6.7': 'Connection collision resolution',
  '6.8': 'Out of Resource',
  '7.0': 'Invalid ROUTE-REFRESH message',
  '7.1': 'Invalid ROUTE-REFRESH message length',
};

/** BIRD's "<class><message>" text of a session error, e.g. "Socket: Connection refused". */
export function sessionErrorText(e: SessionError | undefined): string {
  if (e === undefined) return '';
  switch (e.kind) {
    case 'socket':
      return `Socket: ${e.message}`;
    case 'misc':
      return `Error: ${e.message}`;
    case 'automaticShutdown':
      return `Automatic shutdown: ${e.message}`;
    case 'notificationReceived':
    case 'notificationSent': {
      const text =
        NOTIFICATION_TEXT[`${e.code}.${e.subcode}`] ??
        NOTIFICATION_TEXT[`${e.code}.0`] ??
        `Unknown error ${e.code}.${e.subcode}`;
      // An unlisted subcode of a known code is shown with the code's generic text, as BIRD does.
      return `${e.kind === 'notificationReceived' ? 'Received: ' : 'BGP Error: '}${text}`;
    }
  }
}

/** The `info` column: BGP state padded to 14 plus the last error; only the error while down. */
export function protocolInfo(p: ProtocolView): string {
  if (p.bgp === undefined) return '';
  const err = sessionErrorText(p.bgp.lastError);
  if (p.state === 'down') return err;
  return padEnd(p.bgp.state, 14) + err;
}

export function protocolRow(p: ProtocolView, ctx: FormatContext): string {
  const since = formatTime(ctx.timeFormats.protocol, p.since, ctx.now);
  return `${padEnd(p.name, 8)} ${padEnd(p.kind, 8)} ${padEnd(p.table, 8)} ${padEnd(p.state, 5)}  ${padEnd(since, 10)}  ${protocolInfo(p)}`;
}

const stat = (n: number | undefined): string => padStart(n === undefined ? '---' : String(n), 10);
const statsRow = (label: string, values: Array<number | undefined>): string =>
  `    ${padEnd(label, 20)}${values.map(stat).join(' ')}`;

function capabilitiesText(c: NeighborCapabilities): string {
  let s = '';
  if (c.routeRefresh) s += ' refresh';
  if (c.enhancedRouteRefresh) s += ' enhanced-refresh';
  if (c.gracefulRestart !== undefined) s += ` restart-${c.gracefulRestart}`;
  if (c.longLivedGracefulRestart !== undefined) s += ` llgr-${c.longLivedGracefulRestart}`;
  if (c.fourOctetAs) s += ' AS4';
  if (c.addPathReceive) s += ' add-path-rx';
  if (c.addPathSend) s += ' add-path-tx';
  if (c.extendedMessages) s += ' ext-messages';
  return s;
}

function sessionText(s: SessionProperties): string {
  let t = s.internal ? 'internal' : 'external';
  if (s.multihop) t += ' multihop';
  if (s.routeReflectorClient) t += ' route-reflector';
  if (s.routeServerClient) t += ' route-server';
  if (s.fourOctetAs) t += ' AS4';
  if (s.addPathReceive) t += ' add-path-rx';
  if (s.addPathSend) t += ' add-path-tx';
  if (s.extendedMessages) t += ' ext-messages';
  return t;
}

function bgpDetails(p: ProtocolView, b: BgpSessionView): string[] {
  const out: string[] = [];
  out.push(`  BGP state:          ${p.state === 'down' ? 'Down' : b.state}`);
  out.push(`    Neighbor address: ${b.neighborAddress}${b.neighborInterface !== undefined ? `%${b.neighborInterface}` : ''}`);
  out.push(`    Neighbor AS:      ${b.neighborAs}`);
  if (b.gracefulRestartActive === true) {
    out.push('    Neighbor graceful restart active');
    if (b.restartTimer !== undefined) out.push(`    ${padEnd('Restart timer:', 15)}   ${b.restartTimer}/-`);
  }
  if (p.state === 'start') {
    if (b.errorWait !== undefined) out.push(`    Error wait:       ${b.errorWait.remaining}/${b.errorWait.length}`);
    if (b.connectDelay !== undefined)
      out.push(`    Connect delay:    ${b.connectDelay.remaining}/${b.connectDelay.length}`);
  } else if (p.state === 'up') {
    if (b.neighborId !== undefined) out.push(`    Neighbor ID:      ${b.neighborId}`);
    if (b.neighborCapabilities !== undefined) out.push(`    Neighbor caps:   ${capabilitiesText(b.neighborCapabilities)}`);
    if (b.session !== undefined) out.push(`    Session:          ${sessionText(b.session)}`);
    if (b.sourceAddress !== undefined) out.push(`    Source address:   ${b.sourceAddress}`);
    if (b.routeLimit !== undefined) out.push(`    Route limit:      ${b.routeLimit.count}/${b.routeLimit.limit}`);
    if (b.holdTimer !== undefined) out.push(`    Hold timer:       ${b.holdTimer.remaining}/${b.holdTimer.length}`);
    if (b.keepaliveTimer !== undefined)
      out.push(`    Keepalive timer:  ${b.keepaliveTimer.remaining}/${b.keepaliveTimer.length}`);
  }
  if (b.lastError !== undefined) out.push(`    Last error:       ${sessionErrorText(b.lastError)}`);
  return out;
}

/** The `show protocols all` detail lines of one protocol (code 1006), without the separator. */
export function protocolDetails(p: ProtocolView): string[] {
  const out: string[] = [];
  if (p.description !== undefined) out.push(`  Description:    ${p.description}`);
  if (p.notApplied !== undefined) out.push(`  Not applied:    ${p.notApplied}`);
  if (p.message !== undefined) out.push(`  Message:        ${p.message}`);
  out.push(`  Preference:     ${p.preference}`);
  out.push(`  Input filter:   ${p.importFilter}`);
  out.push(`  Output filter:  ${p.exportFilter}`);
  if (p.state !== 'down') {
    const r = p.routes;
    out.push(
      `  Routes:         ${r.imported} imported, ${r.filtered !== undefined ? `${r.filtered} filtered, ` : ''}${r.exported} exported, ${r.preferred} preferred`,
    );
    const s = p.stats;
    out.push('  Route change stats:     received   rejected   filtered    ignored   accepted');
    const iu = s.importUpdates;
    const iw = s.importWithdraws;
    const eu = s.exportUpdates;
    const ew = s.exportWithdraws;
    out.push(statsRow('Import updates:', [iu.received, iu.rejected, iu.filtered, iu.ignored, iu.accepted]));
    out.push(statsRow('Import withdraws:', [iw.received, iw.rejected, undefined, iw.ignored, iw.accepted]));
    out.push(statsRow('Export updates:', [eu.received, eu.rejected, eu.filtered, undefined, eu.accepted]));
    out.push(statsRow('Export withdraws:', [ew.received, undefined, undefined, undefined, ew.accepted]));
  }
  if (p.bgp !== undefined) out.push(...bgpDetails(p, p.bgp));
  return out;
}

/** Full `show protocols [all]` reply for an already selected, non-empty list. */
export function* protocolsReply(protocols: Iterable<ProtocolView>, all: boolean, ctx: FormatContext): Generator<ReplyLine> {
  yield line(2002, PROTOCOLS_HEADER);
  for (const p of protocols) {
    yield line(1002, protocolRow(p, ctx));
    if (all) {
      for (const d of protocolDetails(p)) yield line(1006, d);
      yield line(1006, '');
    }
  }
  yield final(0, '');
}

// ---------------------------------------------------------------- show route

function destinationText(r: RouteView): string {
  const d = r.destination;
  switch (d.kind) {
    case 'router':
      return `via ${d.gateway} on ${d.iface}`;
    case 'device':
      return `dev ${d.iface}`;
    default:
      return d.kind;
  }
}

/** Last AS of the path when it ends in an AS_SEQUENCE (BIRD's as_path_get_last). */
function lastAs(path: AsPathSegment[]): number | undefined {
  let found: number | undefined;
  for (const seg of path) {
    if (seg.asns.length === 0) continue;
    found = seg.type === 'AS_SEQUENCE' ? seg.asns[seg.asns.length - 1] : undefined;
  }
  return found;
}

const ORIGIN_CHAR = { IGP: 'i', EGP: 'e', INCOMPLETE: '?' } as const;

function routeInfo(r: RouteView): string {
  if (r.bgp === undefined) return ` (${r.preference})`;
  let s = ` (${r.preference}`;
  if (r.bgp.suppressed === true) s += '-';
  if (r.bgp.stale === true) s += 's';
  const res = r.bgp.nextHopResolution;
  if (res !== undefined) {
    if (!res.reachable) s += '/-';
    else s += res.igpMetric === undefined ? '/?' : `/${res.igpMetric}`;
  }
  const a = r.bgp.attributes;
  const last = lastAs(a.asPath);
  return `${s}) [${last !== undefined ? `AS${last}` : ''}${ORIGIN_CHAR[a.origin]}]`;
}

/** One `show route` row; `showPrefix` is false for the alternative routes of the same network. */
export function routeRow(r: RouteView, showPrefix: boolean, ctx: FormatContext): string {
  const gateway = r.destination.kind === 'router' ? r.destination.gateway : undefined;
  const from = r.fromAddress !== undefined && r.fromAddress !== gateway ? ` from ${r.fromAddress}` : '';
  const since = formatTime(ctx.timeFormats.route, r.since, ctx.now);
  return `${padEnd(showPrefix ? r.prefix : '', 18)} ${destinationText(r)} [${r.protocol} ${since}${from}]${r.best ? ' *' : ''}${routeInfo(r)}`;
}

function asPathText(path: AsPathSegment[]): string {
  return path
    .map((seg) => (seg.type === 'AS_SET' ? `{ ${seg.asns.join(' ')} }` : seg.asns.join(' ')))
    .filter((s) => s !== '')
    .join(' ');
}

function extendedCommunityText(ec: ExtendedCommunity): string {
  if (ec.layout === 'opaque') {
    const b = Buffer.from(ec.bytes);
    const hi = b.length >= 4 ? b.readUInt32BE(0) : 0;
    const lo = b.length >= 8 ? b.readUInt32BE(4) : 0;
    return `(generic, 0x${hi.toString(16)}, 0x${lo.toString(16)})`;
  }
  const layoutBits = ec.layout === 'as2' ? 0x00 : ec.layout === 'ipv4' ? 0x01 : 0x02;
  const type = ((layoutBits | (ec.transitive ? 0 : 0x40)) << 8) | ec.subtype;
  // BIRD names only transitive route targets (subtype 2) and route origins (subtype 3).
  const kind = (type & 0xf0ff) === 0x0002 ? 'rt' : (type & 0xf0ff) === 0x0003 ? 'ro' : `unknown 0x${type.toString(16)}`;
  return `(${kind}, ${ec.globalAdmin}, ${ec.localAdmin})`;
}

const hexBytes = (v: Uint8Array): string => Array.from(v, (x) => x.toString(16).padStart(2, '0')).join(' ');

/** `show route all` attribute lines ("BGP.name: value"), ordered by attribute type code as BIRD keeps them. */
export function bgpAttributeLines(a: BgpRouteAttributes): string[] {
  const entries: Array<[number, string]> = [];
  const originText = { IGP: 'IGP', EGP: 'EGP', INCOMPLETE: 'Incomplete' } as const;
  entries.push([1, `BGP.origin: ${originText[a.origin]}`]);
  entries.push([2, `BGP.as_path: ${asPathText(a.asPath)}`]);
  entries.push([3, `BGP.next_hop: ${a.nextHop.join(' ')}`]);
  if (a.multiExitDisc !== undefined) entries.push([4, `BGP.med: ${a.multiExitDisc}`]);
  if (a.localPref !== undefined) entries.push([5, `BGP.local_pref: ${a.localPref}`]);
  if (a.atomicAggregate === true) entries.push([6, 'BGP.atomic_aggr: ']);
  if (a.aggregator !== undefined) entries.push([7, `BGP.aggregator: ${a.aggregator.address} AS${a.aggregator.asn}`]);
  if (a.communities !== undefined && a.communities.length > 0)
    entries.push([8, `BGP.community: ${a.communities.map(([x, y]) => `(${x},${y})`).join(' ')}`]);
  if (a.originatorId !== undefined) entries.push([9, `BGP.originator_id: ${a.originatorId}`]);
  if (a.clusterList !== undefined && a.clusterList.length > 0)
    entries.push([10, `BGP.cluster_list: ${a.clusterList.join(' ')}`]);
  if (a.extendedCommunities !== undefined && a.extendedCommunities.length > 0)
    entries.push([16, `BGP.ext_community: ${a.extendedCommunities.map(extendedCommunityText).join(' ')}`]);
  if (a.largeCommunities !== undefined && a.largeCommunities.length > 0)
    entries.push([32, `BGP.large_community: ${a.largeCommunities.map(([g, l1, l2]) => `(${g}, ${l1}, ${l2})`).join(' ')}`]);
  for (const u of a.unknown ?? []) {
    const transitive = (u.flags & 0x40) !== 0 ? ' [t]' : '';
    entries.push([u.typeCode, `BGP.${u.typeCode.toString(16).padStart(2, '0')}${transitive}: ${hexBytes(u.value)}`]);
  }
  entries.sort((x, y) => x[0] - y[0]);
  return entries.map((e) => e[1]);
}

/** Lines of one route (row, and for `all` its Type and attribute lines). */
export function* routeLines(r: RouteView, showPrefix: boolean, all: boolean, ctx: FormatContext): Generator<ReplyLine> {
  yield line(1007, routeRow(r, showPrefix, ctx));
  if (r.destination.kind === 'multipath') {
    for (const h of r.destination.hops) yield line(1007, `\tvia ${h.gateway} on ${h.iface} weight ${h.weight}`);
  }
  if (all) {
    yield line(1008, `\tType: ${r.source} unicast univ`);
    if (r.bgp !== undefined) for (const a of bgpAttributeLines(r.bgp.attributes)) yield line(1012, `\t${a}`);
  }
}

export function routeCountText(shown: number, total: number, networks: number): string {
  return `${shown} of ${total} routes for ${networks} networks`;
}

// ---------------------------------------------------------------- show memory / interfaces / symbols

/** BIRD's print_size: value in B until it reaches 10000, then kB, MB, GB (rounded). */
function memorySize(label: string, bytes: number): string {
  const units = ' kMG';
  let v = Math.max(0, Math.floor(bytes));
  let i = 0;
  while (v >= 10000 && i < 3) {
    v = Math.floor((v + 512) / 1024);
    i++;
  }
  return `${padEnd(label, 17)} ${padStart(String(v), 4)} ${units[i]}B`;
}

export function memoryReply(m: MemoryView): ReplyLine[] {
  return [
    line(1018, 'BIRD memory usage'),
    line(1018, memorySize('Routing tables:', m.routingTables)),
    line(1018, memorySize('Route attributes:', m.routeAttributes)),
    line(1018, memorySize('ROA tables:', m.roaTables)),
    line(1018, memorySize('Protocols:', m.protocols)),
    line(1018, memorySize('Total:', m.total)),
    final(0, ''),
  ];
}

function orderedAddresses(i: InterfaceView): InterfaceView['addresses'] {
  return [...i.addresses.filter((a) => a.primary), ...i.addresses.filter((a) => !a.primary)];
}

export function interfacesReply(ifaces: InterfaceView[]): ReplyLine[] {
  const out: ReplyLine[] = [];
  for (const i of ifaces) {
    out.push(line(1001, `${i.name} ${i.up ? 'up' : 'DOWN'} (index=${i.index})`));
    const flags =
      (i.multiAccess ? 'MultiAccess' : 'PtP') +
      (i.broadcast ? ' Broadcast' : '') +
      (i.multicast ? ' Multicast' : '') +
      ` Admin${i.adminUp ? 'Up' : 'Down'} Link${i.linkUp ? 'Up' : 'Down'}` +
      (i.loopback ? ' Loopback' : '') +
      (i.ignored ? ' Ignored' : '') +
      ` MTU=${i.mtu}`;
    out.push(line(1004, `\t${flags}`));
    for (const a of orderedAddresses(i)) {
      const peer = a.peer !== undefined ? ` peer ${a.peer}` : '';
      out.push(line(1003, `\t${a.prefix} (${a.primary ? 'Primary' : 'Unselected'}${peer}, scope ${a.scope})`));
    }
  }
  out.push(final(0, ''));
  return out;
}

export function interfacesSummaryReply(ifaces: InterfaceView[]): ReplyLine[] {
  const out: ReplyLine[] = [line(2005, 'interface state address')];
  for (const i of ifaces) {
    const primary = i.addresses.find((a) => a.primary);
    out.push(line(1005, `${padEnd(i.name, 9)} ${padEnd(i.up ? 'up' : 'DOWN', 5)} ${primary?.prefix ?? ''}`));
  }
  out.push(final(0, ''));
  return out;
}

export interface SymbolView {
  name: string;
  /** BIRD symbol class text: "protocol", "filter", "routing table", "constant", "protocol template". */
  kind: string;
}

/** The symbols a reflector's configuration defines: the table, every protocol, and named filters. */
export function symbolsOf(protocols: ProtocolView[]): SymbolView[] {
  const out: SymbolView[] = [];
  const tables = new Set<string>();
  const filters = new Set<string>();
  for (const p of protocols) {
    tables.add(p.table);
    for (const f of [p.importFilter, p.exportFilter]) {
      if (f !== 'ACCEPT' && f !== 'REJECT' && !f.startsWith('(')) filters.add(f);
    }
  }
  for (const t of tables) out.push({ name: t, kind: 'routing table' });
  for (const f of filters) out.push({ name: f, kind: 'filter' });
  for (const p of protocols) out.push({ name: p.name, kind: 'protocol' });
  return out;
}

export function symbolsReply(symbols: SymbolView[]): ReplyLine[] {
  return [...symbols.map((s) => line(1010, `${padEnd(s.name, 8)}\t${s.kind}`)), final(0, '')];
}
