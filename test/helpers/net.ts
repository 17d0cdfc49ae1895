// Per-run loopback addresses and OS-chosen ports for the tests, so that no two test processes (nor a daemon
// left behind by an aborted run) ever meet on an address or a port.
//
// A test file claims a /24 inside 127/8 at random and holds it by listening on a sentinel address of that
// block (`.250`, port CLAIM_PORT). Another live process that drew the same block finds the sentinel taken
// and draws again; when a process dies, even by SIGKILL, the kernel frees the sentinel and so the block.
// Daemons inside the block may then use fixed well-known ports (BGP's 179): the address is theirs alone.
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { endianness } from 'node:os';

const CLAIM_HOST = 250;
const CLAIM_PORT = 65_250;
const MAX_DRAWS = 64;

export interface LoopbackNet {
  /** The three leading octets, e.g. `127.143.9`. */
  readonly prefix: string;
  /** The address `prefix.n` (1 ≤ n ≤ 249; 250 holds the claim). */
  host(n: number): string;
  /** `host(n)` with underscores for dots, as in BIRD protocol names (`Global_127_143_9_2`). */
  under(n: number): string;
}

const held: Server[] = [];

function listen(server: Server, host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') resolve(false);
      else reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve(true);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true });
  });
}

/** Whether any TCP or UDP socket of this network namespace (IPv4, any state) has a local address in `prefix`. */
function blockInUse(prefix: string): boolean {
  const [a, b, c] = prefix.split('.').map(Number) as [number, number, number];
  for (const file of ['/proc/net/tcp', '/proc/net/udp']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (local === undefined) continue;
      // The address is the 32-bit word in host byte order, printed as 8 hex digits.
      const word = Number.parseInt(local.slice(0, 8), 16);
      const bytes = endianness() === 'LE' ? [word & 255, (word >>> 8) & 255, (word >>> 16) & 255] : [word >>> 24, (word >>> 16) & 255, (word >>> 8) & 255];
      if (bytes[0] === a && bytes[1] === b && bytes[2] === c) return true;
    }
  }
  return false;
}

export interface ClaimOptions {
  /** /24 prefixes to try first, in order, before the random draws (for the helpers' own tests). */
  prefixes?: readonly string[];
}

/**
 * Claims a loopback /24 for this process (127.2.0.0 … 127.254.255.0; 127.0.0.0/16 and 127.1/16 are left to
 * the host). Held until the process exits. A block where any socket is open (say a daemon left by an aborted
 * run, whose claimer is gone) is passed over, so such a leftover never blocks the run that draws its block.
 */
export async function claimLoopbackNet(o: ClaimOptions = {}): Promise<LoopbackNet> {
  const draws = (o.prefixes?.length ?? 0) + MAX_DRAWS;
  for (let draw = 0; draw < draws; draw++) {
    const prefix = o.prefixes?.[draw] ?? `127.${randomInt(2, 255)}.${randomInt(0, 256)}`;
    if (blockInUse(prefix)) continue;
    const server = createServer((s) => s.destroy());
    if (await listen(server, `${prefix}.${CLAIM_HOST}`, CLAIM_PORT)) {
      server.unref();
      held.push(server);
      const host = (n: number): string => {
        if (!Number.isInteger(n) || n < 1 || n >= CLAIM_HOST) throw new RangeError(`host number ${n} outside 1..${CLAIM_HOST - 1}`);
        return `${prefix}.${n}`;
      };
      return { prefix, host, under: (n: number) => host(n).replaceAll('.', '_') };
    }
    server.close();
  }
  throw new Error(`no free loopback /24 after ${draws} draws`);
}

const given = new Set<string>();

/**
 * A TCP port the OS reports free on `host` right now (bound to port 0, then released), never one this process
 * was given before (two calls in a row could otherwise get the same port back).
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: 0, exclusive: true }, () => resolve());
    });
    const addr = server.address();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (addr === null || typeof addr === 'string') throw new Error('no port from the OS');
    const key = `${host} ${addr.port}`;
    if (given.has(key)) continue;
    given.add(key);
    return addr.port;
  }
  throw new Error(`no new free port on ${host} after ${MAX_DRAWS} draws`);
}

/**
 * A network namespace name for this run (`tag-` and 8 random hex digits): a namespace left by an aborted run
 * never has it, so it never blocks a later run (the test still deletes its own in cleanup).
 */
export function netnsName(tag: string): string {
  return `${tag}-${randomBytes(4).toString('hex')}`;
}
