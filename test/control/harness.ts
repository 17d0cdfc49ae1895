// Test helpers: a ControlServer on a temp unix socket serving lab data, and a raw socket client.
// Every server started here is stopped by stopAll() (call it in test.after.always).

import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlModel, Family } from '../../src/control/model.js';
import { ControlServer, socketPathFor, type ControlServerOptions } from '../../src/control/server.js';
import { labClock } from './lab.js';

const started: Array<{ server: ControlServer; dir: string }> = [];

/** Starts a server on a fresh temp dir (or `dir`); its clock is the lab's fixed one unless options.now is given. */
export async function startServer(model: ControlModel, family: Family, options: ControlServerOptions = {}, dir?: string): Promise<{ server: ControlServer; path: string; dir: string }> {
  const d = dir ?? (await mkdtemp(join(tmpdir(), 'rr-ctl-')));
  const path = socketPathFor(d, family);
  const server = new ControlServer();
  await server.start(path, family, model, { now: labClock, ...options });
  started.push({ server, dir: d });
  return { server, path, dir: d };
}

export async function stopAll(): Promise<void> {
  for (const { server, dir } of started.splice(0)) {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A raw client: connect, read the greeting, then send lines and collect complete replies. */
export class RawClient {
  /** Bytes after the last newline received. */
  private tail = '';
  /** Lines of the reply being received. */
  private current: string[] = [];
  /** Complete replies (ending with a `DDDD ` line), oldest first. */
  private readonly replies: string[] = [];
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      // Work per chunk only: replies can be megabytes.
      const lines = (this.tail + d).split('\n');
      this.tail = lines.pop() ?? '';
      for (const l of lines) {
        this.current.push(l);
        if (/^\d{4} /.test(l)) {
          this.replies.push(`${this.current.join('\n')}\n`);
          this.current = [];
        }
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static async connect(path: string): Promise<RawClient> {
    const s = net.createConnection(path);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    return new RawClient(s);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Wait for the next complete reply. */
  async reply(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.replies.shift();
      if (r !== undefined) return r;
      const partial = JSON.stringify(this.current.slice(0, 5).join('\n') + this.tail.slice(0, 200));
      if (this.closed) throw new Error(`connection closed; partial: ${partial}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no complete reply; have ${partial}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async command(cmd: string): Promise<string> {
    this.socket.write(`${cmd}\n`);
    return this.reply();
  }

  close(): void {
    this.socket.destroy();
  }
}
