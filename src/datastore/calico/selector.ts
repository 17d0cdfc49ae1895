// Calico's label-selector language (BGPPeer nodeSelector / peerSelector, and every other Calico selector), as a
// pure parser and evaluator. The accepted language follows libcalico-go lib/selector (tokenizer + parser + ast) of
// projectcalico/calico, read at 87c1590: same tokens, same precedence, same quirks ("notin", "startswith", a
// trailing comma in a set, "" = all()), so a selector calico-node accepts is accepted here and means the same.
// Written from that reading, not translated line by line.

/** The parsed form. `in` / `not in` sets are sorted (by UTF-8 bytes, as Go sorts strings) and de-duplicated. */
export type Selector =
  | { kind: 'all' }
  | { kind: 'global' }
  | { kind: 'has'; label: string }
  | { kind: 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith'; label: string; value: string }
  | { kind: 'in' | 'notIn'; label: string; values: string[] }
  | { kind: 'not'; operand: Selector }
  | { kind: 'and' | 'or'; operands: Selector[] };

/** Labels to match: a plain object (own properties only) or a Map. */
export type Labels = Readonly<Record<string, string>> | ReadonlyMap<string, string>;

/** Longest label name Calico accepts (tokenizer MaxLabelLength). */
export const MAX_LABEL_LENGTH = 512;

/**
 * A selector that does not parse. `position` is the offset (UTF-16 code units) in `text` where the problem was
 * found; the message names the selector so that a caller only has to prefix the resource and field.
 */
export class SelectorError extends Error {
  override name = 'SelectorError';
  constructor(
    readonly text: string,
    readonly position: number,
    readonly reason: string,
  ) {
    super(`selector ${JSON.stringify(text)}: ${reason} at position ${position}`);
  }
}

// ---- tokens ----

type TokKind =
  | 'label' | 'string' | 'lbrace' | 'rbrace' | 'comma' | 'eq' | 'ne' | 'in' | 'not' | 'notIn' | 'contains'
  | 'startsWith' | 'endsWith' | 'all' | 'has' | 'lparen' | 'rparen' | 'and' | 'or' | 'global' | 'eof';

interface Token {
  kind: TokKind;
  /** Label name or string contents. */
  value: string;
  pos: number;
}

const TOKEN_TEXT: Record<TokKind, string> = {
  label: 'a label', string: 'a string', lbrace: '"{"', rbrace: '"}"', comma: '","', eq: '"=="', ne: '"!="',
  in: '"in"', not: '"!"', notIn: '"not in"', contains: '"contains"', startsWith: '"starts with"',
  endsWith: '"ends with"', all: '"all()"', has: '"has(...)"', lparen: '"("', rparen: '")"', and: '"&&"',
  or: '"||"', global: '"global()"', eof: 'the end of the selector',
};

function describe(t: Token): string {
  return t.kind === 'label' ? `label ${JSON.stringify(t.value)}` : t.kind === 'string' ? `string ${JSON.stringify(t.value)}` : TOKEN_TEXT[t.kind];
}

/** Label characters: ASCII letters, digits, '_', '.', '/', '-' (so "prefix/name" is one label). */
function isLabelChar(c: string | undefined): boolean {
  if (c === undefined) return false;
  const n = c.charCodeAt(0);
  return (n >= 97 && n <= 122) || (n >= 65 && n <= 90) || (n >= 48 && n <= 57) || c === '_' || c === '.' || c === '/' || c === '-';
}

/** Only space and tab separate tokens; a newline is an error, as in Calico. */
function skipSpace(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  return i;
}

function tokenize(text: string): Token[] {
  const toks: Token[] = [];
  const fail = (pos: number, reason: string): never => {
    throw new SelectorError(text, pos, reason);
  };
  // A label: its end, or an error when empty or too long.
  const label = (start: number): number => {
    let j = start;
    while (j < text.length && isLabelChar(text[j])) j++;
    if (j === start) fail(start, text[start] === undefined ? 'expected a label name' : `expected a label name, found ${JSON.stringify(text[start])}`);
    if (j - start > MAX_LABEL_LENGTH) fail(start, `label name longer than ${MAX_LABEL_LENGTH} characters`);
    return j;
  };
  // A keyword followed by a word boundary (end, or anything but a label character).
  const word = (i: number, w: string): number | undefined =>
    text.startsWith(w, i) && !isLabelChar(text[i + w.length]) ? i + w.length : undefined;
  // "starts with", "startswith", "not  in", ...: spaces between the words are optional, a boundary after the last.
  const words = (i: number, a: string, b: string): number | undefined => {
    if (!text.startsWith(a, i)) return undefined;
    return word(skipSpace(text, i + a.length), b);
  };
  let i = 0;
  for (;;) {
    i = skipSpace(text, i);
    if (i >= text.length) {
      toks.push({ kind: 'eof', value: '', pos: i });
      return toks;
    }
    const c = text[i]!;
    const at = i;
    const push = (kind: TokKind, end: number, value = ''): void => {
      toks.push({ kind, value, pos: at });
      i = end;
    };
    switch (c) {
      case '(': push('lparen', i + 1); continue;
      case ')': push('rparen', i + 1); continue;
      case '{': push('lbrace', i + 1); continue;
      case '}': push('rbrace', i + 1); continue;
      case ',': push('comma', i + 1); continue;
      case '"':
      case "'": {
        // No escapes: the string runs to the next quote of the same kind.
        const close = text.indexOf(c, i + 1);
        if (close < 0) fail(at, 'unterminated string');
        push('string', close + 1, text.slice(i + 1, close));
        continue;
      }
      case '=':
        if (text.startsWith('==', i)) push('eq', i + 2);
        else fail(at, 'expected "=="');
        continue;
      case '!':
        if (text.startsWith('!=', i)) push('ne', i + 2);
        else push('not', i + 1);
        continue;
      case '&':
        if (text.startsWith('&&', i)) push('and', i + 2);
        else fail(at, 'expected "&&"');
        continue;
      case '|':
        if (text.startsWith('||', i)) push('or', i + 2);
        else fail(at, 'expected "||"');
        continue;
    }
    const prev = toks[toks.length - 1];
    if (prev?.kind === 'label') {
      // Right after a label only an operator word may follow.
      let end: number | undefined;
      if ((end = word(i, 'contains')) !== undefined) push('contains', end);
      else if ((end = words(i, 'starts', 'with')) !== undefined) push('startsWith', end);
      else if ((end = words(i, 'ends', 'with')) !== undefined) push('endsWith', end);
      else if ((end = words(i, 'not', 'in')) !== undefined) push('notIn', end);
      else if ((end = word(i, 'in')) !== undefined) push('in', end);
      else fail(at, `expected an operator after label ${JSON.stringify(prev.value)}`);
      continue;
    }
    // "has(", "all(" and "global(" only without a space before "(".
    if (text.startsWith('has(', i)) {
      const start = skipSpace(text, i + 4);
      const end = label(start);
      const close = skipSpace(text, end);
      if (text[close] !== ')') fail(close, 'expected ")" to close has(');
      push('has', close + 1, text.slice(start, end));
      continue;
    }
    let fn: 'all' | 'global' | undefined;
    if (text.startsWith('all(', i)) fn = 'all';
    else if (text.startsWith('global(', i)) fn = 'global';
    if (fn !== undefined) {
      const close = skipSpace(text, i + fn.length + 1);
      if (text[close] !== ')') fail(close, `expected ")" after ${fn}(`);
      push(fn, close + 1);
      continue;
    }
    const end = label(i);
    push('label', end, text.slice(at, end));
  }
}

/** The token stream (without the final end token), for tests and diagnostics: [kind] or [kind, text]. */
export function tokenizeSelector(text: string): Array<[string] | [string, string]> {
  return tokenize(text)
    .filter((t) => t.kind !== 'eof')
    .map((t) => (t.kind === 'label' || t.kind === 'string' || t.kind === 'has' ? [t.kind, t.value] : [t.kind]));
}

// ---- parser ----

/** Parses a selector; "" (or only spaces) is all(). Throws SelectorError, and nothing else, on bad input. */
export function parseSelector(text: string): Selector {
  const toks = tokenize(text);
  if (toks[0]!.kind === 'eof') return { kind: 'all' };
  let p = 0;
  const peek = (): Token => toks[p]!; // the eof token is never consumed, so p stays in range
  const fail = (t: Token, reason: string): never => {
    throw new SelectorError(text, t.pos, reason);
  };

  const parseOr = (): Selector => {
    const ops = [parseAnd()];
    while (peek().kind === 'or') {
      p++;
      ops.push(parseAnd());
    }
    return ops.length === 1 ? ops[0]! : { kind: 'or', operands: ops };
  };
  const parseAnd = (): Selector => {
    const ops = [parseOp()];
    while (peek().kind === 'and') {
      p++;
      ops.push(parseOp());
    }
    return ops.length === 1 ? ops[0]! : { kind: 'and', operands: ops };
  };
  const parseOp = (): Selector => {
    // Any run of "!" collapses to its parity and applies to the whole operation after it.
    let negated = false;
    while (peek().kind === 'not') {
      negated = !negated;
      p++;
    }
    const t = peek();
    let sel: Selector;
    switch (t.kind) {
      case 'has':
        p++;
        sel = { kind: 'has', label: t.value };
        break;
      case 'all':
      case 'global':
        p++;
        sel = { kind: t.kind };
        break;
      case 'lparen': {
        p++;
        sel = parseOr();
        if (peek().kind !== 'rparen') fail(peek(), `expected ")" to close the "(" at position ${t.pos}, found ${describe(peek())}`);
        p++;
        break;
      }
      case 'label': {
        p++;
        const op = peek();
        p++;
        switch (op.kind) {
          case 'eq':
          case 'ne':
          case 'contains':
          case 'startsWith':
          case 'endsWith': {
            const v = peek();
            if (v.kind !== 'string') fail(v, `expected a quoted string after ${TOKEN_TEXT[op.kind]}, found ${describe(v)}`);
            p++;
            sel = { kind: op.kind, label: t.value, value: v.value };
            break;
          }
          case 'in':
          case 'notIn': {
            const open = peek();
            if (open.kind !== 'lbrace') fail(open, `expected a set {"a", "b"} after ${TOKEN_TEXT[op.kind]}, found ${describe(open)}`);
            p++;
            const values: string[] = [];
            // Strings separated by commas; a trailing comma is accepted, as Calico's loop does.
            while (peek().kind === 'string') {
              values.push(peek().value);
              p++;
              if (peek().kind !== 'comma') break;
              p++;
            }
            if (peek().kind !== 'rbrace') fail(peek(), `expected a string or "}" in the set, found ${describe(peek())}`);
            p++;
            sel = { kind: op.kind, label: t.value, values: sortedUnique(values) };
            break;
          }
          default:
            // The tokenizer only lets operator words follow a label; this is a symbol such as "(" or a string.
            fail(op, `expected an operator after label ${JSON.stringify(t.value)}, found ${describe(op)}`);
        }
        break;
      }
      default:
        fail(t, `unexpected ${describe(t)}`);
    }
    return negated ? { kind: 'not', operand: sel! } : sel!;
  };

  const root = parseOr();
  if (peek().kind !== 'eof') fail(peek(), `unexpected ${describe(peek())} after a complete selector`);
  return root;
}

/** Go's string order: byte-wise on UTF-8 (differs from JS's UTF-16 order above U+D7FF). */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function sortedUnique(values: string[]): string[] {
  const s = [...values].sort(compareUtf8);
  return s.filter((v, i) => i === 0 || v !== s[i - 1]);
}

// ---- evaluation ----

function lookup(labels: Labels, key: string): string | undefined {
  if (labels instanceof Map) return (labels as ReadonlyMap<string, string>).get(key);
  const rec = labels as Readonly<Record<string, string>>;
  return Object.prototype.hasOwnProperty.call(rec, key) ? rec[key] : undefined;
}

/**
 * Whether `labels` match. Exact, case-sensitive comparisons; on an absent label `!=` and `not in` are true and
 * every other comparison false; has() is true for an empty value; all() and global() are always true.
 */
export function evaluateSelector(sel: Selector, labels: Labels): boolean {
  // Three switches on purpose: the kinds without a label, then those true on an absent label, then the rest.
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- the later switches take the rest
  switch (sel.kind) {
    case 'all':
    case 'global':
      return true;
    case 'has':
      return lookup(labels, sel.label) !== undefined;
    case 'not':
      return !evaluateSelector(sel.operand, labels);
    case 'and':
      return sel.operands.every((o) => evaluateSelector(o, labels));
    case 'or':
      return sel.operands.some((o) => evaluateSelector(o, labels));
  }
  const v = lookup(labels, sel.label);
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- the switch below takes the rest
  switch (sel.kind) {
    case 'ne':
      return v === undefined || v !== sel.value;
    case 'notIn':
      return v === undefined || !sel.values.includes(v);
  }
  if (v === undefined) return false;
  switch (sel.kind) {
    case 'eq':
      return v === sel.value;
    case 'contains':
      return v.includes(sel.value);
    case 'startsWith':
      return v.startsWith(sel.value);
    case 'endsWith':
      return v.endsWith(sel.value);
    case 'in':
      return sel.values.includes(v);
  }
}

// ---- printing ----

/** A string literal as Calico prints it: double quotes unless the text contains one. */
function quote(s: string): string {
  return s.includes('"') ? `'${s}'` : `"${s}"`;
}

const OP_TEXT = { eq: ' == ', ne: ' != ', contains: ' contains ', startsWith: ' starts with ', endsWith: ' ends with ' } as const;

/**
 * Calico's canonical text (Selector.String()): `&&` / `||` groups in parentheses, `!` directly before its operand.
 * parseSelector(printSelector(s)) gives s back for any parsed s (a string never holds both quote kinds).
 */
export function printSelector(sel: Selector): string {
  switch (sel.kind) {
    case 'all':
      return 'all()';
    case 'global':
      return 'global()';
    case 'has':
      return `has(${sel.label})`;
    case 'not':
      return `!${printSelector(sel.operand)}`;
    case 'and':
    case 'or':
      return `(${sel.operands.map(printSelector).join(sel.kind === 'and' ? ' && ' : ' || ')})`;
    case 'in':
    case 'notIn':
      return `${sel.label} ${sel.kind === 'in' ? 'in' : 'not in'} {${sel.values.map(quote).join(', ')}}`;
    default:
      return `${sel.label}${OP_TEXT[sel.kind]}${quote(sel.value)}`;
  }
}
