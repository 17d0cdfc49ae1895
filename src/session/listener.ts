// The BGP listening sockets (IP:BGP_PORT and [IP6]:BGP_PORT): accept, find the session configured for the
// remote address and hand the socket over; refuse everyone else with Cease "connection rejected" (RFC 4486).
import { DEFAULTS } from '../config/defaults.js';
import net from 'node:net';
import { log as rootLog, type Logger } from '../log.js';
import { CeaseSubcode } from '../wire/types.js';
import { rejectSocket, type BgpSession } from './session.js';
import { handleFd, nativeSockopt, setServerMd5 } from './tcp-md5.js';
import { GTSM_TTL } from './gtsm.js';

/** Large enough that a burst of a thousand nodes connecting at once is queued, not dropped (BIRD uses 8). */
export const LISTEN_BACKLOG = 4096;
/** One log line per unknown address per this many ms. */
const REJECT_LOG_INTERVAL_MS = 60_000;
const REJECT_LOG_MAX_ADDRESSES = 10_000;
/** Default bound on accepted connections that have not reached OpenConfirm (MAX_PENDING_CONNECTIONS). */
export const MAX_PENDING_CONNECTIONS = DEFAULTS.MAX_PENDING_CONNECTIONS.value;
const OVERLOAD_LOG_INTERVAL_MS = 10_000;

export type SessionLookup = (remoteAddress: string) => BgpSession | undefined;

export interface ListenerOptions {
  /** Addresses to listen on (IP and, when set, IP6). */
  addresses: string[];
  port: number;
  backlog?: number;
  /** Accepted connections not yet past OpenSent (or lingering after a reject), at most; more are dropped. */
  maxPending?: number;
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
  /** Connections dropped at once because maxPending were already in progress. */
  overloaded = 0;
  /** Accepted connections now before OpenConfirm (including rejected ones still lingering). */
  pending = 0;
  private lastOverloadLog = 0;
  /** TCP-MD5 keys per peer address, applied to every listening socket of that family. */
  private readonly md5Keys = new Map<string, { family: 4 | 6; password: string; peer: string }>();
  /** Listening sockets send with TTL 255 (GTSM peers drop our SYN-ACK otherwise). */
  private ttl255 = false;

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
      for (const [addr, k] of this.md5Keys) this.applyKey(server, host, addr, k.family, k.password, k.peer);
      if (this.ttl255) this.applyTtl255(server, host);
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

  /**
   * Sets (password) or removes (undefined) the TCP-MD5 key for one peer address on the listening sockets of
   * its family: the kernel then drops that address's segments without a valid signature, and accepted
   * sockets inherit the key. Throws (naming the peer) when the key cannot be set.
   */
  setPeerPassword(family: 4 | 6, address: string, password: string | undefined, peer: string): void {
    const addr = normalizeRemoteAddress(address);
    if (password === undefined) {
      if (!this.md5Keys.delete(addr)) return;
    } else {
      this.md5Keys.set(addr, { family, password, peer });
    }
    const errors: string[] = [];
    this.servers.forEach((server, i) => {
      const host = this.opts.addresses[i] ?? '';
      try {
        this.applyKey(server, host, addr, family, password ?? '', peer);
      } catch (e) {
        errors.push(e instanceof Error ? e.message : String(e));
      }
    });
    if (errors.length > 0) throw new Error(errors.join('; '));
  }

  /**
   * For GTSM peers (RFC 5082): the SYN-ACK of an incoming connection leaves from the listening socket, before
   * the session can set TTL 255 on the accepted one, so the listening sockets send with TTL 255 (as BIRD's
   * do). Harmless for other peers: it only raises the TTL of our handshake replies. Idempotent.
   */
  useTtl255(): void {
    if (this.ttl255) return;
    this.ttl255 = true;
    this.servers.forEach((server, i) => this.applyTtl255(server, this.opts.addresses[i] ?? ''));
  }

  private applyTtl255(server: net.Server, host: string): void {
    const n = nativeSockopt();
    const fd = handleFd(server);
    if (n instanceof Error || fd === undefined) {
      this.log.error({ host }, `cannot send with TTL ${GTSM_TTL} from [${host}]:${this.opts.port}: ${n instanceof Error ? n.message : 'no file descriptor'}`);
      return;
    }
    try {
      n.setTtl(fd, host.includes(':') ? 6 : 4, GTSM_TTL);
    } catch (e) {
      this.log.error({ host }, `cannot send with TTL ${GTSM_TTL} from [${host}]:${this.opts.port}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private applyKey(server: net.Server, host: string, addr: string, family: 4 | 6, password: string, peer: string): void {
    if (host.includes(':') !== (family === 6)) return;
    try {
      setServerMd5(server, family, addr, password === '' ? undefined : password);
    } catch (e) {
      const msg = `peer ${peer}: cannot ${password === '' ? 'remove' : 'set'} the TCP-MD5 key for ${addr} on [${host}]:${this.opts.port}: ${e instanceof Error ? e.message : String(e)}`;
      this.log.error({ peer, address: addr }, msg);
      throw new Error(msg);
    }
  }

  private onConnection(sock: net.Socket): void {
    const max = this.opts.maxPending ?? MAX_PENDING_CONNECTIONS;
    if (this.pending >= max) {
      // Cheapest refusal: no NOTIFICATION, no linger. A real peer retries after its ConnectRetry time.
      this.overloaded++;
      sock.on('error', () => undefined);
      sock.destroy();
      const now = Date.now();
      if (now - this.lastOverloadLog >= OVERLOAD_LOG_INTERVAL_MS) {
        this.lastOverloadLog = now;
        this.log.warn({ pending: this.pending, max, dropped: this.overloaded }, `${this.pending} connections before OpenConfirm already: new connections dropped (MAX_PENDING_CONNECTIONS=${max})`);
      }
      return;
    }
    this.pending++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.pending--;
    };
    sock.once('close', release);
    const remote = normalizeRemoteAddress(sock.remoteAddress ?? '');
    const session = remote === '' ? undefined : this.lookupFn(remote);
    if (!session) {
      this.rejected++;
      this.logReject(remote);
      rejectSocket(sock, CeaseSubcode.CONNECTION_REJECTED);
      return;
    }
    this.accepted++;
    session.accept(sock, release);
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
