// KeySource for DATASTORE_TYPE=kubernetes: list/watch Nodes, BGPPeers, BGPConfigurations (presented as the Calico
// v3 resource keys etcd v3 holds), the Secrets BGPPeer passwords name (/calico/secrets/v1 keys, secret-follower.ts)
// and, when this reflector registers, route-reflector Leases (/calico/bgp/v1 rr entries).
import { DEFAULTS } from '../../config/defaults.js';
import { checkParsedValue, MAX_RESOURCE_BYTES } from '../safe-value.js';
import type { KeySnapshot, KeySource, KeySourceEvents } from '../source.js';
import { KubeClient, type KubeObject } from './client.js';
import { loadKubeConnection, type KubeConnection } from './kubeconfig.js';
import { desiredLease, LeaseKeeper, leasesPath } from './lease.js';
import { Reflector } from './reflector.js';
import { SecretFollower } from './secret-follower.js';
import { referencedSecretNames } from './secret-refs.js';
import { diffKeys, leaseKeys, nameOf, resourceKeys, RR_LABEL_SELECTOR, translateAll, type Translation } from './translate.js';

export interface KubernetesSourceOptions {
  /** KUBECONFIG; undefined or "" = the in-cluster service account. */
  kubeconfigPath?: string;
  /** Announce this reflector with a Lease and mesh with the others (the etcd self-registration switch). */
  register: boolean;
  /** This reflector's IPv4 address (IP) and optional IPv6 address (IP6). */
  ip: string;
  ip6?: string;
  /** Cluster ID written into our Lease (dotted quad or number); empty = none (router ID used). */
  clusterId?: string;
  /** Namespace of the reflector Leases. Default: the kubeconfig context's / service account's, else "default". */
  leaseNamespace?: string;
  /**
   * Namespace of the Secrets that BGPPeer spec.password.secretKeyRef names (calico/node's NAMESPACE, whose
   * default is kube-system). Each referenced Secret is listed and watched by name there, only while referenced.
   */
  secretNamespace?: string;
  /** Default 30; the Lease is renewed every third of it. */
  leaseDurationSeconds?: number;
  /** Retry back-off after an error: starts here and doubles up to maxBackoffMs. Defaults 250 and 10000. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Nodes are listed in pages of this many. Default 500 (as client-go). */
  pageSize?: number;
  /** Server-side watch timeout (randomised up to twice this). Default 300. */
  watchTimeoutSeconds?: number;
  /** Environment and service-account folder for the in-cluster case (tests replace them). */
  env?: NodeJS.ProcessEnv;
  serviceAccountDir?: string;
}

type Kind = 'nodes' | 'bgpPeers' | 'bgpConfigurations' | 'leases';

/** Loads the kubeconfig (throws KubeConfigError with a clear message when it is unusable) and builds the source. */
export function createKubernetesSource(opts: KubernetesSourceOptions): KubernetesKeySource {
  const conn = loadKubeConnection(opts.kubeconfigPath, opts.env ?? process.env, opts.serviceAccountDir);
  return new KubernetesKeySource(conn, opts);
}

export class KubernetesKeySource implements KeySource {
  readonly name: string;
  readonly client: KubeClient;
  readonly leaseNamespace: string;
  readonly secretNamespace: string;
  private readonly objects: Record<Kind, Map<string, KubeObject>> = {
    nodes: new Map(),
    bgpPeers: new Map(),
    bgpConfigurations: new Map(),
    leases: new Map(),
  };
  private readonly synced = new Set<Kind>();
  private readonly reflectors = new Map<Kind, Reflector>();
  /**
   * One list+watch per Secret a BGPPeer names (field selector metadata.name=<name>, as calico/node does): only
   * those Secrets are read and held, and RBAC may grant exactly them (resourceNames). Not part of ready(): a
   * Secret we may not read must not hold back every other peering; only its own peers wait.
   */
  private secrets?: SecretFollower;
  private common?: { initialBackoffMs: number; maxBackoffMs: number; watchTimeoutSeconds: number };
  private lease?: LeaseKeeper;
  private events?: KeySourceEvents;
  private snapshotSent = false;
  private expiryTimer?: NodeJS.Timeout;
  private readonly reported = new Set<string>();
  /** Per Node (the big collection): its translation, so that one change costs one translation. */
  private readonly nodeTr = new Map<string, Translation>();
  /** Keys of the small collections as last published (disjoint from the Nodes' host/<name>/ip_addr... keys). */
  private small: Map<string, string> = new Map();
  /**
   * Per Lease: the renewTime we last saw and the local time we count it from. Expiry is judged on our own
   * clock, as client-go's leader election does, so a holder whose clock is off does not flap or linger:
   * a changed renewTime counts from when we saw it; a Lease seen for the first time counts from its
   * renewTime if that is in the past (a long-dead holder stays out), else from now.
   */
  private readonly leaseSeen = new Map<string, { renewTime: string; at: number }>();
  /** Our own rr_v4/rr_v6 entries when registering (see start()). */
  private readonly ownEntries = new Map<string, string>();
  private stopped = false;

