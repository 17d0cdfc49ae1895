// Issue 21, live: hostile values written to a real etcd (v3 keys, Calico v3 resources, v2 keys) and to the
// datastore file while real reflector processes serve real BIRD 2 nodes. Before the fix the first of them (a
// global peer entry whose as_num is an array nested 20,000 deep) ended the reflector within 3 s. Now: both
// reflectors stay up, BIRD's own view of each session stays Established with its uptime unchanged, each bad entry
// gets a short log line naming its key, and later good changes still apply (the datastore feed is alive).
import test from 'ava';
import { sameInstant } from '../helpers/bird-time.js';
import { writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { claimLoopbackNet, freePort } from '../helpers/net.js';
import { AS, protocols, putV2, sleep, startBirdNode, startEtcd, startReflector, tmpDir, until, type Proc } from './hostile-lab.js';

const P = '/calico/bgp/v1';
const V3 = '/calico/resources/v3/projectcalico.org';
const procs: Proc[] = [];
test.after.always(async () => {
  await Promise.all(procs.map((p) => p.stop()));
});

const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);

/** Samples BIRD's view of its one session until stopped: every sample must be Established with the same since. */
function watchBird(sock: string, name: string, since: string): { stop: () => Promise<string[]> } {
  const bad: string[] = [];
  let on = true;
  const loop = (async () => {
    for (let i = 0; i < 2000 && on; i++) {
      const p = protocols(sock, true).get(name);
      if (p?.info !== 'Established' || !sameInstant(p.since, since)) bad.push(`${p?.state ?? 'gone'} ${p?.since ?? ''} ${p?.info ?? ''}`);
      await sleep(200);
    }
  })();
  return {
    stop: async () => {
      on = false;
      await loop;
      return bad;
    },
  };
}

/** BIRD's `since` of an Established session once it stayed the same for 3 s. */
async function settled(sock: string, name: string): Promise<string> {
  let last = '';
  let stableFrom = Date.now();
  return until(`BIRD ${name} Established and settled`, () => {
    const p = protocols(sock, true).get(name);
    const now = p?.info === 'Established' ? p.since : '';
    if (now !== last) {
      last = now;
      stableFrom = Date.now();
    }
    return now !== '' && Date.now() - stableFrom >= 3000 ? now : undefined;
  });
}

