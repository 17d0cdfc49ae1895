// The background life of an etcd source, shared by the v2 and v3 sources: a list+watch loop and an optional
// self-registration loop, each stopped by its own abort signal, and the endpoint in use with round-robin failover.

/** The endpoint requests go to now; rotate() moves on to the next after a failure. */
export class EndpointRing {
  private index = 0;
  constructor(readonly endpoints: readonly string[]) {}

  get current(): string {
    return this.endpoints[this.index] ?? '';
  }

  rotate(): void {
    this.index = (this.index + 1) % this.endpoints.length;
  }
}

export class SourceLoops {
  private watchAbort = new AbortController();
  private regAbort = new AbortController();
  private watchLoop: Promise<void> | undefined;
  private regLoop: Promise<void> | undefined;

  /** Aborted when the source stops. */
  get watchSignal(): AbortSignal {
    return this.watchAbort.signal;
  }

  /** Aborted when the source stops or deregisters. */
  get registrationSignal(): AbortSignal {
    return this.regAbort.signal;
  }

  /**
   * Starts the list+watch loop (and the registration loop when given). Resolves once the watch loop has made
   * its first attempt, successful or not, so a caller is never blocked by an etcd that is down.
   */
  async start(watch: (firstAttempt: () => void) => Promise<void>, register?: () => Promise<void>): Promise<void> {
    this.watchAbort = new AbortController();
    let firstAttempt!: () => void;
    const attempted = new Promise<void>((r) => (firstAttempt = r));
    this.watchLoop = watch(firstAttempt);
    if (register !== undefined) this.regLoop = register();
    await attempted;
  }

  /** Signals both loops to end (join() waits for them). */
  abort(): void {
    this.watchAbort.abort();
    this.regAbort.abort();
  }

  async join(): Promise<void> {
    await this.watchLoop;
    await this.regLoop;
  }

  /** Ends the registration loop only (before deregistering). */
  async stopRegistration(): Promise<void> {
    this.regAbort.abort();
    await this.regLoop;
  }
}
