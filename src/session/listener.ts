// The BGP listening sockets (IP:BGP_PORT and [IP6]:BGP_PORT): accept, find the session configured for the
// remote address and hand the socket over; refuse everyone else with Cease "connection rejected" (RFC 4486).
import { DEFAULTS } from '../config/defaults.js';
import net from 'node:net';
import { log as rootLog, type Logger } from '../log.js';
import { CeaseSubcode } from '../wire/types.js';
import type { BgpSession } from './session.js';
import { handleFd, nativeSockopt, setServerMd5 } from './tcp-md5.js';
import { GTSM_TTL } from './gtsm.js';
import { LogThrottle } from './log-throttle.js';
import { encodeNotification } from '../wire/notification.js';

/** Large enough that a burst of a thousand nodes connecting at once is queued, not dropped (BIRD uses 8). */
export const LISTEN_BACKLOG = 4096;
/** Refusal lines: the first per address, then at most one summary per address per this many ms. */
export const REFUSE_LOG_INTERVAL_MS = 60_000;
const REFUSE_LOG_MAX_ADDRESSES = 10_000;
/** Default bound on accepted connections of configured peers that have not reached OpenConfirm (MAX_PENDING_CONNECTIONS). */
export const MAX_PENDING_CONNECTIONS = DEFAULTS.MAX_PENDING_CONNECTIONS.value;
/**
 * Refused connections (unknown addresses) still flushing their Cease NOTIFICATION, at most. They have their own
 * small budget, apart from MAX_PENDING_CONNECTIONS, so a flood of them never takes a slot from a configured
 * peer; beyond it they are reset at once without a NOTIFICATION.
 */
export const MAX_REFUSED_IN_FLIGHT = 64;
/**
 * Pending connections from one configured address, at most: a real speaker has one or two; a local user
 * connecting again and again from a node's address (each refused or superseded, lingering up to 1 s) must
 * not use up MAX_PENDING_CONNECTIONS for the other peers. Beyond it the connection is reset at once.
 */
export const MAX_PENDING_PER_ADDRESS = 8;
/** A refused socket is destroyed at the peer's FIN or after this long, whichever comes first. */
const REFUSED_FLUSH_MS = 200;
const OVERLOAD_LOG_INTERVAL_MS = 10_000;

