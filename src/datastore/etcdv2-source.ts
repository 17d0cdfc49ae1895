// etcd's v2 keys API (what the seed's curl commands write): list /calico/bgp/v1 recursively, then long-poll
// watch from the listed index; "event index cleared" re-lists; a missing directory is an empty one.
import { log } from '../log.js';
import { Backoff, errorText, sleep } from './backoff.js';
import { CALICO_BGP_PREFIX } from './calico-mapping.js';
import { HttpClient, type HttpResponse, type TlsFiles } from './http-client.js';
import { KeyPublisher } from './key-publisher.js';
import { EndpointRing, SourceLoops } from './source-loops.js';
import type { KeySource, KeySourceEvents } from './source.js';

export interface RegistrationEntry {
  key: string;
  value: string;
}

export interface EtcdV2Options {
  endpoints: string[];
  tls?: TlsFiles;
  auth?: { username: string; password: string } | undefined;
  /** Directory to read; default /calico/bgp/v1. */
  prefix?: string;
  requestTimeoutMs?: number;
  /** A long poll is re-issued (same index) after this long, to notice a silently dead connection. */
  watchRenewMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /**
   * Part of a merged source: a server without the v2 API (etcd 3.4 without --enable-v2) counts as an empty
   * keyspace instead of an error; it is probed again every `probeAgainMs`.
   */
  optional?: boolean;
  probeAgainMs?: number;
  /** Self-registration: keys written with a TTL and refreshed; removed by deregister(). */
  registration?: { entries: RegistrationEntry[]; ttlSeconds: number } | undefined;
  /** Called after every successful list, before the watch starts (tests use it to provoke "index cleared"). */
  onListed?: (index: number) => Promise<void>;
}

/** Thrown when the server answers but has no v2 keys API. */
class V2NotOffered extends Error {}
/** The watch index fell out of etcd's 1000-event history. */
class IndexCleared extends Error {}

interface V2Node {
  key?: string;
  value?: string;
  dir?: boolean;
  nodes?: V2Node[];
  modifiedIndex?: number;
}

interface V2Body {
  action?: string;
  node?: V2Node;
  errorCode?: number;
  message?: string;
  cause?: string;
  index?: number;
}

function parseBody(res: HttpResponse): V2Body | undefined {
  try {
    const v: unknown = JSON.parse(res.body);
    return v !== null && typeof v === 'object' ? (v as V2Body) : undefined;
  } catch {
    return undefined;
  }
}

function collect(node: V2Node | undefined, out: Map<string, string>): void {
  if (node === undefined) return;
  if (node.dir === true) {
    for (const child of node.nodes ?? []) collect(child, out);
  } else if (typeof node.key === 'string' && typeof node.value === 'string') {
    out.set(node.key, node.value);
  }
}

/** Reports an outage once, then at most every `everyMs`, and logs the recovery. */
export class OutageReporter {
  private since: number | undefined;
  private lastReport = 0;
  constructor(
    private readonly events: KeySourceEvents,
    private readonly what: string,
    private readonly everyMs = 30_000,
  ) {}
  failed(message: string, detail: Record<string, unknown> = {}): void {
    const now = Date.now();
    if (this.since === undefined) this.since = now;
    if (now - this.lastReport >= this.everyMs || this.lastReport === 0) {
      this.lastReport = now;
      const down = Math.round((now - this.since) / 1000);
      this.events.problem(`${this.what}: ${message}${down > 0 ? ` (failing for ${down} s)` : ''}; keeping the last configuration, retrying`, detail);
    }
  }
  ok(): void {
    if (this.since !== undefined) {
      log.info({ source: this.what, downSeconds: Math.round((Date.now() - this.since) / 1000) }, `${this.what}: reachable again, resynchronised`);
    }
    this.since = undefined;
    this.lastReport = 0;
  }
}

export class EtcdV2KeySource implements KeySource {
  readonly name: string;
  private readonly ring: EndpointRing;
  private readonly prefix: string;
  private readonly http: HttpClient;
  private readonly opts: EtcdV2Options;
  private readonly loops = new SourceLoops();
  /** Whether the server offered the v2 API at the last probe (undefined = not known yet). */
  offered: boolean | undefined;

  constructor(options: EtcdV2Options) {
    if (options.endpoints.length === 0) throw new Error('etcdv2: no endpoints');
    this.opts = options;
    this.ring = new EndpointRing(options.endpoints);
    this.prefix = options.prefix ?? CALICO_BGP_PREFIX;
    this.http = new HttpClient(options.tls, options.auth);
    this.name = `etcdv2:${options.endpoints.join(',')}`;
  }

  private get endpoint(): string {
    return this.ring.current;
  }

  /** Failover: the next request goes to the next endpoint. */
  private rotate(): void {
    this.ring.rotate();
  }

