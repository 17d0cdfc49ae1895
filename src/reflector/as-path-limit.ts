// Import policy, MAX_AS_PATH_LENGTH: an UPDATE whose AS_PATH is longer is treated as withdraw (RFC 7606 §2
// semantics) by handing the rest of the inbound chain its withdrawal instead (src/wire/update-withdrawal.ts
// measures and rewrites; this module holds the limit and the per-peer counts).
import { asPathLength, asWithdrawal } from '../wire/update-withdrawal.js';
import { ScannedUpdate } from '../wire/update-scan.js';
import type { CodecContext } from '../wire/types.js';

export { asPathLength, asWithdrawal };

/** Per-peer filter: the message to take in (the original, or its withdrawal when too long). */
export class AsPathLimit {
  private readonly scratch = new ScannedUpdate();
  /** UPDATEs treated as withdraw, per peer name. */
  readonly treated = new Map<string, number>();

  constructor(readonly maxLength: number) {}

  filter(peer: string, msg: Buffer, ctx: CodecContext, onFirst?: (length: number) => void): Buffer {
    if (this.maxLength <= 0) return msg;
    const n = asPathLength(msg, ctx);
    if (n <= this.maxLength) return msg;
    const w = asWithdrawal(msg, ctx, this.scratch);
    if (w === undefined) return msg;
    const count = (this.treated.get(peer) ?? 0) + 1;
    this.treated.set(peer, count);
    if (count === 1) onFirst?.(n);
    return w;
  }

  forget(peer: string): void {
    this.treated.delete(peer);
  }
}
