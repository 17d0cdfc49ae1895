// Test helper process: a reflector's datastore side only. Builds the source from the environment exactly as main
// would (loadConfig + createKeySource), prints the desired session names as one JSON line per change, and on
// SIGTERM deregisters and exits 0. The registration tests kill it with SIGKILL or SIGTERM.
import { loadConfig } from '../../src/config/index.js';
import { createKeySource } from '../../src/app/key-source.js';
import { desiredPeers } from '../../src/datastore/calico-mapping.js';

const config = loadConfig(process.env);
const source = await createKeySource(config);
const keys = new Map<string, string>();
const print = (): void => {
  const peers = desiredPeers(keys, { ip: config.identity.ip, ip6: config.identity.ip6, port: config.identity.bgpPort }).peers.map((p) => p.name);
  process.stdout.write(`${JSON.stringify({ peers })}\n`);
};
process.on('SIGTERM', () => {
  void (async () => {
    await source.deregister?.();
    await source.stop();
    process.exit(0);
  })();
});
await source.start({
  snapshot(k) {
    keys.clear();
    for (const [a, b] of k) keys.set(a, b);
    print();
  },
  change(k, v) {
    if (v === undefined) keys.delete(k);
    else keys.set(k, v);
    print();
  },
  problem(message) {
    process.stderr.write(`${message}\n`);
  },
});
setInterval(() => undefined, 1 << 30);
