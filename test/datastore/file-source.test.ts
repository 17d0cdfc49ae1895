import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileKeySource,
  ensureDatastoreFile,
  exampleDatastore,
  parseDatastoreFile,
  writeDatastoreFileAtomically,
} from '../../src/datastore/file-source.js';
import { desiredPeers } from '../../src/datastore/calico-mapping.js';
import { Recorder, sleep } from './recorder.js';

const P = '/calico/bgp/v1';
const root = mkdtempSync(join(tmpdir(), 'rr-file-source-'));
const sources: FileKeySource[] = [];

test.after.always(async () => {
  for (const s of sources) await s.stop();
  await rm(root, { recursive: true, force: true });
});

function newSource(path: string, pollMs = 0): FileKeySource {
  // pollMs 0: changes must arrive through fs.watch alone, so the test proves the watch works.
  const s = new FileKeySource(path, { debounceMs: 30, pollMs });
  sources.push(s);
  return s;
}

let n = 0;
async function freshDir(): Promise<string> {
  const d = join(root, `d${n++}`);
  await mkdir(d);
  return d;
}

test('parseDatastoreFile: strings, objects as JSON text, numbers; bad entries reported', (t) => {
  const r = parseDatastoreFile(
    JSON.stringify({
      [`${P}/global/as_num`]: '64512',
      [`${P}/rr_v4/10.0.0.1`]: { ip: '10.0.0.1', cluster_id: '' },
      [`${P}/host/a/as_num`]: 65000,
      [`${P}/x`]: null,
      'calico/bgp/v1/relative': 'x',
    }),
  );
  t.true(r.ok);
  if (!r.ok) return;
  t.is(r.keys.get(`${P}/global/as_num`), '64512');
  t.is(r.keys.get(`${P}/rr_v4/10.0.0.1`), '{"ip":"10.0.0.1","cluster_id":""}');
  t.is(r.keys.get(`${P}/host/a/as_num`), '65000');
  t.is(r.keys.size, 3);
  t.deepEqual(r.problems.map((p) => p.key), [`${P}/x`, 'calico/bgp/v1/relative']);
  const bad = parseDatastoreFile('{"a": ');
  t.false(bad.ok);
  t.false(parseDatastoreFile('[1,2]').ok);
  t.false(parseDatastoreFile('"x"').ok);
});

test('ensureDatastoreFile creates a valid example once, never overwrites', async (t) => {
  const d = await freshDir();
  const f = join(d, 'sub', 'datastore.json');
  t.true(await ensureDatastoreFile(f, '10.1.1.1', 'fd00::1'));
  const text = readFileSync(f, 'utf8');
  t.is(text, exampleDatastore('10.1.1.1', 'fd00::1'));
  const parsed = parseDatastoreFile(text);
  t.true(parsed.ok);
  if (!parsed.ok) return;
  t.is(parsed.keys.get(`${P}/global/as_num`), '64512');
  t.deepEqual(JSON.parse(parsed.keys.get(`${P}/rr_v4/10.1.1.1`) ?? ''), { ip: '10.1.1.1', cluster_id: '' });
  t.truthy(parsed.keys.get(`${P}/rr_v6/fd00::1`));
  // the example maps to a registered reflector with no peers and no problems
  t.deepEqual(desiredPeers(parsed.keys, { ip: '10.1.1.1', ip6: 'fd00::1', port: 179 }), { peers: [], problems: [] });
  await writeFile(f, '{}');
  t.false(await ensureDatastoreFile(f, '10.1.1.1'));
  t.is(readFileSync(f, 'utf8'), '{}');
});

