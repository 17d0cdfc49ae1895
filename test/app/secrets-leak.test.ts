// Issue 21: no secret in any log line, metric or control output, at any level. Two reflectors at LOG_LEVEL=trace:
// one on an etcd with authentication (ETCD_USERNAME/ETCD_PASSWORD over http, explicitly allowed) whose peer entry
// carries a TCP-MD5 password, one on the file datastore with another; each serves a real BIRD 2 node configured
// with the same password (the session coming up Established is BIRD's proof that the password reached the
// kernel). Bad entries holding passwords (broken JSON, a password of the wrong type) are written too. Then every
// line the reflectors wrote, their /metrics, and `birdc show protocols all` on their control sockets are searched
// for each secret (and its base64 form): none may be found. The search proves it can fail: it finds a planted
// marker that the datastore carries in a non-secret place, and the session names in the birdc output.
import test from 'ava';
import path from 'node:path';
import { writeFileSync, renameSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { md5Available } from '../../src/session/tcp-md5.js';
import { claimLoopbackNet, freePort } from '../helpers/net.js';
import { AS, birdc, httpRequest, protocols, startBirdNode, startEtcd, startReflector, tmpDir, until, type Proc } from './hostile-lab.js';

const P = '/calico/bgp/v1';
const procs: Proc[] = [];
test.after.always(async () => {
  await Promise.all(procs.map((p) => p.stop()));
});

const ETCD_PW = 'EtcdPw-9f3a71c2';
const MD5_E = 'Md5E-4b7c90de';
const MD5_F = 'Md5F-0a1b2c3d';
const BROKEN_PW = 'Broken-55e1aa07';
/** Planted where a value is legitimately quoted (a bad host address): the search must find it. */
const MARKER = 'MARKER-7d1e0c';

function occurrences(haystack: string, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i >= 0 && n < 1000; i = haystack.indexOf(needle, i + 1)) n++;
  return n;
}

