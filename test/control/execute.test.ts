// Route lookups and table scans of the command executor: longest match, non-canonical input, big tables.

import test from 'ava';
import { executeLine, type CliEnvironment } from '../../src/control/execute.js';
import type { Family, RouteView } from '../../src/control/model.js';
import { ReplyEncoder } from '../../src/control/reply.js';
import { DEFAULT_TIME_FORMATS } from '../../src/control/timefmt.js';
import { at, LabModel, rrV4, rrV6 } from './lab.js';

const route = (prefix: string, protocol = 'static1', best = true): RouteView => ({ prefix, destination: { kind: 'blackhole' }, protocol, since: at('10:00:00'), best, preference: 200, source: 'static' });

async function run(model: LabModel, family: Family, cmd: string): Promise<string> {
  const env: CliEnvironment = { model, family, timeFormats: DEFAULT_TIME_FORMATS, now: () => at('10:00:05'), configPath: '/x', abbreviations: true };
  return new ReplyEncoder().encodeAll(await executeLine(cmd, { restricted: false }, env));
}

test('show route for: the longest covering network wins, wherever it is in the table', async (t) => {
  const d = rrV4();
  d.routes = [route('10.65.0.0/16'), route('0.0.0.0/0'), route('10.65.1.0/24'), route('10.65.1.0/24', 'direct1', false), route('10.0.0.0/8')];
  const m = new LabModel({ 4: d });
  t.is(await run(m, 4, 'show route for 10.65.1.7'), '1007-10.65.1.0/24       blackhole [static1 10:00:00] * (200)\n                    blackhole [direct1 10:00:00] (200)\n0000 \n');
  t.regex(await run(m, 4, 'show route for 10.65.2.7'), /^1007-10\.65\.0\.0\/16 /);
  t.regex(await run(m, 4, 'show route for 192.0.2.1'), /^1007-0\.0\.0\.0\/0 /);
  t.regex(await run(m, 4, 'show route for 10.65.1.0/25'), /^1007-10\.65\.1\.0\/24 /);
  t.is(await run(m, 4, 'show route 10.65.1.0/24 primary'), '1007-10.65.1.0/24       blackhole [static1 10:00:00] * (200)\n0000 \n');
  t.is(await run(m, 4, 'show route 10.65.1.0/24 count'), '0014 2 of 2 routes for 1 networks\n');
  t.is(await run(m, 4, 'show route primary count'), '0014 4 of 5 routes for 4 networks\n');
  t.is(await run(m, 4, 'show route protocol direct1 count'), '0014 1 of 5 routes for 1 networks\n');
});

test('IPv6 lookups accept any spelling of the address', async (t) => {
  const m = new LabModel({ 6: rrV6() });
  t.regex(await run(m, 6, 'show route for fd00:0065:0001:0000::0041'), /^1007-fd00:65:1::40\/122 /);
  t.regex(await run(m, 6, 'show route FD00:65:1::/122'), /^1007-fd00:65:1::\/122 /);
  t.is(await run(m, 6, 'show route for fd01::1'), '8001 Network not in table\n');
});

test('count and lookup over a 300k-route table yield to the event loop', async (t) => {
  const d = rrV4();
  d.routes = Array.from({ length: 300_000 }, (_, i) => route(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`));
  const m = new LabModel({ 4: d });
  // Turns of the event loop while a command runs show that it yields; a scan in one piece would let none through.
  // A self-renewing setImmediate counts turns, not milliseconds: a 1 ms timer counted time, and on a fast machine
  // the whole scan took less than five of them.
  let ticks = 0;
  let ticking = true;
  const tick = (): void => {
    ticks++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  try {
    const before = ticks;
    t.is(await run(m, 4, 'show route count'), '0014 300000 of 300000 routes for 300000 networks\n');
    const during = ticks - before;
    t.regex(await run(m, 4, 'show route for 10.4.147.223'), /^1007-10\.4\.147\.223\/32 /);
    t.true(during >= 5, `only ${during} timer ticks during the count`);
    t.true(ticks - before - during >= 5, 'lookup yields too');
  } finally {
    ticking = false;
  }
});
