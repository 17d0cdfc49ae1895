// Golden tests against our own BIRD 1.6.8 capture with ExaBGP (fixtures/bird1.6-ebgp-attrs): attribute formats
// and an eBGP session block, byte for byte (times fed from the capture).

import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { executeLine, type CliEnvironment } from '../../src/control/execute.js';
import { deviceProtocol, emptyRouteChangeStats, type ProtocolView, type RouteView } from '../../src/control/model.js';
import { ReplyEncoder } from '../../src/control/reply.js';
import { DEFAULT_TIME_FORMATS } from '../../src/control/timefmt.js';
import { at, LabModel, timesFrom, withTimes, type LabData } from './lab.js';

const DIR = new URL('./fixtures/bird1.6-ebgp-attrs/', import.meta.url).pathname;

function peer(up: boolean): ProtocolView {
  const stats = emptyRouteChangeStats();
  if (up) {
    stats.importUpdates = { received: 2, rejected: 0, filtered: 0, ignored: 0, accepted: 2 };
    stats.exportUpdates = { received: 2, rejected: 2, filtered: 0, accepted: 0 };
  }
  const p: ProtocolView = {
    name: 'Global_127_50_0_2',
    kind: 'BGP',
    table: 'master',
    state: up ? 'up' : 'start',
    since: at('12:25:58'),
    description: 'ExaBGP peer',
    preference: 100,
    importFilter: 'ACCEPT',
    exportFilter: 'REJECT',
    routes: up ? { imported: 2, exported: 0, preferred: 2 } : { imported: 0, exported: 0, preferred: 0 },
    stats,
    bgp: { state: 'Passive', neighborAddress: '127.50.0.2', neighborAs: 65001, lastError: { kind: 'socket', message: 'Connection closed' } },
  };
  if (up) {
    p.bgp = {
      state: 'Established',
      neighborAddress: '127.50.0.2',
      neighborAs: 65001,
      neighborId: '10.0.0.2',
      neighborCapabilities: { routeRefresh: false, enhancedRouteRefresh: false, fourOctetAs: true, addPathReceive: false, addPathSend: false, extendedMessages: false },
      session: { internal: false, multihop: true, routeReflectorClient: false, routeServerClient: false, fourOctetAs: true, addPathReceive: false, addPathSend: false, extendedMessages: false },
      sourceAddress: '127.50.0.1',
      holdTimer: { remaining: 0, length: 180 },
      keepaliveTimer: { remaining: 0, length: 60 },
    };
  }
  return p;
}

function routes(): RouteView[] {
  const common = { destination: { kind: 'unreachable' } as const, protocol: 'Global_127_50_0_2', since: at('12:25:58'), fromAddress: '127.50.0.2', best: true, preference: 100, source: 'BGP' as const };
  return [
    { ...common, prefix: '203.0.114.0/24', bgp: { attributes: { origin: 'IGP', asPath: [{ type: 'AS_SEQUENCE', asns: [65001] }], nextHop: ['127.50.0.2'], localPref: 100 }, nextHopResolution: { reachable: false } } },
    {
      ...common,
      prefix: '203.0.113.0/24',
      bgp: {
        attributes: {
          origin: 'INCOMPLETE',
          asPath: [{ type: 'AS_SEQUENCE', asns: [65001, 65005] }, { type: 'AS_SET', asns: [65002, 65003] }],
          nextHop: ['127.50.0.2'],
          multiExitDisc: 7,
          localPref: 100,
          atomicAggregate: true,
          aggregator: { asn: 65005, address: '10.0.0.5' },
          communities: [[65001, 100], [65535, 65281]],
          extendedCommunities: [
            { layout: 'as2', subtype: 2, transitive: true, globalAdmin: 65001, localAdmin: 5 },
            { layout: 'as2', subtype: 3, transitive: true, globalAdmin: 2560, localAdmin: 65545 },
          ],
          largeCommunities: [[65001, 1, 2]],
          unknown: [{ typeCode: 0x1e, flags: 0xc0, value: Uint8Array.from([1, 2, 0xab]) }],
        },
        nextHopResolution: { reachable: false },
      },
    },
  ];
}

function lab(up: boolean): LabData {
  return {
    routerId: '10.9.9.9',
    protocols: [deviceProtocol(at('12:25:57')), peer(up)],
    routes: up ? routes() : [],
    exports: {},
    interfaces: [],
    memory: { routingTables: 0, routeAttributes: 0, roaTables: 0, protocols: 0, total: 0 },
  };
}

for (const name of readdirSync(DIR).filter((f) => f.endsWith('.cmd')).map((f) => f.slice(0, -4))) {
  test(name, async (t) => {
    const expected = readFileSync(`${DIR}${name}.txt`, 'utf8');
    const cmd = readFileSync(`${DIR}${name}.cmd`, 'utf8').trim();
    const times = timesFrom(expected);
    const model = new LabModel({ 4: withTimes(lab(!name.startsWith('peer_gone_')), times) });
    const env: CliEnvironment = { model, family: 4, timeFormats: DEFAULT_TIME_FORMATS, now: () => times.now, configPath: '/etc/bird/bird.conf', abbreviations: true };
    t.is(new ReplyEncoder().encodeAll(await executeLine(cmd, { restricted: false }, env)), expected);
  });
}
