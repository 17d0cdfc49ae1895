// The listener's budgets, in process on a loopback /24 of this run: connections refused by a configured
// peer's session (here: not started, so each is refused with a Cease and lingers up to 1 s) take at most
// MAX_PENDING_PER_ADDRESS slots of MAX_PENDING_CONNECTIONS, so another configured peer still gets in.
// Oracles: what each client received (our OPEN, a Cease, or a reset with nothing).
import test from 'ava';
import net from 'node:net';
import { log } from '../../src/log.js';
import { BgpListener, MAX_PENDING_PER_ADDRESS } from '../../src/session/listener.js';
import { BgpSession } from '../../src/session/session.js';
import type { PeerSpec } from '../../src/peers/peer-spec.js';
import { claimLoopbackNet } from '../helpers/net.js';

log.level = 'silent';

const lab = await claimLoopbackNet();
const RR = lab.host(1);

function spec(addr: string): PeerSpec {
  return {
    name: `Node_${addr.replaceAll('.', '_')}`, kind: 'node', family: 4, neighborAddress: addr, localAddress: RR,
    port: 179, localAs: 64512, peerAs: 64512, routeReflectorClient: true, clusterId: RR, routerId: RR, sourceKeys: [],
  };
}

type Seen = 'open' | 'cease' | 'reset';
function connect(local: string, holdMs: number): Promise<Seen> {
  return new Promise((resolve) => {
    const s = net.connect({ host: RR, port: 179, localAddress: local, allowHalfOpen: true });
    let seen: Seen = 'reset';
    s.on('data', (d: Buffer) => {
      if (d.length >= 19 && seen === 'reset') seen = d[18] === 1 ? 'open' : 'cease';
    });
    s.on('error', () => undefined);
    const timer = setTimeout(() => s.destroy(), holdMs);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(seen);
    });
  });
}

test('a configured address whose connections are refused holds at most MAX_PENDING_PER_ADDRESS slots', async (t) => {
  const listener = new BgpListener({ addresses: [RR], port: 179, maxPending: 16 });
  const refusing = new BgpSession(spec(lab.host(2)), { passive: true }); // never started: refuses every connection
  const good = new BgpSession(spec(lab.host(3)), { passive: true });
  good.start();
  listener.setPeers([refusing, good]);
  await listener.listen();
  t.teardown(async () => {
    await good.stop();
    await listener.close();
  });
  // 100 connections at once from the refusing peer's address, each held open by the client for 2 s.
  const flood = Array.from({ length: 100 }, () => connect(lab.host(2), 2000));
  await new Promise((r) => setTimeout(r, 300));
  t.true(listener.pending <= MAX_PENDING_PER_ADDRESS, `pending ${listener.pending}`);
  // The other configured peer is served meanwhile (the old accounting let the lingering refusals fill all 16).
  t.is(await connect(lab.host(3), 500), 'open');
  const seen = await Promise.all(flood);
  const cease = seen.filter((s) => s === 'cease').length;
  const reset = seen.filter((s) => s === 'reset').length;
  t.log(`refusing peer: ${cease} got Cease, ${reset} reset at once; per_address ${listener.refusedByReason.per_address}`);
  t.true(cease >= 1 && cease <= 100);
  t.is(listener.refusedByReason.per_address, reset);
  t.true(reset >= 100 - 2 * MAX_PENDING_PER_ADDRESS, `${reset} reset`);
});
