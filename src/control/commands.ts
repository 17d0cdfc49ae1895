// Parser of BIRD 1.6 CLI command lines into Command objects, or the exact BIRD error reply (pure).
// Keywords may be abbreviated to a unique prefix, as birdc expands them (`sh pro al` = `show protocols all`).

import { addressValue, isNetwork, parsePrefixValue } from '../net/prefix.js';
import type { Family } from './model.js';
import { final, type ReplyLine } from './reply.js';

/** BIRD's CLI_RX_BUF_SIZE is 4096 and the line must leave room for two bytes: 4093 characters at most. */
export const MAX_COMMAND_LENGTH = 4093;

export type ProtocolSelector = { kind: 'all' } | { kind: 'name'; name: string } | { kind: 'pattern'; pattern: string };

export interface RouteQuery {
  /** `all`: print Type and attribute lines. */
  detail: boolean;
  /** `count`: only the summary line; `stats`: rows and the summary line. */
  count: boolean;
  stats: boolean;
  primaryOnly: boolean;
  filteredOnly: boolean;
  /** Exact network (`show route 10.65.1.0/26`). */
  prefix?: string;
  /** Longest match for an address or prefix (`show route for 10.65.1.1`). */
  forAddress?: string;
  /** Routes from this protocol. */
  protocol?: string;
  /** Routes exported to this protocol. */
  exportOf?: string;
  table?: string;
}

export type Command =
  | { kind: 'showStatus' }
  | { kind: 'showProtocols'; detail: boolean; select?: ProtocolSelector }
  | { kind: 'showRoute'; query: RouteQuery }
  | { kind: 'showMemory' }
  | { kind: 'showInterfaces'; summary: boolean }
  | { kind: 'showSymbols' }
  | { kind: 'protocolAction'; action: 'enable' | 'disable' | 'restart'; select: ProtocolSelector }
  | { kind: 'reload'; direction: 'in' | 'out' | 'both'; select: ProtocolSelector }
  | { kind: 'configure'; mode: 'apply' | 'soft' | 'check' | 'confirm' | 'undo' | 'timeout'; file?: string }
  | { kind: 'restrict' };

export type ParseResult = { ok: true; command: Command } | { ok: false; reply: ReplyLine };

/** Commands that change state; refused with `8007 Access denied` after `restrict`. */
export function isRestricted(c: Command): boolean {
  return c.kind === 'protocolAction' || c.kind === 'reload' || c.kind === 'configure';
}

export const SYNTAX_ERROR: ReplyLine = final(9001, 'syntax error');
export const TOO_LONG: ReplyLine = final(9000, 'Command too long');

type Token = { kind: 'word'; text: string } | { kind: 'string'; text: string } | { kind: 'other'; text: string };

class ParseError extends Error {
  constructor(readonly reply: ReplyLine) {
    super(reply.text);
  }
}

const syntax = (): ParseError => new ParseError(SYNTAX_ERROR);
const fail9001 = (text: string): ParseError => new ParseError(final(9001, text));

function tokenize(line: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const ch = line[i];
    if (ch === ' ' || ch === '\t') {
      i++;
      continue;
    }
    if (ch === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) throw syntax();
      out.push({ kind: 'string', text: line.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < line.length && line[j] !== ' ' && line[j] !== '\t' && line[j] !== '"') j++;
    const text = line.slice(i, j);
    out.push(/^[A-Za-z_][A-Za-z0-9_]*$/.test(text) ? { kind: 'word', text } : { kind: 'other', text });
    i = j;
  }
  return out;
}

class Cursor {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly abbreviations: boolean,
  ) {}

  peek(): Token | undefined {
    return this.tokens[this.i];
  }

  next(): Token | undefined {
    return this.tokens[this.i++];
  }

  atEnd(): boolean {
    return this.i >= this.tokens.length;
  }

  /** Which of `keywords` the next token names (exactly, or by unique prefix); consumes it on a match. */
  keyword<K extends string>(keywords: readonly K[]): K | undefined {
    const t = this.peek();
    if (t === undefined || t.kind !== 'word') return undefined;
    // BIRD's keywords are lower case and case-sensitive (`SHOW STATUS` is a syntax error).
    const w = t.text;
    let hit: K | undefined = keywords.find((k) => k === w);
    if (hit === undefined && this.abbreviations) {
      const candidates = keywords.filter((k) => k.startsWith(w));
      if (candidates.length === 1) hit = candidates[0];
    }
    if (hit !== undefined) this.i++;
    return hit;
  }

  expectKeyword<K extends string>(keywords: readonly K[]): K {
    const k = this.keyword(keywords);
    if (k === undefined) throw syntax();
    return k;
  }

  end(): void {
    if (!this.atEnd()) throw syntax();
  }
}

