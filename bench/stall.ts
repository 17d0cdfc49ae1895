// The longest event-loop stall of the reflector while one peer sends it a whole table: the reflector
// (src/main.ts, a child process) takes N IPv4 prefixes (default 1,000,000) from one source and reflects them
// to M clients; its own /metrics gives the event-loop delay (prom-client, reset at each scrape), scraped
// before and right after the table went through. Usage: node --import=tsx bench/stall.ts [--n 1000000] [--m 1]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpeakerClient } from './load/speaker-client.js';
import { planAddresses, type PlanSpec } from './load/plan.js';
import { calicoDatastore } from './reflectors/ours.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('n', 1_000_000);
const M = arg('m', 1);
const RR = '127.70.0.1';
const METRICS = `${RR}:19170`;

async function lagMaxMs(): Promise<number> {
  const text = await (await fetch(`http://${METRICS}/metrics`)).text();
  const m = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : NaN;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-stall-'));
  const spec: PlanSpec = { kind: 'table', n: N, sets: 1000, seed: 7, clients: M };
  writeFileSync(path.join(dir, 'ds.json'), JSON.stringify(calicoDatastore({ address: RR, port: 179, asn: 64512, clusterId: RR, holdTime: 90, clients: planAddresses(spec), workDir: dir })));
  const rr = spawn(process.execPath, ['--import=tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, IP: RR, DATASTORE_TYPE: 'file', DATASTORE_FILE: path.join(dir, 'ds.json'), SOCKET_DIR: dir, METRICS_LISTEN: METRICS, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const speaker = new SpeakerClient();
  try {
    await new Promise((r) => setTimeout(r, 1500));
    await speaker.setup({ plan: spec, remote: RR, port: 179, asn: 64512, clusterId: RR, holdTime: 90 });
    const up = await speaker.connect(20_000);
    if (!up.ok) throw new Error(`sessions did not come up: ${up.errors.join('; ')}`);
    await new Promise((r) => setTimeout(r, 6000)); // past the reflector's start-up hold
    const idle = await lagMaxMs();
    const step = await speaker.announce('all', 120_000);
    const during = await lagMaxMs();
    const line = { bench: 'stall', n: N, m: M, valid: step.ok, converge_ms: Math.round(step.ms), idle_lag_max_ms: Math.round(idle * 10) / 10, lag_max_ms: Math.round(during * 10) / 10 };
    console.log(JSON.stringify(line));
    console.log(`${N} prefixes from one peer reflected to ${M} client(s) in ${line.converge_ms} ms (valid: ${step.ok}); longest event-loop stall of the reflector meanwhile: ${line.lag_max_ms} ms (idle before: ${line.idle_lag_max_ms} ms)`);
  } finally {
    await speaker.close();
    rr.kill('SIGTERM');
    await new Promise((r) => rr.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
