// Datastore values are untrusted input (every calico-node may write /calico/bgp/v1 keys): this module parses them
// with bounded size and nesting depth, and describes a bad value in a few words for a log line — never the whole
// value, never a secret's characters, and never by a recursive walk (JSON.stringify or String() of an array nested
// 20,000 deep overflows the stack; that crashed the reflector, issue 21).

/** Largest value of one /calico/bgp/v1 key (a peer entry is < 1 KiB; etcd itself allows 1.5 MiB). */
export const MAX_ENTRY_BYTES = 64 * 1024;
/** Largest Calico v3 resource or Kubernetes object judged (a Node with many labels and annotations stays far below). */
export const MAX_RESOURCE_BYTES = 1024 * 1024;
/** Deepest JSON nesting accepted; Calico's own values nest at most 5 deep (a resource's spec.bgp.…). */
export const MAX_JSON_DEPTH = 32;

export interface JsonLimits {
  maxBytes?: number;
  maxDepth?: number;
}

export type SafeJson = { ok: true; value: unknown } | { ok: false; reason: string };

/**
 * Nesting depth of a JSON text found by one linear scan (strings and escapes honoured), stopping as soon as it
 * passes `limit`: no recursion, no allocation, whatever the text.
 */
export function jsonTextDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > limit) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return false;
}

/** Size of a text in UTF-8 bytes, without encoding it when its length alone decides. */
function tooLarge(text: string, maxBytes: number): boolean {
  if (text.length > maxBytes) return true; // every UTF-16 unit is at least one UTF-8 byte
  if (text.length * 3 <= maxBytes) return false; // at most three bytes per unit
  return Buffer.byteLength(text, 'utf8') > maxBytes;
}

/**
 * JSON.parse with limits. The reason never quotes the text: V8's own messages carry a snippet of it (which may
 * be the start of a password), so only the position is kept.
 */
export function safeJsonParse(text: string, limits: JsonLimits = {}): SafeJson {
  const maxBytes = limits.maxBytes ?? MAX_ENTRY_BYTES;
  const maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH;
  if (tooLarge(text, maxBytes)) return { ok: false, reason: `value too large (${sizeText(text)}; the limit is ${bytesText(maxBytes)})` };
  if (jsonTextDepthExceeds(text, maxDepth)) return { ok: false, reason: `value nested deeper than ${maxDepth} levels` };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    const m = e instanceof Error ? /position (\d+)/.exec(e.message) : null;
    return { ok: false, reason: m ? `value is not JSON (error at character ${m[1]})` : 'value is not JSON' };
  }
}

/**
 * Judges an already parsed value (a Kubernetes object from a list) the way safeJsonParse judges text: nesting
 * depth and a size estimate, by an explicit stack that stops at the first excess.
 */
export function checkParsedValue(value: unknown, limits: JsonLimits = {}): string | undefined {
  const maxBytes = limits.maxBytes ?? MAX_RESOURCE_BYTES;
  const maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH;
  const stack: [unknown, number][] = [[value, 1]];
  let bytes = 0;
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v === 'string') bytes += v.length + 2;
    else if (v === null || typeof v !== 'object') bytes += 8;
    else {
      if (depth > maxDepth) return `value nested deeper than ${maxDepth} levels`;
      if (Array.isArray(v)) {
        bytes += 2 + v.length;
        for (const x of v as unknown[]) stack.push([x, depth + 1]);
      } else {
        for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
          bytes += k.length + 4;
          stack.push([x, depth + 1]);
        }
      }
    }
    if (bytes > maxBytes) return `value too large (more than ${bytesText(maxBytes)})`;
  }
  return undefined;
}

