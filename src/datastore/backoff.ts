// Capped exponential backoff with jitter for datastore reconnects, and an abortable sleep to wait it out.
// Shared by the etcd sources and the self-registration loops.

export class Backoff {
  private attempt = 0;
  constructor(
    private readonly initialMs = 250,
    private readonly maxMs = 5000,
  ) {}
  /** The next delay: initial × 2^n, capped, with ±20 % jitter so several reflectors do not retry in step. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 20));
    this.attempt++;
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }
  reset(): void {
    this.attempt = 0;
  }
}

/** Resolves after `ms`, or at once (false) when the signal aborts; true when the full time passed. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve(false);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** One line for an error, with a hint at the TLS variables when the failure is about certificates. */
export function errorText(e: unknown): string {
  let text = String(e);
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    text = code !== undefined && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
  }
  if (/certificate|self[- ]signed|issuer|ssl|tls|handshake|CERT_/i.test(text)) {
    text += ' [TLS: check ETCD_CA_CERT_FILE (the CA that signed the server), ETCD_CERT_FILE and ETCD_KEY_FILE]';
  }
  return text;
}
