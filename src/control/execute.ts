// Runs one parsed CLI command against the ControlModel and yields the BIRD reply lines.
// Selection rules (names, patterns, `all`), route queries and `restrict` live here; text comes from format.ts.

import { addressValue, canonicalPrefix, maxLength, parsePrefixValue, type ParsedPrefix } from '../net/prefix.js';
import { isRestricted, parseCommand, patternMatches, type Command, type ProtocolSelector, type RouteQuery } from './commands.js';
import {
  interfacesReply,
  interfacesSummaryReply,
  memoryReply,
  protocolsReply,
  routeCountText,
  routeLines,
  statusReply,
  symbolsOf,
  symbolsReply,
  type FormatContext,
} from './format.js';
import type { ControlModel, Family, ProtocolView, RouteView } from './model.js';
import { final, line, type ReplyLine } from './reply.js';
import type { TimeFormats } from './timefmt.js';

export interface CliEnvironment {
  model: ControlModel;
  family: Family;
  timeFormats: TimeFormats;
  /** Clock for "Current server time" and relative time formats. */
  now: () => Date;
  /** Shown in `0002-Reading configuration from ...`. */
  configPath: string;
  abbreviations: boolean;
}

/** Per-connection state: `restrict` is sticky for the rest of the connection. */
export interface CliSession {
  restricted: boolean;
}

type Reply = Iterable<ReplyLine>;

const one = (l: ReplyLine): Reply => [l];

function selectProtocols(all: ProtocolView[], sel: ProtocolSelector | undefined): ProtocolView[] | ReplyLine {
  if (sel === undefined || sel.kind === 'all') {
    return all.length > 0 ? all : final(8003, 'No protocols match');
  }
  if (sel.kind === 'name') {
    const p = all.find((x) => x.name === sel.name);
    return p !== undefined ? [p] : final(9002, `${sel.name} is not a protocol`);
  }
  const hits = all.filter((x) => patternMatches(sel.pattern, x.name));
  return hits.length > 0 ? hits : final(8003, 'No protocols match');
}

async function protocolAction(
  env: CliEnvironment,
  action: 'enable' | 'disable' | 'restart',
  targets: ProtocolView[],
): Promise<ReplyLine[]> {
  const out: ReplyLine[] = [];
  for (const p of targets) {
    switch (action) {
      case 'enable': {
        const r = await env.model.enable(env.family, p.name);
        out.push(r === 'already' ? line(10, `${p.name}: already enabled`) : line(11, `${p.name}: enabled`));
        break;
      }
      case 'disable': {
        const r = await env.model.disable(env.family, p.name);
        out.push(r === 'already' ? line(8, `${p.name}: already disabled`) : line(9, `${p.name}: disabled`));
        break;
      }
      case 'restart':
        // BIRD refuses to restart a disabled protocol; a protocol only rests in `down` when disabled.
        if (p.state === 'down') {
          out.push(line(8, `${p.name}: already disabled`));
        } else {
          await env.model.restart(env.family, p.name);
          out.push(line(12, `${p.name}: restarted`));
        }
        break;
    }
  }
  out.push(final(0, ''));
  return out;
}

/**
 * BIRD prints nothing per protocol on a successful reload; a disabled one is "already disabled", one that is
 * not up is skipped, and re-importing fails for protocols that cannot (Device, a peer without route refresh).
 */
async function reload(env: CliEnvironment, direction: 'in' | 'out' | 'both', targets: ProtocolView[]): Promise<ReplyLine[]> {
  const out: ReplyLine[] = [];
  for (const p of targets) {
    if (p.state === 'down') {
      out.push(line(8, `${p.name}: already disabled`));
      continue;
    }
    if (p.state !== 'up') continue;
    const canReimport = p.kind === 'BGP' && p.bgp?.neighborCapabilities?.routeRefresh !== false && env.model.reload !== undefined;
    if (direction !== 'out' && !canReimport) {
      out.push(line(8006, `${p.name}: reload failed`));
      continue;
    }
    if (p.kind === 'BGP' && env.model.reload !== undefined) await env.model.reload(env.family, p.name, direction);
  }
  out.push(final(0, ''));
  return out;
}