function bytesText(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

function sizeText(text: string): string {
  return text.length > 16 * 1024 * 1024 ? `${text.length} characters` : `${Buffer.byteLength(text, 'utf8')} bytes`;
}

/** Field names whose values are secrets wherever they appear (a peer entry's TCP-MD5 key, credentials, tokens). */
const SECRET_FIELD = /pass(word|wd)?|secret|token|credential|private[-_]?key|^key-?data$|^authorization$/i;

export function isSecretField(name: string): boolean {
  return SECRET_FIELD.test(name);
}

/** True for text that may carry a secret (it names one), which then is never quoted, not even in part. */
function mayHoldSecret(text: string): boolean {
  return /pass|secret|token|key/i.test(text);
}

const SNIPPET = 24;

/** A short quotable form of `text`: control, non-ASCII-space and quote characters escaped, cut at SNIPPET. */
function quote(text: string): string {
  const cut = text.length > SNIPPET ? text.slice(0, SNIPPET) : text;
  const escaped = JSON.stringify(cut).slice(1, -1).replace(/[\u007f-\u009f\u00ad\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `"${escaped}${text.length > SNIPPET ? '…' : ''}"`;
}

export interface DescribeOptions {
  /** The value is a secret (a password field): say its type and length only. */
  secret?: boolean;
}

/**
 * A few words about a value for a log line: its type, length and at most a short quoted snippet, e.g.
 * `"1.2.3.4.5"`, `a string of 70000 characters starting "aaaa…"`, `an array of 1 item`, `an object with keys ip,
 * as_num`, `1e+21`. Constant work whatever the value (no recursion into it).
 */
export function describeValue(value: unknown, options: DescribeOptions = {}): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (Object.is(value, -0)) return '-0';
    return Number.isFinite(value) ? String(value) : 'a number out of range';
  }
  if (typeof value === 'bigint') return 'a big integer';
  if (typeof value === 'string') {
    if (options.secret === true) return `a secret of ${value.length} characters (not shown)`;
    if (mayHoldSecret(value)) return `a string of ${value.length} characters (not quoted: it may hold a secret)`;
    if (value.length <= SNIPPET) return quote(value);
    return `a string of ${value.length} characters starting ${quote(value)}`;
  }
  if (Array.isArray(value)) {
    const n = (value as unknown[]).length;
    return `an array of ${n} item${n === 1 ? '' : 's'}`;
  }
  if (typeof value === 'object') {
    if (options.secret === true) return 'an object (not shown)';
    const names: string[] = [];
    let count = 0;
    for (const k in value as Record<string, unknown>) {
      if (!Object.prototype.hasOwnProperty.call(value, k)) continue;
      count++;
      if (names.length < 5) names.push(k.length > 20 ? `${quote(k.slice(0, 20))}…` : /^[\w.-]+$/.test(k) ? k : quote(k));
    }
    if (count === 0) return 'an empty object';
    return `an object with key${count === 1 ? '' : 's'} ${names.join(', ')}${count > names.length ? ` and ${count - names.length} more` : ''}`;
  }
  return typeof value;
}

/**
 * A copy of a parsed JSON value with every secret field's value replaced by "[redacted]", nested objects
 * included (the depth is bounded by the parser's limit; deeper parts are cut rather than walked).
 */
export function redactJson(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_JSON_DEPTH) return '[cut]';
  if (Array.isArray(value)) return (value as unknown[]).map((v) => redactJson(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = isSecretField(k) ? '[redacted]' : redactJson(v, depth + 1);
  return out;
}

const LOGGED_VALUE_CHARS = 512;

/**
 * A datastore value as it may appear in a debug log line: JSON with its secret fields redacted, cut at
 * LOGGED_VALUE_CHARS; a value that is not JSON is shown only when it cannot hold a secret.
 */
export function loggableValue(value: string): string {
  const parsed = safeJsonParse(value);
  if (parsed.ok && parsed.value !== null && typeof parsed.value === 'object') {
    const text = JSON.stringify(redactJson(parsed.value));
    return text.length > LOGGED_VALUE_CHARS ? `${text.slice(0, LOGGED_VALUE_CHARS)}… (${text.length} characters)` : text;
  }
  if (parsed.ok && typeof parsed.value !== 'string') return value.length <= 64 ? value : describeValue(parsed.value);
  // Not JSON (a bare address or AS number, or broken JSON): shown only when it cannot be part of a secret.
  if (mayHoldSecret(value) || /^\s*[{["]/.test(value)) {
    return `a value of ${value.length} characters (not shown${parsed.ok ? '' : `: ${parsed.reason}`})`;
  }
  return value.length > LOGGED_VALUE_CHARS ? `${quote(value)} (${value.length} characters)` : value;
}