function writeAtomically(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

test('hostile values in etcd v3, Calico v3 resources, etcd v2 and the file: reflectors stay up, BIRD sessions Established throughout', async (t) => {
  const net = await claimLoopbackNet();
  const rrE = net.host(1);
  const rrF = net.host(2);
  const nodeE = net.host(11);
  const nodeF = net.host(12);
  const etcdHost = net.host(100);
  const etcd = await startEtcd(etcdHost, await freePort(etcdHost), await freePort(etcdHost));
  procs.push(etcd);
  const client = new Etcd3({ hosts: etcd.url });
  t.teardown(() => client.close());

  await client.put(`${P}/global/as_num`).value(String(AS));
  await client.put(`${P}/global/peer_v4/${rrE}`).value(JSON.stringify({ ip: rrE, as_num: String(AS) }));
  await client.put(`${P}/host/nodeE/ip_addr_v4`).value(nodeE);

  const dirF = tmpDir('rr-hostile-file-');
  const ds = path.join(dirF, 'datastore.json');
  const goodFile: Record<string, unknown> = {
    [`${P}/global/as_num`]: String(AS),
    [`${P}/global/peer_v4/${rrF}`]: { ip: rrF, as_num: String(AS) },
    [`${P}/host/nodeF/ip_addr_v4`]: nodeF,
  };
  writeAtomically(ds, JSON.stringify(goodFile, null, 1));

  // ETCD_ENDPOINTS alone: both keyspaces merged (v2 and v3), as the seed starts.
  const rE = startReflector(tmpDir('rr-hostile-e-'), { IP: rrE, ETCD_ENDPOINTS: etcd.url, METRICS_LISTEN: 'off', LOG_LEVEL: 'info', LOG_FORMAT: 'json' });
  const rF = startReflector(dirF, { IP: rrF, DATASTORE_TYPE: 'file', DATASTORE_FILE: ds, METRICS_LISTEN: 'off', LOG_LEVEL: 'info', LOG_FORMAT: 'json' });
  procs.push(rE, rF);
  const bE = startBirdNode(nodeE, rrE, '10.211.1.0/26');
  const bF = startBirdNode(nodeF, rrF, '10.211.2.0/26');
  procs.push(bE, bF);
  const nameE = `Node_${rrE.replaceAll('.', '_')}`;
  const nameF = `Node_${rrF.replaceAll('.', '_')}`;
  // Settled first: both sides connect at start, and BIRD may replace its first session after a collision.
  const sinceE = await settled(bE.sock, nameE);
  const sinceF = await settled(bF.sock, nameF);
  const wE = watchBird(bE.sock, nameE, sinceE);
  const wF = watchBird(bF.sock, nameF, sinceF);

  // --- etcd v3 keys: the issue's crash input first, then every other kind of hostile value ---
  const v3: [string, string][] = [
    [`${P}/global/peer_v4/zz-deep-as-num`, `{"ip":"${rrE}","as_num":${deep(20_000)}}`],
    [`${P}/global/peer_v4/zz-as-num-array`, `{"ip":"${rrE}","as_num":${deep(20)},"max_prefixes":"0x10","ttl_security":"yes"}`],
    [`${P}/host/n9/peer_v4/${rrE}`, `{"ip":"${rrE}","as_num":"1e400","max_prefixes":${deep(20_000)},"ttl_security":${deep(20_000)}}`],
    [`${P}/rr_v4/10.99.0.1`, '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000)],
    [`${P}/rr_v4/${rrE}`, `{"ip":"${rrE}","cluster_id":${deep(20_000)}}`],
    [`${P}/host/n8/ip_addr_v4`, '1.2.3.4.5'],
    [`${P}/host/n7/ip_addr_v4`, '::ffff:1.2.3.4'],
    [`${P}/host/n6/ip_addr_v4`, '010.0.0.1'],
    [`${P}/host/n5/ip_addr_v4`, 'x'.repeat(1024 * 1024)],
    [`${P}/host/n4/ip_addr_v4`, '0.0.0.0'],
    [`${P}/host/\u202e\u0000ünï/ip_addr_v4`, '１.２.３.４'],
    [`${P}/zzz/unknown`, deep(20_000)],
    [`${V3}/bgppeers/hostile`, `{"spec":{"peerIP":${deep(20_000)},"asNumber":${deep(20_000)}}}`],
    [`${V3}/nodes/hostile`, `{"spec":{"bgp":{"ipv4Address":${deep(20_000)},"asNumber":"0x10"}}}`],
    [`${V3}/bgpconfigurations/default`, `{"spec":{"asNumber":-0,"logSeverityScreen":${deep(20_000)}}}`],
  ];
  for (const [k, v] of v3) await client.put(k).value(v);
  // --- etcd v2 keys, as curl writes them ---
  t.is(await putV2(etcd.url, `${P}/global/peer_v4/zz-deep-v2`, `{"ip":"${rrE}","as_num":${deep(20_000)}}`), 201);
  t.is(await putV2(etcd.url, `${P}/host/n3/ip_addr_v4`, deep(20_000)), 201);

  // --- the file: one hostile value under an unknown key and one in a peer entry, the rest good ---
  writeAtomically(
    ds,
    `{${Object.entries(goodFile).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')},` +
      `"${P}/zzz/unknown":${deep(20_000)},"${P}/global/peer_v4/zz":{"ip":"${rrF}","as_num":${deep(20_000)}}}`,
  );
  await sleep(3500); // the old reflector was gone within 3 s
  t.true(rE.alive(), `etcd reflector alive; output tail: ${rE.output().slice(-600)}`);
  t.true(rF.alive(), `file reflector alive; output tail: ${rF.output().slice(-600)}`);

  // A file that does not parse, then one over DATASTORE_FILE_MAX_BYTES: the last good configuration stays.
  writeAtomically(ds, '{ "not json');
  await until('file reflector reports the broken file', () => (/not valid JSON.*keeping the last good configuration/.test(rF.output()) ? true : undefined));
  writeAtomically(ds, JSON.stringify({ ...goodFile, [`${P}/zzz/pad`]: 'x'.repeat(9 * 1024 * 1024) }));
  await until('file reflector refuses the 9 MiB file', () => (/more than DATASTORE_FILE_MAX_BYTES \(8388608\); not read, keeping the last good configuration/.test(rF.output()) ? true : undefined));

  // Still alive and still applying: a new good host appears in both reflectors' logs as a new session.
  await client.put(`${P}/host/late/ip_addr_v4`).value(net.host(21));
  writeAtomically(ds, JSON.stringify({ ...goodFile, [`${P}/host/late/ip_addr_v4`]: net.host(22) }));
  await until('etcd reflector adds the late host', () => (rE.output().includes(`"address":"${net.host(21)}"`) ? true : undefined));
  await until('file reflector adds the late host', () => (rF.output().includes(`"address":"${net.host(22)}"`) ? true : undefined));

  const diag = (o: string): string => o.split('\n').filter((l) => /restarting|removed|added|-> Idle|Established|Cease|hold/i.test(l)).join('\n').slice(-3000);
  t.deepEqual(await wE.stop(), [], `BIRD node E: Established with the same uptime at every sample; ${diag(rE.output())}\n${bE.output().slice(-1000)}`);
  t.deepEqual(await wF.stop(), [], `BIRD node F: Established with the same uptime at every sample; ${diag(rF.output())}`);
  t.true(rE.alive() && rF.alive());

  // One short line naming each bad key (and never the value itself).
  // The messages as written (JSON lines escape their quotes).
  const logE = rE.output().replaceAll('\\"', '"');
  const logF = rF.output().replaceAll('\\"', '"');
  for (const [re, what] of [
    [/zz-deep-as-num: value nested deeper than 32 levels; skipped/, 'v3 crash input'],
    [/zz-as-num-array: as_num an array of 1 item is not an AS number; skipped/, 'as_num of the wrong type'],
    [/host\/n9\/peer_v4\/[\d.]+: value too large \(\d+ bytes; the limit is 64 KiB\)/, 'large entry'],
    [/rr_v4\/10\.99\.0\.1: value too large/, 'deep rr entry'],
    [/rr_v4\/[\d.]+: value nested deeper than 32 levels; registered without a cluster ID/, 'deep cluster_id in our own entry'],
    [/host\/n8\/ip_addr_v4: "1\.2\.3\.4\.5" is not an IPv4 address/, 'five-part address'],
    [/host\/n7\/ip_addr_v4: "::ffff:1\.2\.3\.4" is not an IPv4 address/, 'mapped address'],
    [/host\/n6\/ip_addr_v4: "010\.0\.0\.1" is not an IPv4 address/, 'leading zero'],
    [/host\/n5\/ip_addr_v4: a string of 1048576 characters starting "xxxx/, 'huge string'],
    [/host n4 has 0\.0\.0\.0, the unspecified address/, 'unspecified address'],
    [/bgppeers\/hostile: value nested deeper than 32 levels; skipped/, 'Calico v3 BGPPeer'],
    [/zz-deep-v2: value nested deeper than 32 levels/, 'v2 crash input'],
    [/host\/n3\/ip_addr_v4: a string of 40000 characters starting/, 'v2 deep text as an address'],
    [/bgpconfigurations\/default: value nested deeper than 32 levels; skipped/, 'Calico v3 BGPConfiguration'],
  ] as const) t.regex(logE, re, what);
  t.regex(logF, /zzz\/unknown: value nested deeper than 32 levels; skipped \(no earlier value\)/);
  t.regex(logF, /global\/peer_v4\/zz: value nested deeper than 32 levels/);
  const longest = Math.max(...`${logE}\n${logF}`.split('\n').map((l) => l.length));
  t.true(longest < 3000, `longest log line ${longest} characters`);
});
