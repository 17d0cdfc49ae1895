// The process logger: pino JSON on stdout, level from LOG_LEVEL; readable lines when stdout is a terminal
// (LOG_FORMAT=auto) or always (pretty) or never (json). Every line about one BGP session goes through
// peerLogger() so it carries a `peer` field. src/main.ts loads this module only after the configuration has
// been validated, so a bad LOG_LEVEL is reported by name instead of by a pino stack trace.
import { pino, type Logger } from 'pino';
import { logSettings } from './config/observability.js';

export type { Logger };

/**
 * Fields that hold secrets wherever a log call puts them (a PeerSpec's TCP-MD5 password, etcd credentials, a
 * bearer token): a second line of defence behind the callers, which never log secrets on purpose.
 */
export const REDACTED_LOG_PATHS = [
  'password', '*.password', '*.*.password', 'auth', '*.auth', 'token', '*.token', 'authorization', '*.authorization',
  'headers.authorization', '*.headers.authorization', 'etcdPassword', 'spec.password', '*.spec.password',
];

function makeRoot(): Logger {
  const { level, format } = logSettings(process.env);
  const tty = process.stdout.isTTY === true;
  const redact = { paths: REDACTED_LOG_PATHS, censor: '[redacted]' };
  if (format === 'pretty' || (format === 'auto' && tty)) {
    return pino({ level, redact, transport: { target: 'pino-pretty', options: { colorize: tty } } });
  }
  return pino({ level, redact });
}

export const log: Logger = makeRoot();

export function peerLogger(peer: string, extra: Record<string, unknown> = {}): Logger {
  return log.child({ peer, ...extra });
}
