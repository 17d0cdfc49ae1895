// The Secrets that BGPPeer passwords name, followed as calico-node follows them (confd secret_watcher.go, read at
// projectcalico/calico master: one list+watch per Secret name, fieldSelector metadata.name=<name>, in the namespace
// NAMESPACE, default kube-system; KUBECONFIG, else the in-cluster config): only while some BGPPeer names them.
// Presented as /calico/secrets/v1/<name> keys (calico-sessions.ts reads them); used by the Kubernetes source and,
// in etcd mode, by secret-following-source.ts.
import { checkParsedValue, MAX_RESOURCE_BYTES } from '../safe-value.js';
import { secretKey, type SecretEntry } from '../calico-sessions.js';
import type { KubeClient, KubeObject } from './client.js';
import { Reflector } from './reflector.js';
import { nameOf } from './translate.js';

export interface SecretFollowerOptions {
  namespace: string;
  initialBackoffMs: number;
  maxBackoffMs: number;
  watchTimeoutSeconds: number;
}

interface Watch {
  reflector: Reflector;
  secret?: KubeObject;
  synced: boolean;
}

export class SecretFollower {
  private readonly watches = new Map<string, Watch>();
  private stopped = false;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: SecretFollowerOptions,
    /** A followed Secret was listed, changed or deleted. */
    private readonly onChange: () => void,
    private readonly problem: (message: string, detail: Record<string, unknown>) => void,
  ) {}

  get namespace(): string {
    return this.opts.namespace;
  }

  get stats(): Record<string, { lists: number; watches: number; events: number; bookmarks: number }> {
    const out: Record<string, { lists: number; watches: number; events: number; bookmarks: number }> = {};
    for (const [name, w] of this.watches) out[`secret:${name}`] = { ...w.reflector.stats };
    return out;
  }

  /** Start a list+watch for each name now wanted; stop those no longer wanted. */
  follow(wanted: ReadonlySet<string>): void {
    if (this.stopped) return;
    for (const [name, w] of this.watches) {
      if (wanted.has(name)) continue;
      this.watches.delete(name);
      void w.reflector.stop();
    }
    for (const name of wanted) {
      if (this.watches.has(name) || name === '' || name.includes('/')) continue;
      const watch: Watch = {
        synced: false,
        reflector: new Reflector(
          this.client,
          {
            initialBackoffMs: this.opts.initialBackoffMs,
            maxBackoffMs: this.opts.maxBackoffMs,
            watchTimeoutSeconds: this.opts.watchTimeoutSeconds,
            path: `/api/v1/namespaces/${encodeURIComponent(this.opts.namespace)}/secrets`,
            resource: 'secrets',
            group: '',
            namespace: this.opts.namespace,
            fieldSelector: `metadata.name=${name}`,
          },
          {
            replace: (items) => {
              watch.secret = items.find((o) => nameOf(o) === name && admit(o));
              watch.synced = true;
              if (this.watches.get(name) === watch) this.onChange();
            },
            event: (type, obj) => {
              if (nameOf(obj) !== name) return;
              watch.secret = type === 'DELETED' || !admit(obj) ? undefined : obj;
              if (this.watches.get(name) === watch) this.onChange();
            },
            problem: (m, d) => this.problem(m, d),
          },
        ),
      };
      this.watches.set(name, watch);
      watch.reflector.start();
    }
  }

  /** secret key → SecretEntry JSON for every followed Secret. */
  entries(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [name, w] of this.watches) {
      const data = w.secret?.data;
      const e: SecretEntry = !w.synced
        ? { namespace: this.opts.namespace, state: 'pending' }
        : w.secret === undefined
          ? { namespace: this.opts.namespace, state: 'missing' }
          : { namespace: this.opts.namespace, state: 'present', data: data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {} };
      out.set(secretKey(name), JSON.stringify(e));
    }
    return out;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.watches.values()].map((w) => w.reflector.stop());
    this.watches.clear();
    await Promise.all(all);
  }
}

/** A Secret too large or deep to judge counts as absent (safe-value.ts limits). */
function admit(o: KubeObject): boolean {
  return checkParsedValue(o, { maxBytes: MAX_RESOURCE_BYTES }) === undefined;
}
