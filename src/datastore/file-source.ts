// The embedded datastore: one JSON file mapping full etcd key paths to values, watched for changes (also when it
// is replaced atomically by rename or by a Kubernetes ConfigMap symlink swap); a bad file keeps the last good state.
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, open, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { rrEntryValue, rrKey, globalAsKey, DEFAULT_AS_NUMBER } from './calico-mapping.js';
import { MAX_ENTRY_BYTES, safeJsonParse } from './safe-value.js';
import type { KeySnapshot, KeySource, KeySourceEvents } from './source.js';
import { log } from '../log.js';

export interface FileKeySourceOptions {
  /** Quiet time after the last file-system event before the file is read again (editors write in bursts). */
  debounceMs?: number;
  /** Safety-net re-read interval for file systems whose events get lost (NFS, some overlays); 0 = off. */
  pollMs?: number;
  /** false = no fs.watch, polling only (file systems without inotify). Default true. */
  watch?: boolean;
  /** The embedded default: create the file with exampleDatastore(ip, ip6) at start when it does not exist. */
  createIfMissing?: { ip: string; ip6?: string | undefined } | undefined;
  /** DATASTORE_FILE_MAX_BYTES: a larger file is refused and the last good configuration kept (default 8 MiB). */
  maxBytes?: number;
}

export const DEFAULT_FILE_MAX_BYTES = 8 * 1024 * 1024;

export type ParsedDatastoreFile =
  | {
      ok: true;
      keys: Map<string, string>;
      /** Entries skipped for good (a key that is not a path, a null value). */
      problems: { key: string; reason: string }[];
      /** Keys whose value cannot be read (too large, too deep, broken JSON): their last good value is kept. */
      unreadable: { key: string; reason: string }[];
    }
  | { ok: false; error: string };

/** One member of the file's top-level object: its key text and the span of its value text. */
interface Member {
  keyText: string;
  valueStart: number;
  valueEnd: number;
}

/**
 * Splits the top-level JSON object into members by one linear scan (strings, escapes and bracket nesting
 * followed, nothing parsed), so that each value is parsed and judged on its own with the entry limits: one
 * hostile value — nested 20,000 deep, megabytes long, or broken — spoils only its own key.
 * Returns an error when the text is not one object of "key": value members.
 */
function splitTopLevel(text: string): Member[] | string {
  const ws = (i: number): number => {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    return i;
  };
  /** End (exclusive) of the string starting at i (a '"'), or -1 when it never ends. */
  const stringEnd = (i: number): number => {
    for (let j = i + 1; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c === 0x5c) j++;
      else if (c === 0x22) return j + 1;
    }
    return -1;
  };
  let i = ws(text.charCodeAt(0) === 0xfeff ? 1 : 0);
  if (text[i] !== '{') return 'the file must hold one JSON object mapping key paths to values';
  i = ws(i + 1);
  const members: Member[] = [];
  if (text[i] === '}') return ws(i + 1) === text.length ? members : 'not valid JSON: text after the closing "}"';
  for (;;) {
    if (text[i] !== '"') return `not valid JSON: expected a key (a string) at character ${i}`;
    const keyEnd = stringEnd(i);
    if (keyEnd < 0) return `not valid JSON: unterminated key at character ${i}`;
    const keyText = text.slice(i, keyEnd);
    i = ws(keyEnd);
    if (text[i] !== ':') return `not valid JSON: expected ":" at character ${i}`;
    const valueStart = ws(i + 1);
    let depth = 0;
    let j = valueStart;
    for (; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c === 0x22) {
        const e = stringEnd(j);
        if (e < 0) return `not valid JSON: unterminated string at character ${j}`;
        j = e - 1;
      } else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (depth === 0) break;
        depth--;
      } else if (c === 0x2c && depth === 0) break;
    }
    if (j >= text.length) return 'not valid JSON: the object is not closed';
    let valueEnd = j;
    while (valueEnd > valueStart && /\s/.test(text[valueEnd - 1] as string)) valueEnd--;
    if (valueEnd === valueStart) return `not valid JSON: missing value at character ${valueStart}`;
    members.push({ keyText, valueStart, valueEnd });
    if (text[j] === '}') return ws(j + 1) === text.length ? members : 'not valid JSON: text after the closing "}"';
    i = ws(j + 1);
  }
}

/**
 * Parses the file's text: a JSON object whose keys are full key paths and whose values are strings (stored as is)
 * or JSON objects/arrays (stored as their JSON text, like etcd values); numbers and booleans become their text.
 * Each entry is judged on its own (safe-value.ts limits): a value that cannot be read is listed in `unreadable`;
 * a file that is not a JSON object is an error.
 */
