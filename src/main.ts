// Process entry point: read the environment, start the reflector, and handle signals
// (SIGTERM/SIGINT: graceful stop within 5 s, a second one exits at once; SIGHUP: re-read the datastore).
import { ConfigError, loadConfig, loadGracefulRestartConfig, loadHardeningConfig } from './config.js';
import { log } from './log.js';
import { ReflectorApp } from './app/reflector-app.js';

const STOP_DEADLINE_MS = 5000;

async function main(): Promise<void> {
  let config;
  let hardening;
  let gracefulRestart;
  try {
    config = loadConfig(process.env);
    hardening = loadHardeningConfig(process.env);
    gracefulRestart = loadGracefulRestartConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) process.stderr.write(`configuration error: ${p}\n`);
      log.fatal({ problems: err.problems }, 'bad configuration, not starting');
      process.exit(2);
    }
    throw err;
  }
  const app = new ReflectorApp(config, { hardening, gracefulRestart });

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
