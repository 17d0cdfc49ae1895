// The BGP listening sockets (IP:BGP_PORT and [IP6]:BGP_PORT): accept, find the session configured for the
// remote address and hand the socket over; refuse everyone else with Cease "connection rejected" (RFC 4486).
import net from 'node:net';
import { log as rootLog, type Logger } from '../log.js';
import { CeaseSubcode } from '../wire/types.js';
import { rejectSocket, type BgpSession } from './session.js';

/** Large enough that a burst of a thousand nodes connecting at once is queued, not dropped (BIRD uses 8). */
export const LISTEN_BACKLOG = 4096;
/** One log line per unknown address per this many ms. */
const REJECT_LOG_INTERVAL_MS = 60_000;
const REJECT_LOG_MAX_ADDRESSES = 10_000;

export type SessionLookup = (remoteAddress: string) => BgpSession | undefined;

export interface ListenerOptions {
  /** Addresses to listen on (IP and, when set, IP6). */
  addresses: string[];
  port: number;
  backlog?: number;
}

/** "::ffff:10.0.0.1" (a v4 peer on a dual-stack socket) is the peer 10.0.0.1. */
export function normalizeRemoteAddress(addr: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  return m ? m[1]! : addr.toLowerCase();
}

export class BgpListener {
  private readonly servers: net.Server[] = [];
  private readonly rejectLogged = new Map<string, number>();
  private lookupFn: SessionLookup = () => undefined;
  private readonly log: Logger = rootLog.child({ component: 'listener' });
  /** Connections refused because no session is configured for the address. */
  rejected = 0;
  accepted = 0;

  constructor(private readonly opts: ListenerOptions) {}

  /** Sets how a remote address is mapped to its session (the peer manager owns the table). */
  setLookup(fn: SessionLookup): void {
    this.lookupFn = fn;
  }

  /** Convenience: a fixed set of sessions keyed by their neighbour address. */
  setPeers(sessions: Iterable<BgpSession>): void {
    const byAddr = new Map<string, BgpSession>();
    for (const s of sessions) byAddr.set(normalizeRemoteAddress(s.spec.neighborAddress), s);
    this.lookupFn = (a) => byAddr.get(a);
  }

  /** Starts listening on every address; rejects when one cannot be bound (names the address). */
  async listen(): Promise<void> {
    for (const host of this.opts.addresses) {
      const server = net.createServer({ noDelay: true, pauseOnConnect: false }, (sock) => this.onConnection(sock));
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => reject(new Error(`cannot listen on [${host}]:${this.opts.port}: ${err.message}`));
        server.once('error', onError);
        server.listen({ host, port: this.opts.port, backlog: this.opts.backlog ?? LISTEN_BACKLOG, ipv6Only: host.includes(':') }, () => {
          server.off('error', onError);
          server.on('error', (err) => this.log.error({ err: err.message, host }, 'listener error'));
          resolve();
        });
      });
      this.servers.push(server);
      this.log.info({ host, port: this.opts.port }, `listening for BGP on [${host}]:${this.opts.port}`);
    }
  }

  /** The bound ports (useful when port 0 was asked for). */
  ports(): number[] {
    return this.servers.map((s) => {
      const a = s.address();
      return typeof a === 'object' && a !== null ? a.port : 0;
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.servers.length = 0;
  }

  private onConnection(sock: net.Socket): void {
    const remote = normalizeRemoteAddress(sock.remoteAddress ?? '');
    const session = remote === '' ? undefined : this.lookupFn(remote);
    if (!session) {
      this.rejected++;
      this.logReject(remote);
      rejectSocket(sock, CeaseSubcode.CONNECTION_REJECTED);
      return;
    }
    this.accepted++;
    session.accept(sock);
  }

  private logReject(remote: string): void {
    const now = Date.now();
    const last = this.rejectLogged.get(remote);
    if (last !== undefined && now - last < REJECT_LOG_INTERVAL_MS) return;
    if (this.rejectLogged.size >= REJECT_LOG_MAX_ADDRESSES) {
      for (const [a, t] of this.rejectLogged) if (now - t >= REJECT_LOG_INTERVAL_MS) this.rejectLogged.delete(a);
      if (this.rejectLogged.size >= REJECT_LOG_MAX_ADDRESSES) return;
    }
    this.rejectLogged.set(remote, now);
    this.log.warn({ remote }, `connection from unknown address ${remote} rejected (Cease: connection rejected)`);
  }
}