export function parseDatastoreFile(text: string): ParsedDatastoreFile {
  const members = splitTopLevel(text);
  if (typeof members === 'string') return { ok: false, error: members };
  const keys = new Map<string, string>();
  const problems: { key: string; reason: string }[] = [];
  const unreadable: { key: string; reason: string }[] = [];
  for (const m of members) {
    const parsedKey = safeJsonParse(m.keyText, { maxBytes: MAX_KEY_BYTES });
    if (!parsedKey.ok || typeof parsedKey.value !== 'string') {
      return { ok: false, error: `a key at character ${m.valueStart} is not a JSON string (${parsedKey.ok ? 'not a string' : parsedKey.reason})` };
    }
    const key = parsedKey.value;
    const shown = displayKey(key);
    if (!key.startsWith('/')) {
      problems.push({ key: shown, reason: 'key is not a full path (it must start with "/", e.g. "/calico/bgp/v1/global/as_num"); skipped' });
      continue;
    }
    // A later duplicate replaces an earlier one, as JSON.parse would have it.
    keys.delete(key);
    const parsed = safeJsonParse(text.slice(m.valueStart, m.valueEnd), { maxBytes: MAX_ENTRY_BYTES });
    if (!parsed.ok) {
      unreadable.push({ key, reason: parsed.reason });
      continue;
    }
    const value = parsed.value;
    if (typeof value === 'string') keys.set(key, value);
    else if (typeof value === 'number') {
      if (Number.isFinite(value)) keys.set(key, String(value));
      else unreadable.push({ key, reason: 'value is a number out of range' });
    } else if (typeof value === 'boolean') keys.set(key, String(value));
    else if (value !== null && typeof value === 'object') keys.set(key, JSON.stringify(value)); // depth is bounded
    else problems.push({ key: shown, reason: 'value is null; skipped' });
  }
  return { ok: true, keys, problems, unreadable };
}

/** Longest key path read from the file (etcd keys are paths of a few hundred bytes). */
const MAX_KEY_BYTES = 4096;

/** A key as it appears in a log line: cut when absurdly long. */
function displayKey(key: string): string {
  return key.length > 200 ? `${key.slice(0, 200)}… (${key.length} characters)` : key;
}

/** Reads at most `maxBytes` (+1 to notice more); undefined when the file is larger. */
async function readBounded(path: string, maxBytes: number): Promise<{ text: string } | { size: number }> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    if (st.size > maxBytes) return { size: st.size };
    // The size may change between stat and read (a writer appending): read until EOF or past the limit.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes + 1 - total));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) return { size: total };
    }
    return { text: Buffer.concat(chunks, total).toString('utf8') };
  } finally {
    await fh.close();
  }
}

