// Polls a condition until it yields a value or a deadline passes: bounded in time and in count.
export async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 20_000, everyMs = 100): Promise<T> {
  const end = Date.now() + ms;
  const maxTries = Math.ceil(ms / everyMs) + 1;
  for (let i = 0; i < maxTries && Date.now() < end; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}
