// The End-of-RIB deferral's pure core (src/reflector/restart-plan.ts) and its variables, against RFC 4724:
// a helper flushes our stale routes at our End-of-RIB (§4.2), so the marker may go only once every configured
// peer is back with its own, or the deferral time is up; peers that hold nothing of ours get it at once.
import test from 'ava';
import { ConfigError, loadGracefulRestartConfig } from '../../src/config/index.js';
import { EndOfRibDeferral, endOfRibAtOnce, restartComplete, type PeerProgress } from '../../src/reflector/restart-plan.js';

const peer = (name: string, o: Partial<PeerProgress> = {}): PeerProgress => ({ name, up: true, gracefulRestart: true, restarting: false, endOfRibIn: false, ...o });

test('End-of-RIB at once only to peers holding nothing of ours: no graceful restart, or restarted themselves', (t) => {
  t.true(endOfRibAtOnce({ gracefulRestart: false, restarting: false }));
  t.true(endOfRibAtOnce({ gracefulRestart: true, restarting: true }));
  t.false(endOfRibAtOnce({ gracefulRestart: true, restarting: false }), 'a helper keeps our stale routes until the marker');
});

test('complete only when every configured peer is up with End-of-RIB; unknown list = not complete', (t) => {
  t.deepEqual(restartComplete(null, [peer('a', { endOfRibIn: true })]), { done: false, waitingFor: [] });
  const expected = new Set(['a', 'b', 'c', 'd']);
  const peers = [peer('a', { endOfRibIn: true }), peer('b'), peer('c', { up: false, endOfRibIn: true }), peer('x')];
  t.deepEqual(restartComplete(expected, peers), { done: false, waitingFor: ['b', 'c', 'd'] });
  const back = [peer('a', { endOfRibIn: true }), peer('b', { gracefulRestart: false }), peer('c', { endOfRibIn: true, restarting: true }), peer('d', { endOfRibIn: true })];
  t.deepEqual(restartComplete(expected, back), { done: true, waitingFor: [] }, 'a peer without graceful restart owes no marker');
  t.deepEqual(restartComplete(new Set(), []), { done: true, waitingFor: [] }, 'nobody configured: nothing to wait for');
});

test('the deferral ends once: complete, or at its deadline with the peers still away named', (t) => {
  const d = new EndOfRibDeferral(true, 1000, 5000);
  t.true(d.holds({ gracefulRestart: true, restarting: false }));
  t.is(d.evaluate([], 5999), null, 'no datastore list yet, before the deadline');
  t.deepEqual(d.evaluate([], 6000), { why: 'restart deferral time is up', waitingFor: ['(no datastore snapshot yet)'] });
  t.false(d.deferring);
  t.false(d.holds({ gracefulRestart: true, restarting: false }));
  t.is(d.evaluate([], 7000), null, 'ended: nothing more to release');
  const e = new EndOfRibDeferral(true, 1000, 0);
  e.setExpected(['a']);
  t.is(e.evaluate([peer('a')], 10), null);
  t.is(e.evaluate([peer('a', { endOfRibIn: true })], 20)?.why, 'every configured peer is back and sent End-of-RIB');
  t.false(new EndOfRibDeferral(false, 1000, 0).holds({ gracefulRestart: true, restarting: false }), 'not restarting: nothing deferred');
});

test('GRACEFUL_RESTART_TIME and RESTART_DEFERRAL_TIME: defaults, the deferral follows the restart time, bad values named', (t) => {
  t.deepEqual(loadGracefulRestartConfig({}), { restartTimeSeconds: 120, deferralSeconds: 120 });
  t.deepEqual(loadGracefulRestartConfig({ GRACEFUL_RESTART_TIME: '300' }), { restartTimeSeconds: 300, deferralSeconds: 300 });
  t.deepEqual(loadGracefulRestartConfig({ GRACEFUL_RESTART_TIME: '300', RESTART_DEFERRAL_TIME: '30' }), { restartTimeSeconds: 300, deferralSeconds: 30 });
  const err = t.throws(() => loadGracefulRestartConfig({ GRACEFUL_RESTART_TIME: '5000', RESTART_DEFERRAL_TIME: '200' }), { instanceOf: ConfigError });
  t.deepEqual(err?.problems, ['GRACEFUL_RESTART_TIME: "5000" is not an integer from 1 to 4095', 'RESTART_DEFERRAL_TIME: "200" is not an integer from 1 to 120']);
});
