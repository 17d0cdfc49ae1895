// Process entry point: answer --help / --version, validate the whole configuration, and only then load the
// logger and the reflector (so a bad LOG_LEVEL is one line naming it, not a logger's stack trace); then start
// and handle signals (SIGTERM/SIGINT: graceful stop within 5 s, a second one exits at once; SIGHUP: re-read the
// datastore).
import { setFlagsFromString } from 'node:v8';
import { ConfigError, loadConfig, type Config } from './config/index.js';
import { usage } from './config/help.js';
import { packageName, packageVersion } from './cli/version.js';

const STOP_DEADLINE_MS = 5000;

/**
 * Keeps V8's young generation at its initial size (1 MiB semi-spaces) instead of letting it grow to 16 MiB ones.
 * Grown, it stays resident: 25–32 MiB of the RSS at idle and under load, most of the memory per Calico client
 * (issue 18). Measured with `npm run bench` (ours only; BENCH_OURS_NODE_ARGS=--max-semi-space-size=1 against
 * the default; one run each, shared 2-core VM): KiB per client at C=1000 v4+v6 18.3 instead of 48–54, peak RSS
 * 108 instead of 162–167 MiB, bytes per route at 500k 136–147 instead of 153–178, the reflector's CPU seconds
 * within noise (table cells 0.47–1.19 s vs 0.48–1.52 s; calico 4.29 vs 3.94–4.08 s). Set at run time so that
 * every start (the image, `npm start`, the tests, the bench) gets it with the same one command: V8 reads the
 * growth factor each time it would grow the young generation (--max-semi-space-size only counts on the command
 * line). An operator's own semi-space flag in NODE_OPTIONS or on the command line wins.
 */
function keepYoungGenerationSmall(): void {
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('semi-space'));
  if (!given) setFlagsFromString('--semi-space-growth-factor=1');
}

/** Exit code of a start refused for its configuration (as a shell reports a usage error). */
const EXIT_BAD_CONFIG = 2;

function configOrExit(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) process.stderr.write(`configuration error: ${p}\n`);
    process.stderr.write('not starting (see --help)\n');
    process.exit(EXIT_BAD_CONFIG);
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage());
    return;
  }
  if (args.includes('--version')) {
    process.stdout.write(`${packageName()} ${packageVersion()}\n`);
    return;
  }
  if (args.length > 0) {
    process.stderr.write(`unknown argument ${JSON.stringify(args[0])}; the reflector is configured by environment variables (see --help)\n`);
    process.exit(EXIT_BAD_CONFIG);
  }
  const config = configOrExit();
  keepYoungGenerationSmall();
  const { log } = await import('./log.js');
  const { ReflectorApp } = await import('./app/reflector-app.js');
  // Compile the route path before the first session can send a table (see reflector/warm-up.ts).
  const { warmUpRoutePath } = await import('./reflector/warm-up.js');
  warmUpRoutePath();
  let app: InstanceType<typeof ReflectorApp>;
  try {
    app = await ReflectorApp.create(config);
  } catch (err) {
    // A datastore that cannot be built (an unreadable kubeconfig): the same one line as a failed start.
    log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'cannot start');
    process.exit(1);
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      log.warn({ signal }, 'second stop signal: exiting at once');
      process.exit(1);
    }
    stopping = true;
    const deadline = setTimeout(() => {
      log.error('graceful stop took longer than 5 s: exiting');
      process.exit(1);
    }, STOP_DEADLINE_MS);
    deadline.unref();
    app.stop(`shutting down (${signal})`).then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    log.info('SIGHUP: re-reading the datastore');
    void app.configure('apply');
  });

  try {
    await app.start();
  } catch (err) {
    log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'cannot start');
    process.exit(1);
  }
}

void main();
