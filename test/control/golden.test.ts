// Golden tests: our replies for the lab data equal the captured BIRD 1.6.8 bytes (times fed from each capture).
// Runs every command of the captured directories through parse → execute → format → framing.

import test from 'ava';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { executeLine, type CliEnvironment, type CliSession } from '../../src/control/execute.js';
import type { Family } from '../../src/control/model.js';
import { GREETING, ReplyEncoder } from '../../src/control/reply.js';
import { DEFAULT_TIME_FORMATS, timeFormatsFromSetting, type TimeFormats } from '../../src/control/timefmt.js';
import { FIXTURES, LabModel, node11V4, node11V6, rrV4, rrV6, timesFrom, withTimes, type LabData } from './lab.js';

async function render(cmd: string, data: LabData, family: Family, timeFormats: TimeFormats, fixtureText: string, session: CliSession = { restricted: false }, encoder = new ReplyEncoder()): Promise<string> {
  const times = timesFrom(fixtureText);
  const model = new LabModel({ [family]: withTimes(data, times) });
  if (times.lastReboot !== undefined) model.lastReboot = times.lastReboot;
  if (times.lastReconfiguration !== undefined) model.lastReconfiguration = times.lastReconfiguration;
  const env: CliEnvironment = { model, family, timeFormats, now: () => times.now, configPath: '/etc/bird/rr.conf', abbreviations: true };
  return encoder.encodeAll(await executeLine(cmd, session, env));
}

/** Captures whose content our reflector cannot have: BIRD's built-in constants and static protocol config. */
const NOT_OURS = new Set(['show_symbols', 'show_static']);

const dirs: Array<{ dir: string; family: Family; data: () => LabData }> = [
  { dir: 'bird1.6-v4-rr', family: 4, data: rrV4 },
  { dir: 'bird1.6-v6-rr', family: 6, data: rrV6 },
  { dir: 'bird1.6-v4-node11', family: 4, data: node11V4 },
  { dir: 'bird1.6-v6-node11', family: 6, data: node11V6 },
];

for (const { dir, family, data } of dirs) {
  const names = readdirSync(`${FIXTURES}${dir}`)
    .filter((f) => f.endsWith('.cmd'))
    .map((f) => f.slice(0, -4))
    .filter((n) => !NOT_OURS.has(n));
  for (const name of names) {
    test(`${dir}/${name}`, async (t) => {
      const cmd = readFileSync(`${FIXTURES}${dir}/${name}.cmd`, 'utf8').replace(/\n$/, '');
      const expected = readFileSync(`${FIXTURES}${dir}/${name}.txt`, 'utf8');
      t.is(await render(cmd, data(), family, DEFAULT_TIME_FORMATS, expected), expected);
    });
  }
  test(`${dir}/greeting`, (t) => {
    t.is(GREETING, readFileSync(`${FIXTURES}${dir}/greeting.txt`, 'utf8'));
  });
}

// Time formats: rows without counters (those changed between captures) in each timeformat directory.
const timeDirs: Array<{ dir: string; setting: string }> = [
  { dir: 'bird1.6-v4-rr-timeformat-isolong', setting: 'iso long' },
  { dir: 'bird1.6-v4-rr-timeformat-oldshort', setting: 'old short' },
  { dir: 'bird1.6-v4-rr-timeformat-unixepoch', setting: 'unix' },
];
for (const { dir, setting } of timeDirs) {
  for (const name of ['show_protocols', 'show_route', 'show_status']) {
    test(`${dir}/${name}`, async (t) => {
      const formats = timeFormatsFromSetting(setting);
      if (formats === undefined) return t.fail(`no formats for ${setting}`);
      const expected = readFileSync(`${FIXTURES}${dir}/${name}.txt`, 'utf8');
      const cmd = readFileSync(`${FIXTURES}${dir}/${name}.cmd`, 'utf8').trim();
      // The iso long capture kept BIRD's default base format (config set only protocol and route).
      const f = setting === 'iso long' ? { ...formats, base: DEFAULT_TIME_FORMATS.base } : formats;
      t.is(await render(cmd, rrV4(), 4, f, expected), expected);
    });
  }
}

// show symbols: BIRD also lists its built-in constants in hash order; every symbol we list must be there.
test('show symbols lists the table, filters and protocols like BIRD', async (t) => {
  const expected = readFileSync(`${FIXTURES}bird1.6-v4-rr/show_symbols.txt`, 'utf8');
  const lines = new Set(expected.split('\n').map((l) => l.replace(/^(\d{4}-| )/, '')));
  const ours = (await render('show symbols', rrV4(), 4, DEFAULT_TIME_FORMATS, '')).split('\n');
  t.is(ours.at(-2), '0000 ');
  const body = ours.slice(0, -2).map((l) => l.replace(/^(\d{4}-| )/, ''));
  t.true(body.length >= 10);
  for (const l of body) t.true(lines.has(l), `missing in BIRD's output: ${JSON.stringify(l)}`);
});