  constructor(
    readonly connection: KubeConnection,
    private readonly opts: KubernetesSourceOptions,
  ) {
    this.name = `kubernetes:${connection.server}`;
    this.client = new KubeClient(connection);
    this.leaseNamespace = opts.leaseNamespace ?? connection.namespace ?? 'default';
    this.secretNamespace = opts.secretNamespace ?? DEFAULTS.NAMESPACE.value;
  }

  /** Per-collection counters (lists, watches, events, bookmarks) for tests and diagnostics. */
  get stats(): Record<string, { lists: number; watches: number; events: number; bookmarks: number }> {
    const out: Record<string, { lists: number; watches: number; events: number; bookmarks: number }> = {};
    for (const [k, r] of this.reflectors) out[k] = { ...r.stats };
    Object.assign(out, this.secrets?.stats ?? {});
    return out;
  }

  /**
   * Starts the list/watch loops; when registering, the Lease is written right after the first snapshot and
   * renewed from then on. Resolves without waiting for the first snapshot; errors arrive as problems.
   */
  async start(events: KeySourceEvents): Promise<void> {
    this.events = events;
    if (this.connection.warning !== undefined) this.problem(this.connection.warning);
    if (this.connection.tlsWarning !== undefined) this.problem(this.connection.tlsWarning);
    const common = {
      initialBackoffMs: this.opts.initialBackoffMs ?? 250,
      maxBackoffMs: this.opts.maxBackoffMs ?? 10_000,
      watchTimeoutSeconds: this.opts.watchTimeoutSeconds ?? 300,
    };
    this.common = common;
    const crd = '/apis/crd.projectcalico.org/v1';
    // Node objects are large (status, images) and only their annotations matter: metadata only, in pages.
    this.addReflector('nodes', {
      ...common,
      path: '/api/v1/nodes',
      resource: 'nodes',
      group: '',
      metadataOnly: true,
      pageSize: this.opts.pageSize ?? 500,
    });
    this.addReflector('bgpPeers', {
      ...common,
      path: `${crd}/bgppeers`,
      resource: 'bgppeers',
      group: 'crd.projectcalico.org',
      notFoundAsEmpty: true,
    });
    this.addReflector('bgpConfigurations', {
      ...common,
      path: `${crd}/bgpconfigurations`,
      resource: 'bgpconfigurations',
      group: 'crd.projectcalico.org',
      notFoundAsEmpty: true,
    });
    if (this.opts.register) {
      // Only a registered reflector meshes (calico-datastore.md §4 step B), so only it needs the Leases.
      this.addReflector('leases', {
        ...common,
        path: leasesPath(this.leaseNamespace),
        resource: 'leases',
        group: 'coordination.k8s.io',
        namespace: this.leaseNamespace,
        labelSelector: RR_LABEL_SELECTOR,
      });
      const identity = {
        namespace: this.leaseNamespace,
        ip: this.opts.ip,
        ip6: this.opts.ip6,
        clusterId: this.opts.clusterId,
        leaseDurationSeconds: this.opts.leaseDurationSeconds ?? DEFAULTS.RR_REGISTER_TTL.value,
      };
      this.lease = new LeaseKeeper(this.client, identity, (m, d) => this.problem(m, d));
      // Our own rr entries are part of every key set from the first snapshot on (we are registered by
      // configuration; the Lease is how the others learn it), so client sessions start with our cluster ID and
      // an API outage that lets our own Lease expire does not turn us standalone. The Lease itself is written
      // only after that first snapshot: a reflector that sees our Lease and connects to us finds us ready.
      const own = leaseKeys(desiredLease(identity, Date.now()), Date.now());
      for (const [k, v] of own.keys) this.ownEntries.set(k, v);
    }
    for (const r of this.reflectors.values()) r.start();
  }

