// The BIRD-compatible control socket (bird.ctl / bird6.ctl): unix socket I/O, one CLI session per client.
// Replies stream with write backpressure and bounded buffers so slow or vanished clients never hold the daemon.

import { chmod, chown, lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import net from 'node:net';
import { log } from '../log.js';
import { MAX_COMMAND_LENGTH, TOO_LONG } from './commands.js';
import { executeLine, type CliEnvironment, type CliSession } from './execute.js';
import type { ControlModel, Family } from './model.js';
import { final, GREETING, ReplyEncoder, type ReplyLine } from './reply.js';
import { DEFAULT_TIME_FORMATS, timeFormatsFromSetting, type TimeFormats } from './timefmt.js';
import { systemClock, type Clock } from '../clock.js';

export interface ControlServerOptions {
  /** BIRD `timeformat` for protocol/route/base times (see timeFormatsFromSetting for BIRD_TIMEFORMAT). */
  timeFormats?: TimeFormats;
  /** The operator's setting (env BIRD_TIMEFORMAT: "iso short", "iso long", "old short", "old long", "unix",
   *  or a strftime string); used when timeFormats is not given. An unknown value makes start() fail. */
  timeFormat?: string;
  /** Path printed by `configure` ("Reading configuration from ..."). */
  configPath?: string;
  /** Accept unique keyword prefixes such as `sh pro` (birdc expands them itself; default true). */
  abbreviations?: boolean;
  /** The clock replies print times against ("Current server time", iso short's time-or-date choice);
   *  default the wall clock, tests give a fixed one. */
  now?: Clock;
  /**
   * Clients connected at once, at most (default 1024). When a new client comes while the limit is reached, the
   * client idle the longest is disconnected to make room, so idle connections can never lock everyone out; only
   * when every client is busy with a command is the new one closed at once.
   */
  maxClients?: number;
  /** A client with no command running that sends nothing for this long is disconnected (default 300 s). */
  idleTimeoutMs?: number;
  /** A client that leaves a reply unread this long is disconnected (default 300 s). */
  stalledClientTimeoutMs?: number;
  /** Socket file mode (default 0o660, as BIRD creates it). */
  mode?: number;
  /** Owner and group of the socket file (BIRD's -u/-g), e.g. so a sidecar exporter's group can connect. */
  uid?: number;
  gid?: number;
}

/** Where the socket file lives for a family, as BIRD 1.6 named them. */
export function socketPathFor(socketDir: string, family: Family): string {
  return `${socketDir.replace(/\/+$/, '')}/${family === 4 ? 'bird.ctl' : 'bird6.ctl'}`;
}

const CHUNK_BYTES = 16 * 1024;
const DEFAULT_IDLE_TIMEOUT_MS = 300_000;
const EVICT_LOG_INTERVAL_MS = 60_000;
/** Complete request lines buffered before we stop reading from a client (it pipelines too much). */
const MAX_QUEUED_LINES = 8;

const clog = log.child({ component: 'control' });

export class ControlServer {
  private server: net.Server | undefined;
  private readonly clients = new Set<ClientConnection>();
  private path: string | undefined;
  /** Idle clients disconnected to make room for a new one. */
  evicted = 0;
  private lastEvictLog = 0;

  /** Number of connected clients (for tests and metrics). */
  get clientCount(): number {
    return this.clients.size;
  }

  get socketPath(): string | undefined {
    return this.path;
  }

  async start(socketPath: string, family: Family, model: ControlModel, options: ControlServerOptions = {}): Promise<void> {
    if (this.server !== undefined) throw new Error('control server already started');
    let timeFormats = options.timeFormats ?? DEFAULT_TIME_FORMATS;
    if (options.timeFormats === undefined && options.timeFormat !== undefined) {
      const parsed = timeFormatsFromSetting(options.timeFormat);
      if (parsed === undefined) throw new Error(`unknown BIRD time format ${JSON.stringify(options.timeFormat)}`);
      timeFormats = parsed;
    }
    await mkdir(dirname(socketPath), { recursive: true });
    await removeStaleSocket(socketPath);
    const env: CliEnvironment = {
      model,
      family,
      timeFormats,
      now: options.now ?? systemClock,
      configPath: options.configPath ?? '/etc/calico/confd/config/bird.cfg',
      abbreviations: options.abbreviations ?? true,
    };
    const maxClients = Math.max(1, options.maxClients ?? 1024);
    const stallMs = options.stalledClientTimeoutMs ?? 300_000;
    const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      if (this.clients.size >= maxClients && !this.evictIdlest(maxClients)) {
        socket.destroy();
        return;
      }
      const c = new ClientConnection(socket, env, stallMs, idleMs, () => this.clients.delete(c));
      this.clients.add(c);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => clog.error({ err, socketPath }, 'control socket error'));
    try {
      await applyAccess(socketPath, options);
    } catch (err) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw err;
    }
    this.server = server;
    this.path = socketPath;
    clog.info({ socketPath, family }, 'control socket listening');
  }

  /** Makes room for a new client by disconnecting the one idle the longest; false when all are busy. */
  private evictIdlest(maxClients: number): boolean {
    let idlest: ClientConnection | undefined;
    for (const c of this.clients) if (!c.busy && (idlest === undefined || c.lastActive < idlest.lastActive)) idlest = c;
    if (idlest === undefined) return false;
    this.evicted++;
    const now = Date.now();
    if (now - this.lastEvictLog >= EVICT_LOG_INTERVAL_MS) {
      this.lastEvictLog = now;
      clog.warn({ maxClients, evicted: this.evicted }, `control socket: ${maxClients} clients connected, the limit: disconnecting the one idle the longest (${Math.round((now - idlest.lastActive) / 1000)} s) for a new client`);
    }
    idlest.destroy();
    return true;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    for (const c of this.clients) c.destroy();
    this.clients.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.path !== undefined) await unlink(this.path).catch(() => undefined);
    this.path = undefined;
  }
}

