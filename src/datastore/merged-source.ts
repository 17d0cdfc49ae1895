// Several key sources read as one (etcd v2 and v3 keyspaces with only ETCD_ENDPOINTS set): a snapshot once every
// source has one, then changes of the union; a later source wins where two hold the same key.
import { log } from '../log.js';
import { KeyPublisher } from './key-publisher.js';
import type { KeySnapshot, KeySource, KeySourceEvents } from './source.js';

export class MergedKeySource implements KeySource {
  readonly name: string;
  private readonly states: (Map<string, string> | undefined)[];

  constructor(private readonly sources: KeySource[]) {
    this.name = sources.map((s) => s.name).join('+');
    this.states = sources.map(() => undefined);
  }

  private merged(): Map<string, string> {
    const out = new Map<string, string>();
    for (const s of this.states) if (s !== undefined) for (const [k, v] of s) out.set(k, v);
    return out;
  }

  async start(events: KeySourceEvents): Promise<void> {
    const publisher = new KeyPublisher(events);
    const allSynced = (): boolean => this.states.every((s) => s !== undefined);
    log.info({ sources: this.sources.map((s) => s.name) }, `reading ${this.sources.length} datastores merged: ${this.name}`);
    await Promise.all(
      this.sources.map((source, i) =>
        source.start({
          snapshot: (keys: KeySnapshot) => {
            this.states[i] = new Map(keys);
            if (allSynced()) publisher.resync(this.merged());
          },
          change: (key: string, value: string | undefined) => {
            const st = this.states[i];
            if (st === undefined) return;
            if (value === undefined) st.delete(key);
            else st.set(key, value);
            if (allSynced()) publisher.update(this.merged());
          },
          problem: (message: string, detail?: Record<string, unknown>) => events.problem(message, { source: source.name, ...detail }),
        }),
      ),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.stop()));
  }

  async deregister(): Promise<void> {
    await Promise.all(this.sources.map(async (s) => {
      await s.deregister?.();
    }));
  }
}
