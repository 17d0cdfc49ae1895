// etcd's v3 API (package etcd3): the /calico/bgp/v1 layout stored in the v3 keyspace plus the Calico v3 resources
// (nodes, bgppeers, bgpconfigurations) as stored; one list at a revision, watches from it.
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Etcd3, Range, isRecoverableError, type IKeyValue, type IOptions, type Lease } from 'etcd3';
import { log } from '../log.js';
import { Backoff, errorText, sleep } from './backoff.js';
import { CALICO_BGP_PREFIX } from './calico-mapping.js';
import { CALICO_V3_KINDS, CALICO_V3_PREFIX, parseV3Key } from './calico-v3.js';
import { OutageReporter, type RegistrationEntry } from './etcdv2-source.js';
import type { TlsFiles } from './http-client.js';
import { KeyPublisher } from './key-publisher.js';
import { EndpointRing, SourceLoops } from './source-loops.js';
import type { KeySource, KeySourceEvents } from './source.js';

export interface EtcdV3Options {
  endpoints: string[];
  tls?: TlsFiles;
  auth?: { username: string; password: string } | undefined;
  /** Also read Calico v3 resources (default true). */
  resources?: boolean;
  requestTimeoutMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  registration?: { entries: RegistrationEntry[]; ttlSeconds: number } | undefined;
  /** Called after every successful list, before the watches start (tests use it to compact in between). */
  onListed?: (revision: string) => Promise<void>;
}

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type HostPolicy = ReturnType<NonNullable<FaultHandling['host']>>;

/**
 * Fault policies without etcd3's default per-host circuit breaker (it stays open 5 s after three failures and so
 * delays the resync after an etcd restart; our own loops retry with backoff). `attempts` > 1 retries a
 * recoverable failure on the next endpoint: etcd3 walks one shuffled host list per call, one host per attempt.
 */
function policy(attempts: number): HostPolicy {
  const noEvent = (): { dispose(): void } => ({ dispose: () => undefined });
  const p = {
    onSuccess: noEvent,
    onFailure: noEvent,
    execute: async <T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> => {
      const ctx = { signal: signal ?? new AbortController().signal };
      for (let i = 1; ; i++) {
        try {
          return await fn(ctx);
        } catch (e) {
          if (i >= attempts || !(e instanceof Error) || !isRecoverableError(e)) throw e;
        }
      }
    },
  };
  return p as unknown as HostPolicy;
}

/** etcd3 client options from our configuration: TLS from files, password auth, no extra retry layers. */
export function etcd3ClientOptions(o: Pick<EtcdV3Options, 'endpoints' | 'tls' | 'auth' | 'requestTimeoutMs'>): IOptions {
  const options: IOptions = {
    hosts: o.endpoints,
    dialTimeout: 3000,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + (o.requestTimeoutMs ?? 5000) }),
    faultHandling: { host: () => policy(1), global: policy(Math.max(1, o.endpoints.length)) },
    // HTTP/2 pings notice a server that vanished without closing the connection (a partition), which would
    // otherwise leave the watch silent forever. 30 s stays above etcd's 5 s minimum ping interval.
    grpcOptions: { 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000, 'grpc.keepalive_permit_without_calls': 1 },
  };
  if (o.endpoints.some((e) => e.startsWith('https:'))) {
    options.credentials = {
      // Without ETCD_CA_CERT_FILE the system's CAs apply, as for the v2 client.
      rootCertificate: o.tls?.caCertFile !== undefined ? readFileSync(o.tls.caCertFile) : Buffer.from(rootCertificates.join('\n')),
      ...(o.tls?.certFile !== undefined ? { certChain: readFileSync(o.tls.certFile) } : {}),
      ...(o.tls?.keyFile !== undefined ? { privateKey: readFileSync(o.tls.keyFile) } : {}),
    };
  }
  if (o.auth !== undefined) options.auth = { username: o.auth.username, password: o.auth.password };
  return options;
}

class WatchEnded extends Error {
  /** True when etcd itself cancelled the watch (in practice: the start revision was compacted). */
  constructor(
    message: string,
    readonly cancelled = false,
  ) {
    super(message);
  }
}

export class EtcdV3KeySource implements KeySource {
  readonly name: string;
  private readonly opts: EtcdV3Options;
  /** The client of the current list+watch cycle (one endpoint, so failover goes through them in order). */
  private cycleClient: Etcd3 | undefined;
  private readonly ring: EndpointRing;
  /** A client over every endpoint for the registration lease (etcd3 retries a call on the next endpoint). */
  private regClient: Etcd3 | undefined;
  private readonly prefixes: string[];
  private readonly loops = new SourceLoops();
  private lease: Lease | undefined;
  private stopWatch: (() => void) | undefined;

