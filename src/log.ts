// The process logger: pino JSON on stdout, level from LOG_LEVEL; readable lines when stdout is a terminal
// (LOG_FORMAT=auto) or always (pretty) or never (json). Every line about one BGP session goes through
// peerLogger() so it carries a `peer` field. src/main.ts loads this module only after the configuration has
// been validated, so a bad LOG_LEVEL is reported by name instead of by a pino stack trace.
//
// When stdout is a pipe or a socket (a container runtime, `| tee`), lines go through process.stdout, whose
// writes never block the event loop, and at most STDOUT_QUEUE_LIMIT bytes wait for a reader: beyond that lines
// are dropped and counted, and one line says how many once the reader is back. pino's own synchronous writer
// retries a full non-blocking pipe for ever inside the event loop, so a log reader that stalls would stop
// BGP keepalives and even the SIGTERM deadline timer.
import { fstatSync } from 'node:fs';
import { pino, type DestinationStream, type Logger } from 'pino';
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

/** Bytes of log lines queued for a stdout pipe nobody reads, at most; later lines are dropped. */
export const STDOUT_QUEUE_LIMIT = 4 * 1024 * 1024;

/** A destination on a pipe or socket stdout that queues at most `limit` bytes (see the header). */
export class BoundedStdout implements DestinationStream {
  dropped = 0;
  private pendingNotice = false;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stdout,
    private readonly limit = STDOUT_QUEUE_LIMIT,
  ) {
    out.on('error', () => undefined); // EPIPE when the reader is gone: logging must never crash the process
    out.on('drain', () => this.notice());
  }

  write(line: string): void {
    if (this.out.destroyed || this.out.writableLength >= this.limit) {
      this.dropped++;
      this.pendingNotice = true;
      return;
    }
    this.out.write(line);
  }

  private notice(): void {
    if (!this.pendingNotice || this.out.writableLength >= this.limit / 2) return;
    this.pendingNotice = false;
    this.out.write(`${JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, dropped: this.dropped, msg: `${this.dropped} log lines dropped so far: stdout was not read (more than ${this.limit} bytes queued)` })}\n`);
  }
}

function stdoutIsPipeOrSocket(): boolean {
  try {
    const st = fstatSync(1);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

function makeRoot(): Logger {
  const { level, format } = logSettings(process.env);
  const tty = process.stdout.isTTY === true;
  const redact = { paths: REDACTED_LOG_PATHS, censor: '[redacted]' };
  if (format === 'pretty' || (format === 'auto' && tty)) {
    return pino({ level, redact, transport: { target: 'pino-pretty', options: { colorize: tty } } });
  }
  if (stdoutIsPipeOrSocket()) return pino({ level, redact }, new BoundedStdout());
  return pino({ level, redact });
}

export const log: Logger = makeRoot();

export function peerLogger(peer: string, extra: Record<string, unknown> = {}): Logger {
  return log.child({ peer, ...extra });
}
