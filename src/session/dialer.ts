// Making and taking TCP connections for a session: outgoing connects from the configured source address with
// TCP-MD5 (RFC 2385) and GTSM (RFC 5082) set before the SYN leaves, GTSM on sockets the listener accepted, and
// refusing a socket with a Cease NOTIFICATION. What happens on the connection afterwards is connection.ts.
import net from 'node:net';
import { encodeNotification } from '../wire/notification.js';
import type { PeerSpec } from '../peers/peer-spec.js';
import { LINGER_MS } from './connection.js';
import { applyGtsm, gtsmAvailable } from './gtsm.js';
import { connectSecured, md5Available, md5KeyProblem } from './tcp-md5.js';

/** How long an outgoing TCP-MD5 connection may wait for its SYN-ACK before we log the likely cause. */
const MD5_HINT_MS = 5000;

/** Why a session with this spec cannot run here (TCP-MD5 or GTSM asked for and unavailable, a bad key). */
export function securityProblem(spec: PeerSpec, ttlSecurity: boolean): string | undefined {
  const pw = spec.password;
  if (pw !== undefined) {
    const tooLong = md5KeyProblem(pw);
    if (tooLong !== undefined) return tooLong;
    const ok = md5Available();
    if (ok !== true) return `TCP-MD5 password configured but TCP-MD5 is unavailable: ${ok}`;
  }
  if (ttlSecurity) {
    const ok = gtsmAvailable();
    if (ok !== true) return `TTL security (GTSM) configured but unavailable: ${ok}`;
  }
  return undefined;
}

/**
 * Opens the outgoing connection to the peer (not yet connected). Throws an Error whose message is the reason
 * (a socket option or the source address could not be set). With TCP-MD5, onSilence(text) is called when
 * the SYN is still unanswered after a few seconds (at most hintAfterMs), the usual sign of a password mismatch.
 */
export function dial(spec: PeerSpec, ttlSecurity: boolean, hintAfterMs: number, onSilence: (text: string) => void): net.Socket {
  let socket: net.Socket;
  if (spec.password !== undefined || ttlSecurity) {
    try {
      socket = connectSecured({
        family: spec.family, host: spec.neighborAddress, port: spec.port, localAddress: spec.localAddress,
        password: spec.password, ttlSecurity, minTtl: gtsmMinTtl(spec),
      });
    } catch (e) {
      throw new Error(`cannot open a ${spec.password !== undefined ? 'TCP-MD5 ' : ''}${ttlSecurity ? 'GTSM ' : ''}connection: ${e instanceof Error ? e.message : String(e)}`);
    }
  } else {
    socket = net.connect({ host: spec.neighborAddress, port: spec.port, localAddress: spec.localAddress, noDelay: true });
  }
  if (spec.password !== undefined) {
    // With TCP-MD5 a wrong or missing password on either side gets no answer at all (the kernels drop the
    // segments silently), so say so while the SYN is still unanswered instead of waiting for the retry time.
    const hint = setTimeout(() => {
      if (socket.destroyed || socket.connecting === false) return;
      onSilence(`no TCP answer from ${spec.family === 6 ? `[${spec.neighborAddress}]` : spec.neighborAddress}:${spec.port} after ${MD5_HINT_MS / 1000} s: TCP-MD5 is on for ${spec.name}, and a password mismatch (or a peer without the password) looks exactly like this, as the kernel drops badly signed segments silently`);
    }, Math.min(MD5_HINT_MS, hintAfterMs));
    hint.unref();
    socket.once('close', () => clearTimeout(hint));
    socket.once('connect', () => clearTimeout(hint));
  }
  return socket;
}

/** Prepares a socket the listener accepted from the peer's address; throws when GTSM cannot be set. */
export function prepareAccepted(socket: net.Socket, spec: PeerSpec, ttlSecurity: boolean): void {
  socket.setNoDelay(true);
  if (ttlSecurity) applyGtsm(socket, spec.family, gtsmMinTtl(spec));
}

/** GTSM's lowest accepted TTL: 256 − the spec's hop count (Calico ttlSecurity), 255 (directly connected) by default. */
export function gtsmMinTtl(spec: PeerSpec): number {
  const hops = spec.ttlSecurityHops;
  return hops !== undefined && hops >= 1 && hops <= 255 ? 256 - hops : 255;
}

/** Sends a Cease NOTIFICATION on a socket we will not use and closes it. */
export function rejectSocket(socket: net.Socket, subcode: number): void {
  socket.on('error', () => undefined);
  socket.end(encodeNotification(6, subcode));
  socket.resume();
  setTimeout(() => socket.destroy(), LINGER_MS);
}

/** Resolves when the socket has closed, or after timeoutMs. */
export function socketClosed(socket: net.Socket, timeoutMs: number): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, timeoutMs);
    socket.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}
