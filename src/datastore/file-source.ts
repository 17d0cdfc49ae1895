// The embedded datastore: one JSON file mapping full etcd key paths to values, watched for changes (also when it
// is replaced atomically by rename or by a Kubernetes ConfigMap symlink swap); a bad file keeps the last good state.
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { rrEntryValue, rrKey, globalAsKey, DEFAULT_AS_NUMBER } from './calico-mapping.js';
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
}

export type ParsedDatastoreFile =
  | { ok: true; keys: Map<string, string>; problems: { key: string; reason: string }[] }
  | { ok: false; error: string };

/**
 * Parses the file's text: a JSON object whose keys are full key paths and whose values are strings (stored as is)
 * or JSON objects/arrays (stored as their JSON text, like etcd values); numbers and booleans become their text.
 * A bad single entry is reported and skipped; a file that is not a JSON object is an error.
 */
export function parseDatastoreFile(text: string): ParsedDatastoreFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { ok: false, error: 'the file must hold one JSON object mapping key paths to values' };
  }
  const keys = new Map<string, string>();
  const problems: { key: string; reason: string }[] = [];
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (!key.startsWith('/')) {
      problems.push({ key, reason: 'key is not a full path (it must start with "/", e.g. "/calico/bgp/v1/global/as_num"); skipped' });
      continue;
    }
    if (typeof value === 'string') keys.set(key, value);
    else if (typeof value === 'number' || typeof value === 'boolean') keys.set(key, String(value));
    else if (value !== null && typeof value === 'object') keys.set(key, JSON.stringify(value));
    else problems.push({ key, reason: 'value is null; skipped' });
  }
  return { ok: true, keys, problems };
}

/** A small valid datastore: the global AS and this reflector's own rr_v4 (and rr_v6) entry. */
export function exampleDatastore(ip: string, ip6?: string | undefined): string {
  const doc: Record<string, unknown> = {
    [globalAsKey()]: String(DEFAULT_AS_NUMBER),
    [rrKey(4, ip)]: JSON.parse(rrEntryValue(ip, undefined)) as unknown,
  };
  if (ip6 !== undefined) doc[rrKey(6, ip6)] = JSON.parse(rrEntryValue(ip6, undefined)) as unknown;
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Creates the datastore file with exampleDatastore() when it does not exist; true when it was created. */
export async function ensureDatastoreFile(path: string, ip: string, ip6?: string | undefined): Promise<boolean> {
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
      void this.read();
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
      text = await readFile(this.path, 'utf8');
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
    if (this.lastGood !== undefined && sameKeys(this.lastGood, parsed.keys)) return;
    this.lastGood = parsed.keys;
    events.snapshot(new Map(parsed.keys));
  }
}
