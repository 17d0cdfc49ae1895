// This reflector's announcement in Kubernetes: a coordination.k8s.io/v1 Lease named after its IP, created,
// renewed every third of its duration (optimistic concurrency: re-read on 409), and deleted on stop.
import { hostname } from 'node:os';
import { KubeApiError, type KubeClient, type KubeObject } from './client.js';
import { ANN_CLUSTER_ID, ANN_IPV4, ANN_IPV6, LABEL_RR } from './translate.js';

export interface LeaseIdentity {
  namespace: string;
  ip: string;
  ip6?: string;
  clusterId?: string;
  leaseDurationSeconds: number;
}

/** Lease name for a reflector: DNS-1123 safe, one per IPv4 address (the router ID). */
export function leaseName(ip: string): string {
  return `calico-rr-${ip.replace(/[.:]/g, '-')}`;
}

export function leasesPath(namespace: string): string {
  return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds, UTC. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The Lease object we want to exist (without resourceVersion). Pure, for tests and for the renew loop. */
export function desiredLease(id: LeaseIdentity, nowMs: number, acquireTime?: string): KubeObject {
  const annotations: Record<string, string> = { [ANN_IPV4]: id.ip };
  if (id.ip6 !== undefined && id.ip6 !== '') annotations[ANN_IPV6] = id.ip6;
  if (id.clusterId !== undefined && id.clusterId !== '') annotations[ANN_CLUSTER_ID] = id.clusterId;
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: leaseName(id.ip),
      namespace: id.namespace,
      labels: { [LABEL_RR]: 'true', 'app.kubernetes.io/name': 'calico-ts-route-reflector' },
      annotations,
    },
    spec: {
      holderIdentity: `${hostname()}/${id.ip}`,
      leaseDurationSeconds: id.leaseDurationSeconds,
      acquireTime: acquireTime ?? microTime(nowMs),
      renewTime: microTime(nowMs),
    },
  };
}

export class LeaseKeeper {
  private timer?: NodeJS.Timeout;
  private current?: KubeObject;
  private stopped = false;
  private inFlight?: Promise<void>;
  renewals = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly id: LeaseIdentity,
    private readonly problem: (message: string, detail: Record<string, unknown>) => void,
    private readonly renewEveryMs: number = (id.leaseDurationSeconds * 1000) / 3,
  ) {}

  get name(): string {
    return leaseName(this.id.ip);
  }

  private get path(): string {
    return `${leasesPath(this.id.namespace)}/${this.name}`;
  }

  /** Writes the Lease once (errors are reported, not thrown) and keeps renewing it. */
  async start(): Promise<void> {
    await this.tick();
    if (this.stopped) return;
    this.timer = setInterval(() => void this.tick(), this.renewEveryMs);
    this.timer.unref?.();
  }

  /** Stops renewing and deletes the Lease so the other reflectors drop us at once, not after it expires. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.inFlight;
    try {
      await this.client.delete(this.path, 5000);
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) {
        this.problem(`Lease ${this.id.namespace}/${this.name}: delete failed: ${(err as Error).message}`, { lease: this.name });
      }
    }
  }

  private tick(): Promise<void> {
    if (this.inFlight !== undefined || this.stopped) return this.inFlight ?? Promise.resolve();
    this.inFlight = this.renew()
      .catch((err: unknown) => {
        const e = err as Error;
        const hint =
          err instanceof KubeApiError && err.status === 403
            ? ` (missing RBAC permission on leases.coordination.k8s.io in namespace ${this.id.namespace}: ` +
              'get, create, update, delete; see deploy/kubernetes/overlays/kubernetes/rbac-route-reflector.yaml)'
            : '';
        this.problem(`Lease ${this.id.namespace}/${this.name}: renew failed: ${e.message}${hint}`, { lease: this.name });
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  /** PUT with the resourceVersion we hold; on 409 (someone else wrote it) or 404, re-read and try once more. */
  private async renew(): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.stopped) return;
      if (this.current === undefined) {
        try {
          this.current = await this.client.get(this.path);
        } catch (err) {
          if (!(err instanceof KubeApiError && err.status === 404)) throw err;
          this.current = await this.client.create(leasesPath(this.id.namespace), desiredLease(this.id, Date.now()));
          this.renewals++;
          return;
        }
      }
      const spec = this.current.spec as { acquireTime?: unknown } | undefined;
      const acquire = typeof spec?.acquireTime === 'string' ? spec.acquireTime : undefined;
      const next = desiredLease(this.id, Date.now(), acquire);
      next.metadata!.resourceVersion = this.current.metadata?.resourceVersion;
      try {
        this.current = await this.client.update(this.path, next);
        this.renewals++;
        return;
      } catch (err) {
        if (err instanceof KubeApiError && (err.status === 409 || err.status === 404)) {
          this.current = undefined;
          continue;
        }
        throw err;
      }
    }
    throw new Error('gave up after three conflicting updates');
  }
}
