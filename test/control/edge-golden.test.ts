// Golden tests against our own BIRD 1.6.8 captures of CLI edge cases (fixtures/bird1.6-edge, -edge-v6),
// run with abbreviations off, i.e. exactly the grammar the BIRD daemon accepts.

import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { executeLine, type CliEnvironment } from '../../src/control/execute.js';
import { deviceProtocol, emptyRouteChangeStats, type Family, type InterfaceView, type ProtocolView, type RouteView } from '../../src/control/model.js';
import { ReplyEncoder } from '../../src/control/reply.js';
import { DEFAULT_TIME_FORMATS } from '../../src/control/timefmt.js';
import { at, LabModel, timesFrom, withTimes, type LabData } from './lab.js';

const FIX = new URL('./fixtures/', import.meta.url).pathname;

const blackhole = (prefix: string): RouteView => ({ prefix, destination: { kind: 'blackhole' }, protocol: 'static1', since: at('12:32:57'), best: true, preference: 200, source: 'static' });

function staticProto(imported: number): ProtocolView {
  return { ...deviceProtocol(at('12:32:57')), name: 'static1', kind: 'Static', preference: 200, routes: { imported, exported: 0, preferred: imported } };
}

function bgp(name: string, neighbor: string, as: number, disabled: boolean): ProtocolView {
  return {
    name,
    kind: 'BGP',
    table: 'master',
    state: disabled ? 'down' : 'start',
    since: at('12:32:57'),
    description: disabled ? 'Disabled global peer' : 'Connection to BGP peer',
    preference: 100,
    importFilter: 'ACCEPT',
    exportFilter: 'calico_export_to_bgp_peers',
    routes: { imported: 0, exported: 0, preferred: 0 },
    stats: emptyRouteChangeStats(),
    bgp: disabled
      ? { state: 'Down', neighborAddress: neighbor, neighborAs: as }
      : { state: 'Active', neighborAddress: neighbor, neighborAs: as, connectDelay: { remaining: 1, length: 2 }, lastError: { kind: 'socket', message: 'Connection refused' } },
  };
}

const nic = (name: string, index: number, up: boolean, loopback: boolean, addresses: InterfaceView['addresses']): InterfaceView => ({
  name, index, up, multiAccess: true, broadcast: !loopback, multicast: !loopback, adminUp: up, linkUp: up, loopback, ignored: loopback, mtu: 1500, addresses,
});

function edge(family: Family): LabData {
  const v4 = family === 4;
  return {
    routerId: '10.50.0.1',
    protocols: v4
      ? [deviceProtocol(at('12:32:57')), staticProto(2), bgp('Node_127_50_0_13', '127.50.0.13', 64512, false), bgp('Global_127_50_0_14', '127.50.0.14', 64513, true)]
      : [deviceProtocol(at('12:32:57')), staticProto(1)],
    routes: v4 ? [blackhole('10.65.0.64/26'), blackhole('10.65.0.0/26')] : [blackhole('fd00:65::/122')],
    exports: {},
    interfaces: [
      nic('lo', 1, true, true, [{ prefix: '127.0.0.1/8', primary: true, scope: 'host' }]),
      nic('ifb0', 2, false, false, []),
      nic('ifb1', 3, false, false, []),
      nic('eth0', 4, true, false, [{ prefix: '192.0.2.2/24', primary: true, scope: 'site' }]),
    ],
    memory: { routingTables: 0, routeAttributes: 0, roaTables: 0, protocols: 0, total: 0 },
  };
}

for (const [dir, family] of [['bird1.6-edge', 4], ['bird1.6-edge-v6', 6]] as const) {
  for (const name of readdirSync(`${FIX}${dir}`).filter((f) => f.endsWith('.cmd')).map((f) => f.slice(0, -4))) {
    test(`${dir}/${name}`, async (t) => {
      const expected = readFileSync(`${FIX}${dir}/${name}.txt`, 'utf8');
      const cmd = readFileSync(`${FIX}${dir}/${name}.cmd`, 'utf8').replace(/\n$/, '');
      const times = timesFrom(expected);
      const model = new LabModel({ [family]: withTimes(edge(family), times) });
      const env: CliEnvironment = { model, family, timeFormats: DEFAULT_TIME_FORMATS, now: () => times.now, configPath: '/etc/bird/bird.conf', abbreviations: false };
      t.is(new ReplyEncoder().encodeAll(await executeLine(cmd, { restricted: false }, env)), expected);
    });
  }
}