async function configure(env: CliEnvironment, c: Extract<Command, { kind: 'configure' }>): Promise<ReplyLine[]> {
  // Nothing is ever pending (no `configure timeout` undo), so confirm and undo have nothing to do.
  if (c.mode === 'confirm') return [final(19, 'Nothing to do')];
  if (c.mode === 'undo') return [line(21, 'Undo requested'), final(19, 'Nothing to do')];
  if (c.file !== undefined) {
    // Our configuration is the datastore; a file cannot be loaded instead of it.
    return [line(2, `Reading configuration from ${c.file}`), final(8002, `${c.file}: configuration is read from the datastore`)];
  }
  const head = line(2, `Reading configuration from ${env.configPath}`);
  const result = await env.model.configure(c.mode === 'check' ? 'check' : 'apply');
  if (!result.ok) return [head, final(8002, result.error)];
  return [head, c.mode === 'check' ? final(20, 'Configuration OK') : final(3, 'Reconfigured')];
}

interface NetGroup {
  prefix: string;
  routes: RouteView[];
}

/** Consecutive routes of the same network form one group (the model keeps a network's routes adjacent). */
function* groupByNetwork(routes: Iterable<RouteView>): Generator<NetGroup> {
  let cur: NetGroup | undefined;
  for (const r of routes) {
    if (cur !== undefined && cur.prefix === r.prefix) {
      cur.routes.push(r);
      continue;
    }
    if (cur !== undefined) yield cur;
    cur = { prefix: r.prefix, routes: [r] };
  }
  if (cur !== undefined) yield cur;
}

function asParsed(text: string, family: Family): ParsedPrefix | undefined {
  if (text.includes('/')) return parsePrefixValue(text, family);
  const v = addressValue(text, family);
  return v === undefined ? undefined : { family, value: v, length: maxLength(family) };
}

/** Networks a lookup accepts, by canonical text → prefix length: the prefix itself, or every covering one. */
function lookupKeys(target: ParsedPrefix, exact: boolean): Map<string, number> {
  const keys = new Map<string, number>();
  if (exact) keys.set(canonicalPrefix(target), target.length);
  else for (let len = 0; len <= target.length; len++) keys.set(canonicalPrefix({ ...target, length: len }), len);
  return keys;
}

/** Groups handled between two yields to the event loop while scanning a table. */
const SCAN_SLICE = 4096;
const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

async function showRoute(env: CliEnvironment, q: RouteQuery, fmt: FormatContext): Promise<Reply> {
  const protocols = env.model.protocols(env.family);
  const isProtocol = (n: string): boolean => protocols.some((p) => p.name === n);
  if (q.table !== undefined && !protocols.some((p) => p.table === q.table) && q.table !== 'master')
    return one(final(9001, `${q.table} is not a table`));
  if (q.protocol !== undefined && !isProtocol(q.protocol)) return one(final(9001, `${q.protocol} is not a protocol`));
  let source: Iterable<RouteView>;
  if (q.exportOf !== undefined) {
    const target = protocols.find((p) => p.name === q.exportOf);
    const exported = target !== undefined ? env.model.exportedRoutes(env.family, target.name) : undefined;
    if (target === undefined || exported === undefined) return one(final(9001, `${q.exportOf} is not a protocol`));
    if (target.state !== 'up') return one(final(8005, 'Protocol is down'));
    source = exported;
  } else {
    source = env.model.routes(env.family);
  }
  if (q.filteredOnly) source = []; // we keep no import-filtered routes (BIRD: `import keep filtered` off)

  // A network lookup (exact prefix, or longest match for an address) picks one network first. Networks
  // are compared by canonical text, so the scan costs one map lookup per network.
  const target = q.prefix ?? q.forAddress;
  if (target !== undefined) {
    const t = asParsed(target, env.family);
    if (t === undefined) return one(final(9001, 'syntax error'));
    const keys = lookupKeys(t, q.prefix !== undefined);
    let best: NetGroup | undefined;
    let bestLength = -1;
    let n = 0;
    for (const g of groupByNetwork(source)) {
      const len = keys.get(g.prefix);
      if (len !== undefined && len > bestLength) {
        best = g;
        bestLength = len;
      }
      if (++n % SCAN_SLICE === 0) await yieldToLoop();
    }
    if (best === undefined) return one(final(8001, 'Network not in table'));
    source = best.routes;
  }
  if (q.count) return one(await countRoutes(source, q));
  return routeReply(source, q, fmt);
}

