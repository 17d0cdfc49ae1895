// A small, strict reader for the YAML subset kubeconfig files use: block mappings, block sequences, plain and
// quoted scalars, empty flow collections and comments. Anything outside it is an error, never a guess.

/** The values this subset can produce. Plain scalars stay strings except null/true/false. */
export type YamlValue = string | boolean | null | YamlValue[] | { [key: string]: YamlValue };

export class YamlSubsetError extends Error {
  constructor(message: string, readonly line: number) {
    super(`line ${line}: ${message}`);
    this.name = 'YamlSubsetError';
  }
}

interface Line {
  /** 1-based line number in the source, for error messages. */
  no: number;
  indent: number;
  text: string;
}

/**
 * Parses `source` as JSON when it starts with `{` (JSON is valid YAML, and `kubectl config view -o json`
 * writes it), otherwise as the block-YAML subset.
 */
export function parseYamlSubset(source: string): YamlValue {
  const trimmed = source.replace(/^\uFEFF/, '').trimStart();
  if (trimmed.startsWith('{')) {
    try {
      return fromJson(JSON.parse(trimmed) as unknown, 1);
    } catch (err) {
      if (err instanceof YamlSubsetError) throw err;
      throw new YamlSubsetError(`invalid JSON: ${(err as Error).message}`, 1);
    }
  }
  const lines = splitLines(source);
  if (lines.length === 0) return null;
  const cursor = { i: 0 };
  const value = parseBlock(lines, cursor, lines[0]!.indent);
  if (cursor.i < lines.length) {
    const l = lines[cursor.i]!;
    throw new YamlSubsetError(`unexpected indentation or content: ${JSON.stringify(l.text)}`, l.no);
  }
  return value;
}

function fromJson(v: unknown, line: number): YamlValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.map((x) => fromJson(x, line));
  if (typeof v === 'object') {
    const out: { [key: string]: YamlValue } = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = fromJson(x, line);
    return out;
  }
  throw new YamlSubsetError('unsupported JSON value', line);
}

function splitLines(source: string): Line[] {
  const out: Line[] = [];
  const raw = source.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let n = 0; n < raw.length; n++) {
    const full = raw[n]!;
    const no = n + 1;
    const lead = /^[ \t]*/.exec(full)![0];
    if (lead.includes('\t') && full.trim() !== '') throw new YamlSubsetError('tab in indentation', no);
    const text = stripComment(full.slice(lead.length), no).trimEnd();
    if (text === '') continue;
    if (text === '---') {
      if (out.length > 0) throw new YamlSubsetError('more than one YAML document', no);
      continue;
    }
    if (text === '...' || text.startsWith('%')) throw new YamlSubsetError(`unsupported directive ${text}`, no);
    out.push({ no, indent: lead.length, text });
  }
  return out;
}

/** Removes a trailing comment: `#` at the start or after whitespace, outside quotes. */
function stripComment(text: string, no: number): string {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== undefined) {
      if (quote === '"' && c === '\\') i++;
      else if (c === quote) {
        if (quote === "'" && text[i + 1] === "'") i++;
        else quote = undefined;
      }
      continue;
    }
    // Quotes only open a scalar at its start (after ': ', '- ' or at the line start).
    if ((c === '"' || c === "'") && (i === 0 || /[\s:\-]/.test(text[i - 1]!) || text[i - 1] === '[')) {
      quote = c;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) return text.slice(0, i);
  }
  if (quote !== undefined) throw new YamlSubsetError('unterminated quoted scalar (multi-line quotes are not supported)', no);
  return text;
}

function parseBlock(lines: Line[], cursor: { i: number }, indent: number): YamlValue {
  const first = lines[cursor.i]!;
  if (isSequenceItem(first.text)) return parseSequence(lines, cursor, indent);
  return parseMapping(lines, cursor, indent);
}

function isSequenceItem(text: string): boolean {
  return text === '-' || text.startsWith('- ');
}

