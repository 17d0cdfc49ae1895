// IPv6 sessions (family 6) with real daemons as Calico nodes on [::1] (distinct ports, since loopback has one
// IPv6 address): BIRD 2 with an ipv6 channel and BIRD 1.6 (bird6). MP-BGP IPv6 only; their blocks arrive.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { log } from '../../src/log.js';
import { BgpListener } from '../../src/session/listener.js';
import { BgpSession } from '../../src/session/session.js';
import type { PeerSpec } from '../../src/peers/peer-spec.js';
import { decodeMessage } from '../../src/wire/index.js';
import { AttrType, MessageType } from '../../src/wire/types.js';
import { BIRD2 } from './daemons.js';
import { spawnChild } from '../helpers/child.js';
import { freePort } from '../helpers/net.js';
import { until } from './speaker.js';

log.level = 'warn';

const AS = 64512;
const RR_ID = '127.30.0.60';
// OS ports on [::1], taken before any test is declared (ava wants the declarations in one synchronous run).
const PORTS = [await freePort('::1'), await freePort('::1'), await freePort('::1'), await freePort('::1')];
const cleanups: (() => Promise<void> | void)[] = [];
test.after.always(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Case {
  name: string;
  rrPort: number;
  nodePort: number;
  routerId: string;
  block: string;
  config: (c: Case) => string;
  bin: string;
  /** bird6 (1.6) finds no usable IPv6 next hop on loopback and announces nothing: check its End-of-RIB only. */
  announces: boolean;
}

const cases: Case[] = [
  {
    name: 'BIRD 2', rrPort: PORTS[0]!, nodePort: PORTS[1]!, routerId: '127.30.0.61', block: 'fd00:65:61::/122', bin: BIRD2, announces: true,
    config: (c) => `router id ${c.routerId};
protocol device { scan time 2; }
protocol static { ipv6; route ${c.block} blackhole; }
protocol bgp Node_rr {
  local ::1 port ${c.nodePort} as ${AS};
  strict bind yes;
  neighbor ::1 port ${c.rrPort} as ${AS};
  multihop; graceful restart; hold time 9; connect delay time 1; connect retry time 2; error wait time 1,4;
  ipv6 { import all; export all; next hop address fd00::${c.routerId.slice(-2)}; gateway recursive; add paths on; };
}
`,
  },
  {
    name: 'BIRD 1.6 (bird6)', rrPort: PORTS[2]!, nodePort: PORTS[3]!, routerId: '127.30.0.62', block: 'fd00:65:62::/122', bin: '/usr/sbin/bird6', announces: false,
    config: (c) => `router id ${c.routerId};
listen bgp address ::1 port ${c.nodePort};
protocol device { scan time 2; }
protocol static { route ${c.block} blackhole; }
protocol bgp Node_rr {
  local as ${AS}; neighbor ::1 port ${c.rrPort} as ${AS}; source address ::1;
  multihop; gateway recursive; import all; export all; next hop self; add paths on; graceful restart;
  hold time 9; connect delay time 1; connect retry time 2; error wait time 1,4;
}
`,
  },
];

for (const c of cases) {
  test(`IPv6 with ${c.name}: Established with IPv6 unicast only; End-of-RIB${c.announces ? ' and its block in MP_REACH_NLRI' : ''} received`, async (t) => {
    const spec: PeerSpec = {
      name: 'Node___1', kind: 'node', family: 6, neighborAddress: '::1', localAddress: '::1', port: c.nodePort,
      localAs: AS, peerAs: AS, routeReflectorClient: true, clusterId: RR_ID, routerId: RR_ID, sourceKeys: [],
    };
    const listener = new BgpListener({ addresses: ['::1'], port: c.rrPort });
    const s = new BgpSession(spec, { connectRetryTime: 2 });
    listener.setPeers([s]);
    await listener.listen();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-v6-'));
    writeFileSync(path.join(dir, 'bird.cfg'), c.config(c));
    const proc = spawnChild(c.bin, ['-f', '-c', 'bird.cfg', '-s', path.join(dir, 'bird.ctl'), '-P', 'bird.pid'], { cwd: dir, stdio: 'ignore' });
    const exited = new Promise((r) => proc.once('exit', r));
    cleanups.push(async () => {
      proc.kill('SIGKILL');
      await exited;
      await s.stop();
      await listener.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const prefixes: string[] = [];
    let endOfRib = false;
    s.on('update', (msg) => {
      const m = decodeMessage(msg, s.negotiated!.recvCtx);
      if (m.type !== MessageType.UPDATE) return;
      for (const a of m.attributes) {
        if (a.type === AttrType.MP_UNREACH_NLRI && 'withdrawn' in a && a.afi === 2 && a.withdrawn.length === 0 && m.attributes.length === 1) endOfRib = true;
        if (a.type === AttrType.MP_REACH_NLRI && 'nlri' in a) {
          for (const p of a.nlri) prefixes.push(`${Buffer.from(p.addr).toString('hex')}/${p.len}`);
        }
      }
    });
    s.start();
    await until(() => s.state === 'Established', 15_000, `${c.name} Established`);
    const n = s.negotiated!;
    t.deepEqual(n.families, [2]);
    t.true(n.as4);
    t.is(n.peerBgpId, c.routerId);
    t.true(n.addPath.rx[2]);
    t.false(n.addPath.rx[1]);
    t.true(n.recvCtx.addPathV6);
    await until(() => endOfRib, 10_000, `IPv6 End-of-RIB from ${c.name}`);
    if (c.announces) {
      // fd00:65:6x::/122 as the codec gives it: 16 address octets, length 122.
      const want = `fd000065006${c.routerId.slice(-1)}${'0'.repeat(20)}/122`;
      await until(() => prefixes.includes(want), 10_000, `${c.block} from ${c.name}`);
    }
    t.pass();
  });
}