function isShown(r: RouteView, q: RouteQuery): boolean {
  return !(q.primaryOnly && !r.best) && !(q.protocol !== undefined && r.protocol !== q.protocol);
}

/** `show route ... count`: only the summary line; scanned in slices so a big table does not block the loop. */
async function countRoutes(source: Iterable<RouteView>, q: RouteQuery): Promise<ReplyLine> {
  let shown = 0;
  let total = 0;
  let networks = 0;
  let n = 0;
  for (const g of groupByNetwork(source)) {
    let any = false;
    for (const r of g.routes) {
      total++;
      if (!isShown(r, q)) continue;
      shown++;
      any = true;
    }
    if (any) networks++;
    if (++n % SCAN_SLICE === 0) await yieldToLoop();
  }
  return final(14, routeCountText(shown, total, networks));
}

function* routeReply(source: Iterable<RouteView>, q: RouteQuery, fmt: FormatContext): Generator<ReplyLine> {
  let shown = 0;
  let total = 0;
  let networks = 0;
  for (const g of groupByNetwork(source)) {
    let first = true;
    for (const r of g.routes) {
      total++;
      if (!isShown(r, q)) continue;
      shown++;
      yield* routeLines(r, first, q.detail, fmt);
      first = false;
    }
    if (!first) networks++;
  }
  if (q.stats) yield final(14, routeCountText(shown, total, networks));
  else yield final(0, '');
}

/**
 * Execute one request line. Returns the reply lines (lazy for route listings, so a large table is
 * produced as the client reads it). Never throws for bad input; model errors propagate.
 */
export async function executeLine(raw: string, session: CliSession, env: CliEnvironment): Promise<Reply> {
  const parsed = parseCommand(raw, env.family, { abbreviations: env.abbreviations });
  if (!parsed.ok) return one(parsed.reply);
  const c = parsed.command;
  if (session.restricted && isRestricted(c)) return one(final(8007, 'Access denied'));
  const fmt: FormatContext = { timeFormats: env.timeFormats, now: env.now() };
  switch (c.kind) {
    case 'restrict':
      session.restricted = true;
      return one(final(16, 'Access restricted'));
    case 'showStatus':
      return statusReply(env.model.status(), fmt);
    case 'showProtocols': {
      const sel = selectProtocols(env.model.protocols(env.family), c.select);
      if (!Array.isArray(sel)) return one(sel);
      return protocolsReply(sel, c.detail, fmt);
    }
    case 'showRoute':
      return showRoute(env, c.query, fmt);
    case 'showMemory':
      return memoryReply(env.model.memory());
    case 'showInterfaces': {
      const ifaces = env.model.interfaces(env.family);
      return c.summary ? interfacesSummaryReply(ifaces) : interfacesReply(ifaces);
    }
    case 'showSymbols':
      return symbolsReply(symbolsOf(env.model.protocols(env.family)));
    case 'protocolAction': {
      const sel = selectProtocols(env.model.protocols(env.family), c.select);
      if (!Array.isArray(sel)) return one(sel);
      return protocolAction(env, c.action, sel);
    }
    case 'reload': {
      const sel = selectProtocols(env.model.protocols(env.family), c.select);
      if (!Array.isArray(sel)) return one(sel);
      return reload(env, c.direction, sel);
    }
    case 'configure':
      return configure(env, c);
  }
}
