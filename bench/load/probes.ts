// Probes the runner itself runs beside a workload (bench/responsiveness.ts), on its own mostly idle event
// loop so that their clock measures the reflector, not the load speaker:
// - HoldProbe: one extra client with hold time 3 that records when each BGP message of the reflector arrives;
//   the longest silence is what that client's hold timer saw (an UPDATE resets it as a KEEPALIVE does).
// - ControlProbe: one persistent connection to the reflector's control socket (bird.ctl, ours or BIRD's) that
//   sends `show status` back to back and times each reply.
import net from 'node:net';
import { END_OF_RIB, KEEPALIVE, openMessage } from './messages.js';

const TYPE_NOTIFICATION = 3;
const TYPE_KEEPALIVE = 4;

export class HoldProbe {
  private sock: net.Socket | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private last = 0;
  private windowStart = 0;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  established = false;
  down: string | undefined;
  maxGapMs = 0; // longest time between two messages (or window start and the first) inside the window
  messages = 0;

  constructor(private readonly local: string, private readonly remote: string, private readonly port: number, private readonly asn: number) {}

  /** Connects, sends OPEN with hold time 3 and answers with KEEPALIVEs every second; resolves when Established. */
  async connect(timeoutMs: number): Promise<void> {
    const sock = net.connect({ host: this.remote, port: this.port, localAddress: this.local });
    this.sock = sock;
    sock.setNoDelay(true);
    sock.on('error', (e) => (this.down ??= `socket error: ${e.message}`));
    sock.on('close', () => (this.down ??= 'connection closed'));
    sock.on('connect', () => sock.write(openMessage(this.asn, 3, this.local)));
    sock.on('data', (d: Buffer) => this.onData(d));
    this.keepaliveTimer = setInterval(() => {
      if (this.established) sock.write(KEEPALIVE);
    }, 1000);
    const end = Date.now() + timeoutMs;
    while (!this.established) {
      if (this.down !== undefined) throw new Error(`hold probe ${this.local}: ${this.down}`);
      if (Date.now() > end) throw new Error(`hold probe ${this.local}: not Established after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Starts a measuring window: the gap counts from now. */
  startWindow(): void {
    this.windowStart = performance.now();
    this.last = this.windowStart;
    this.maxGapMs = 0;
    this.messages = 0;
  }

  /** Ends the window: the silence from the last message to now counts too. */
  endWindow(): number {
    if (this.windowStart > 0) this.maxGapMs = Math.max(this.maxGapMs, performance.now() - this.last);
    this.windowStart = 0;
    return this.maxGapMs;
  }

  private onData(d: Buffer): void {
    const now = performance.now();
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let o = 0;
    while (this.buf.length - o >= 19) {
      const len = this.buf.readUInt16BE(o + 16);
      if (len < 19) {
        this.down ??= `bad message length ${len}`;
        this.sock?.destroy();
        return;
      }
      if (this.buf.length - o < len) break;
      const type = this.buf[o + 18]!;
      if (type === TYPE_NOTIFICATION) this.down ??= `NOTIFICATION ${this.buf[o + 19]}/${this.buf[o + 20]}`;
      else if (type === TYPE_KEEPALIVE && !this.established) {
        this.established = true;
        // Nothing to announce: say so at once (End-of-RIB), or a reflector that defers its first
        // advertisements until every client's End-of-RIB (RFC 4724 §4.1, ours) waits for its timer.
        this.sock?.write(Buffer.concat([KEEPALIVE, END_OF_RIB[1]]));
      } else if (type === 1) this.sock?.write(KEEPALIVE); // OPEN: confirm it
      if (this.windowStart > 0) {
        this.maxGapMs = Math.max(this.maxGapMs, now - this.last);
        this.last = now;
        this.messages++;
      }
      o += len;
    }
    this.buf = o === this.buf.length ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(o));
  }

  close(): void {
    clearInterval(this.keepaliveTimer);
    this.sock?.destroy();
  }
}

/** Latencies of `show status` on one control-socket connection, sent one after the other until stopped. */
export class ControlProbe {
  private sock: net.Socket | undefined;
  private text = '';
  private waiter: (() => void) | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  samples: number[] = [];
  error: string | undefined;

  constructor(private readonly path: string, private readonly pauseMs = 20) {}

  async connect(): Promise<void> {
    const sock = net.createConnection(this.path);
    this.sock = sock;
    sock.setEncoding('utf8');
    sock.on('error', (e) => (this.error ??= e.message));
    sock.on('data', (d: string) => {
      this.text += d;
      this.waiter?.();
    });
    await this.reply(10_000); // the greeting, "0001 BIRD ... ready."
  }

  /** Resolves when the text holds a complete reply: a line whose 4-digit code is followed by a space. */
  private async reply(timeoutMs: number): Promise<void> {
    const done = (): boolean => /(^|\n)\d{4} [^\n]*\n/.test(this.text);
    const end = Date.now() + timeoutMs;
    while (!done()) {
      if (this.error !== undefined) throw new Error(`control probe: ${this.error}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`control probe: no complete reply in ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiter = () => {
          clearTimeout(t);
          r();
        };
      });
      this.waiter = undefined;
    }
    this.text = '';
  }

  /** Starts sending `show status` (one outstanding at a time) and collecting latencies. */
  start(): void {
    this.samples = [];
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const t0 = performance.now();
        this.sock!.write('show status\n');
        try {
          await this.reply(120_000);
        } catch (e) {
          this.error ??= e instanceof Error ? e.message : String(e);
          return;
        }
        this.samples.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, this.pauseMs));
      }
    })();
  }

  /** Stops after the reply in flight; returns the latencies in ms. */
  async stop(): Promise<number[]> {
    this.running = false;
    await this.loop;
    return this.samples;
  }

  close(): void {
    this.sock?.destroy();
  }
}

export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}
