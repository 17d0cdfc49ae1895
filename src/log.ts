// The process logger: pino JSON on stdout, level from LOG_LEVEL; readable lines when stdout is a terminal.
// Every line about one BGP session goes through peerLogger() so it carries a `peer` field.
import { pino, type Logger } from 'pino';

export type { Logger };

function makeRoot(): Logger {
  const level = process.env.LOG_LEVEL ?? 'info';
  const pretty = process.stdout.isTTY === true && process.env.LOG_FORMAT !== 'json';
  if (pretty) {
    return pino({ level, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return pino({ level });
}

export const log: Logger = makeRoot();

export function peerLogger(peer: string, extra: Record<string, unknown> = {}): Logger {
  return log.child({ peer, ...extra });
}