function parseSequence(lines: Line[], cursor: { i: number }, indent: number): YamlValue[] {
  const out: YamlValue[] = [];
  while (cursor.i < lines.length) {
    const l = lines[cursor.i]!;
    if (l.indent < indent) break;
    if (l.indent > indent) throw new YamlSubsetError(`unexpected indentation: ${JSON.stringify(l.text)}`, l.no);
    if (!isSequenceItem(l.text)) break;
    const rest = l.text.slice(1).trimStart();
    if (rest === '') {
      cursor.i++;
      const next = lines[cursor.i];
      if (next === undefined || next.indent <= indent) out.push(null);
      else out.push(parseBlock(lines, cursor, next.indent));
      continue;
    }
    // "- key: value" opens a mapping whose column is that of "key": rewrite the line in place as that entry.
    const column = l.indent + (l.text.length - rest.length);
    if (isSequenceItem(rest)) throw new YamlSubsetError('nested inline sequences are not supported', l.no);
    if (rest[0] !== '{' && rest[0] !== '[' && findMappingColon(rest) >= 0) {
      lines[cursor.i] = { no: l.no, indent: column, text: rest };
      out.push(parseMapping(lines, cursor, column));
    } else {
      out.push(parseScalar(rest, l.no));
      cursor.i++;
    }
  }
  return out;
}

function parseMapping(lines: Line[], cursor: { i: number }, indent: number): { [key: string]: YamlValue } {
  const out: { [key: string]: YamlValue } = {};
  while (cursor.i < lines.length) {
    const l = lines[cursor.i]!;
    if (l.indent < indent) break;
    if (l.indent > indent) throw new YamlSubsetError(`unexpected indentation: ${JSON.stringify(l.text)}`, l.no);
    if (isSequenceItem(l.text)) break;
    const colon = findMappingColon(l.text);
    if (colon < 0) throw new YamlSubsetError(`expected "key: value", got ${JSON.stringify(l.text)}`, l.no);
    const key = parseKey(l.text.slice(0, colon).trim(), l.no);
    if (Object.prototype.hasOwnProperty.call(out, key)) throw new YamlSubsetError(`duplicate key ${JSON.stringify(key)}`, l.no);
    const rest = l.text.slice(colon + 1).trim();
    cursor.i++;
    if (rest !== '') {
      out[key] = parseScalar(rest, l.no);
      continue;
    }
    const next = lines[cursor.i];
    if (next !== undefined && next.indent > indent) {
      out[key] = parseBlock(lines, cursor, next.indent);
    } else if (next !== undefined && next.indent === indent && isSequenceItem(next.text)) {
      // YAML lets a sequence value sit at its key's own indentation ("clusters:\n- cluster: ..."), as kubectl writes.
      out[key] = parseSequence(lines, cursor, indent);
    } else {
      out[key] = null;
    }
  }
  return out;
}

/** Index of the ':' that ends a mapping key (followed by a space or end of line), outside quotes; -1 if none. */
function findMappingColon(text: string): number {
  let i = 0;
  if (text[0] === '"' || text[0] === "'") {
    const q = text[0];
    i = 1;
    while (i < text.length) {
      if (q === '"' && text[i] === '\\') i += 2;
      else if (text[i] === q) {
        if (q === "'" && text[i + 1] === "'") i += 2;
        else break;
      } else i++;
    }
    i++;
  }
  for (; i < text.length; i++) {
    if (text[i] === ':' && (i + 1 === text.length || text[i + 1] === ' ')) return i;
  }
  return -1;
}

function parseKey(text: string, no: number): string {
  if (text === '') throw new YamlSubsetError('empty mapping key', no);
  const v = parseScalar(text, no);
  if (typeof v !== 'string') {
    if (v === null || typeof v === 'boolean') return text;
    throw new YamlSubsetError('complex mapping keys are not supported', no);
  }
  return v;
}

