// GTSM / TTL security (RFC 5082) against BIRD 2 (`ttl security yes` with `multihop 1`, i.e. one hop): both send with
// TTL 255 and drop less, so the session comes up (BIRD drops our segments otherwise); a TTL-64 node gets none.
// (BIRD's `direct` mode cannot be used on loopback: it fails with "Invalid next hop" for lack of an interface.)
import test from 'ava';
import type { Daemon } from '../session/daemons.js';
import { gtsmAvailable } from '../../src/session/gtsm.js';
import { birdc2, protocols, sleep, startBird2Node, startReflector, until, type Reflector } from './lab.js';

const RR = '127.100.2.1';
const GTSM_NODE = '127.100.2.2';
const PLAIN_NODE = '127.100.2.3';
const daemons: Daemon[] = [];
const rrs: Reflector[] = [];

test.after.always(async () => {
  await Promise.all([...daemons.map((d) => d.stop()), ...rrs.map((r) => r.stop())]);
});

test('GTSM with BIRD 2 ttl security: Established; a peer sending TTL 64 is dropped by IP_MINTTL', async (t) => {
  t.is(gtsmAvailable(), true);
  const keys: Record<string, unknown> = {
    '/calico/bgp/v1/global/as_num': '64512',
    [`/calico/bgp/v1/global/peer_v4/${RR}`]: { ip: RR, as_num: '64512', ttl_security: true },
    '/calico/bgp/v1/host/gtsm/ip_addr_v4': GTSM_NODE,
    '/calico/bgp/v1/host/plain/ip_addr_v4': PLAIN_NODE,
  };
  const rr = startReflector(RR, keys);
  rrs.push(rr);
  const gtsm = startBird2Node({ ip: GTSM_NODE, rr: RR, block: '10.100.22.0/24', extra: 'ttl security yes;' });
  const plain = startBird2Node({ ip: PLAIN_NODE, rr: RR, block: '10.100.23.0/24' });
  daemons.push(gtsm, plain);
  await until('the GTSM node Established', () => (protocols(rr.sock).get('Global_127_100_2_2')?.info === 'Established' ? true : undefined), 30_000);
  t.regex(birdc2(gtsm, 'show', 'protocols', 'all'), /BGP state:\s+Established/);
  await sleep(6000);
  t.not(protocols(rr.sock).get('Global_127_100_2_3')?.info, 'Established', 'TTL 64 segments are dropped');
  // BIRD may get as far as OpenConfirm on our connection (we send TTL 255), but its own segments (TTL 64) never
  // reach us, so the session never comes up.
  t.notRegex(birdc2(plain, 'show', 'protocols', 'all', 'Node_127_100_2_1'), /BGP state:\s+Established/);
  t.is(protocols(rr.sock).get('Global_127_100_2_2')?.info, 'Established', 'the GTSM session stayed up');
});