  private keysUrl(path: string, query = ''): string {
    return `${this.endpoint}/v2/keys${path}${query}`;
  }

  /** Starts listing and watching in the background (see SourceLoops.start: the loop keeps retrying). */
  async start(events: KeySourceEvents): Promise<void> {
    const publisher = new KeyPublisher(events);
    await this.loops.start(
      (firstAttempt) => this.run(publisher, events, firstAttempt),
      this.opts.registration !== undefined ? () => this.registerLoop(events) : undefined,
    );
  }

  async stop(): Promise<void> {
    this.loops.abort();
    await this.loops.join();
    this.http.close();
  }

  private async run(publisher: KeyPublisher, events: KeySourceEvents, firstAttempt: () => void): Promise<void> {
    const signal = this.loops.watchSignal;
    const backoff = new Backoff(this.opts.backoffInitialMs ?? 250, this.opts.backoffMaxMs ?? 5000);
    const outage = new OutageReporter(events, this.name);
    let notOfferedReported = false;
    while (!signal.aborted) {
      try {
        const { keys, index } = await this.list(signal);
        this.offered = true;
        notOfferedReported = false;
        publisher.resync(keys);
        outage.ok();
        backoff.reset();
        firstAttempt();
        if (this.opts.onListed) await this.opts.onListed(index);
        await this.watch(keys, index, publisher, signal);
      } catch (e) {
        if (signal.aborted) break;
        if (e instanceof IndexCleared) {
          log.info({ source: this.name }, `${this.name}: watch index cleared from etcd's history; re-listing`);
          continue;
        }
        if (e instanceof V2NotOffered) {
          this.offered = false;
          if (this.opts.optional) {
            if (!publisher.synced) publisher.snapshot(new Map());
            if (!notOfferedReported) {
              log.info({ source: this.name }, `${this.name}: the server does not offer the v2 API; v2 keyspace treated as empty`);
              notOfferedReported = true;
            }
            firstAttempt();
            await sleep(this.opts.probeAgainMs ?? 30_000, signal);
            continue;
          }
          outage.failed('the server does not offer the etcd v2 API (start etcd with --enable-v2, or use DATASTORE_TYPE=etcdv3)', {
            endpoint: this.endpoint,
          });
        } else {
          outage.failed(`${this.endpoint}: ${errorText(e)}`, { endpoint: this.endpoint });
          this.rotate();
        }
        firstAttempt();
        await sleep(backoff.next(), signal);
      }
    }
  }

  private async list(signal: AbortSignal): Promise<{ keys: Map<string, string>; index: number }> {
    const res = await this.http.request(this.keysUrl(this.prefix, '?recursive=true&quorum=true'), {
      signal,
      timeoutMs: this.opts.requestTimeoutMs ?? 5000,
    });
    const body = parseBody(res);
    if (body === undefined) {
      if (res.status === 404) throw new V2NotOffered();
      throw new Error(`unexpected answer to a v2 list: HTTP ${res.status} ${res.body.slice(0, 120)}`);
    }
    const headerIndex = Number(res.headers['x-etcd-index']);
    if (res.status === 404 && body.errorCode === 100) {
      // A missing directory is an empty keyspace (the original froze here, projectcalico/bird#44).
      return { keys: new Map(), index: Number.isFinite(headerIndex) ? headerIndex : (body.index ?? 0) };
    }
    if (res.status !== 200 || body.node === undefined) throw this.httpError(res, body);
    const keys = new Map<string, string>();
    collect(body.node, keys);
    if (!Number.isFinite(headerIndex)) throw new Error('v2 list without an X-Etcd-Index header');
    return { keys, index: headerIndex };
  }

  private httpError(res: HttpResponse, body: V2Body | undefined): Error {
    if (res.status === 401 || res.status === 403) {
      return new Error(`access denied (HTTP ${res.status}${body?.message ? `: ${body.message}` : ''}); check ETCD_USERNAME/ETCD_PASSWORD`);
    }
    return new Error(`HTTP ${res.status}${body?.message ? `: ${body.message}${body.cause ? ` (${body.cause})` : ''}` : ''}`);
  }

