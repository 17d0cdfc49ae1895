import test from 'ava';
import { createMetricsRegistry } from '../../src/metrics/registry.js';
import { startMetricsServer, parseListen } from '../../src/metrics/http-server.js';
import type { MetricsModel, SessionMetricsView, DatastoreMetricsView } from '../../src/metrics/model.js';
import { parsePromText, findSample } from '../helpers/prom-text.js';
import { SessionExposition } from '../../src/metrics/session-text.js';
import { claimLoopbackNet } from '../helpers/net.js';

const NET = await claimLoopbackNet();

function session(over: Partial<SessionMetricsView>): SessionMetricsView {
  return {
    name: `Global_${NET.under(2)}`, family: 4, neighborAddress: NET.host(2), peerAs: 64512, state: 'Established',
    uptimeSeconds: 12, prefixesReceived: 4, prefixesAccepted: 4, prefixesAdvertised: 8, updatesIn: 3, updatesOut: 5,
    withdrawsIn: 1, withdrawsOut: 2, notificationsIn: 0, notificationsOut: 1, flaps: 2, writeQueueBytes: 0, ...over,
  };
}

function makeModel(state: { sessions: SessionMetricsView[]; datastore: DatastoreMetricsView; listening: boolean }): MetricsModel {
  return {
    sessions: () => state.sessions,
    ribs: () => [{ family: 4, adjRibInRoutes: 10, locRibPrefixes: 7, attributeSets: 3 }],
    updateGroups: () => [{ family: 4, id: 'v4-client', members: 2 }],
    datastore: () => state.datastore,
    listening: () => state.listening,
  };
}

test('parseListen accepts host:port, [v6]:port and :port', (t) => {
  t.deepEqual(parseListen('127.0.0.1:9180'), { host: '127.0.0.1', port: 9180 });
  t.deepEqual(parseListen('[::1]:9180'), { host: '::1', port: 9180 });
  t.deepEqual(parseListen(':9180'), { host: undefined, port: 9180 });
  t.throws(() => parseListen('9180'));
});

test('/metrics reports every session value read at scrape time; /healthz and /readyz follow the model', async (t) => {
  const state = {
    sessions: [session({}), session({ name: `Node_${NET.under(3)}`, neighborAddress: NET.host(3), state: 'Active', prefixesReceived: 0 })],
    datastore: { source: 'file:/tmp/x.json', synced: false, lastError: 'file does not parse' } as DatastoreMetricsView,
    listening: true,
  };
  const model = makeModel(state);
  const server = await startMetricsServer(`${NET.host(1)}:0`, createMetricsRegistry(model), model);
  t.teardown(() => server.close());
  const base = `http://${NET.host(1)}:${server.address().port}`;

  let samples = parsePromText(await (await fetch(`${base}/metrics`)).text());
  t.is(findSample(samples, 'bgp_rr_session_up', { name: `Global_${NET.under(2)}` })?.value, 1);
  t.is(findSample(samples, 'bgp_rr_session_up', { name: `Node_${NET.under(3)}` })?.value, 0);
  t.is(findSample(samples, 'bgp_rr_session_state', { name: `Node_${NET.under(3)}`, state: 'Active' })?.value, 1);
  t.is(findSample(samples, 'bgp_rr_session_state', { name: `Node_${NET.under(3)}`, state: 'Established' })?.value, 0);
  t.is(findSample(samples, 'bgp_rr_prefixes_received', { name: `Global_${NET.under(2)}`, family: 'ipv4' })?.value, 4);
  t.is(findSample(samples, 'bgp_rr_prefixes_advertised', { name: `Global_${NET.under(2)}` })?.value, 8);
  t.is(findSample(samples, 'bgp_rr_session_flaps_total', { name: `Global_${NET.under(2)}` })?.value, 2);
  t.is(findSample(samples, 'bgp_rr_loc_rib_prefixes', { family: 'ipv4' })?.value, 7);
  t.is(findSample(samples, 'bgp_rr_update_groups', { family: 'ipv4' })?.value, 1);
  t.is(findSample(samples, 'bgp_rr_datastore_synced')?.value, 0);
  t.is(findSample(samples, 'bgp_rr_datastore_error', { error: 'file does not parse' })?.value, 1);
  t.truthy(findSample(samples, 'nodejs_eventloop_lag_seconds'), 'event-loop lag is exported');
  t.truthy(findSample(samples, 'process_resident_memory_bytes'), 'process metrics are exported');

  t.is((await fetch(`${base}/healthz`)).status, 200);
  t.is((await fetch(`${base}/readyz`)).status, 503);

  // Values are read fresh: a change in the model shows on the next scrape, and a vanished session disappears.
  state.sessions = [session({ updatesIn: 42 })];
  state.datastore = { source: 'file:/tmp/x.json', synced: true, lastSyncUnixSeconds: 1700000000 };
  samples = parsePromText(await (await fetch(`${base}/metrics`)).text());
  t.is(findSample(samples, 'bgp_rr_updates_received_total', { name: `Global_${NET.under(2)}` })?.value, 42);
  t.is(findSample(samples, 'bgp_rr_session_up', { name: `Node_${NET.under(3)}` }), undefined);
  t.is(findSample(samples, 'bgp_rr_datastore_error'), undefined);
  t.is((await fetch(`${base}/readyz`)).status, 200);
  t.is((await fetch(`${base}/nope`)).status, 404);
});

test('per-session text: label values escaped, specials spelt as the format wants, one series per state', (t) => {
  const ex = new SessionExposition();
  const odd = { name: 'Node_"x"\\y', neighborAddress: 'fd00::1\nz', uptimeSeconds: NaN, writeQueueBytes: Infinity };
  const text = ex.text([{ ...sessionForText(), ...odd }]);
  t.true(text.includes('bgp_rr_session_up{name="Node_\\"x\\"\\\\y",family="ipv4",neighbor="fd00::1\\nz",peer_as="64512"} 1\n'));
  t.true(text.includes('bgp_rr_session_uptime_seconds{name="Node_\\"x\\"\\\\y",family="ipv4",neighbor="fd00::1\\nz",peer_as="64512"} NaN\n'));
  t.true(text.includes(',peer_as="64512"} +Inf\n'));
  const samples = parsePromText(ex.text([sessionForText(), { ...sessionForText(), name: 'B', state: 'OpenSent' }]));
  t.is(samples.filter((s) => s.name === 'bgp_rr_session_state').length, 12);
  t.is(findSample(samples, 'bgp_rr_session_state', { name: 'B', state: 'OpenSent' })?.value, 1);
  t.is(findSample(samples, 'bgp_rr_session_state', { name: 'B', state: 'Established' })?.value, 0);
  // A reconfigured peer (new address) gets new labels, not the cached ones.
  const moved = parsePromText(ex.text([{ ...sessionForText(), neighborAddress: NET.host(9) }]));
  t.truthy(findSample(moved, 'bgp_rr_session_up', { neighbor: NET.host(9) }));
  t.is(findSample(moved, 'bgp_rr_session_up', { neighbor: NET.host(2) }), undefined);
});

function sessionForText(): SessionMetricsView {
  return {
    name: 'A', family: 4, neighborAddress: NET.host(2), peerAs: 64512, state: 'Established', uptimeSeconds: 1,
    prefixesReceived: 0, prefixesAccepted: 0, prefixesAdvertised: 0, updatesIn: 0, updatesOut: 0, withdrawsIn: 0,
    withdrawsOut: 0, notificationsIn: 0, notificationsOut: 0, flaps: 0, writeQueueBytes: 0,
  };
}
