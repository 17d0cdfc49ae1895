// The addon's socket options on plain sockets, IPv4 and IPv6 (::1): a TCP-MD5 key on the listener and the same
// key on the outgoing socket connect, a wrong key never does; GTSM drops a peer that sends with TTL 64; a
// refused GTSM connect is reported at once (IP_MINTTL must not swallow the RST).
import test from 'ava';
import net from 'node:net';
import { applyGtsm } from '../../src/session/gtsm.js';
import { connectSecured, md5KeyProblem, nativeSockopt, setServerMd5 } from '../../src/session/tcp-md5.js';
import { claimLoopbackNet } from '../helpers/net.js';

const NET = await claimLoopbackNet();

function listen(host: string, delayMs = 0): Promise<net.Server> {
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    setTimeout(() => s.end('ok'), delayMs);
  });
  return new Promise((resolve) => server.listen({ host, port: 0 }, () => resolve(server)));
}

/** 'ok' when the connection came up and data arrived, 'timeout' when nothing answered in time. */
function outcome(sock: net.Socket, ms: number): Promise<'ok' | 'timeout' | string> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      sock.destroy();
      resolve('timeout');
    }, ms);
    sock.on('data', () => {
      clearTimeout(t);
      sock.destroy();
      resolve('ok');
    });
    sock.on('error', (e) => {
      clearTimeout(t);
      resolve(e.message);
    });
  });
}

for (const [family, server, client] of [[4, NET.host(1), NET.host(2)], [6, '::1', '::1']] as const) {
  test(`TCP-MD5 over IPv${family}: same key connects, wrong key and no key get no answer`, async (t) => {
    const srv = await listen(server);
    const port = (srv.address() as net.AddressInfo).port;
    setServerMd5(srv, family, client, 'k3y');
    t.is(await outcome(connectSecured({ family, host: server, port, localAddress: client, password: 'k3y' }), 3000), 'ok');
    t.is(await outcome(connectSecured({ family, host: server, port, localAddress: client, password: 'wrong' }), 1500), 'timeout');
    t.is(await outcome(net.connect({ host: server, port, localAddress: client }), 1500), 'timeout');
    setServerMd5(srv, family, client, undefined);
    t.is(await outcome(net.connect({ host: server, port, localAddress: client }), 3000), 'ok', 'key removed: plain TCP again');
    await new Promise((r) => srv.close(r));
  });

  test(`GTSM over IPv${family}: a TTL-64 peer is dropped, a TTL-255 one gets through`, async (t) => {
    // A server that answers with TTL 255 (GTSM on its accepted sockets) and one that answers with the default.
    const gtsmSrv = net.createServer((s) => {
      applyGtsm(s, family);
      s.end('ok');
    });
    await new Promise<void>((r) => gtsmSrv.listen({ host: server, port: 0 }, () => r()));
    const plainSrv = await listen(server);
    const gp = (gtsmSrv.address() as net.AddressInfo).port;
    const pp = (plainSrv.address() as net.AddressInfo).port;
    // IP_MINTTL is set once the connection is up, so the handshake with the plain server completes; its data,
    // sent with the default TTL, is then dropped and never arrives.
    t.is(await outcome(connectSecured({ family, host: server, port: gp, localAddress: client, ttlSecurity: true }), 3000), 'ok');
    t.is(await outcome(connectSecured({ family, host: server, port: pp, localAddress: client, ttlSecurity: true }), 1500), 'timeout');
    await Promise.all([new Promise((r) => gtsmSrv.close(r)), new Promise((r) => plainSrv.close(r))]);
  });
}

test('a refused GTSM connect is reported, not left hanging', async (t) => {
  const s = connectSecured({ family: 4, host: NET.host(9), port: 179, localAddress: NET.host(1), ttlSecurity: true });
  t.regex(await outcome(s, 3000), /ECONNREFUSED/);
});

test('key length: RFC 2385 keys up to 80 octets', (t) => {
  t.is(md5KeyProblem('x'.repeat(80)), undefined);
  t.regex(md5KeyProblem('é'.repeat(41)) ?? '', /82 octets/);
  const n = nativeSockopt();
  if (n instanceof Error) throw n;
  const fd = n.boundSocket(4, NET.host(3), 0);
  try {
    t.throws(() => n.setMd5Key(fd, 4, NET.host(4), 'x'.repeat(81)), { message: /longer than 80/ });
    t.throws(() => n.setMd5Key(fd, 4, 'not-an-address', 'k'), { message: /bad peer address/ });
  } finally {
    n.closeFd(fd);
  }
  t.throws(() => n.boundSocket(4, '192.0.2.1', 0), { message: /bind: Cannot assign requested address/ });
});
