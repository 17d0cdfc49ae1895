// The process logger: pino JSON on stdout, level from LOG_LEVEL; readable lines when stdout is a terminal.
// Every line about one BGP session goes through peerLogger() so it carries a `peer` field.
import { pino, type Logger } from 'pino';

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
  const level = process.env.LOG_LEVEL ?? 'info';
  const pretty = process.stdout.isTTY === true && process.env.LOG_FORMAT !== 'json';
  const redact = { paths: REDACTED_LOG_PATHS, censor: '[redacted]' };
  if (pretty) {
    return pino({ level, redact, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return pino({ level, redact });
}

export const log: Logger = makeRoot();

export function peerLogger(peer: string, extra: Record<string, unknown> = {}): Logger {
  return log.child({ peer, ...extra });
}
