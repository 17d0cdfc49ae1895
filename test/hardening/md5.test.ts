// TCP-MD5 (RFC 2385) against BIRD 2: the same password gives an Established session with routes; a wrong
// password gives no session and a clear log line, while the kernel counts the rejected signatures. Everything
// runs in a network namespace of this test, so the kernel's counters there move only with these sessions.
import test from 'ava';
import { createNetns, type Netns } from '../helpers/netns.js';
import type { Daemon } from '../session/daemons.js';
import { md5Available } from '../../src/session/tcp-md5.js';
import { birdc2, protocols, sleep, startBird2Node, startReflector, tcpExtIn, until, type Reflector } from './lab.js';
import { claimLoopbackNet } from '../helpers/net.js';

// Everything runs in this test's namespace; the addresses still come from a block claimed for this run, like
// every other test's.
const NET = await claimLoopbackNet();

const RR = NET.host(1);
const GOOD = NET.host(2);
const BAD = NET.host(3);
const PLAIN = NET.host(4);
const daemons: Daemon[] = [];
const rrs: Reflector[] = [];
let ns: Netns | undefined;

test.after.always(async () => {
  await Promise.all([...daemons.map((d) => d.stop()), ...rrs.map((r) => r.stop())]);
  ns?.remove();
});

test('the kernel here accepts TCP_MD5SIG through the addon', (t) => {
  t.is(md5Available(), true);
});

test('same password: Established with routes; wrong password or none: no session, a clear log line', async (t) => {
  const keys: Record<string, unknown> = {
    '/calico/bgp/v1/global/as_num': '64512',
    [`/calico/bgp/v1/global/peer_v4/${RR}`]: { ip: RR, as_num: '64512', password: 'calico-s3cret' },
    '/calico/bgp/v1/host/good/ip_addr_v4': GOOD,
    '/calico/bgp/v1/host/bad/ip_addr_v4': BAD,
    '/calico/bgp/v1/host/plain/ip_addr_v4': PLAIN,
    // A key TCP_MD5SIG cannot take: the session must not start, and say why, rather than run unprotected.
    '/calico/bgp/v1/host/long/ip_addr_v4': NET.host(5),
    [`/calico/bgp/v1/host/long/peer_v4/${RR}`]: { ip: RR, as_num: '64512', password: 'x'.repeat(81) },
  };
  ns = createNetns();
  const netns = ns.name;
  const before = tcpExtIn(netns);
  t.is(before.TCPMD5Failure, 0, 'a fresh namespace starts from zero');
  const rr = startReflector(RR, keys, {}, netns);
  rrs.push(rr);
  const good = startBird2Node({ ip: GOOD, rr: RR, block: '10.100.2.0/24', extra: 'password "calico-s3cret";', netns });
  const bad = startBird2Node({ ip: BAD, rr: RR, block: '10.100.3.0/24', extra: 'password "not-the-password";', netns });
  const plain = startBird2Node({ ip: PLAIN, rr: RR, block: '10.100.4.0/24', netns });
  daemons.push(good, bad, plain);

  await until('the good node Established', () => (protocols(rr.sock).get(`Global_${NET.under(2)}`)?.info === 'Established' ? true : undefined), 30_000);
  // Our route reflected to BIRD proves the MD5-signed session carries traffic both ways.
  t.regex(await until('good node sees its own session up', () => {
    const p = birdc2(good, 'show', 'protocols', 'all');
    return /Established/.test(p) ? p : undefined;
  }), /BGP state:\s+Established/);
  await until('the mismatch hint in our log', () => (new RegExp(String.raw`TCP-MD5 is on for Global_${NET.under(3)}`).test(rr.log()) ? true : undefined), 20_000);
  await sleep(2000);
  const p = protocols(rr.sock);
  t.not(p.get(`Global_${NET.under(3)}`)?.info, 'Established', 'wrong password: no session');
  t.not(p.get(`Global_${NET.under(4)}`)?.info, 'Established', 'no password on the node: no session');
  t.regex(birdc2(bad, 'show', 'protocols', 'all', `Node_${NET.under(1)}`), /BGP state:\s+(Connect|Active)/);
  // The log comes over the reflector's stdout, the sessions' fate over TCP: wait for the lines, then assert.
  for (const re of [BAD, PLAIN].map((a) => new RegExp(`no TCP answer from ${a.replaceAll('.', '\\.')}:179 .*password mismatch`))) {
    await until(`log line ${re.source}`, () => (re.test(rr.log()) ? true : undefined), 20_000);
    t.regex(rr.log(), re);
  }
  const after = tcpExtIn(netns);
  t.log(`in ${netns}: TCPMD5Failure ${before.TCPMD5Failure} → ${after.TCPMD5Failure}, TCPMD5NotFound ${before.TCPMD5NotFound} → ${after.TCPMD5NotFound}, TCPMD5Unexpected ${before.TCPMD5Unexpected} → ${after.TCPMD5Unexpected}`);
  // The kernel's evidence: badly signed (BAD) and unsigned (PLAIN) segments were dropped.
  t.true((after.TCPMD5Failure ?? 0) > (before.TCPMD5Failure ?? 0), 'TCPMD5Failure grew');
  t.true((after.TCPMD5NotFound ?? 0) + (after.TCPMD5Unexpected ?? 0) > (before.TCPMD5NotFound ?? 0) + (before.TCPMD5Unexpected ?? 0), 'unsigned or unexpected segments counted');
  t.is(protocols(rr.sock).get(`Global_${NET.under(2)}`)?.info, 'Established', 'the good session stayed up');
  const tooLong = new RegExp(String.raw`session Node_${NET.under(5)} not started: TCP-MD5 password is 81 octets, more than the 80 RFC 2385 allows`);
  await until('the too-long key reported', () => (tooLong.test(rr.log()) ? true : undefined), 20_000);
  t.regex(rr.log(), tooLong);
  t.not(protocols(rr.sock).get(`Node_${NET.under(5)}`)?.state, 'up');
});