/**
 * Owner and group first, then the mode (SOCKET_OWNER / SOCKET_GROUP / SOCKET_MODE, see socket-access.ts). A
 * refused chown names the setting and the usual fix, since the default (the pod's fsGroup) is easy to miss.
 */
async function applyAccess(socketPath: string, options: ControlServerOptions): Promise<void> {
  if (options.uid !== undefined || options.gid !== undefined) {
    try {
      await chown(socketPath, options.uid ?? -1, options.gid ?? -1);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code !== 'EPERM') throw err;
      const groups = process.getgroups?.().join(',') ?? '?';
      const wanted = [options.uid !== undefined ? `SOCKET_OWNER=${options.uid}` : '', options.gid !== undefined ? `SOCKET_GROUP=${options.gid}` : ''].filter((x) => x !== '').join(' ');
      throw new Error(
        `cannot give ${socketPath} ${wanted}: ${err.message}. This process runs as uid ${process.getuid?.() ?? '?'} with groups ${groups}; ` +
          'a non-root process can only set a group it is in (Kubernetes: make SOCKET_GROUP the pod\'s securityContext.fsGroup), and only root can change the owner',
      );
    }
  }
  await chmod(socketPath, options.mode ?? 0o660);
}

/** BIRD unlinks whatever socket is at the path before binding; we do too, but never remove a non-socket. */
async function removeStaleSocket(path: string): Promise<void> {
  try {
    const st = await lstat(path);
    if (!st.isSocket()) throw new Error(`${path} exists and is not a socket`);
    await unlink(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** One client: splits request lines, runs them one at a time, streams replies with backpressure. */
class ClientConnection {
  private readonly session: CliSession = { restricted: false };
  private readonly encoder = new ReplyEncoder();
  /** Bytes of the current, unterminated request line (at most MAX_COMMAND_LENGTH + 1 kept). */
  private partial: Buffer[] = [];
  private partialLength = 0;
  private overflow = false;
  /** Complete lines waiting to run; `undefined` stands for a line that was too long. */
  private readonly queue: Array<string | undefined> = [];
  private running = false;
  private closed = false;
  private ended = false;
  private drainWaiters: Array<() => void> = [];
  /** When the client last sent something or got the end of a reply (epoch ms). */
  lastActive = Date.now();

  constructor(
    private readonly socket: net.Socket,
    private readonly env: CliEnvironment,
    private readonly stallMs: number,
    idleMs: number,
    private readonly onGone: () => void,
  ) {
    // Idle: nothing read or written for idleMs. A command still running is left alone (a reply the client
    // does not read is the stall timer's business).
    if (idleMs > 0) {
      socket.setTimeout(idleMs);
      socket.on('timeout', () => {
        if (!this.busy) this.destroy();
      });
    }
    // The greeting goes out in one write before anything is read (old bird_exporter reads it in one recv).
    socket.write(GREETING);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.wakeWriters());
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.destroy());
    // A client may half-close after its last command (`echo cmd | socat`): answer what it sent, then close.
    socket.on('end', () => {
      this.ended = true;
      if (!this.running && this.queue.length === 0) this.destroy();
    });
  }

  /** A command is running or queued. */
  get busy(): boolean {
    return this.running || this.queue.length > 0;
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.partial = [];
    this.socket.destroy();
    this.wakeWriters();
    this.onGone();
  }

  private wakeWriters(): void {
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const f of w) f();
  }

  private onData(chunk: Buffer): void {
    this.lastActive = Date.now();
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      this.append(chunk.subarray(start, end));
      if (nl < 0) break;
      this.queue.push(this.overflow ? undefined : Buffer.concat(this.partial).toString('utf8').replace(/\r/g, ''));
      this.partial = [];
      this.partialLength = 0;
      this.overflow = false;
      start = nl + 1;
    }
    if (this.queue.length >= MAX_QUEUED_LINES) this.socket.pause();
    void this.run();
  }

  /** Keep the line only while it can still be a valid command; BIRD drops '\r' and so do we. */
  private append(part: Buffer): void {
    if (part.length === 0 || this.overflow) return;
    let n = part.length;
    if (part.indexOf(0x0d) >= 0) for (const b of part) if (b === 0x0d) n--;
    this.partialLength += n;
    if (this.partialLength > MAX_COMMAND_LENGTH) {
      this.overflow = true;
      this.partial = [];
      return;
    }
    this.partial.push(Buffer.from(part));
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        const raw = this.queue.shift();
        let reply: Iterable<ReplyLine>;
        try {
          reply = raw === undefined ? [TOO_LONG] : await executeLine(raw, this.session, this.env);
        } catch (err) {
          clog.error({ err }, 'control command failed');
          reply = [final(8000, 'Internal error')];
        }
        await this.send(reply);
        if (this.queue.length < MAX_QUEUED_LINES && !this.closed) this.socket.resume();
      }
    } finally {
      this.running = false;
      this.lastActive = Date.now();
    }
    if (this.ended && this.queue.length === 0 && !this.closed) {
      this.socket.end(() => this.destroy());
    }
  }

  private async send(reply: Iterable<ReplyLine>): Promise<void> {
    let chunk = '';
    let finished = false;
    try {
      for (const l of reply) {
        if (this.closed) return;
        chunk += this.encoder.encode(l);
        if (l.last === true) finished = true;
        if (chunk.length >= CHUNK_BYTES) {
          await this.write(chunk);
          chunk = '';
        }
      }
    } catch (err) {
      // The model failed mid-reply: still end the reply so the client does not wait forever.
      clog.error({ err }, 'control reply failed');
      if (!finished) chunk += this.encoder.encode(final(8000, 'Internal error'));
      finished = true;
    }
    if (!finished) chunk += this.encoder.encode(final(0, ''));
    if (chunk.length > 0) await this.write(chunk);
  }

  /** Write and wait until the socket buffer drains (or the client goes away / stalls too long). */
  private async write(text: string): Promise<void> {
    if (this.closed) return;
    const flushed = this.socket.write(text);
    if (flushed) {
      // Let other work (BGP timers, other clients) run between chunks of a long reply.
      await new Promise<void>((r) => setImmediate(r));
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        clog.warn('control client stopped reading; disconnecting');
        this.destroy();
      }, this.stallMs);
      timer.unref();
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
