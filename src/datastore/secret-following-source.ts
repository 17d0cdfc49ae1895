// etcd mode: BGPPeer passwords live in Kubernetes Secrets even there. calico-node reads them through the
// Kubernetes API in both datastore modes (KUBECONFIG, else the in-cluster config; confd secret_watcher.go), so
// this wraps an etcd source and adds the Secrets its BGPPeers name as /calico/secrets/v1/<name> keys, followed
// with the same SecretFollower as the Kubernetes source. Without a Kubernetes API every such Secret is
// "unavailable": calico-sessions.ts then holds its sessions back with one line naming the BGPPeer, Secret and key.
import { secretKey, type SecretEntry } from './calico-sessions.js';
import { KeyPublisher } from './key-publisher.js';
import type { KubeClient } from './kubernetes/client.js';
import type { KubeConnection } from './kubernetes/kubeconfig.js';
import type { SecretFollower } from './kubernetes/secret-follower.js';
import { referencedSecretNames } from './kubernetes/secret-refs.js';
import type { KeySnapshot, KeySource, KeySourceEvents } from './source.js';

export type SecretAccess = { connection: KubeConnection; namespace: string } | { unavailable: string; namespace: string };

export class SecretFollowingSource implements KeySource {
  readonly name: string;
  private readonly keys = new Map<string, string>();
  private synced = false;
  private follower: SecretFollower | undefined;
  private client: KubeClient | undefined;
  private publisher: KeyPublisher | undefined;
  private wanted = new Set<string>();
  private stopped = false;

  constructor(
    /** The datastore it wraps. */
    readonly inner: KeySource,
    private readonly access: SecretAccess,
  ) {
    this.name = inner.name;
  }

  async start(events: KeySourceEvents): Promise<void> {
    const publisher = new KeyPublisher(events);
    this.publisher = publisher;
    if ('connection' in this.access) {
      // The Kubernetes client (node:https, TLS) is loaded only when there is an API to talk to.
      const [{ KubeClient }, { SecretFollower }] = await Promise.all([import('./kubernetes/client.js'), import('./kubernetes/secret-follower.js')]);
      if (this.stopped) return;
      this.client = new KubeClient(this.access.connection);
      this.follower = new SecretFollower(
        this.client,
        { namespace: this.access.namespace, initialBackoffMs: 250, maxBackoffMs: 10_000, watchTimeoutSeconds: 300 },
        () => this.publish(),
        (m, d) => events.problem(`Secrets: ${m}`, d),
      );
    }
    await this.inner.start({
      snapshot: (keys: KeySnapshot) => {
        this.keys.clear();
        for (const [k, v] of keys) this.keys.set(k, v);
        this.synced = true;
        this.publish(true);
      },
      change: (key: string, value: string | undefined) => {
        if (value === undefined) this.keys.delete(key);
        else this.keys.set(key, value);
        if (this.synced) this.publish();
      },
      problem: (message, detail) => events.problem(message, detail),
    });
  }

  private publish(resync = false): void {
    const publisher = this.publisher;
    if (publisher === undefined || !this.synced) return;
    this.wanted = referencedSecretNames(this.keys);
    this.follower?.follow(this.wanted);
    const out = new Map(this.keys);
    if (this.follower !== undefined) {
      for (const [k, v] of this.follower.entries()) out.set(k, v);
    } else if ('unavailable' in this.access) {
      for (const name of this.wanted) {
        const e: SecretEntry = { namespace: this.access.namespace, state: 'unavailable', reason: this.access.unavailable };
        out.set(secretKey(name), JSON.stringify(e));
      }
    }
    if (resync) publisher.resync(out);
    else publisher.update(out);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.follower?.stop();
    this.client?.close();
    await this.inner.stop();
  }

  async deregister(): Promise<void> {
    await this.inner.deregister?.();
  }
}
