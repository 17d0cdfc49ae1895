// `npm run demo`: the reflector on a file datastore plus a few simulated Calico nodes (the benchmark's
// lightweight speaker, each announcing /26 blocks), then what `show protocols` and `show route` say.
// Nothing else needs to be installed; everything runs on loopback and is stopped at the end.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpeakerClient } from '../bench/load/speaker-client.js';
import { planAddresses, type PlanSpec } from '../bench/load/plan.js';
import { calicoDatastore } from '../bench/reflectors/ours.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const IP = process.env.DEMO_IP ?? '127.0.0.1';
const PORT = Number(process.env.DEMO_BGP_PORT ?? (process.getuid?.() === 0 ? 179 : 1179));
const NODES = Number(process.env.DEMO_NODES ?? 4);

function rrCtl(sock: string, command: string): string {
  const cli = ['--import=tsx', 'src/cli/rr-ctl.ts'];
  return spawnSync(process.execPath, [...cli, '-s', sock, ...command.split(' ')], { cwd: ROOT, encoding: 'utf8' }).stdout;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-demo-'));
  const spec: PlanSpec = { kind: 'calico', clients: NODES, blocks: 2 };
  const nodes = planAddresses(spec);
  writeFileSync(path.join(dir, 'datastore.json'), JSON.stringify(calicoDatastore({
    address: IP, port: PORT, asn: 64512, clusterId: IP, holdTime: 90, clients: nodes, workDir: dir,
  }), null, 1));
  console.log(`== datastore ${path.join(dir, 'datastore.json')}: reflector ${IP} is a global peer of ${NODES} Calico nodes (${nodes.join(', ')})`);

  // The sources, not dist/: a demo must show the code as it is, never a stale build.
  const main = ['--import=tsx', 'src/main.ts'];
  const rr = spawn(process.execPath, main, {
    cwd: ROOT,
    // Only what the reflector needs (and PATH): a MAX_PREFIXES or IP6 in the caller's shell must not change the demo.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', IP, BGP_PORT: String(PORT), DATASTORE_TYPE: 'file', DATASTORE_FILE: path.join(dir, 'datastore.json'), SOCKET_DIR: dir, METRICS_LISTEN: 'off', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const speaker = new SpeakerClient();
  let code = 0;
  try {
    const sock = path.join(dir, 'bird.ctl');
    for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 100));
    await speaker.setup({ plan: spec, remote: IP, port: PORT, asn: 64512, clusterId: IP, holdTime: 90 });
    const up = await speaker.connect(10_000);
    console.log(`== ${NODES} nodes Established in ${up.ms.toFixed(0)} ms`);
    const step = await speaker.announce('all', 10_000);
    console.log(`== every node announced ${spec.blocks} /26 blocks; every node holds all the others' blocks: ${step.ok ? 'yes' : `NO (${step.errors.join('; ')})`} after ${step.ms.toFixed(1)} ms`);
    if (!step.ok) code = 1;
    console.log('\n$ birdc show protocols');
    console.log(rrCtl(sock, 'show protocols'));
    console.log('$ birdc show route');
    console.log(rrCtl(sock, 'show route'));
  } finally {
    await speaker.close();
    rr.kill('SIGTERM');
    await new Promise((r) => rr.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(code);
}

void main();
