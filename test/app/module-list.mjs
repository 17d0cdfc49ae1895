// Test-only preload for the reflector child (`node --import=<this> dist/main.js`): SIGUSR2 prints one line on
// stderr, `module-list {"packages":[...],"builtins":[...]}`: the npm packages loaded so far (the ones this project
// uses are CommonJS, so require.cache lists them even when an ES module imported them) and Node's own modules (process.moduleLoadList), for test/app/lazy-modules.test.ts.
import { createRequire } from 'node:module';

const cache = createRequire(import.meta.url).cache;
process.on('SIGUSR2', () => {
  const packages = new Set();
  for (const file of Object.keys(cache)) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
    if (m !== null) packages.add(m[1]);
  }
  const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length));
  process.stderr.write(`module-list ${JSON.stringify({ packages: [...packages].sort(), builtins })}\n`);
});
