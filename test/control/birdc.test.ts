// The real BIRD clients against our sockets: Debian's birdc/birdc6 (1.6.8, also -r and -v) and BIRD 2's birdc/birdcl.
// Outputs are compared with what the same clients printed against real BIRD (fixtures/bird/birdc-client).

import test from 'ava';
import { readFileSync, statSync } from 'node:fs';
import { execChild, spawnChild } from '../helpers/child.js';
import { FIXTURES, LabModel, rrV4, rrV6, timesFrom, withTimes, type LabData } from './lab.js';
import { startServer, stopAll, RawClient } from './harness.js';

const run = execChild;
const BIRDC = '/usr/sbin/birdc';
const BIRDC6 = '/usr/sbin/birdc6';
const BIRD2_BIRDC = '/opt/bird2/usr/sbin/birdc';
const BIRD2_BIRDCL = '/opt/bird2/usr/sbin/birdcl';

test.after.always(stopAll);

const clientFixture = (name: string): string =>
  readFileSync(`${FIXTURES}birdc-client/${name}`, 'utf8').replace(/rc=\d+\n$/, '');

async function client(bin: string, args: string[]): Promise<string> {
  // The clients get PATH only: nothing of the caller's shell (TZ, LANG, …) reaches them.
  const { stdout } = await run(bin, args, { timeout: 10_000 });
  return stdout;
}

/** Lab model with the times (and since) of the given client capture. */
function labFor(captured: string, data: LabData = rrV4()): { model: LabModel; now: Date } {
  const times = timesFrom(captured);
  const model = new LabModel({ 4: withTimes(data, times), 6: rrV6() });
  if (times.lastReboot !== undefined) model.lastReboot = times.lastReboot;
  if (times.lastReconfiguration !== undefined) model.lastReconfiguration = times.lastReconfiguration;
  return { model, now: times.now };
}

test('socket file is created mode 0660 and a stale one is replaced', async (t) => {
  const first = await startServer(new LabModel({ 4: rrV4() }), 4, { gid: 4 });
  t.is(statSync(first.path).mode & 0o777, 0o660);
  t.is(statSync(first.path).gid, 4);
  // Simulate a crash: the socket file stays behind; a new server on the same path must start.
  const stale = await startServer(new LabModel({ 4: rrV4() }), 4, {}, first.dir);
  t.is(stale.path, first.path);
  const c = await RawClient.connect(stale.path);
  t.is(await c.reply(), '0001 BIRD 1.6.8 ready.\n');
  c.close();
});

test('birdc show protocols prints what it printed against BIRD 1.6.8', async (t) => {
  const expected = clientFixture('birdc_show_protocols.out');
  const { model, now } = labFor(expected);
  const { path } = await startServer(model, 4, { now: () => now });
  t.is(await client(BIRDC, ['-s', path, 'show', 'protocols']), expected);
});

test('birdc -v shows raw reply codes', async (t) => {
  const expected = clientFixture('birdc_-v_show_protocols.out');
  const { model, now } = labFor(expected);
  const { path } = await startServer(model, 4, { now: () => now });
  t.is(await client(BIRDC, ['-v', '-s', path, 'show', 'protocols']), expected);
});

test('birdc expands `sh pro al` and prints the detail block', async (t) => {
  const expected = clientFixture('birdc_abbrev_sh_pro_al.out');
  const data = rrV4();
  // This capture was taken after the peers re-established (fresh counters).
  const mesh = data.protocols.find((p) => p.name === 'Mesh_127_0_0_11')!;
  mesh.stats = {
    importUpdates: { received: 2, rejected: 0, filtered: 0, ignored: 0, accepted: 2 },
    importWithdraws: { received: 0, rejected: 0, ignored: 0, accepted: 0 },
    exportUpdates: { received: 8, rejected: 2, filtered: 2, accepted: 4 },
    exportWithdraws: { received: 0, accepted: 0 },
  };
  const { model, now } = labFor(expected, data);
  const { path } = await startServer(model, 4, { now: () => now });
  t.is(await client(BIRDC, ['-s', path, 'sh', 'pro', 'al', 'Mesh_127_0_0_11']), expected);
});

test('birdc: no match and unknown command', async (t) => {
  const { path } = await startServer(new LabModel({ 4: rrV4() }), 4);
  t.is(await client(BIRDC, ['-s', path, 'show', 'protocols', '"Zzz*"']), clientFixture('birdc_nomatch.out'));
  t.is(await client(BIRDC, ['-s', path, 'foo']), clientFixture('birdc_unknown_foo.out'));
});

