// LogThrottle on a hand-driven clock: the first event of a key is logged, later ones within the interval only
// counted, and the next logged line (or the periodic summary) carries that count and the time it spans.
import test from 'ava';
import { LogThrottle } from '../../src/session/log-throttle.js';

test('first event logged, the rest counted, the count reported with the next line after the interval', (t) => {
  let now = 1_000_000;
  const th = new LogThrottle(60_000, 100, () => now);
  t.deepEqual(th.note('10.0.0.1'), { log: true, suppressed: 0, overSeconds: 0 });
  for (let i = 0; i < 2999; i++) {
    now += 10;
    t.false(th.note('10.0.0.1').log);
  }
  t.true(th.note('10.0.0.2').log, 'another address has its own budget');
  now = 1_000_000 + 60_000;
  const v = th.note('10.0.0.1');
  t.deepEqual(v, { log: true, suppressed: 2999, overSeconds: 60 });
  t.is(LogThrottle.suffix(v), ' (2999 more in the last 60 s not logged)');
  t.is(LogThrottle.suffix({ log: true, suppressed: 0, overSeconds: 0 }), '');
});

test('drainDue reports a flood that stopped, once', (t) => {
  let now = 0;
  const th = new LogThrottle(1000, 100, () => now);
  th.note('a');
  th.note('a');
  th.note('a');
  th.note('b');
  t.deepEqual(th.drainDue(), [], 'nothing before the interval is over');
  now = 1500;
  t.deepEqual(th.drainDue(), [{ key: 'a', suppressed: 2, overSeconds: 2 }]);
  t.deepEqual(th.drainDue(), []);
  t.true(th.note('a').log, 'a fresh start after the summary');
});

test('the key table is bounded: beyond maxKeys new keys are counted as dropped, not remembered', (t) => {
  let now = 0;
  const th = new LogThrottle(1000, 3, () => now);
  for (const k of ['a', 'b', 'c']) t.true(th.note(k).log);
  t.false(th.note('d').log);
  t.is(th.dropped, 1);
  now = 2000; // old keys without pending counts can be forgotten
  t.true(th.note('e').log);
});