test('initial snapshot, edit in place, atomic replace, garbage keeps last good, recovery', async (t) => {
  const d = await freshDir();
  const f = join(d, 'datastore.json');
  await writeFile(f, JSON.stringify({ [`${P}/global/as_num`]: '64512' }));
  const rec = new Recorder();
  const src = newSource(f);
  t.is(src.name, `file:${f}`);
  await src.start(rec);
  t.is(rec.snapshots, 1);
  t.deepEqual([...rec.state], [[`${P}/global/as_num`, '64512']]);

  // edit in place (same inode), as `echo > file` does
  await writeFile(f, JSON.stringify({ [`${P}/global/as_num`]: '65000', [`${P}/host/a/ip_addr_v4`]: '10.0.0.1' }));
  await rec.waitFor(() => rec.state.get(`${P}/global/as_num`) === '65000', 'in-place edit');
  t.is(rec.state.get(`${P}/host/a/ip_addr_v4`), '10.0.0.1');

  // atomic replace: temporary file + rename over the old one (new inode)
  const before = rec.snapshots;
  await writeDatastoreFileAtomically(f, JSON.stringify({ [`${P}/global/as_num`]: '65001' }));
  await rec.waitFor(() => rec.state.get(`${P}/global/as_num`) === '65001', 'atomic replace');
  t.false(rec.state.has(`${P}/host/a/ip_addr_v4`));
  t.true(rec.snapshots > before);

  // and the watch still works after the rename (we watch the directory, not the old inode)
  const tmp = join(d, 'manual.tmp');
  await writeFile(tmp, JSON.stringify({ [`${P}/global/as_num`]: '65002' }));
  await rename(tmp, f);
  await rec.waitFor(() => rec.state.get(`${P}/global/as_num`) === '65002', 'second rename');

  // garbage: a problem, the last good state stays
  const problemsBefore = rec.problems().length;
  const snapsBefore = rec.snapshots;
  await writeFile(f, '{"/calico/bgp/v1/global/as_num": ');
  await rec.waitFor(() => rec.problems().length > problemsBefore, 'problem for garbage');
  t.regex(rec.problems().at(-1) ?? '', /not valid JSON.*keeping the last good configuration/);
  t.is(rec.snapshots, snapsBefore);
  t.is(rec.state.get(`${P}/global/as_num`), '65002');

  // fixed: the new content applies
  await writeFile(f, JSON.stringify({ [`${P}/global/as_num`]: '65003' }));
  await rec.waitFor(() => rec.state.get(`${P}/global/as_num`) === '65003', 'recovery');
});

test('a write that only changes formatting emits no snapshot; a burst of writes is debounced', async (t) => {
  const d = await freshDir();
  const f = join(d, 'datastore.json');
  await writeFile(f, JSON.stringify({ [`${P}/a`]: '1' }));
  const rec = new Recorder();
  const src = newSource(f);
  await src.start(rec);
  await writeFile(f, JSON.stringify({ [`${P}/a`]: '1' }, null, 4));
  await sleep(250);
  t.is(rec.snapshots, 1);
  // ten quick appends building one document: far fewer than ten snapshots, and the final state is right
  const doc = JSON.stringify({ [`${P}/a`]: '2', [`${P}/b`]: 'x'.repeat(200) });
  await writeFile(f, '');
  for (let i = 0; i < 10; i++) await appendFile(f, doc.slice((i * doc.length) / 10, ((i + 1) * doc.length) / 10));
  await rec.waitFor(() => rec.state.get(`${P}/a`) === '2', 'final state after burst');
  await sleep(150);
  t.true(rec.snapshots <= 3, `snapshots: ${rec.snapshots}`);
});

test('missing file at start: empty snapshot and a problem; the file appearing later applies', async (t) => {
  const d = await freshDir();
  const f = join(d, 'later.json');
  const rec = new Recorder();
  const src = newSource(f);
  await src.start(rec);
  t.is(rec.snapshots, 1);
  t.is(rec.state.size, 0);
  t.regex(rec.problems()[0] ?? '', /does not exist/);
  await writeDatastoreFileAtomically(f, JSON.stringify({ [`${P}/global/as_num`]: '1' }));
  await rec.waitFor(() => rec.state.get(`${P}/global/as_num`) === '1', 'file created later');
  // deleted later: the last good state is kept
  await rm(f);
  await rec.waitFor(() => rec.problems().length >= 2, 'problem for deletion');
  t.is(rec.state.get(`${P}/global/as_num`), '1');
});

test('garbage at start: no snapshot, a problem; fixing the file gives the first snapshot', async (t) => {
  const d = await freshDir();
  const f = join(d, 'ds.json');
  await writeFile(f, 'nope');
  const rec = new Recorder();
  const src = newSource(f);
  await src.start(rec);
  t.is(rec.snapshots, 0);
  t.is(rec.problems().length, 1);
  await writeFile(f, '{}');
  await rec.waitFor(() => rec.snapshots === 1, 'first snapshot');
  t.is(rec.state.size, 0);
});

