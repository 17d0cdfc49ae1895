// The Node.js versions the project claims agree with the ones it runs and tests: the image's base (both stages
// of the Dockerfile) is Node 24, .ci/run tests on Node 24 beside the machine's node, and package.json's engines
// admits exactly the tested majors, including the node running this test (so the Node 24 step checks 24).
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (f: string): string => readFileSync(path.join(ROOT, f), 'utf8');

/** `^X.Y.Z || ^A.B.C` (the only form engines uses here): does `version` (vX.Y.Z) satisfy it? */
function satisfies(range: string, version: string): boolean {
  const [maj, min, pat] = version.replace(/^v/, '').split('.').map(Number) as [number, number, number];
  return range.split('||').some((part) => {
    const m = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(part.trim());
    if (m === null) throw new Error(`engines part ${JSON.stringify(part)} is not ^X.Y.Z`);
    const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return maj === a && (min > b || (min === b && pat >= c));
  });
}

test('the image is on Node 24, CI tests Node 24, and engines admits the node running the tests', (t) => {
  const froms = [...read('Dockerfile').matchAll(/^FROM node:(\d+)-/gm)].map((m) => Number(m[1]));
  t.deepEqual(froms, [24, 24], 'both stages on Node 24');
  t.regex(read('.ci/run'), /node@24\b/);
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
  t.true(satisfies(engines, 'v24.0.0'), engines);
  t.false(satisfies(engines, 'v18.20.0'), 'no untested old major');
  t.true(satisfies(engines, process.version), `${process.version} within ${engines}`);
});