/** Words of the CLI grammar; BIRD's lexer never turns them into symbols, so they cannot name a protocol. */
const RESERVED = new Set([
  'show', 'status', 'protocols', 'protocol', 'route', 'memory', 'interfaces', 'summary', 'symbols', 'all', 'for',
  'export', 'count', 'stats', 'primary', 'filtered', 'table', 'enable', 'disable', 'restart', 'reload', 'in', 'out',
  'configure', 'soft', 'check', 'confirm', 'undo', 'timeout', 'restrict', 'ospf', 'bfd', 'sessions',
]);

/** A protocol symbol, a quoted pattern, or (when allowed) `all`. */
function selector(c: Cursor, allowAll: boolean): ProtocolSelector | undefined {
  if (allowAll && c.keyword(['all'])) return { kind: 'all' };
  const t = c.peek();
  if (t === undefined) return undefined;
  if (t.kind === 'string') {
    c.next();
    return { kind: 'pattern', pattern: t.text };
  }
  if (t.kind === 'word' && !RESERVED.has(t.text)) {
    c.next();
    return { kind: 'name', name: t.text };
  }
  throw syntax();
}

function symbol(c: Cursor): string {
  const t = c.next();
  if (t === undefined || t.kind !== 'word' || RESERVED.has(t.text)) throw syntax();
  return t.text;
}

const ROUTE_OPTIONS = ['all', 'for', 'protocol', 'export', 'count', 'stats', 'primary', 'filtered', 'table'] as const;

function routeArgs(c: Cursor, family: Family): RouteQuery {
  const q: RouteQuery = { detail: false, count: false, stats: false, primaryOnly: false, filteredOnly: false };
  let prefixSeen = false;
  while (!c.atEnd()) {
    const k = c.keyword(ROUTE_OPTIONS);
    if (k === undefined) {
      const t = c.next();
      if (t === undefined || t.kind !== 'other') throw syntax();
      if (prefixSeen) throw fail9001('Only one prefix expected');
      q.prefix = networkArg(t.text, family, false);
      prefixSeen = true;
      continue;
    }
    switch (k) {
      case 'all':
        q.detail = true;
        break;
      case 'count':
        q.count = true;
        break;
      case 'stats':
        q.stats = true;
        break;
      case 'primary':
        q.primaryOnly = true;
        break;
      case 'filtered':
        q.filteredOnly = true;
        break;
      case 'for': {
        const t = c.next();
        if (t === undefined || t.kind !== 'other') throw syntax();
        if (prefixSeen) throw fail9001('Only one prefix expected');
        q.forAddress = networkArg(t.text, family, true);
        prefixSeen = true;
        break;
      }
      case 'protocol':
        q.protocol = symbol(c);
        break;
      case 'export':
        q.exportOf = symbol(c);
        break;
      case 'table':
        q.table = symbol(c);
        break;
    }
  }
  return q;
}

/** An address (when allowed) or a prefix of this socket's family, validated as BIRD's grammar does. */
function networkArg(text: string, family: Family, addressAllowed: boolean): string {
  const [addr = '', len] = text.split('/', 2);
  // bird (IPv4) recognises IPv6 text and refuses it by name; bird6's lexer has no IPv4 form at all.
  if (family === 4 && addressValue(addr, 6) !== undefined) throw fail9001('This is an IPv4 router, therefore IPv6 addresses are not supported');
  if (len === undefined) {
    if (addressAllowed && addressValue(addr, family) !== undefined) return text;
    throw syntax();
  }
  const p = parsePrefixValue(text, family);
  if (p === undefined) {
    if (addressValue(addr, family) !== undefined && /^\d+$/.test(len)) throw fail9001(`Invalid prefix length ${Number(len)}`);
    throw syntax();
  }
  if (!isNetwork(p)) throw fail9001('Invalid prefix');
  return text;
}

