// GTSM, the Generalized TTL Security Mechanism (RFC 5082), for directly connected peers: we send with TTL
// (hop limit) 255 and the kernel drops every segment that arrives with less (IP_MINTTL / IPV6_MINHOPCOUNT).
import type net from 'node:net';
import { handleFd, nativeSockopt } from './tcp-md5.js';

/** RFC 5082 §3: one hop away, so the peer's 255 arrives as 255; anything forwarded arrives lower. */
export const GTSM_TTL = 255;

/** Applies GTSM to an accepted (connected) socket. Throws when the addon or the kernel refuses. */
export function applyGtsm(socket: net.Socket, family: 4 | 6, minTtl: number = GTSM_TTL): void {
  const n = nativeSockopt();
  if (n instanceof Error) throw n;
  const fd = handleFd(socket);
  if (fd === undefined) throw new Error('socket has no file descriptor');
  n.setTtl(fd, family, GTSM_TTL);
  n.setMinTtl(fd, family, minTtl);
}

/** Whether GTSM can be used here: true, or why not. */
export function gtsmAvailable(): true | string {
  const n = nativeSockopt();
  if (n instanceof Error) return n.message;
  let fd = -1;
  try {
    fd = n.boundSocket(4, '127.0.0.1', 0);
    n.setMinTtl(fd, 4, GTSM_TTL);
    n.setTtl(fd, 4, GTSM_TTL);
    return true;
  } catch (e) {
    return `the kernel refuses IP_MINTTL: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    if (fd >= 0) n.closeFd(fd);
  }
}