/** A small valid datastore: the global AS and this reflector's own rr_v4 (and rr_v6) entry. */
export function exampleDatastore(ip: string, ip6?: string): string {
  const doc: Record<string, unknown> = {
    [globalAsKey()]: String(DEFAULT_AS_NUMBER),
    [rrKey(4, ip)]: JSON.parse(rrEntryValue(ip, undefined)) as unknown,
  };
  if (ip6 !== undefined) doc[rrKey(6, ip6)] = JSON.parse(rrEntryValue(ip6, undefined)) as unknown;
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Creates the datastore file with exampleDatastore() when it does not exist; true when it was created. */
export async function ensureDatastoreFile(path: string, ip: string, ip6?: string): Promise<boolean> {
  await mkdir(dirname(path), { recursive: true });
  try {
    await writeFile(path, exampleDatastore(ip, ip6), { flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/** Replaces the file atomically (temporary file + rename), the way the README tells operators to edit it. */
export async function writeDatastoreFileAtomically(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  await writeFile(tmp, text);
  await rename(tmp, path);
}

function sameKeys(a: KeySnapshot, b: KeySnapshot): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

export class FileKeySource implements KeySource {
  readonly name: string;
  private readonly path: string;
  private readonly debounceMs: number;
  private readonly pollMs: number;
  private readonly useWatch: boolean;
  private readonly createIfMissing: { ip: string; ip6?: string | undefined } | undefined;
  private readonly maxBytes: number;
  private events: KeySourceEvents | undefined;
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private lastText: string | undefined;
  private lastGood: Map<string, string> | undefined;
  private missingReported = false;
  private reading: Promise<void> | undefined;
  private readAgain = false;
  private stopped = false;

  constructor(path: string, options: FileKeySourceOptions = {}) {
    this.path = path;
    this.name = `file:${path}`;
    this.debounceMs = options.debounceMs ?? 40;
    this.pollMs = options.pollMs ?? 2000;
    this.useWatch = options.watch ?? true;
    this.createIfMissing = options.createIfMissing;
    this.maxBytes = options.maxBytes ?? DEFAULT_FILE_MAX_BYTES;
  }

  async start(events: KeySourceEvents): Promise<void> {
    this.events = events;
    this.stopped = false;
    if (this.createIfMissing !== undefined) {
      try {
        if (await ensureDatastoreFile(this.path, this.createIfMissing.ip, this.createIfMissing.ip6)) {
          log.info({ path: this.path }, `created the datastore file ${this.path} with an example (global AS and this reflector's own entry)`);
        }
      } catch (e) {
        events.problem(`cannot create ${this.path}: ${e instanceof Error ? e.message : String(e)}`, { path: this.path });
      }
    }
    // Watch the directory, not the file: a rename over the file replaces its inode, and a ConfigMap update
    // swaps a "..data" symlink; both show up as events in the directory. Every event triggers a re-read.
    if (this.useWatch) {
      try {
        this.watcher = watch(dirname(this.path), { persistent: false }, () => this.schedule());
        this.watcher.on('error', (err) => {
          this.events?.problem(`cannot watch ${dirname(this.path)}: ${err.message}; falling back to polling`, { path: this.path });
          this.watcher?.close();
          this.watcher = undefined;
        });
      } catch (e) {
        events.problem(`cannot watch ${dirname(this.path)}: ${e instanceof Error ? e.message : String(e)}; polling only`, {
          path: this.path,
        });
      }
    }
    if (this.pollMs > 0) {
      this.poll = setInterval(() => this.schedule(0), this.pollMs);
      this.poll.unref();
    }
    await this.read();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.debounce) clearTimeout(this.debounce);
    if (this.poll) clearInterval(this.poll);
    this.debounce = undefined;
    this.poll = undefined;
    await this.reading;
  }

  private schedule(delay = this.debounceMs): void {
    if (this.stopped) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      // Nothing a read meets may end the process: a failure is reported and the next event reads again.
      this.read().catch((e: unknown) => {
        this.events?.problem(`${this.path}: cannot apply the file: ${e instanceof Error ? e.message : String(e)}; keeping the last good configuration`, {
          path: this.path,
        });
      });
    }, delay);
  }

  /** Reads serially: an event during a read causes one more read afterwards. */
  private read(): Promise<void> {
    if (this.reading !== undefined) {
      this.readAgain = true;
      return this.reading;
    }
    this.reading = (async () => {
      try {
        do {
          this.readAgain = false;
          await this.readOnce();
        } while (this.readAgain && !this.stopped);
      } finally {
        this.reading = undefined;
      }
    })();
    return this.reading;
  }

  private async readOnce(): Promise<void> {
    const events = this.events;
    if (events === undefined || this.stopped) return;
    let text: string;
    try {
      const r = await readBounded(this.path, this.maxBytes);
      if ('size' in r) {
        if (this.stopped) return;
        const report = `size:${r.size}`;
        if (this.lastText !== report) {
          this.lastText = report;
          events.problem(
            `${this.path} is ${r.size} bytes, more than DATASTORE_FILE_MAX_BYTES (${this.maxBytes}); not read, keeping the last good configuration`,
            { path: this.path },
          );
        }
        return;
      }
      text = r.text;
    } catch (e) {
      if (this.stopped) return;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        if (this.lastGood === undefined) {
          // A missing datastore is an empty one (the original froze on a missing rr_v4 directory instead).
          this.lastGood = new Map();
          this.lastText = undefined;
          events.snapshot(new Map());
        }
        if (!this.missingReported) {
          this.missingReported = true;
          events.problem(`${this.path} does not exist; ${this.lastGood.size > 0 ? 'keeping the last good configuration' : 'no peers'} until it appears`, {
            path: this.path,
          });
        }
        return;
      }
      events.problem(`cannot read ${this.path}: ${code ?? String(e)}; keeping the last good configuration`, { path: this.path });
      return;
    }
    if (this.stopped) return;
    this.missingReported = false;
    if (text === this.lastText) return;
    this.lastText = text;
    const parsed = parseDatastoreFile(text);
    if (!parsed.ok) {
      events.problem(`${this.path}: ${parsed.error}; keeping the last good configuration`, { path: this.path });
      return;
    }
    for (const p of parsed.problems) events.problem(`${this.path}: ${p.key}: ${p.reason}`, { path: this.path, key: p.key });
    // A key whose value cannot be read keeps its last good value (or stays absent if it never had one).
    const next = parsed.keys;
    for (const u of parsed.unreadable) {
      const previous = this.lastGood?.get(u.key);
      if (previous !== undefined) next.set(u.key, previous);
      const shown = u.key.length > 200 ? `${u.key.slice(0, 200)}…` : u.key;
      events.problem(
        `${this.path}: ${shown}: ${u.reason}; ${previous !== undefined ? 'keeping its last good value' : 'skipped (no earlier value)'}`,
        { path: this.path, key: shown },
      );
    }
    if (this.lastGood !== undefined && sameKeys(this.lastGood, next)) return;
    this.lastGood = next;
    events.snapshot(new Map(next));
  }
}