test('at LOG_LEVEL=trace no password appears in logs, /metrics or birdc show protocols all', async (t) => {
  t.true(md5Available(), 'TCP-MD5 must be available here (see test/hardening/md5.test.ts)');
  const net = await claimLoopbackNet();
  const rrE = net.host(1);
  const rrF = net.host(2);
  const nodeE = net.host(11);
  const nodeF = net.host(12);
  const etcd = await startEtcd(net.host(100), await freePort(net.host(100)), await freePort(net.host(100)));
  procs.push(etcd);

  // etcd v3 authentication: a root user with ETCD_PW (v2 keeps no auth: the merged source sends Basic auth anyway).
  etcd.ctl('user', 'add', 'root', '--new-user-password', ETCD_PW);
  etcd.ctl('auth', 'enable');
  const client = new Etcd3({ hosts: etcd.url, auth: { username: 'root', password: ETCD_PW } });
  t.teardown(() => client.close());
  await client.put(`${P}/global/as_num`).value(String(AS));
  await client.put(`${P}/global/peer_v4/${rrE}`).value(JSON.stringify({ ip: rrE, as_num: String(AS), password: MD5_E }));
  await client.put(`${P}/host/nodeE/ip_addr_v4`).value(nodeE);
  // Bad entries that hold passwords: they must be reported without quoting them.
  await client.put(`${P}/host/x1/peer_v4/${rrE}`).value(`{"password":"${BROKEN_PW}","ip":"${rrE}","as_num":`);
  await client.put(`${P}/host/x2/peer_v4/${rrE}`).value(JSON.stringify({ ip: rrE, as_num: 'abc', password: BROKEN_PW }));
  await client.put(`${P}/host/x3/peer_v4/${rrE}`).value(JSON.stringify({ ip: rrE, as_num: '64512', password: [BROKEN_PW] }));
  await client.put(`${P}/host/marker/ip_addr_v4`).value(MARKER);

  const dirF = tmpDir('rr-secrets-file-');
  const ds = path.join(dirF, 'datastore.json');
  const file = {
    [`${P}/global/as_num`]: String(AS),
    [`${P}/global/peer_v4/${rrF}`]: { ip: rrF, as_num: String(AS), password: MD5_F },
    [`${P}/host/nodeF/ip_addr_v4`]: nodeF,
    [`${P}/host/marker/ip_addr_v4`]: MARKER,
  };
  writeFileSync(`${ds}.tmp`, `${JSON.stringify(file, null, 1).slice(0, -2)},\n "${P}/host/x1/peer_v4/${rrF}": {"password":"${BROKEN_PW}", "ip": "${rrF}", "as_num": ${'['.repeat(40)}${']'.repeat(40)}},\n "${P}/host/x2/peer_v4/${rrF}": {"ip": "${rrF}", "as_num": "64512", "password": 1234567}\n}`);
  renameSync(`${ds}.tmp`, ds);

  const mE = await freePort(rrE);
  const mF = await freePort(rrF);
  const common = { LOG_LEVEL: 'trace', LOG_FORMAT: 'json' };
  const rE = startReflector(tmpDir('rr-secrets-e-'), {
    ...common, IP: rrE, ETCD_ENDPOINTS: etcd.url, ETCD_USERNAME: 'root', ETCD_PASSWORD: ETCD_PW, ETCD_ALLOW_INSECURE_CREDENTIALS: 'true', METRICS_LISTEN: `${rrE}:${mE}`,
  });
  const rF = startReflector(dirF, { ...common, IP: rrF, DATASTORE_TYPE: 'file', DATASTORE_FILE: ds, METRICS_LISTEN: `${rrF}:${mF}` });
  procs.push(rE, rF);
  const bE = startBirdNode(nodeE, rrE, '10.212.1.0/26', `password "${MD5_E}";`);
  const bF = startBirdNode(nodeF, rrF, '10.212.2.0/26', `password "${MD5_F}";`);
  procs.push(bE, bF);
  const nameE = `Node_${rrE.replaceAll('.', '_')}`;
  const nameF = `Node_${rrF.replaceAll('.', '_')}`;
  await until('BIRD node E Established (with MD5)', () => (protocols(bE.sock, true).get(nameE)?.info === 'Established' ? true : undefined));
  await until('BIRD node F Established (with MD5)', () => (protocols(bF.sock, true).get(nameF)?.info === 'Established' ? true : undefined));
  // A change after the first snapshot is logged at debug level with its value: the password must be redacted.
  await client.put(`${P}/global/peer_v4/10.9.9.9`).value(JSON.stringify({ ip: '10.9.9.9', as_num: String(AS), password: MD5_E }));
  await until('the change logged at debug level', () => (/"level":20[^\n]*global\/peer_v4\/10\.9\.9\.9[^\n]*\[redacted\]/.test(rE.output()) ? true : undefined));
  await until('the bad entries reported', () => (/host\/x3\/peer_v4/.test(rE.output()) && /host\/x1\/peer_v4/.test(rF.output()) ? true : undefined));

  const outputs: [string, string][] = [
    ['etcd reflector log', rE.output()],
    ['file reflector log', rF.output()],
    ['etcd reflector /metrics', (await httpRequest('GET', `http://${rrE}:${mE}/metrics`)).body],
    ['file reflector /metrics', (await httpRequest('GET', `http://${rrF}:${mF}/metrics`)).body],
    ['etcd reflector birdc', birdc(rE.sock, false, 'show', 'protocols', 'all')],
    ['file reflector birdc', birdc(rF.sock, false, 'show', 'protocols', 'all')],
  ];
  // Controls: the search finds what is there.
  t.true(occurrences(outputs[0]![1], MARKER) > 0, 'marker found in the etcd reflector log');
  t.true(occurrences(outputs[1]![1], MARKER) > 0, 'marker found in the file reflector log');
  t.true(occurrences(outputs[2]![1], 'bgp_') > 0 || occurrences(outputs[2]![1], '# HELP') > 0, 'metrics fetched');
  t.true(occurrences(outputs[3]![1], '# HELP') > 0, 'metrics fetched');
  t.true(occurrences(outputs[4]![1], `Global_${nodeE.replaceAll('.', '_')}`) > 0, 'session in birdc output');
  t.true(occurrences(outputs[5]![1], `Global_${nodeF.replaceAll('.', '_')}`) > 0, 'session in birdc output');
  t.true(outputs[0]![1].includes('"level":20'), 'debug lines were written');

  const secrets = [ETCD_PW, MD5_E, MD5_F, BROKEN_PW];
  const forms = secrets.flatMap((s) => [s, Buffer.from(s).toString('base64')]);
  forms.push(Buffer.from(`root:${ETCD_PW}`).toString('base64')); // the v2 Basic auth header
  for (const [where, text] of outputs) {
    for (const s of forms) t.is(occurrences(text, s), 0, `${s} found in ${where}`);
  }
  // The http credentials were warned about at start, by name, without the password.
  t.regex(rE.output(), /"level":40[^\n]*ETCD_PASSWORD \(user root\) is sent in clear text to the http:\/\/ endpoint/);
});
