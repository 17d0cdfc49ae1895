// Every environment variable the code reads is named in the Dockerfile's list. Two oracles that do not depend on
// that list: the configuration loaders run with an environment that records every name they look up (a Proxy,
// on several datastore paths), and a scan of src/ for direct `env.NAME` / `process.env.NAME` reads (the logger,
// rr-ctl, the in-cluster Kubernetes connection, the socket settings); src/config/defaults.ts's list besides.
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, VARIABLE_NAMES } from '../../src/config/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `load` on an environment holding `base`, recording every variable name it reads. */
function recordReads(base: Record<string, string>, load: (env: NodeJS.ProcessEnv) => unknown): Set<string> {
  const read = new Set<string>();
  const env = new Proxy({ ...base } as NodeJS.ProcessEnv, {
    get(target, key) {
      if (typeof key === 'string') read.add(key);
      return Reflect.get(target, key) as unknown;
    },
    has(target, key) {
      if (typeof key === 'string') read.add(key);
      return Reflect.has(target, key);
    },
  });
  try {
    load(env);
  } catch {
    // A configuration the loader refuses still shows what it read.
  }
  return read;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (n.endsWith('.ts')) out.push(p);
  }
  return out;
}

test('the Dockerfile lists every variable the code reads', (t) => {
  const names = new Set<string>();
  const paths: Array<Record<string, string>> = [
    {},
    { IP: '192.0.2.1', IP6: '2001:db8::1' },
    { IP: '192.0.2.1', DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: 'https://192.0.2.2:2379', ETCD_USERNAME: 'u', ETCD_PASSWORD: 'p' },
    { IP: '192.0.2.1', DATASTORE_TYPE: 'etcdv2', ETCD_AUTHORITY: '192.0.2.2:2379' },
    { IP: '192.0.2.1', DATASTORE_TYPE: 'kubernetes', RR_REGISTER: 'true' },
    { IP: '192.0.2.1', DATASTORE_TYPE: 'file', DATASTORE_FILE: '/nonexistent/ds.json' },
  ];
  for (const base of paths) {
    for (const load of [loadConfig]) {
      for (const n of recordReads(base, load as (env: NodeJS.ProcessEnv) => unknown)) names.add(n);
    }
  }
  const dynamic = names.size;
  // And every variable src/config/defaults.ts knows (the daemon's --help list).
  for (const n of VARIABLE_NAMES) names.add(n);
  // Direct reads elsewhere (an assignment such as `env.KUBERNETES_EXEC_INFO = ...` writes for a child, not a read).
  for (const f of sourceFiles(path.join(ROOT, 'src'))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/\benv\.([A-Z][A-Z0-9_]*)\b(?!\s*=(?!=))/g)) names.add(m[1]!);
  }
  const variables = [...names].filter((n) => /^[A-Z][A-Z0-9_]*$/.test(n));
  t.true(dynamic >= 20, `the loaders were seen reading (${dynamic} names)`);
  for (const must of ['IP', 'ETCD_ENDPOINTS', 'LOG_LEVEL', 'LOG_FORMAT', 'SOCKET_GROUP', 'KUBERNETES_SERVICE_HOST']) t.true(variables.includes(must), must);

  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const listed = (n: string): boolean => new RegExp(`\\b${n}\\b`).test(dockerfile);
  // CALICO_ETCD_X is the documented alias of ETCD_X ("may also be given with a CALICO_ prefix").
  const missing = variables.filter((n) => !listed(n) && !(n.startsWith('CALICO_') && listed(n.slice('CALICO_'.length)) && /CALICO_ prefix/.test(dockerfile)));
  t.deepEqual(missing, [], `not in the Dockerfile: ${missing.join(', ')}`);
});
