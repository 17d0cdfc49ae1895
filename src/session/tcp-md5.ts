// TCP-MD5 signatures (RFC 2385) through the native addon in native/tcp_md5: loading it, probing whether the
// kernel accepts TCP_MD5SIG, keys on listening sockets, and outgoing sockets keyed before their SYN leaves.
import { createRequire } from 'node:module';
import net from 'node:net';

/** What native/tcp_md5/tcp_sockopt.c exports. Every call throws an Error with .code/.errno on failure. */
export interface NativeSockopt {
  setMd5Key(fd: number, family: 4 | 6, peerAddress: string, key: string): void;
  setMinTtl(fd: number, family: 4 | 6, ttl: number): void;
  setTtl(fd: number, family: 4 | 6, ttl: number): void;
  boundSocket(family: 4 | 6, localAddress: string, localPort: number): number;
  closeFd(fd: number): void;
}

/** RFC 2385 keys are at most 80 octets (TCP_MD5SIG_MAXKEYLEN). */
export const MD5_MAX_KEY_LENGTH = 80;

let loaded: NativeSockopt | Error | undefined;

/** The addon, or the Error that explains why it could not be loaded (not built, wrong platform). */
export function nativeSockopt(): NativeSockopt | Error {
  if (loaded !== undefined) return loaded;
  const require = createRequire(import.meta.url);
  // The same relative path works from src/session/ (tsx) and dist/session/ (compiled).
  const file = new URL('../../native/tcp_md5/build/Release/tcp_sockopt.node', import.meta.url).pathname;
  try {
    loaded = require(file) as NativeSockopt;
  } catch (e) {
    loaded = new Error(`native addon ${file} not loadable (run \`npm run build:native\`): ${e instanceof Error ? e.message : String(e)}`);
  }
  return loaded;
}

let md5Probe: true | string | undefined;

/**
 * Whether TCP-MD5 works here: the addon loads and the kernel accepts a TCP_MD5SIG key on a scratch socket
 * (a kernel built without CONFIG_TCP_MD5SIG answers ENOPROTOOPT). true, or the reason it does not.
 */
export function md5Available(): true | string {
  if (md5Probe !== undefined) return md5Probe;
  const n = nativeSockopt();
  if (n instanceof Error) return (md5Probe = n.message);
  let fd = -1;
  try {
    fd = n.boundSocket(4, '127.0.0.1', 0);
    n.setMd5Key(fd, 4, '127.0.0.1', 'probe');
    n.setMd5Key(fd, 4, '127.0.0.1', '');
    md5Probe = true;
  } catch (e) {
    md5Probe = `the kernel refuses TCP_MD5SIG: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    if (fd >= 0) n.closeFd(fd);
  }
  return md5Probe;
}

/** Checks a password before it is used: non-empty is the caller's business; too long is an error here. */
export function md5KeyProblem(password: string): string | undefined {
  const len = Buffer.byteLength(password, 'utf8');
  return len > MD5_MAX_KEY_LENGTH ? `TCP-MD5 password is ${len} octets, more than the ${MD5_MAX_KEY_LENGTH} RFC 2385 allows` : undefined;
}

/**
 * The file descriptor behind a listening server or a connected socket. Node has no public accessor; the
 * libuv handle's `fd` is what node itself uses for `server.listen({ fd })` and is stable on Linux.
 */
export function handleFd(h: net.Server | net.Socket): number | undefined {
  const handle: unknown = (h as unknown as { _handle?: unknown })._handle;
  if (handle === null || typeof handle !== 'object') return undefined;
  const fd: unknown = (handle as { fd?: unknown }).fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** Sets (password) or removes (undefined) the key for one peer address on a listening server. */
export function setServerMd5(server: net.Server, family: 4 | 6, peerAddress: string, password: string | undefined): void {
  const n = nativeSockopt();
  if (n instanceof Error) throw n;
  const fd = handleFd(server);
  if (fd === undefined) throw new Error('listening socket has no file descriptor');
  n.setMd5Key(fd, family, peerAddress, password ?? '');
}

export interface SecuredConnectOptions {
  family: 4 | 6;
  host: string;
  port: number;
  localAddress: string;
  /** TCP-MD5 key for this peer. */
  password?: string | undefined;
  /**
   * GTSM (RFC 5082): send with TTL 255 from the first SYN; IP_MINTTL is set right after the connect() call
   * (as BIRD does), before any segment of the peer can carry data, so a peer's OPEN sent with a lower TTL is
   * dropped. (Set before connect(), it would also drop a loopback peer's RST for a refused connect.)
   */
  ttlSecurity?: boolean | undefined;
  /** With ttlSecurity: the lowest TTL accepted (default 255: directly connected). */
  minTtl?: number | undefined;
}

/**
 * An outgoing connection whose socket options are in place before the SYN: Node creates its sockets lazily
 * inside connect(), binding and connecting in one synchronous step, so there is no moment to set them. The
 * addon therefore creates and binds the socket itself; we set the options on that fd and give it to
 * net.Socket({ fd }), which then connects it like any other (libuv adopts the fd; reading starts once the
 * connection is up). Throws when a step fails; the fd is closed then.
 */
export function connectSecured(o: SecuredConnectOptions): net.Socket {
  const n = nativeSockopt();
  if (n instanceof Error) throw n;
  const fd = n.boundSocket(o.family, o.localAddress, 0);
  try {
    if (o.password !== undefined) n.setMd5Key(fd, o.family, o.host, o.password);
    if (o.ttlSecurity === true) n.setTtl(fd, o.family, 255);
  } catch (e) {
    n.closeFd(fd);
    throw e;
  }
  const socket = new net.Socket({ fd });
  socket.connect({ host: o.host, port: o.port, noDelay: true });
  if (o.ttlSecurity === true) {
    // connect() to an address literal issues the connect(2) call in a process.nextTick callback; this one runs
    // right after it.
    process.nextTick(() => {
      if (socket.destroyed) return;
      try {
        n.setMinTtl(fd, o.family, o.minTtl ?? 255);
      } catch (e) {
        socket.destroy(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }
  return socket;
}