  /** Deletes our Lease now (and stops renewing it), so the other reflectors drop us at once; SIGTERM path. */
  async deregister(): Promise<void> {
    await this.lease?.stop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    await Promise.all([...[...this.reflectors.values()].map((r) => r.stop()), this.secrets?.stop()]);
    await this.lease?.stop();
    this.client.close();
  }

  private addReflector(kind: Kind, opts: ConstructorParameters<typeof Reflector>[1]): void {
    const map = this.objects[kind];
    this.reflectors.set(
      kind,
      new Reflector(this.client, opts, {
        replace: (all) => {
          const items = all.filter((o) => this.admit(kind, o));
          map.clear();
          for (const o of items) map.set(objectKey(o), o);
          if (kind === 'nodes') {
            this.nodeTr.clear();
            for (const o of items) this.nodeTr.set(objectKey(o), resourceKeys('nodes', o));
          }
          if (kind === 'leases') {
            for (const k of [...this.leaseSeen.keys()]) if (!map.has(k)) this.leaseSeen.delete(k);
            for (const o of items) this.observeLease(o);
          }
          if (kind === 'bgpPeers' || kind === 'bgpConfigurations') this.followSecrets();
          const first = !this.synced.has(kind);
          this.synced.add(kind);
          // After a re-list nothing guarantees we saw each deletion: resend the whole set.
          this.publish(first ? 'maybe-first' : 'snapshot');
        },
        event: (given, obj) => {
          // An object that cannot be judged (nested too deep, too large) counts as absent, like a bad etcd entry.
          const type = given !== 'DELETED' && !this.admit(kind, obj) ? 'DELETED' : given;
          const key = objectKey(obj);
          const before = map.get(key);
          if (type === 'DELETED') map.delete(key);
          else map.set(key, obj);
          if (kind === 'nodes') {
            // Nodes are the big collection: translate only the one that changed, and publish its own diff.
            const prev = this.nodeTr.get(key);
            const next = type === 'DELETED' ? undefined : resourceKeys('nodes', obj);
            if (next === undefined) this.nodeTr.delete(key);
            else this.nodeTr.set(key, next);
            // Nodes change all the time (status, heartbeats, labels) without touching what we read.
            if (prev !== undefined && next !== undefined && JSON.stringify(prev) === JSON.stringify(next)) return;
            this.publishNode(prev, next);
            return;
          }
          if (kind === 'bgpPeers' || kind === 'bgpConfigurations') this.followSecrets();
          if (kind !== 'leases' && type === 'MODIFIED' && before !== undefined && this.sameTranslation(kind, before, obj)) return;
          if (kind === 'leases') {
            if (type === 'DELETED') this.leaseSeen.delete(key);
            else this.observeLease(obj);
          }
          this.publish('diff');
        },
        problem: (m, d) => this.problem(m, d),
      }),
    );
  }

  /** Follow each Secret a BGPPeer (or the mesh password) now names; stop following those no longer named. */
  private followSecrets(): void {
    if (this.stopped || this.common === undefined) return;
    this.secrets ??= new SecretFollower(this.client, { ...this.common, namespace: this.secretNamespace }, () => this.publish('diff'), (m, d) => this.problem(m, d));
    const resources = translateAll({ nodes: [], leases: [], bgpPeers: this.objects.bgpPeers.values(), bgpConfigurations: this.objects.bgpConfigurations.values() }, 0);
    this.secrets.follow(referencedSecretNames(resources.keys));
  }

  private sameTranslation(kind: 'bgpPeers' | 'bgpConfigurations', a: KubeObject, b: KubeObject): boolean {
    const k = kind === 'bgpPeers' ? 'bgppeers' : 'bgpconfigurations';
    return JSON.stringify(resourceKeys(k, a)) === JSON.stringify(resourceKeys(k, b));
  }