// The control sequence: state changes and their replies, on one model in order.
test('bird1.6-v4-rr-control: disable/enable/restart/configure replies', async (t) => {
  const dir = `${FIXTURES}bird1.6-v4-rr-control/`;
  const data = rrV4();
  const model = new LabModel({ 4: data }, () => new Date(2026, 10, 27, 10, 18, 2));
  const env: CliEnvironment = { model, family: 4, timeFormats: DEFAULT_TIME_FORMATS, now: () => new Date(2026, 10, 27, 10, 18, 2), configPath: '/etc/bird/rr.conf', abbreviations: true };
  const run = async (name: string): Promise<void> => {
    const cmd = readFileSync(`${dir}${name}.cmd`, 'utf8').trim();
    const expected = readFileSync(`${dir}${name}.txt`, 'utf8');
    t.is(new ReplyEncoder().encodeAll(await executeLine(cmd, { restricted: false }, env)), expected, name);
  };
  await run('01_disable_Mesh_127_0_0_12');
  await run('02_show_protocols_Mesh_127_0_0_12');
  await run('03_show_protocols_all_Mesh_127_0_0_12');
  await run('04_disable_Mesh_127_0_0_12');
  await run('05_enable_Mesh_127_0_0_12');
  await run('07_enable_Mesh_127_0_0_12');
  await run('09_restart_Mesh_127_0_0_12');
  await run('12_restart_Mesh');
  await run('13_reload_Mesh_127_0_0_11');
  await run('13_reload_in_Mesh_127_0_0_11');
  await run('13_reload_out_Mesh_127_0_0_11');
  await run('14_configure');
  await run('15_configure_soft');
  await run('18_disable_all');
  await run('20_enable_all');
  t.deepEqual(model.calls.filter((c) => c.startsWith('configure')), ['configure apply', 'configure apply']);
  t.true(model.calls.includes('restart 4 Mesh_127_0_0_11'));
  t.deepEqual(model.calls.filter((c) => c.startsWith('reload')), ['reload both 4 Mesh_127_0_0_11', 'reload in 4 Mesh_127_0_0_11', 'reload out 4 Mesh_127_0_0_11']);
});

test('bird1.6-v4-rr-control: a start/Active row right after restart', async (t) => {
  const dir = `${FIXTURES}bird1.6-v4-rr-control/`;
  const data = rrV4();
  const i = data.protocols.findIndex((p) => p.name === 'Mesh_127_0_0_12');
  const p = data.protocols[i]!;
  data.protocols[i] = {
    ...p,
    state: 'start',
    routes: { imported: 0, exported: 0, preferred: 0 },
    stats: rrV4().protocols.find((x) => x.name === 'Node_127_0_0_13')!.stats,
    bgp: { state: 'Active', neighborAddress: '127.0.0.12', neighborAs: 64512, connectDelay: { remaining: 1, length: 2 } },
  };
  for (const name of ['10_show_protocols', '11_show_protocols_all_Mesh_127_0_0_12']) {
    const expected = readFileSync(`${dir}${name}.txt`, 'utf8');
    const cmd = readFileSync(`${dir}${name}.cmd`, 'utf8').trim();
    t.is(await render(cmd, data, 4, DEFAULT_TIME_FORMATS, expected), expected, name);
  }
});

/** Replays a captured multi-command session (.log) on one connection: one encoder, one session. */
for (const name of ['30_session_restrict', '31_session_multi']) {
  test(`bird1.6-v4-rr-control/${name}`, async (t) => {
    const path = `${FIXTURES}bird1.6-v4-rr-control/${name}.raw`;
    t.true(existsSync(path));
    const raw = readFileSync(path, 'utf8');
    const log = readFileSync(`${FIXTURES}bird1.6-v4-rr-control/${name}.log`, 'utf8');
    const cmds = log.split('\n').filter((l) => l.startsWith('>>> ')).map((l) => l.slice(4));
    const times = timesFrom(raw);
    const data = withTimes(rrV4(), times);
    // These sessions ran after `enable all`, so Global_127_0_0_14 was enabled (start/Active) by then.
    data.protocols = data.protocols.map((p) => (p.name === 'Global_127_0_0_14' ? { ...p, state: 'start' } : p));
    const model = new LabModel({ 4: data });
    if (times.lastReboot !== undefined) model.lastReboot = times.lastReboot;
    if (times.lastReconfiguration !== undefined) model.lastReconfiguration = times.lastReconfiguration;
    model.data[4]!.memory = { ...data.memory, protocols: 33 * 1024, total: 122 * 1024 };
    const env: CliEnvironment = { model, family: 4, timeFormats: DEFAULT_TIME_FORMATS, now: () => times.now, configPath: '/etc/bird/rr.conf', abbreviations: true };
    const session: CliSession = { restricted: false };
    const enc = new ReplyEncoder();
    let out = GREETING;
    for (const c of cmds) out += enc.encodeAll(await executeLine(c, session, env));
    t.is(out, raw);
  });
}
