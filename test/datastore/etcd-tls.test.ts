import test from 'ava';
import { rmSync } from 'node:fs';
import { loadConfig } from '../../src/config/index.js';
import { createKeySource } from '../../src/app/key-source.js';
import { EtcdV2KeySource } from '../../src/datastore/etcdv2-source.js';
import { EtcdV3KeySource } from '../../src/datastore/etcdv3-source.js';
import type { KeySource } from '../../src/datastore/source.js';
import { Etcd, makeTls, type TlsMaterial } from './etcd-harness.js';
import { Recorder, sleep } from './recorder.js';

const P = '/calico/bgp/v1';
let tls: TlsMaterial;
let etcd: Etcd;
const sources: KeySource[] = [];

test.before(async () => {
  tls = makeTls();
  etcd = await Etcd.create(tls);
  await etcd.start();
  etcd.curl('PUT', `${P}/rr_v4/10.0.0.70`, '-d', 'value={"ip":"10.0.0.70"}');
  etcd.ctl('put', `${P}/rr_v4/10.0.0.71`, '{"ip":"10.0.0.71"}');
});
test.after.always(async () => {
  for (const s of sources) await s.stop().catch(() => undefined);
  await etcd?.destroy();
  if (tls) rmSync(tls.dir, { recursive: true, force: true });
});

test('https with a client certificate: both keyspaces through the factory, as ETCD_* variables configure it', async (t) => {
  const config = loadConfig({
    IP: '10.0.0.70',
    ETCD_ENDPOINTS: etcd.url,
    ETCD_CA_CERT_FILE: tls.ca,
    ETCD_CERT_FILE: tls.clientCert,
    ETCD_KEY_FILE: tls.clientKey,
  });
  t.is(config.datastore.type, 'etcd');
  const src = await createKeySource(config);
  sources.push(src);
  const rec = new Recorder();
  await src.start(rec);
  await rec.waitFor(() => rec.state.size === 2, 'v2 and v3 entries over TLS', 10_000);
  t.true(rec.state.has(`${P}/rr_v4/10.0.0.70`)); // written through /v2/keys with curl
  t.true(rec.state.has(`${P}/rr_v4/10.0.0.71`)); // written with etcdctl (v3)
  etcd.curl('PUT', `${P}/global/as_num`, '-d', 'value=64512');
  await rec.waitFor(() => rec.state.get(`${P}/global/as_num`) === '64512', 'live change over TLS');
  t.deepEqual(rec.problems(), []);
});

for (const kind of ['v2', 'v3'] as const) {
  const make = (o: { caCertFile?: string; certFile?: string; keyFile?: string }): KeySource => {
    const common = { endpoints: [etcd.url], tls: o, backoffInitialMs: 200, backoffMaxMs: 1000 };
    const s = kind === 'v2' ? new EtcdV2KeySource(common) : new EtcdV3KeySource(common);
    sources.push(s);
    return s;
  };

  test(`${kind}: a wrong CA is refused with an error that says so`, async (t) => {
    const rec = new Recorder();
    await make({ caCertFile: tls.wrongCa, certFile: tls.clientCert, keyFile: tls.clientKey }).start(rec);
    await rec.waitFor(() => rec.problems().length > 0, 'a problem');
    await sleep(300);
    t.is(rec.snapshots, 0);
    t.regex(rec.problems()[0] ?? '', /certificate|issuer/i);
    t.regex(rec.problems()[0] ?? '', /ETCD_CA_CERT_FILE/);
  });

  test(`${kind}: no client certificate is refused by a server that requires one`, async (t) => {
    const rec = new Recorder();
    await make({ caCertFile: tls.ca }).start(rec);
    await rec.waitFor(() => rec.problems().length > 0, 'a problem');
    await sleep(300);
    t.is(rec.snapshots, 0);
  });
}