  private observeLease(o: KubeObject): void {
    const spec = o.spec as { renewTime?: unknown } | undefined;
    const renewTime = typeof spec?.renewTime === 'string' ? spec.renewTime : '';
    const key = objectKey(o);
    const prev = this.leaseSeen.get(key);
    if (prev !== undefined && prev.renewTime === renewTime) return;
    const now = Date.now();
    const stated = Date.parse(renewTime);
    const at = prev === undefined && Number.isFinite(stated) ? Math.min(now, stated) : now;
    this.leaseSeen.set(key, { renewTime, at });
  }

  private ready(): boolean {
    return !this.stopped && this.events !== undefined && this.synced.size === this.reflectors.size;
  }

  /** One Node changed after the first snapshot: its keys are its own (host/<name>/...), so its diff is the diff. */
  private publishNode(prev: Translation | undefined, next: Translation | undefined): void {
    if (!this.ready() || !this.snapshotSent) return;
    this.report(next?.problems ?? []);
    this.apply(diffKeys(new Map(prev?.keys ?? []), new Map(next?.keys ?? [])));
  }

  /**
   * Re-translate the small collections (BGPPeers, BGPConfigurations, Leases, our own entries) and tell the
   * consumer: the first snapshot once every collection is listed (with every Node's cached keys), a full
   * snapshot again after a re-list, otherwise only the changed keys.
   */
  private publish(mode: 'maybe-first' | 'snapshot' | 'diff'): void {
    if (!this.ready()) return;
    const events = this.events!;
    const now = Date.now();
    const t = translateAll(
      {
        nodes: [],
        bgpPeers: this.objects.bgpPeers.values(),
        bgpConfigurations: this.objects.bgpConfigurations.values(),
        leases: this.objects.leases.values(),
      },
      now,
      (l) => this.leaseSeen.get(objectKey(l))?.at,
    );
    const small = t.keys;
    for (const [k, v] of this.ownEntries) small.set(k, v);
    for (const [k, v] of this.secrets?.entries() ?? []) small.set(k, v);
    this.report(t.problems);
    if (!this.snapshotSent || mode === 'snapshot') {
      const first = !this.snapshotSent;
      const full = new Map<string, string>();
      for (const tr of this.nodeTr.values()) {
        for (const [k, v] of tr.keys) full.set(k, v);
        this.report(tr.problems);
      }
      for (const [k, v] of small) full.set(k, v);
      this.snapshotSent = true;
      this.small = small;
      events.snapshot(new Map(full) as KeySnapshot);
      if (first && this.lease !== undefined) void this.lease.start();
    } else {
      const changes = diffKeys(this.small, small);
      this.small = small;
      this.apply(changes);
    }
    this.scheduleExpiry(t.nextExpiryMs, now);
  }

  private apply(changes: Array<[string, string | undefined]>): void {
    for (const [k, v] of changes) this.events!.change(k, v);
  }

  private report(problems: string[]): void {
    for (const p of problems) {
      if (!this.reported.has(p)) {
        this.reported.add(p);
        this.events?.problem(p);
      }
    }
  }

  /** An expired Lease must drop out even if nothing else happens: re-translate when the next one expires. */
  private scheduleExpiry(at: number | undefined, now: number): void {
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (at === undefined || this.stopped) return;
    this.expiryTimer = setTimeout(() => this.publish('diff'), Math.max(0, at - now) + 20);
    this.expiryTimer.unref?.();
  }

  /**
   * Whether an object from the API server is small and shallow enough to be read (safe-value.ts limits); a
   * refused one gets one problem naming it, never its content.
   */
  private admit(kind: string, obj: KubeObject): boolean {
    const why = checkParsedValue(obj, { maxBytes: MAX_RESOURCE_BYTES });
    if (why === undefined) return true;
    const name = nameOf(obj);
    this.report([`${kind} ${name.length > 200 ? `${name.slice(0, 200)}…` : name}: ${why}; ignored`]);
    return false;
  }

  private problem(message: string, detail?: Record<string, unknown>): void {
    if (!this.stopped) this.events?.problem(message, detail);
  }
}

function objectKey(o: KubeObject): string {
  const ns = o.metadata?.namespace;
  return `${typeof ns === 'string' ? ns : ''}/${nameOf(o)}`;
}
