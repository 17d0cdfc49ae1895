// safe-value.ts: bounded JSON parsing, short descriptions of bad values, redaction of secrets for log lines.
import test from 'ava';
import {
  checkParsedValue,
  describeValue,
  jsonTextDepthExceeds,
  loggableValue,
  MAX_ENTRY_BYTES,
  MAX_JSON_DEPTH,
  safeJsonParse,
} from '../../src/datastore/safe-value.js';

const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);

test('the issue-21 crash input: an array nested 20,000 deep is refused without recursion, and JSON.stringify of it really overflows', (t) => {
  const text = deep(20_000);
  // The oracle: V8's own recursive serialiser overflows on this value (what crashed the reflector).
  const parsed = JSON.parse(text) as unknown;
  t.throws(() => JSON.stringify(parsed), { instanceOf: RangeError });
  const r = safeJsonParse(text);
  t.false(r.ok);
  t.regex(r.ok ? '' : r.reason, new RegExp(`nested deeper than ${MAX_JSON_DEPTH} levels`));
  t.is(checkParsedValue(parsed), `value nested deeper than ${MAX_JSON_DEPTH} levels`);
  t.is(describeValue(parsed), 'an array of 1 item');
});

test('depth limit is exact and brackets inside strings do not count', (t) => {
  t.true(safeJsonParse(deep(MAX_JSON_DEPTH)).ok);
  t.false(safeJsonParse(deep(MAX_JSON_DEPTH + 1)).ok);
  t.false(jsonTextDepthExceeds(JSON.stringify({ a: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["\\' }), 3));
  t.true(jsonTextDepthExceeds('{"a":{"b":{"c":{}}}}', 3));
});

test('size limit in UTF-8 bytes', (t) => {
  t.true(safeJsonParse(JSON.stringify('a'.repeat(MAX_ENTRY_BYTES - 2))).ok);
  const big = safeJsonParse(JSON.stringify('a'.repeat(MAX_ENTRY_BYTES)));
  t.false(big.ok);
  t.regex(big.ok ? '' : big.reason, /too large \(65538 bytes; the limit is 64 KiB\)/);
  // 30,000 three-byte characters: under the limit in characters, over it in bytes.
  t.false(safeJsonParse(JSON.stringify('€'.repeat(30_000))).ok);
});

test('a JSON syntax error names a position but never quotes the text (V8 quotes it, password included)', (t) => {
  const secret = 'Pr1vate-md5-key';
  const text = `{"ip":"10.0.0.1","password":${secret}}`;
  // The oracle: V8's own message carries a snippet of the text.
  t.throws((): unknown => JSON.parse(text), { message: /Pr1vate/ });
  const r = safeJsonParse(text);
  t.false(r.ok);
  const reason = r.ok ? '' : r.reason;
  t.regex(reason, /^value is not JSON( \(error at character \d+\))?$/);
  t.false(reason.includes('Pr1v'));
});

test('describeValue: type, length and a short escaped snippet, never the whole value, never a secret', (t) => {
  t.is(describeValue('1.2.3.4.5'), '"1.2.3.4.5"');
  t.is(describeValue('x'.repeat(70_000)), 'a string of 70000 characters starting "xxxxxxxxxxxxxxxxxxxxxxxx…"');
  t.is(describeValue('a\u0000b\u202e'), '"a\\u0000b\\u202e"');
  t.is(describeValue(1e21), '1e+21');
  t.is(describeValue(-0), '-0');
  t.is(describeValue(Number.POSITIVE_INFINITY), 'a number out of range');
  t.is(describeValue(null), 'null');
  t.is(describeValue(undefined), 'missing');
  t.is(describeValue([1, 2, 3]), 'an array of 3 items');
  t.is(describeValue({ ip: 1, as_num: 2 }), 'an object with keys ip, as_num');
  const many: Record<string, number> = {};
  for (let i = 0; i < 100; i++) many[`k${i}`] = i;
  t.is(describeValue(many), 'an object with keys k0, k1, k2, k3, k4 and 95 more');
  t.is(describeValue('hunter2', { secret: true }), 'a secret of 7 characters (not shown)');
  t.is(describeValue('my-password-is-x'), 'a string of 16 characters (not quoted: it may hold a secret)');
});

test('loggableValue: passwords redacted at any depth, values cut short, broken JSON never quoted', (t) => {
  const v = loggableValue(JSON.stringify({ ip: '10.0.0.1', as_num: '64512', password: 'S3cr3t!', nested: { token: 'tok-123' } }));
  t.is(v, '{"ip":"10.0.0.1","as_num":"64512","password":"[redacted]","nested":{"token":"[redacted]"}}');
  t.is(loggableValue('10.0.1.1'), '10.0.1.1');
  t.is(loggableValue('64512'), '64512');
  const broken = loggableValue('{"ip":"10.0.0.1","pw":"S3cr3t!"');
  t.false(broken.includes('S3cr3t'));
  t.regex(broken, /^a value of \d+ characters \(not shown: value is not JSON/);
  t.true(loggableValue(JSON.stringify({ a: 'x'.repeat(5000) })).length < 600);
  t.false(loggableValue(deep(50_000)).includes('[['));
});