  constructor(options: EtcdV3Options) {
    if (options.endpoints.length === 0) throw new Error('etcdv3: no endpoints');
    this.opts = options;
    this.name = `etcdv3:${options.endpoints.join(',')}`;
    this.ring = new EndpointRing(options.endpoints);
    this.prefixes = [`${CALICO_BGP_PREFIX}/`];
    if (options.resources ?? true) for (const kind of CALICO_V3_KINDS) this.prefixes.push(`${CALICO_V3_PREFIX}/${kind}/`);
  }

  private get endpoint(): string {
    return this.ring.current;
  }

  private rotate(): void {
    this.ring.rotate();
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
    this.stopWatch?.();
    await this.loops.join();
    this.lease?.release();
    this.cycleClient?.close();
    this.regClient?.close();
  }

  private async run(publisher: KeyPublisher, events: KeySourceEvents, firstAttempt: () => void): Promise<void> {
    const signal = this.loops.watchSignal;
    const backoff = new Backoff(this.opts.backoffInitialMs ?? 250, this.opts.backoffMaxMs ?? 5000);
    const outage = new OutageReporter(events, this.name);
    while (!signal.aborted) {
      // A fresh client per list+watch cycle: after a cancelled watch, etcd3's watch manager cannot be trusted
      // with further watchers, and closing the client is the only clean way to drop its stream.
      const client = new Etcd3(etcd3ClientOptions({ ...this.opts, endpoints: [this.endpoint] }));
      this.cycleClient = client;
      try {
        const { raw, revision } = await this.list(client);
        if (signal.aborted) break;
        const view = new V3View(raw);
        publisher.resync(view.keys());
        outage.ok();
        firstAttempt();
        if (this.opts.onListed) await this.opts.onListed(revision);
        // The backoff starts over only once the watch is established, so a server that answers lists but
        // drops watches is not hammered.
        await this.watch(client, view, publisher, revision, signal, () => backoff.reset());
      } catch (e) {
        if (signal.aborted) break;
        if (e instanceof WatchEnded && e.cancelled) {
          // etcd refuses a watch from a compacted revision (etcd3 does not pass the compact revision on):
          // a fresh list replaces everything. The backoff still applies, in case the cause is something else.
          log.info({ source: this.name }, `${this.name}: ${e.message} (listed revision compacted?); re-listing`);
          await sleep(backoff.next(), signal);
          continue;
        }
        if (e instanceof WatchEnded) {
          // The watch stream was lost: a fresh list replaces everything once etcd answers again.
          outage.failed(`${this.endpoint}: ${e.message}`, { endpoint: this.endpoint });
        } else {
          outage.failed(`${this.endpoint}: ${errorText(e)}`, { endpoint: this.endpoint });
        }
        this.rotate();
        firstAttempt();
        await sleep(backoff.next(), signal);
      } finally {
        client.close();
        if (this.cycleClient === client) this.cycleClient = undefined;
      }
    }
  }

  /** One consistent read of every prefix at a single revision. */
  private async list(client: Etcd3): Promise<{ raw: Map<string, string>; revision: string }> {
    const raw = new Map<string, string>();
    let revision: string | undefined;
    for (const prefix of this.prefixes) {
      const b = client.getAll().prefix(prefix);
      if (revision !== undefined) b.revision(revision);
      const res = await b.exec();
      revision ??= res.header.revision;
      for (const kv of res.kvs) raw.set(kv.key.toString('utf8'), kv.value.toString('utf8'));
    }
    return { raw, revision: revision ?? '0' };
  }