test('Kubernetes ConfigMap style update (..data symlink swap) is seen', async (t) => {
  const d = await freshDir();
  await mkdir(join(d, '..v1'));
  await writeFile(join(d, '..v1', 'datastore.json'), JSON.stringify({ [`${P}/global/as_num`]: '1' }));
  await symlink('..v1', join(d, '..data'));
  await symlink('..data/datastore.json', join(d, 'datastore.json'));
  const rec = new Recorder();
  const src = newSource(join(d, 'datastore.json'));
  await src.start(rec);
  t.is(rec.state.get(`${P}/global/as_num`), '1');
  await mkdir(join(d, '..v2'));
  await writeFile(join(d, '..v2', 'datastore.json'), JSON.stringify({ [`${P}/global/as_num`]: '2' }));
  await symlink('..v2', join(d, '..data_tmp'));
  await rename(join(d, '..data_tmp'), join(d, '..data'));
  await rec.waitFor(() => rec.state.get(`${P}/global/as_num`) === '2', 'configmap swap');
  t.pass();
});

test('polling alone (watch off) picks up changes; a stopped source delivers nothing', async (t) => {
  const d = await freshDir();
  const f = join(d, 'ds.json');
  await writeFile(f, JSON.stringify({ [`${P}/a`]: '1' }));
  const rec = new Recorder();
  const src = new FileKeySource(f, { watch: false, pollMs: 100 });
  sources.push(src);
  await src.start(rec);
  await writeFile(f, JSON.stringify({ [`${P}/a`]: '2' }));
  await rec.waitFor(() => rec.state.get(`${P}/a`) === '2', 'polled change', 3000);
  await src.stop();
  await writeFile(f, JSON.stringify({ [`${P}/a`]: '3' }));
  await sleep(300);
  t.is(rec.state.get(`${P}/a`), '2');
});

test('a hostile value keeps only its own key at its last good value; the rest of the file applies', async (t) => {
  const d = await freshDir();
  const f = join(d, 'datastore.json');
  const peer = { ip: '10.0.0.10', as_num: '64512' };
  await writeFile(f, JSON.stringify({ [`${P}/global/as_num`]: '64512', [`${P}/global/peer_v4/10.0.0.10`]: peer, [`${P}/host/a/ip_addr_v4`]: '10.0.1.1' }));
  const rec = new Recorder();
  const src = newSource(f);
  await src.start(rec);
  t.teardown(() => src.stop());
  const deep = '['.repeat(20_000) + ']'.repeat(20_000);
  // The peer entry turns hostile (nested 20,000 deep), a host is added, an unknown key holds another deep value.
  await writeDatastoreFileAtomically(
    f,
    `{"${P}/global/as_num":"64512","${P}/global/peer_v4/10.0.0.10":{"ip":"10.0.0.10","as_num":${deep}},` +
      `"${P}/host/a/ip_addr_v4":"10.0.1.1","${P}/host/b/ip_addr_v4":"10.0.1.2","${P}/zzz":${deep}}`,
  );
  await rec.waitFor(() => rec.state.get(`${P}/host/b/ip_addr_v4`) === '10.0.1.2', 'the good new key applied');
  t.is(rec.state.get(`${P}/global/peer_v4/10.0.0.10`), JSON.stringify(peer), 'the hostile key keeps its last good value');
  t.false(rec.state.has(`${P}/zzz`), 'a hostile key with no earlier value stays absent');
  const problems = rec.problems().join('\n');
  t.regex(problems, /global\/peer_v4\/10\.0\.0\.10: value nested deeper than 32 levels; keeping its last good value/);
  t.regex(problems, /\/zzz: value nested deeper than 32 levels; skipped \(no earlier value\)/);
  t.true(Math.max(...rec.problems().map((p) => p.length)) < 400);
});

test('a file over the size limit is not read; the last good configuration stays; a good file applies again', async (t) => {
  const d = await freshDir();
  const f = join(d, 'datastore.json');
  await writeFile(f, JSON.stringify({ [`${P}/global/as_num`]: '64512' }));
  const rec = new Recorder();
  const src = new FileKeySource(f, { debounceMs: 10, pollMs: 100, maxBytes: 4096 });
  await src.start(rec);
  t.teardown(() => src.stop());
  await writeDatastoreFileAtomically(f, JSON.stringify({ [`${P}/global/as_num`]: '65000', [`${P}/pad`]: 'x'.repeat(5000) }));
  await rec.waitFor(() => rec.problems().some((p) => /is 50\d\d bytes, more than DATASTORE_FILE_MAX_BYTES \(4096\); not read, keeping the last good configuration/.test(p)), 'size problem');
  t.is(rec.state.get(`${P}/global/as_num`), '64512');
  await writeDatastoreFileAtomically(f, JSON.stringify({ [`${P}/global/as_num`]: '65001' }));
  await rec.waitFor(() => rec.state.get(`${P}/global/as_num`) === '65001', 'good file applied');
});
