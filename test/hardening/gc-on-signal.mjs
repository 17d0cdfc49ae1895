// Test-only preload for the reflector child (NODE_OPTIONS="--expose-gc --import=<this>"): SIGUSR2 runs a full
// garbage collection and prints one line with the memory figures after it, for test/hardening/cycles.test.ts.
process.on('SIGUSR2', () => {
  if (typeof globalThis.gc === 'function') globalThis.gc();
  const m = process.memoryUsage();
  process.stderr.write(`gc-on-signal rss=${m.rss} heapUsed=${m.heapUsed} heapTotal=${m.heapTotal} external=${m.external} arrayBuffers=${m.arrayBuffers}\n`);
});