  /**
   * One watcher over one key range that spans every prefix we read (etcd3 mishandles several watchers on one
   * stream when etcd cancels them); keys in between that we do not read are ignored by the view.
   */
  private watch(
    client: Etcd3,
    view: V3View,
    publisher: KeyPublisher,
    revision: string,
    signal: AbortSignal,
    connected: () => void,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const sorted = [...this.prefixes].sort();
      const first = sorted[0] ?? CALICO_BGP_PREFIX;
      const last = Range.prefix(sorted[sorted.length - 1] ?? first);
      const w = client.watch().inRange(new Range(first, last.end)).startRevision((BigInt(revision) + 1n).toString()).watcher();
      let done = false;
      const finish = (err: Error | undefined, cancelledByServer = false): void => {
        if (done) return;
        done = true;
        this.stopWatch = undefined;
        signal.removeEventListener('abort', onAbort);
        w.removeAllListeners();
        w.on('error', () => undefined);
        w.on('disconnected', () => undefined);
        // A watcher etcd already cancelled is gone from the manager; cancelling it again would confuse etcd3.
        const detached = cancelledByServer ? Promise.resolve() : w.cancel().catch(() => undefined);
        void Promise.race([detached, sleep(1000)]).then(() => (err ? reject(err) : resolve()));
      };
      const onAbort = (): void => finish(undefined);
      signal.addEventListener('abort', onAbort, { once: true });
      this.stopWatch = () => finish(undefined);
      w.once('connected', connected);
      w.on('put', (kv: IKeyValue) => {
        if (view.put(kv.key.toString('utf8'), kv.value.toString('utf8'))) publisher.update(view.keys());
      });
      w.on('delete', (kv: IKeyValue) => {
        if (view.delete(kv.key.toString('utf8'))) publisher.update(view.keys());
      });
      w.on('disconnected', (err: Error) => finish(new WatchEnded(`watch stream lost: ${errorText(err)}`)));
      w.on('error', (err: Error) => finish(new WatchEnded(`watch cancelled by etcd: ${errorText(err)}`, true), true));
    });
  }

  // ---- self-registration: our rr_v4/rr_v6 keys under a lease kept alive; the keys vanish with the lease ----

  private async registerLoop(events: KeySourceEvents): Promise<void> {
    const reg = this.opts.registration;
    if (reg === undefined) return;
    const signal = this.loops.registrationSignal;
    const backoff = new Backoff(this.opts.backoffInitialMs ?? 250, this.opts.backoffMaxMs ?? 5000);
    const outage = new OutageReporter(events, `${this.name} registration`);
    while (!signal.aborted) {
      this.regClient ??= new Etcd3(etcd3ClientOptions(this.opts));
      const lease = this.regClient.lease(reg.ttlSeconds);
      this.lease = lease;
      try {
        const lost = new Promise<Error>((resolve) => lease.on('lost', (err) => resolve(err)));
        await lease.grant();
        for (const entry of reg.entries) await lease.put(entry.key).value(entry.value).exec();
        log.info({ keys: reg.entries.map((e) => e.key), ttlSeconds: reg.ttlSeconds }, `${this.name}: registered under a lease`);
        outage.ok();
        backoff.reset();
        // deregister() may have been called while the lease was being granted: the signal is then already
        // aborted and its event will not fire again.
        const aborted = new Promise<undefined>((resolve) => {
          if (signal.aborted) resolve(undefined);
          else signal.addEventListener('abort', () => resolve(undefined), { once: true });
        });
        const err = await Promise.race([lost, aborted]);
        if (err === undefined) return; // deregister() or stop() takes it from here
        outage.failed(`lease lost (${errorText(err)}); registering again`);
      } catch (e) {
        if (signal.aborted) return;
        lease.release();
        outage.failed(`cannot register: ${errorText(e)}`);
      }
      await sleep(backoff.next(), signal);
    }
  }

  /** Revokes the lease, which deletes our registration keys at once. */
  async deregister(): Promise<void> {
    await this.loops.stopRegistration();
    const lease = this.lease;
    this.lease = undefined;
    if (lease === undefined) return;
    try {
      await lease.revoke();
      log.info({ source: this.name }, `${this.name}: registration lease revoked`);
    } catch (e) {
      lease.release();
      log.warn({ err: errorText(e) }, `${this.name}: could not revoke the registration lease; the keys expire with its TTL`);
    }
  }
}

/**
 * The v3 keyspace as the reflector reads it: /calico/bgp/v1 keys and the Calico v3 resources (nodes, bgppeers,
 * bgpconfigurations) as they are stored; calico-sessions.ts computes the sessions from both.
 */
class V3View {
  private readonly kept = new Map<string, string>();

  constructor(raw: ReadonlyMap<string, string>) {
    for (const [k, v] of raw) this.put(k, v);
  }

  /** False for keys the reflector does not read (the watch range spans some). */
  put(key: string, value: string): boolean {
    if (!key.startsWith(`${CALICO_BGP_PREFIX}/`) && parseV3Key(key) === undefined) return false;
    this.kept.set(key, value);
    return true;
  }

  delete(key: string): boolean {
    return this.kept.delete(key);
  }

  keys(): Map<string, string> {
    return this.kept;
  }
}
