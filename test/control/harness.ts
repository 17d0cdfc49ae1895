// Test helpers: a ControlServer on a temp unix socket serving lab data, and a raw socket client.
// Every server started here is stopped by stopAll() (call it in test.after.always).

import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlModel, Family } from '../../src/control/model.js';
import { ControlServer, socketPathFor, type ControlServerOptions } from '../../src/control/server.js';

const started: Array<{ server: ControlServer; dir: string }> = [];

export async function startServer(model: ControlModel, family: Family, options: ControlServerOptions = {}, dir?: string): Promise<{ server: ControlServer; path: string; dir: string }> {
  const d = dir ?? (await mkdtemp(join(tmpdir(), 'rr-ctl-')));
  const path = socketPathFor(d, family);
  const server = new ControlServer();
  await server.start(path, family, model, options);
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
  private buf = '';
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
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

  /** Wait until the buffer holds a complete reply (a line `DDDD ` ...), return and consume it. */
  async reply(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /^\d{4} .*\n/m.exec(this.buf);
      if (m !== null) {
        const end = m.index + m[0].length;
        const out = this.buf.slice(0, end);
        this.buf = this.buf.slice(end);
        return out;
      }
      if (this.closed) throw new Error(`connection closed; partial: ${JSON.stringify(this.buf.slice(0, 200))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no complete reply; have ${JSON.stringify(this.buf.slice(0, 200))}`);
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
