import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { DesiredPeersFeed } from '../../src/datastore/desired-feed.js';
import { FileKeySource, writeDatastoreFileAtomically } from '../../src/datastore/file-source.js';
import { planReconcile, peerKey } from '../../src/peers/reconcile.js';
import type { PeerSpec } from '../../src/peers/peer-spec.js';
import { sleep } from './recorder.js';

const P = '/calico/bgp/v1';
const dir = mkdtempSync(join(tmpdir(), 'rr-feed-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

function capture(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

test('file → mapping → reconcile plan: adding and removing a host starts and stops exactly that session', async (t) => {
  const file = join(dir, 'ds.json');
  const doc: Record<string, unknown> = {
    [`${P}/global/peer_v4/10.0.0.10`]: { ip: '10.0.0.10', as_num: '64512' },
    [`${P}/host/a/ip_addr_v4`]: '10.0.1.1',
    [`${P}/host/bad/ip_addr_v4`]: 'nonsense',
  };
  await writeFile(file, JSON.stringify(doc));
  const { logger, lines } = capture();
  const updates: PeerSpec[][] = [];
  const running = new Map<string, PeerSpec>();
  const plans: ReturnType<typeof planReconcile>[] = [];
  const feed = new DesiredPeersFeed(
    new FileKeySource(file, { debounceMs: 20, pollMs: 0 }),
    { ip: '10.0.0.10', port: 179 },
    (peers) => {
      updates.push(peers);
      const plan = planReconcile(running, peers);
      plans.push(plan);
      for (const s of plan.stop) running.delete(peerKey(s));
      for (const s of [...plan.start, ...plan.unchanged, ...plan.restart.map((r) => r.to)]) running.set(peerKey(s), s);
    },
    { debounceMs: 20, logger },
  );
  await feed.start();
  const wait = async (n: number): Promise<void> => {
    for (let i = 0; i < 100 && updates.length < n; i++) await sleep(20);
  };
  await wait(1);
  t.deepEqual(updates[0]?.map((p) => p.name), ['Global_10_0_1_1']);
  t.deepEqual(plans[0]?.start.map((p) => p.name), ['Global_10_0_1_1']);

  doc[`${P}/host/b/ip_addr_v4`] = '10.0.1.2';
  await writeDatastoreFileAtomically(file, JSON.stringify(doc));
  await wait(2);
  t.deepEqual(plans[1]?.start.map((p) => p.name), ['Global_10_0_1_2']);
  t.deepEqual(plans[1]?.unchanged.map((p) => p.name), ['Global_10_0_1_1']);
  t.deepEqual(plans[1]?.stop, []);

  delete doc[`${P}/host/a/ip_addr_v4`];
  await writeDatastoreFileAtomically(file, JSON.stringify(doc));
  await wait(3);
  t.deepEqual(plans[2]?.stop.map((p) => p.name), ['Global_10_0_1_1']);
  t.deepEqual(plans[2]?.start, []);
  t.deepEqual(plans[2]?.restart, []);

  // the bad host entry was logged once, not on every update
  t.is(lines.filter((l) => l.includes('datastore entry skipped') && l.includes('host/bad')).length, 1);
  await feed.stop();
});

test('no desired list before the first snapshot', async (t) => {
  const file = join(dir, 'garbage.json');
  await writeFile(file, '{not json');
  const { logger, lines } = capture();
  let calls = 0;
  const feed = new DesiredPeersFeed(new FileKeySource(file, { pollMs: 0 }), { ip: '10.0.0.10', port: 179 }, () => calls++, {
    debounceMs: 10,
    logger,
  });
  await feed.start();
  await sleep(100);
  t.is(calls, 0);
  t.true(lines.some((l) => l.includes('not valid JSON')));
  await feed.stop();
});
