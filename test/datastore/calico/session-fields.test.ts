// BGPPeer fields our sessions apply, seen from a real BIRD 2 peer (the file datastore holding the v3 resources):
// ttlSecurity 1 → GTSM (BIRD with `ttl security yes` drops anything below TTL 255, so Established proves it),
// maxRestartTime → the restart time BIRD reads in our graceful restart capability; and a field we do not apply
// (filters) is named in our `show protocols all` and once in the log.
import test from 'ava';
import { gtsmAvailable } from '../../../src/session/gtsm.js';
import { birdc2, startBird2Node, startReflector, until } from '../../hardening/lab.js';
import { claimLoopbackNet } from '../../helpers/net.js';
import { runChild } from '../../helpers/child.js';
import { protocolName } from './calico-bird.js';

const NET = await claimLoopbackNet();
const RR = NET.host(1);
const N1 = NET.host(11);
const V3 = '/calico/resources/v3/projectcalico.org';
const cleanups: Array<() => Promise<void>> = [];
test.after.always(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

test('ttlSecurity and maxRestartTime reach the wire; filters is reported as not applied', async (t) => {
  t.is(gtsmAvailable(), true);
  const keys = {
    [`${V3}/nodes/rr1`]: { metadata: { name: 'rr1' }, spec: { bgp: { ipv4Address: `${RR}/24`, routeReflectorClusterID: '244.0.0.1' } } },
    [`${V3}/nodes/n1`]: { metadata: { name: 'n1' }, spec: { bgp: { ipv4Address: `${N1}/24` } } },
    [`${V3}/bgppeers/to-n1`]: { metadata: { name: 'to-n1' }, spec: { node: 'rr1', peerIP: N1, asNumber: 64512, ttlSecurity: 1, maxRestartTime: '300s', filters: ['no-such-filter'] } },
    [`${V3}/bgpconfigurations/default`]: { metadata: { name: 'default' }, spec: { nodeToNodeMeshEnabled: false } },
  };
  const bird = startBird2Node({ ip: N1, rr: RR, block: '10.78.1.0/26', extra: 'ttl security yes;' });
  cleanups.push(bird.stop);
  const rr = startReflector(RR, keys, { NODENAME: 'rr1' });
  cleanups.push(rr.stop);
  const name = `Node_${RR.replaceAll('.', '_')}`;
  const all = await until('BIRD Established with GTSM', () => {
    const out = birdc2(bird, 'show', 'protocols', 'all', name);
    return /Established/.test(out) ? out : undefined;
  }, 60_000, 500).catch((e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${rr.log().slice(-3000)}`);
  });
  // BIRD 2 prints the neighbour's capabilities: our graceful restart with maxRestartTime.
  const neighbor = all.slice(all.indexOf('Neighbor capabilities'));
  t.regex(neighbor, /Graceful restart[\s\S]*?Restart time: 300/);
  const ours = runChild('birdc', ['-s', rr.sock, 'show', 'protocols', 'all', protocolName(N1)], { encoding: 'utf8' }).stdout;
  t.regex(ours, /Not applied:\s+BGPPeer to-n1: spec\.filters/);
  t.is(rr.log().split('\n').filter((l) => l.includes('not applied: BGPPeer to-n1')).length, 1);
});