/** Why the listener refused a connection (the `reason` label of bgp_rr_connections_refused_total). */
export type RefuseReason = 'unknown_address' | 'refused_budget' | 'max_pending' | 'per_address';

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
  private readonly refuseLog = new LogThrottle(REFUSE_LOG_INTERVAL_MS, REFUSE_LOG_MAX_ADDRESSES);
  private summaryTimer: NodeJS.Timeout | null = null;
  /** Refused sockets still flushing their NOTIFICATION (bounded by MAX_REFUSED_IN_FLIGHT). */
  refusedInFlight = 0;
  /** Connections refused by the listener, by reason (never counted in `pending`). */
  readonly refusedByReason: Record<RefuseReason, number> = { unknown_address: 0, refused_budget: 0, max_pending: 0, per_address: 0 };
  private lookupFn: SessionLookup = () => undefined;
  private readonly log: Logger = rootLog.child({ component: 'listener' });
  /** Connections refused because no session is configured for the address. */
  rejected = 0;
  accepted = 0;
  /** Connections dropped at once because maxPending were already in progress. */
  overloaded = 0;
  /** Accepted connections of configured peers now before OpenConfirm. */
  pending = 0;
  private lastOverloadLog = 0;
  /** Pending connections per configured address (entries removed at 0). */
  private readonly pendingByAddress = new Map<string, number>();
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
        const onError = (err: NodeJS.ErrnoException): void => reject(new Error(`cannot listen on [${host}]:${this.opts.port}: ${err.message}${listenHint(err, this.opts.port)}`));
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
    if (this.summaryTimer === null) {
      // A flood that stopped still gets its one summary line per address.
      this.summaryTimer = setInterval(() => this.logRefusalSummaries(), REFUSE_LOG_INTERVAL_MS);
      this.summaryTimer.unref();
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
    if (this.summaryTimer !== null) clearInterval(this.summaryTimer);
    this.summaryTimer = null;
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
    sock.on('error', () => undefined);
    const remote = normalizeRemoteAddress(sock.remoteAddress ?? '');
    const session = remote === '' ? undefined : this.lookupFn(remote);
    if (!session) {
      this.refuse(sock, remote);
      return;
    }
    const max = this.opts.maxPending ?? MAX_PENDING_CONNECTIONS;
    if (this.pending >= max) {
      // Cheapest refusal: no NOTIFICATION, no linger. A real peer retries after its ConnectRetry time.
      this.overloaded++;
      this.refusedByReason.max_pending++;
      sock.destroy();
      const now = Date.now();
      if (now - this.lastOverloadLog >= OVERLOAD_LOG_INTERVAL_MS) {
        this.lastOverloadLog = now;
        this.log.warn({ pending: this.pending, max, dropped: this.overloaded }, `${this.pending} connections before OpenConfirm already: new connections dropped (MAX_PENDING_CONNECTIONS=${max})`);
      }
      return;
    }
    const mine = this.pendingByAddress.get(remote) ?? 0;
    if (mine >= MAX_PENDING_PER_ADDRESS) {
      this.refusedByReason.per_address++;
      sock.resetAndDestroy();
      const v = this.refuseLog.note(`pending:${remote}`);
      if (v.log) this.log.warn({ remote, max: MAX_PENDING_PER_ADDRESS, suppressed: v.suppressed }, `${mine} connections from ${remote} before OpenConfirm already: further ones reset at once${LogThrottle.suffix(v)}`);
      return;
    }
    this.pendingByAddress.set(remote, mine + 1);
    this.pending++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.pending--;
      const n = (this.pendingByAddress.get(remote) ?? 1) - 1;
      if (n <= 0) this.pendingByAddress.delete(remote);
      else this.pendingByAddress.set(remote, n);
    };
    sock.once('close', release);
    this.accepted++;
    session.accept(sock, release);
  }

  /**
   * A connection from an address with no session: Cease "connection rejected" (RFC 4486) and close at once,
   * without waiting for the peer's FIN. Within MAX_REFUSED_IN_FLIGHT such sockets the NOTIFICATION is written
   * first; beyond it (a flood) the socket is reset straight away. Either way it never counts in `pending`.
   */
  private refuse(sock: net.Socket, remote: string): void {
    this.rejected++;
    const v = this.refuseLog.note(remote);
    if (v.log) this.log.warn({ remote, suppressed: v.suppressed }, `connection from unknown address ${remote} rejected (Cease: connection rejected)${LogThrottle.suffix(v)}`);
    if (this.refusedInFlight >= MAX_REFUSED_IN_FLIGHT) {
      this.refusedByReason.refused_budget++;
      sock.resetAndDestroy();
      return;
    }
    this.refusedByReason.unknown_address++;
    this.refusedInFlight++;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      this.refusedInFlight--;
      clearTimeout(timer);
      sock.destroy();
    };
    const timer = setTimeout(finish, REFUSED_FLUSH_MS);
    sock.once('close', finish);
    sock.once('end', finish);
    // What the peer sends is read and dropped (unread data would turn our close into a reset that can overtake
    // the NOTIFICATION); the socket goes at the peer's FIN or after REFUSED_FLUSH_MS, whichever comes first.
    sock.resume();
    sock.end(encodeNotification(6, CeaseSubcode.CONNECTION_REJECTED));
  }

  private logRefusalSummaries(): void {
    for (const d of this.refuseLog.drainDue()) {
      this.log.warn({ remote: d.key, suppressed: d.suppressed }, `${d.suppressed} more connections from unknown address ${d.key} rejected in the last ${d.overSeconds} s (not logged one by one)`);
    }
  }
}

/** Why a bind most likely failed, for the operator: a low port without CAP_NET_BIND_SERVICE is the usual one. */
export function listenHint(err: NodeJS.ErrnoException, port: number): string {
  if ((err.code === 'EACCES' || err.code === 'EPERM') && port > 0 && port < 1024) {
    return (
      `: ports below 1024 need CAP_NET_BIND_SERVICE; running as uid ${process.getuid?.() ?? '?'}, this process does not have it. ` +
      `A non-root process gets it from the file capability on the node binary (setcap cap_net_bind_service=+ep ` +
      `"$(readlink -f "$(command -v node)")", as the image does), only when NET_BIND_SERVICE is in its capability ` +
      `bounding set (Kubernetes: securityContext.capabilities.add: ["NET_BIND_SERVICE"]) and no_new_privs is off ` +
      `(Kubernetes: allowPrivilegeEscalation: true; no_new_privs makes the kernel ignore file capabilities); ` +
      `or set BGP_PORT above 1023`
    );
  }
  if (err.code === 'EADDRNOTAVAIL') return ': the address is not configured on any interface of this host (network namespace)';
  if (err.code === 'EADDRINUSE') {
    // On a Calico cluster the usual holder is calico-node's BIRD, which listens on every address of its node
    // (port 179 unless a BGPConfiguration sets listenPort); see the README's "Port 179" section.
    return (
      `: another process already listens there. On a Calico node this is most likely calico-node's BIRD on this node ` +
      `(it binds port ${port === 179 ? '179' : `${port} when BGPConfiguration listenPort says so`} on every address). ` +
      `Run the reflector on dedicated nodes where calico-node does not run BGP (the manifests' reflector label and taint, ` +
      `with calico-node kept off them), or give the reflector another BGP_PORT and name it in the BGPPeer's peerIP ("IP:port")`
    );
  }
  return '';
}
