// Builds the native addons (native/tcp_md5) with node-gyp (bundled with npm) against the headers of the
// node that runs this script, so nothing is downloaded; `npm run build:native` runs it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const prefix = path.dirname(path.dirname(process.execPath));
const nodedir = process.env.npm_config_nodedir && existsSync(path.join(process.env.npm_config_nodedir, 'include/node/node_api.h'))
  ? process.env.npm_config_nodedir
  : prefix;
if (!existsSync(path.join(nodedir, 'include/node/node_api.h'))) {
  console.error(`build:native: no Node headers under ${nodedir}/include/node (install them, or set npm_config_nodedir)`);
  process.exit(1);
}
// npm puts its bundled node-gyp on PATH for scripts; outside npm, find it next to npm itself.
const candidates = [
  process.env.npm_config_node_gyp,
  path.join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
].filter((p) => p !== undefined && existsSync(p));
const gyp = candidates[0];
const cmd = gyp !== undefined ? process.execPath : 'node-gyp';
const args = gyp !== undefined ? [gyp] : [];
args.push('rebuild', '--directory', path.join(here, 'tcp_md5'), '--nodedir', nodedir);
const r = spawnSync(cmd, args, { stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`build:native: node-gyp failed (${r.error?.message ?? `exit ${r.status}`}); g++, make and python3 are needed`);
  process.exit(1);
}
console.log(`build:native: ${path.join(here, 'tcp_md5/build/Release/tcp_sockopt.node')}`);