  private async watch(keys: Map<string, string>, index: number, publisher: KeyPublisher, signal: AbortSignal): Promise<void> {
    let waitIndex = index + 1;
    const renewMs = this.opts.watchRenewMs ?? 300_000;
    while (!signal.aborted) {
      // One long poll; renewed periodically so a connection that died silently is noticed.
      const renew = new AbortController();
      const timer = setTimeout(() => renew.abort(), renewMs);
      const onAbort = (): void => renew.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      let res: HttpResponse;
      try {
        res = await this.http.request(this.keysUrl(this.prefix, `?wait=true&recursive=true&waitIndex=${waitIndex}`), {
          signal: renew.signal,
        });
      } catch (e) {
        if (renew.signal.aborted && !signal.aborted) continue; // renewal, same index
        throw e;
      } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      }
      if (res.body.trim() === '') continue; // the server ended an idle poll
      const body = parseBody(res);
      if (body?.errorCode === 401) throw new IndexCleared();
      if (res.status !== 200 || body === undefined || body.node === undefined) throw this.httpError(res, body);
      const node = body.node;
      const key = node.key ?? '';
      if (typeof node.modifiedIndex === 'number') waitIndex = node.modifiedIndex + 1;
      switch (body.action) {
        case 'set':
        case 'create':
        case 'update':
        case 'compareAndSwap':
          if (node.dir !== true && typeof node.value === 'string' && key.startsWith(`${this.prefix}/`)) keys.set(key, node.value);
          break;
        case 'delete':
        case 'expire':
        case 'compareAndDelete':
          // Deleting a directory (or a parent of the prefix) removes everything below it.
          keys.delete(key);
          for (const k of [...keys.keys()]) if (k.startsWith(`${key}/`)) keys.delete(k);
          break;
        default:
          break;
      }
      publisher.update(keys);
    }
  }

  // ---- self-registration: our rr_v4/rr_v6 keys with a TTL, refreshed at a third of it ----

  private async registerLoop(events: KeySourceEvents): Promise<void> {
    const reg = this.opts.registration;
    if (reg === undefined) return;
    const signal = this.loops.registrationSignal;
    const backoff = new Backoff(this.opts.backoffInitialMs ?? 250, this.opts.backoffMaxMs ?? 5000);
    const outage = new OutageReporter(events, `${this.name} registration`);
    let written = false;
    while (!signal.aborted) {
      try {
        for (const entry of reg.entries) {
          let res: HttpResponse | undefined;
          if (written) {
            // Refresh the TTL without a new value, so watchers are not woken every few seconds.
            res = await this.http.request(this.keysUrl(entry.key), {
              method: 'PUT',
              form: { ttl: String(reg.ttlSeconds), refresh: 'true', prevExist: 'true' },
              signal,
              timeoutMs: this.opts.requestTimeoutMs ?? 5000,
            });
            const body = parseBody(res);
            if (res.status === 404 && body?.errorCode === 100) res = undefined; // expired or removed: write again
            else if (res.status !== 200) throw this.httpError(res, body);
          }
          if (res === undefined) {
            res = await this.http.request(this.keysUrl(entry.key), {
              method: 'PUT',
              form: { value: entry.value, ttl: String(reg.ttlSeconds) },
              signal,
              timeoutMs: this.opts.requestTimeoutMs ?? 5000,
            });
            const body = parseBody(res);
            if (body === undefined && res.status === 404) throw new V2NotOffered();
            if (res.status !== 200 && res.status !== 201) throw this.httpError(res, body);
            log.info({ key: entry.key, ttlSeconds: reg.ttlSeconds }, `${this.name}: registered ${entry.key}`);
          }
        }
        written = true;
        outage.ok();
        backoff.reset();
        await sleep(Math.max(500, (reg.ttlSeconds * 1000) / 3), signal);
      } catch (e) {
        if (signal.aborted) break;
        written = false;
        if (e instanceof V2NotOffered) {
          if (this.opts.optional) return; // nothing to register in a keyspace the server does not have
          outage.failed('cannot register: the server does not offer the v2 API');
        } else {
          outage.failed(`cannot register at ${this.endpoint}: ${errorText(e)}`);
          this.rotate();
        }
        await sleep(backoff.next(), signal);
      }
    }
  }

  /** Removes our registration keys (only if they still hold our value) and stops refreshing them. */
  async deregister(): Promise<void> {
    const reg = this.opts.registration;
    await this.loops.stopRegistration();
    if (reg === undefined || this.offered === false) return;
    for (const entry of reg.entries) {
      for (let attempt = 0; attempt < this.ring.endpoints.length; attempt++) {
        try {
          const query = `?${new URLSearchParams({ prevValue: entry.value }).toString()}`;
          const res = await this.http.request(this.keysUrl(entry.key, query), {
            method: 'DELETE',
            timeoutMs: this.opts.requestTimeoutMs ?? 5000,
          });
          const code = parseBody(res)?.errorCode;
          if (res.status === 200) log.info({ key: entry.key }, `${this.name}: deregistered ${entry.key}`);
          else if (code === 101) log.warn({ key: entry.key }, `${this.name}: ${entry.key} holds another value now; left in place`);
          else if (code !== 100) throw this.httpError(res, parseBody(res));
          break;
        } catch (e) {
          log.warn({ key: entry.key, err: errorText(e) }, `${this.name}: could not remove ${entry.key}; it expires with its TTL`);
          this.rotate();
        }
      }
    }
  }
}