test('birdc -r: restricted session refuses configure and the model is not touched', async (t) => {
  const model = new LabModel({ 4: rrV4() });
  const { path } = await startServer(model, 4);
  t.is(await client(BIRDC, ['-r', '-s', path, 'configure']), clientFixture('birdc_-r_configure.out'));
  t.is(await client(BIRDC, ['-r', '-s', path, 'disable', 'Mesh_127_0_0_11']), 'BIRD 1.6.8 ready.\nAccess restricted\nAccess denied\n');
  t.deepEqual(model.calls, []);
  // show commands keep working when restricted
  const out = await client(BIRDC, ['-r', '-s', path, 'show', 'route', 'count']);
  t.is(out, 'BIRD 1.6.8 ready.\nAccess restricted\n8 of 8 routes for 8 networks\n');
});

test('birdc disable/enable change the protocol and show protocols follows', async (t) => {
  const model = new LabModel({ 4: rrV4() });
  const { path } = await startServer(model, 4);
  t.is(await client(BIRDC, ['-s', path, 'disable', 'Mesh_127_0_0_12']), 'BIRD 1.6.8 ready.\nMesh_127_0_0_12: disabled\n');
  const shown = await client(BIRDC, ['-s', path, 'show', 'protocols', 'Mesh_127_0_0_12']);
  // The model stamps the change with the lab clock (10:17:21 on the capture day): iso short prints the time.
  t.regex(shown, /^Mesh_127_0_0_12 BGP +master +down +10:17:21 {4}\n$/m);
  t.is(await client(BIRDC, ['-s', path, 'enable', 'Mesh_127_0_0_12']), 'BIRD 1.6.8 ready.\nMesh_127_0_0_12: enabled\n');
  t.deepEqual(model.calls, ['disable 4 Mesh_127_0_0_12', 'enable 4 Mesh_127_0_0_12']);
  t.is(await client(BIRDC, ['-s', path, 'configure']), 'BIRD 1.6.8 ready.\nReading configuration from /etc/calico/confd/config/bird.cfg\nReconfigured\n');
});

test('birdc6 on bird6.ctl shows the IPv6 table', async (t) => {
  const model = new LabModel({ 4: rrV4(), 6: rrV6() });
  const { path } = await startServer(model, 6);
  t.true(path.endsWith('/bird6.ctl'));
  const out = await client(BIRDC6, ['-s', path, 'show', 'route']);
  const lines = out.split('\n');
  t.is(lines[0], 'BIRD 1.6.8 ready.');
  t.is(lines[1], 'fd00:65:1::40/122  unreachable [Mesh_fd00__11 10:16:12 from fd00::11] * (100/-) [i]');
  t.is(lines.length, 1 + 8 + 1);
  const protos = await client(BIRDC6, ['-s', path, 'show', 'protocols', 'all', 'Node_fd00__13']);
  t.regex(protos, /\n {4}Last error: {7}Socket: Network is unreachable\n/);
});

test('birdc interactive mode on stdin runs several commands on one connection', async (t) => {
  const model = new LabModel({ 4: rrV4() });
  const { path } = await startServer(model, 4);
  const out = await new Promise<string>((resolve, reject) => {
    // Asynchronous: our server answers from this very process.
    const child = spawnChild(BIRDC, ['-s', path], { stdio: ['pipe', 'pipe', 'pipe'] });
    // One command at a time, each after the previous reply: birdc takes a `quit` (or EOF) read while a reply
    // is still on its way as the end, so writing all three at once races its own reading.
    const script: Array<[string, RegExp]> = [['show status\n', /Daemon is up and running\n/], ['show route count\n', /routes for \d+ networks\n/]];
    let stdout = '';
    const next = (): void => {
      const step = script[0];
      if (step !== undefined && step[1].test(stdout)) {
        script.shift();
        if (script.length > 0) child.stdin?.write(script[0]![0]);
        else child.stdin?.end('quit\n');
      }
    };
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      next();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`birdc exited with ${code}: ${stdout}`));
    });
    child.stdin?.write(script[0]![0]);
  });
  t.regex(out, /Router ID is 10\.0\.0\.10\n/);
  t.regex(out, /Daemon is up and running\n/);
  t.regex(out, /8 of 8 routes for 8 networks\n/);
});

test('BIRD 2 birdcl and birdc work against our 1.6 greeting', async (t) => {
  const expected = clientFixture('birdcl-2.0.12_against_bird1.6_show_protocols.out');
  const { model, now } = labFor(expected);
  const { path } = await startServer(model, 4, { now: () => now });
  t.is(await client(BIRD2_BIRDCL, ['-s', path, 'show', 'protocols']), expected);
  const status = clientFixture('birdcl-2.0.12_-v_against_bird1.6_show_status.out');
  const s = labFor(status);
  const second = await startServer(s.model, 4, { now: () => s.now });
  t.is(await client(BIRD2_BIRDCL, ['-v', '-s', second.path, 'show', 'status']), status);
  const viaBirdc = await client(BIRD2_BIRDC, ['-s', second.path, 'show', 'status']);
  t.regex(viaBirdc, /^BIRD 1\.6\.8 ready\.\nBIRD 1\.6\.8\nRouter ID is 10\.0\.0\.10\n/);
});
