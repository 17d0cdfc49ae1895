// List-then-watch for one Kubernetes collection, kept going forever: watch from the list's resourceVersion,
// follow bookmarks, re-list on 410 Gone, back off and resume from the last resourceVersion when a stream breaks.
import { KubeApiError, watchEventError, type KubeClient, type KubeObject } from './client.js';

export interface ReflectorHandlers {
  /** The complete collection after a list (the first one, or a re-list after 410 Gone). */
  replace(items: KubeObject[]): void;
  /** One change seen on the watch. */
  event(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject): void;
  /** Something went wrong; the reflector keeps retrying. */
  problem(message: string, detail: Record<string, unknown>): void;
}

export interface ReflectorOptions {
  /** Collection path, e.g. /api/v1/nodes. */
  path: string;
  /** For messages and RBAC hints: resource and API group ("" for core). */
  resource: string;
  group: string;
  namespace?: string;
  labelSelector?: string;
  /** e.g. metadata.name=<name> to follow one object. */
  fieldSelector?: string;
  /** List and watch metadata only (PartialObjectMetadata). */
  metadataOnly?: boolean;
  /** List in pages of this many objects. */
  pageSize?: number;
  /** A missing collection (CRD not installed) counts as empty and is listed again later. */
  notFoundAsEmpty?: boolean;
  initialBackoffMs: number;
  maxBackoffMs: number;
  watchTimeoutSeconds: number;
}

export interface ReflectorStats {
  lists: number;
  watches: number;
  events: number;
  bookmarks: number;
  lastResourceVersion?: string;
}

export class Reflector {
  readonly stats: ReflectorStats = { lists: 0, watches: 0, events: 0, bookmarks: 0 };
  private stopped = false;
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: ReflectorOptions,
    private readonly handlers: ReflectorHandlers,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let rv: string | undefined;
    let backoff = this.opts.initialBackoffMs;
    let notServed = false;
    const fail = async (err: unknown, action: string): Promise<void> => {
      if (this.stopped) return;
      this.handlers.problem(this.describe(err, action), {
        resource: this.opts.resource,
        action,
        retryInMs: backoff,
        status: err instanceof KubeApiError ? err.status : undefined,
      });
      await this.sleep(backoff);
      backoff = Math.min(backoff * 2, this.opts.maxBackoffMs);
    };
    while (!this.stopped) {
      if (rv === undefined) {
        try {
          this.stats.lists++;
          const list = await this.client.list(this.opts.path, {
            labelSelector: this.opts.labelSelector,
            fieldSelector: this.opts.fieldSelector,
            metadataOnly: this.opts.metadataOnly,
            pageSize: this.opts.pageSize,
            signal: this.abort.signal,
          });
          if (this.stopped) return;
          rv = list.resourceVersion;
          notServed = false;
          this.stats.lastResourceVersion = rv;
          this.handlers.replace(list.items);
        } catch (err) {
          if (this.opts.notFoundAsEmpty === true && err instanceof KubeApiError && err.status === 404) {
            if (this.stopped) return;
            // Report and replace once per absence, not at every re-check.
            if (!notServed) {
              notServed = true;
              this.handlers.replace([]);
              this.handlers.problem(
                `${this.opts.resource}.${this.opts.group} is not served (CustomResourceDefinition not installed?); ` +
                  `treating it as empty and checking again every ${this.opts.maxBackoffMs} ms`,
                { resource: this.opts.resource, action: 'list', status: 404 },
              );
            }
            await this.sleep(this.opts.maxBackoffMs);
            continue;
          }
          await fail(err, 'list');
          continue;
        }
      }
      const started = Date.now();
      let sawEvent = false;
      try {
        this.stats.watches++;
        const stream = this.client.watch(this.opts.path, {
          resourceVersion: rv,
          labelSelector: this.opts.labelSelector,
          fieldSelector: this.opts.fieldSelector,
          metadataOnly: this.opts.metadataOnly,
          // Spread reconnects of many reflectors, as client-go does with its random watch timeout.
          timeoutSeconds: Math.round(this.opts.watchTimeoutSeconds * (1 + Math.random())),
          signal: this.abort.signal,
        });
        for await (const ev of stream) {
          if (this.stopped) return;
          if (ev.type === 'ERROR') throw watchEventError(ev, this.opts.path);
          const evRv = ev.object.metadata?.resourceVersion;
          sawEvent = true;
          backoff = this.opts.initialBackoffMs;
          if (ev.type === 'BOOKMARK') {
            this.stats.bookmarks++;
          } else {
            this.stats.events++;
            this.handlers.event(ev.type, ev.object);
          }
          if (typeof evRv === 'string' && evRv !== '') {
            rv = evRv;
            this.stats.lastResourceVersion = rv;
          }
        }
        // A stream that ends at once without events would spin; treat it like a failure.
        if (!sawEvent && Date.now() - started < 1000) await fail(new Error('watch ended at once'), 'watch');
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof KubeApiError && (err.status === 410 || err.reason === 'Expired' || err.reason === 'Gone')) {
          // Our resourceVersion is older than the server keeps: only a fresh list can tell what we missed.
          this.handlers.problem(`${this.opts.resource}: resourceVersion ${rv} expired (410 Gone); listing again`, {
            resource: this.opts.resource,
            action: 'watch',
            status: 410,
          });
          rv = undefined;
          continue;
        }
        await fail(err, 'watch');
      }
    }
  }

  private describe(err: unknown, action: string): string {
    const scope = this.opts.namespace !== undefined ? `namespace ${this.opts.namespace}` : 'the cluster scope';
    const what =
      `${action} ${this.opts.resource}${this.opts.group === '' ? '' : `.${this.opts.group}`}` +
      (this.opts.fieldSelector !== undefined ? ` (${this.opts.fieldSelector})` : '');
    if (err instanceof KubeApiError) {
      if (err.status === 401) {
        return `${what}: 401 Unauthorized: the API server did not accept our credentials (token or client certificate)`;
      }
      if (err.status === 403) {
        return (
          `${what}: 403 Forbidden: missing RBAC permission: verb "${action}" on resource "${this.opts.resource}" ` +
          `in API group "${this.opts.group}" at ${scope} (see deploy/kubernetes/overlays/kubernetes/rbac-route-reflector.yaml). ` +
          `Server said: ${err.message}`
        );
      }
      return `${what}: ${err.message}`;
    }
    const e = err as Error & { code?: string };
    return `${what}: ${e.code !== undefined ? `${e.code} ` : ''}${e.message}`;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolveSleep) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolveSleep();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = undefined;
        resolveSleep();
      };
    });
  }
}
