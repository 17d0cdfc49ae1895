// A minimal in-test BGP speaker on a raw net.Socket, built on the codec: sends OPEN/KEEPALIVE (or any
// bytes), records what it receives. Used for error cases, collision and the burst/stall tests.
import net from 'node:net';
import { Framer } from '../../src/session/framer.js';
import { decodeMessage, encodeKeepalive, encodeOpen } from '../../src/wire/index.js';
import { AS_TRANS, DEFAULT_CONTEXT, MessageType, type BgpMessage, type Capability, type OpenMessage } from '../../src/wire/types.js';

export interface SpeakerOptions {
  as: number;
  bgpId: string;
  holdTime?: number;
  /** Capabilities to announce; default: AS4 only (like a minimal speaker). */
  capabilities?: Capability[];
  version?: number;
  /** Answer the peer's OPEN with a KEEPALIVE and keep sending KEEPALIVEs every holdTime/3. */
  autoKeepalive?: boolean;
  /** Delay the KEEPALIVE that answers the peer's OPEN (to hold both sides in OpenConfirm). */
  keepaliveDelayMs?: number;
  /** Keep a copy of every UPDATE received (in `updates`, with its arrival time); off for the load tests. */
  keepUpdates?: boolean;
}

export function makeOpen(o: SpeakerOptions): OpenMessage {
  return {
    type: MessageType.OPEN,
    version: o.version ?? 4,
    myAs: o.as > 0xffff ? AS_TRANS : o.as,
    holdTime: o.holdTime ?? 90,
    bgpId: o.bgpId,
    parameters: [{ type: 2, capabilities: o.capabilities ?? [{ kind: 'as4', code: 65, as: o.as }] }],
    extendedParameters: false,
  };
}

export class Speaker {
  readonly received: BgpMessage[] = [];
  readonly rawUpdates: number[] = [];
  readonly updates: { at: number; msg: Buffer }[] = [];
  closed = false;
  established = false;
  private framer = new Framer(65535);
  private ka: NodeJS.Timeout | null = null;
  private waiters: (() => void)[] = [];
  readonly closedPromise: Promise<void>;

  constructor(readonly socket: net.Socket, readonly opts: SpeakerOptions) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.framer.push(chunk);
      for (;;) {
        let msg: Buffer | null;
        try {
          msg = this.framer.next();
        } catch {
          socket.destroy();
          return;
        }
        if (!msg) break;
        if (msg[18] === MessageType.UPDATE) {
          this.rawUpdates.push(msg.length);
          if (this.opts.keepUpdates === true) this.updates.push({ at: Date.now(), msg: Buffer.from(msg) });
          continue;
        }
        const m = decodeMessage(msg, DEFAULT_CONTEXT);
        this.received.push(m);
        if (this.opts.autoKeepalive) {
          if (m.type === MessageType.OPEN) {
            if (this.opts.keepaliveDelayMs) setTimeout(() => this.sendKeepalive(), this.opts.keepaliveDelayMs).unref();
            else this.sendKeepalive();
          }
          if (m.type === MessageType.KEEPALIVE && !this.established) {
            this.established = true;
            const hold = Math.min(this.opts.holdTime ?? 90, this.peerOpen()?.holdTime ?? 90);
            if (hold > 0) {
              this.ka = setInterval(() => this.sendKeepalive(), Math.max(200, (hold * 1000) / 3));
              this.ka.unref();
            }
          }
        }
      }
      this.wake();
    });
    socket.on('error', () => undefined);
    this.closedPromise = new Promise((resolve) => {
      socket.on('close', () => {
        this.closed = true;
        this.stopKeepalives();
        this.wake();
        resolve();
      });
    });
  }

  /** Connects from `local` to `remote:port` and sends the OPEN right away. */
  static connect(local: string, remote: string, port: number, opts: SpeakerOptions, sendOpen = true): Promise<Speaker> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: remote, port, localAddress: local });
      sock.once('error', reject);
      sock.once('connect', () => {
        sock.off('error', reject);
        const sp = new Speaker(sock, opts);
        if (sendOpen) sp.sendOpen();
        resolve(sp);
      });
    });
  }

  peerOpen(): OpenMessage | undefined {
    return this.received.find((m): m is OpenMessage => m.type === MessageType.OPEN);
  }

  notifications(): { code: number; subcode: number; data: Uint8Array }[] {
    return this.received.flatMap((m) => (m.type === MessageType.NOTIFICATION ? [m] : []));
  }

  sendOpen(): void {
    this.write(encodeOpen(makeOpen(this.opts)));
  }

  sendKeepalive(): void {
    this.write(encodeKeepalive());
  }

  write(b: Uint8Array): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(b);
  }

  stopKeepalives(): void {
    if (this.ka) clearInterval(this.ka);
    this.ka = null;
  }

  destroy(): void {
    this.stopKeepalives();
    this.socket.destroy();
  }

  /** Resolves when pred() holds, rejects after timeoutMs. */
  waitFor(pred: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const check = (): void => {
        if (pred()) {
          clearTimeout(t);
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve();
        }
      };
      this.waiters.push(check);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** Resolves when `pred` holds (polled every 10 ms), rejects after timeoutMs. */
export async function until(pred: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