function parseScalar(text: string, no: number): YamlValue {
  const c = text[0]!;
  if (c === '"') return parseDoubleQuoted(text, no);
  if (c === "'") {
    if (!text.endsWith("'") || text.length < 2) throw new YamlSubsetError('bad single-quoted scalar', no);
    const inner = text.slice(1, -1);
    if (/'(?!')/.test(inner.replace(/''/g, ''))) throw new YamlSubsetError('bad single-quoted scalar', no);
    return inner.replace(/''/g, "'");
  }
  if (text === '{}') return {};
  if (text === '[]') return [];
  if (c === '{' || c === '[') return parseFlow(text, no);
  if (c === '|' || c === '>') throw new YamlSubsetError('block scalars (| and >) are not supported', no);
  if (c === '&' || c === '*' || c === '!') throw new YamlSubsetError('anchors, aliases and tags are not supported', no);
  if (c === '@' || c === '`') throw new YamlSubsetError(`reserved indicator ${c}`, no);
  if (text === '~' || text === 'null' || text === 'Null' || text === 'NULL') return null;
  if (text === 'true' || text === 'True' || text === 'TRUE') return true;
  if (text === 'false' || text === 'False' || text === 'FALSE') return false;
  if (findMappingColon(text) >= 0) throw new YamlSubsetError(`unexpected "key: value" in a scalar: ${JSON.stringify(text)}`, no);
  return text;
}

/** A flow collection on one line: `[a, "b", {c: d}]`, `{k: v, k2: [1, 2]}`. Plain scalars may not hold ,[]{}. */
function parseFlow(text: string, no: number): YamlValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new YamlSubsetError(`flow collection: ${what} at column ${i + 1} of ${JSON.stringify(text)}`, no);
  };
  const ws = (): void => {
    while (text[i] === ' ') i++;
  };
  const scalar = (isKey: boolean): YamlValue => {
    ws();
    const q = text[i];
    if (q === '"' || q === "'") {
      let j = i + 1;
      while (j < text.length) {
        if (q === '"' && text[j] === '\\') j += 2;
        else if (text[j] === q) {
          if (q === "'" && text[j + 1] === "'") j += 2;
          else break;
        } else j++;
      }
      if (j >= text.length) fail('unterminated quoted scalar');
      const token = text.slice(i, j + 1);
      i = j + 1;
      return parseScalar(token, no);
    }
    const start = i;
    while (i < text.length && !',[]{}'.includes(text[i]!)) {
      if (isKey && text[i] === ':' && (text[i + 1] === ' ' || text[i + 1] === undefined || ',}'.includes(text[i + 1]!))) break;
      i++;
    }
    const token = text.slice(start, i).trim();
    if (token === '') fail('missing value');
    return parseScalar(token, no);
  };
  const value = (): YamlValue => {
    ws();
    if (text[i] === '[') {
      i++;
      const out: YamlValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          ws();
          if (text[i] === ']') break;
          continue;
        }
        if (text[i] === ']') break;
        fail('expected , or ]');
      }
      i++;
      return out;
    }
    if (text[i] === '{') {
      i++;
      const out: { [key: string]: YamlValue } = {};
      ws();
      if (text[i] === '}') {
        i++;
        return out;
      }
      for (;;) {
        const k = scalar(true);
        if (typeof k === 'object' && k !== null) fail('complex key');
        const key = k === null ? 'null' : String(k);
        if (Object.prototype.hasOwnProperty.call(out, key)) fail(`duplicate key ${JSON.stringify(key)}`);
        ws();
        if (text[i] !== ':') fail('expected :');
        i++;
        out[key] = value();
        ws();
        if (text[i] === ',') {
          i++;
          ws();
          if (text[i] === '}') break;
          continue;
        }
        if (text[i] === '}') break;
        fail('expected , or }');
      }
      i++;
      return out;
    }
    return scalar(false);
  };
  const v = value();
  ws();
  if (i !== text.length) fail('text after the collection');
  return v;
}

function parseDoubleQuoted(text: string, no: number): string {
  if (text.length < 2 || !text.endsWith('"')) throw new YamlSubsetError('bad double-quoted scalar', no);
  const inner = text.slice(1, -1);
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i]!;
    if (ch === '"') throw new YamlSubsetError('text after a double-quoted scalar', no);
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const e = inner[++i];
    const simple: Record<string, string> = {
      n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', a: '\x07', e: '\x1b', '"': '"', '\\': '\\', '/': '/', '0': '\0', ' ': ' ',
    };
    if (e !== undefined && simple[e] !== undefined) out += simple[e];
    else if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = inner.slice(i + 1, i + 1 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw new YamlSubsetError('bad escape in double-quoted scalar', no);
      out += String.fromCodePoint(parseInt(hex, 16));
      i += len;
    } else throw new YamlSubsetError(`unsupported escape \\${e ?? ''}`, no);
  }
  return out;
}
