// The running reflector prints every time (show status, protocol and route "since") from the clock it is
// given, never from the wall clock: here a clock set to 2031 and moved by the test, with a real BIRD 1.6
// node as the peer. BIRD's rule (iso short: the time of day within 20 hours of "now", else the date) is
// checked across a jump of the injected clock by two days.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { ReflectorApp } from '../../src/app/reflector-app.js';
import { log } from '../../src/log.js';
import { claimLoopbackNet } from '../helpers/net.js';
import { until } from '../helpers/until.js';
import { startBird16, type Daemon } from '../session/daemons.js';
import { RawClient } from '../control/harness.js';

const apps: ReflectorApp[] = [];
const daemons: Daemon[] = [];
const dirs: string[] = [];

test.after.always(async () => {
  for (const a of apps) await a.stop();
  await Promise.all(daemons.map((d) => d.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** One command on a fresh connection, the reply without its `DDDD-`/` ` prefixes. */
async function birdc(socket: string, cmd: string): Promise<string> {
  const c = await RawClient.connect(socket);
  try {
    await c.reply();
    return (await c.command(cmd)).replace(/^(\d{4}[- ]| )/gm, '');
  } finally {
    c.close();
  }
}

test('show status, protocol and route times come from the injected clock', async (t) => {
  log.level = 'warn';
  const net = await claimLoopbackNet();
  const rr = net.host(1);
  const node = net.host(2);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-clock-'));
  dirs.push(dir);
  const ds = path.join(dir, 'datastore.json');
  writeFileSync(ds, JSON.stringify({
    '/calico/bgp/v1/global/as_num': '64512',
    [`/calico/bgp/v1/global/peer_v4/${rr}`]: { ip: rr, as_num: '64512' },
    '/calico/bgp/v1/host/node0/ip_addr_v4': node,
  }));
  // Only what this test sets: nothing of the caller's environment (BIRD_TIMEFORMAT, …) reaches the config.
  const config = loadConfig({ IP: rr, DATASTORE_TYPE: 'file', DATASTORE_FILE: ds, SOCKET_DIR: dir, METRICS_LISTEN: 'off' });

  let now = new Date(2031, 1, 3, 4, 5, 6); // local time, as BIRD prints
  const app = await ReflectorApp.create(config, { clock: () => now, session: { connectRetryTime: 1 } });
  apps.push(app);
  await app.start();
  const sock = path.join(dir, 'bird.ctl');

  const status = await birdc(sock, 'show status');
  t.regex(status, /\nCurrent server time is 2031-02-03 04:05:06\nLast reboot on 2031-02-03 04:05:06\nLast reconfiguration on 2031-02-03 04:05:06\n/);

  // The session comes up while the clock reads 04:30:00: that is its "since".
  now = new Date(2031, 1, 3, 4, 30, 0);
  const bird = startBird16({ ip: node, rr, as: 64512, holdTime: 9, block: '10.71.3.0/26' });
  daemons.push(bird);
  const name = `Global_${node.replaceAll('.', '_')}`;
  const row = new RegExp(`^${name} +BGP +master +up +(\\S+) +Established`, 'm');
  const up = await until('the BIRD node to be Established', async () => row.exec(await birdc(sock, 'show protocols'))?.[1], 30_000);
  t.is(up, '04:30:00');
  const route = await until('the node\'s block', async () => /^10\.71\.3\.0\/26 .*\[(\S+) (\S+)(?: from \S+)?\]/m.exec(await birdc(sock, 'show route'))?.slice(1, 3), 30_000);
  t.deepEqual(route, [name, '04:30:00']);

  // Two days later by the injected clock (the wall clock moved a second): iso short prints the date.
  now = new Date(2031, 1, 5, 9, 0, 0);
  t.regex(await birdc(sock, 'show protocols'), new RegExp(`^${name} +BGP +master +up +2031-02-03 +Established`, 'm'));
  t.regex(await birdc(sock, 'show route'), /^10\.71\.3\.0\/26 .*\[\S+ 2031-02-03(?: from \S+)?\]/m);
  t.regex(await birdc(sock, 'show status'), /\nCurrent server time is 2031-02-05 09:00:00\n/);
});
