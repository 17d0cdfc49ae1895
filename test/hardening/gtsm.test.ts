// GTSM / TTL security (RFC 5082) against BIRD 2 (`ttl security yes` with `multihop 1`, i.e. one hop): both send with
// TTL 255 and drop less, so the session comes up (BIRD drops our segments otherwise); a TTL-64 node gets none.
// (BIRD's `direct` mode cannot be used on loopback: it fails with "Invalid next hop" for lack of an interface.)
import test from 'ava';
import type { Daemon } from '../session/daemons.js';
import { gtsmAvailable } from '../../src/session/gtsm.js';
import { birdc2, protocols, sleep, startBird2Node, startReflector, until, type Reflector } from './lab.js';
import { claimLoopbackNet } from '../helpers/net.js';

const NET = await claimLoopbackNet();

const RR = NET.host(1);
const GTSM_NODE = NET.host(2);
const PLAIN_NODE = NET.host(3);
const DIALING_NODE = NET.host(4);
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
    '/calico/bgp/v1/host/dialing/ip_addr_v4': DIALING_NODE,
  };
  const rr = startReflector(RR, keys);
  rrs.push(rr);
  const gtsm = startBird2Node({ ip: GTSM_NODE, rr: RR, block: '10.100.22.0/24', extra: 'ttl security yes;' });
  const plain = startBird2Node({ ip: PLAIN_NODE, rr: RR, block: '10.100.23.0/24' });
  // This node listens on another port, so only its connection to us can carry the session: GTSM on the
  // accepted socket (TTL 255 out, IP_MINTTL in) must do.
  const dialing = startBird2Node({ ip: DIALING_NODE, rr: RR, block: '10.100.24.0/24', extra: 'ttl security yes;', listenPort: 1179 });
  daemons.push(gtsm, plain, dialing);
  await until('the GTSM node Established', () => (protocols(rr.sock).get(`Global_${NET.under(2)}`)?.info === 'Established' ? true : undefined), 30_000);
  t.regex(birdc2(gtsm, 'show', 'protocols', 'all'), /BGP state:\s+Established/);
  await until('the dialing GTSM node Established (incoming)', () => (protocols(rr.sock).get(`Global_${NET.under(4)}`)?.info === 'Established' ? true : undefined), 30_000);
  await sleep(4000);
  t.not(protocols(rr.sock).get(`Global_${NET.under(3)}`)?.info, 'Established', 'TTL 64 segments are dropped');
  // The plain node's segments (TTL 64) do not reach us once IP_MINTTL is set. On a connection it opened, its
  // OPEN can be queued by the kernel before we accept the socket and set IP_MINTTL; BIRD may then count the
  // session as up for a hold time (our OPEN and KEEPALIVEs reach it), but we never get its KEEPALIVE, so we
  // never reach Established and never send it a route.
  t.notRegex(birdc2(plain, 'show', 'route', '10.100.22.0/24'), /10\.100\.22\.0\/24/);
  t.is(protocols(rr.sock).get(`Global_${NET.under(2)}`)?.info, 'Established', 'the GTSM session stayed up');
});