function parseShow(c: Cursor, family: Family): Command {
  const what = c.expectKeyword(['status', 'protocols', 'route', 'memory', 'interfaces', 'symbols', 'ospf', 'bfd'] as const);
  switch (what) {
    case 'status':
      c.end();
      return { kind: 'showStatus' };
    case 'memory':
      c.end();
      return { kind: 'showMemory' };
    case 'symbols':
      c.end();
      return { kind: 'showSymbols' };
    case 'interfaces': {
      const summary = c.keyword(['summary']) !== undefined;
      c.end();
      return { kind: 'showInterfaces', summary };
    }
    case 'protocols': {
      const detail = c.keyword(['all']) !== undefined;
      const select = selector(c, false);
      c.end();
      return select === undefined ? { kind: 'showProtocols', detail } : { kind: 'showProtocols', detail, select };
    }
    case 'route':
      return { kind: 'showRoute', query: routeArgs(c, family) };
    case 'ospf': {
      // A reflector runs no OSPF: a named protocol is "Not a OSPF protocol", else none is running.
      c.keyword(['interface', 'neighbors', 'state', 'topology', 'lsadb']);
      const t = c.peek();
      if (t?.kind === 'word') throw fail9001(`${t.text}: Not a OSPF protocol`);
      throw fail9001('There is no OSPF protocol running');
    }
    case 'bfd':
      c.expectKeyword(['sessions']);
      throw fail9001('There is no BFD protocol running');
  }
}

function parseConfigure(c: Cursor): Command {
  const sub = c.keyword(['soft', 'check', 'confirm', 'undo', 'timeout'] as const);
  if (sub === 'confirm' || sub === 'undo') {
    c.end();
    return { kind: 'configure', mode: sub };
  }
  let mode: 'apply' | 'soft' | 'check' | 'timeout' = sub ?? 'apply';
  let file: string | undefined;
  const t = c.peek();
  if (t?.kind === 'string') {
    c.next();
    file = t.text;
  }
  if (mode !== 'check' && mode !== 'timeout' && c.keyword(['timeout'])) {
    mode = 'timeout';
  }
  if (mode === 'timeout') {
    const n = c.peek();
    if (n?.kind === 'other' && /^\d+$/.test(n.text)) c.next();
  }
  c.end();
  return file === undefined ? { kind: 'configure', mode } : { kind: 'configure', mode, file };
}

export interface ParseOptions {
  /** Accept unique keyword prefixes (`sh pro`); real BIRD leaves this to birdc. Default true. */
  abbreviations?: boolean;
}

/** Parse one request line (without its newline) for the socket of `family`. */
export function parseCommand(raw: string, family: Family, options: ParseOptions = {}): ParseResult {
  if (raw.length > MAX_COMMAND_LENGTH) return { ok: false, reply: TOO_LONG };
  try {
    const c = new Cursor(tokenize(raw), options.abbreviations ?? true);
    const verb = c.expectKeyword(['show', 'enable', 'disable', 'restart', 'reload', 'configure', 'restrict'] as const);
    let command: Command;
    switch (verb) {
      case 'show':
        command = parseShow(c, family);
        break;
      case 'enable':
      case 'disable':
      case 'restart': {
        const select = selector(c, true);
        if (select === undefined) throw syntax();
        c.end();
        command = { kind: 'protocolAction', action: verb, select };
        break;
      }
      case 'reload': {
        const direction = c.keyword(['in', 'out'] as const) ?? 'both';
        const select = selector(c, true);
        if (select === undefined) throw syntax();
        c.end();
        command = { kind: 'reload', direction, select };
        break;
      }
      case 'configure':
        command = parseConfigure(c);
        break;
      case 'restrict':
        c.end();
        command = { kind: 'restrict' };
        break;
    }
    return { ok: true, command };
  } catch (e) {
    if (e instanceof ParseError) return { ok: false, reply: e.reply };
    throw e;
  }
}

/** BIRD's patmatch: shell-style `*` and `?` over the whole name, case-sensitive. */
export function patternMatches(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`,
    's',
  );
  return re.test(name);
}
