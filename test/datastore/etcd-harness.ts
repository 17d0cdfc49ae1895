// Test helper: a real etcd on a loopback port with a temporary data directory (v2 API enabled), optional TLS
// with certificates made by openssl; stop, kill and restart for outage tests. Every process is tracked for cleanup.
// The address is a loopback /24 claimed by this test process, the ports come from the OS, so neither another
// test file nor an etcd left by an aborted run is ever in the way.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { runChild, spawnChild } from '../helpers/child.js';
import { claimLoopbackNet, freePort } from '../helpers/net.js';

export const ETCD_HOST = (await claimLoopbackNet()).host(1);

/** A port on ETCD_HOST where nothing listens (for unreachable endpoints). */
export function deadPort(): Promise<number> {
  return freePort(ETCD_HOST);
}

export interface TlsMaterial {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A second, unrelated CA: clients trusting only it must be refused. */
  wrongCa: string;
}

function openssl(args: string[], cwd: string): void {
  const r = runChild('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A CA, a server certificate for ETCD_HOST and a client certificate, all made fresh with openssl. */
export function makeTls(): TlsMaterial {
  const dir = mkdtempSync(join(tmpdir(), 'rr-etcd-tls-'));
  const ext = join(dir, 'server.ext');
  writeFileSync(ext, `subjectAltName=IP:${ETCD_HOST},DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n`);
  const cext = join(dir, 'client.ext');
  writeFileSync(cext, 'extendedKeyUsage=clientAuth\n');
  for (const ca of ['ca', 'wrong-ca']) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${ca}`, '-keyout', `${ca}.key`, '-out', `${ca}.pem`], dir);
  }
  for (const [name, e] of [['server', ext], ['client', cext]] as const) {
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`], dir);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', e, '-out', `${name}.pem`], dir);
  }
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
    wrongCa: join(dir, 'wrong-ca.pem'),
  };
}

export class Etcd {
  readonly url: string;
  readonly dataDir: string;
  private proc: ChildProcess | undefined;
  private log = '';

  /** Set to serve the same data directory on another client port (changes made "while the reflector's etcd is down"). */
  clientPort: number;

  /** An etcd on ETCD_HOST with client and peer ports from the OS. */
  static async create(tls?: TlsMaterial, enableV2 = true): Promise<Etcd> {
    return new Etcd(await freePort(ETCD_HOST), tls, enableV2, await freePort(ETCD_HOST));
  }

  constructor(
    readonly port: number,
    readonly tls?: TlsMaterial,
    readonly enableV2 = true,
    readonly peerPort = port + 100,
  ) {
    this.clientPort = port;
    this.url = `${tls ? 'https' : 'http'}://${ETCD_HOST}:${port}`;
    this.dataDir = mkdtempSync(join(tmpdir(), 'rr-etcd-data-'));
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** The URL currently served (differs from `url` while serving on another port). */
  get servedUrl(): string {
    return `${this.tls ? 'https' : 'http'}://${ETCD_HOST}:${this.clientPort}`;
  }

  async start(clientPort = this.port): Promise<void> {
    this.clientPort = clientPort;
    // A leftover etcd from an aborted run would answer our health check and hide a failed start.
    if (await this.healthy()) throw new Error(`something already serves ${this.servedUrl}; stop the leftover etcd first`);
    const peer = `http://${ETCD_HOST}:${this.peerPort}`;
    const args = [
      ...(this.enableV2 ? ['--enable-v2'] : []),
      '--name', 'rr',
      '--data-dir', join(this.dataDir, 'data'),
      '--listen-client-urls', this.servedUrl,
      '--advertise-client-urls', this.servedUrl,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `rr=${peer}`,
      '--log-level', 'error',
    ];
    if (this.tls) {
      args.push('--cert-file', this.tls.serverCert, '--key-file', this.tls.serverKey, '--trusted-ca-file', this.tls.ca, '--client-cert-auth');
    }
    // spawnChild: etcd dies with the test worker, even when the worker is killed without its after hooks.
    const proc = spawnChild('etcd', args);
    this.proc = proc;
    proc.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`etcd exited: ${this.log}`);
      if (await this.healthy()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`etcd did not come up on ${this.servedUrl}: ${this.log}`);
  }

  private healthy(): Promise<boolean> {
    return new Promise((resolve) => {
      const opts = this.tls
        ? { ca: readFileSync(this.tls.ca), cert: readFileSync(this.tls.clientCert), key: readFileSync(this.tls.clientKey), servername: '' }
        : {};
      const req = (this.tls ? httpsRequest : request)(`${this.servedUrl}/health`, { ...opts, timeout: 1000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
  }

  /** SIGKILL (an abrupt loss) and wait for the exit. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
    this.proc = undefined;
  }

  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** etcdctl (v3 API) against this server. */
  ctl(...args: string[]): string {
    const tlsArgs = this.tls ? ['--cacert', this.tls.ca, '--cert', this.tls.clientCert, '--key', this.tls.clientKey] : [];
    return checked('etcdctl', runChild('etcdctl', ['--endpoints', this.servedUrl, ...tlsArgs, ...args], {
      env: { ETCDCTL_API: '3' },
      encoding: 'utf8',
    }));
  }

  /** curl against the v2 keys API: `path` like "/calico/bgp/v1/rr_v4/10.0.0.1", the seed's way of writing entries. */
  curl(method: 'GET' | 'PUT' | 'DELETE', path: string, ...args: string[]): string {
    const tlsArgs = this.tls ? ['--cacert', this.tls.ca, '--cert', this.tls.clientCert, '--key', this.tls.clientKey] : [];
    return checked('curl', runChild('curl', ['-sS', '-L', ...tlsArgs, `${this.servedUrl}/v2/keys${path}`, '-X', method, ...args], { encoding: 'utf8' }));
  }

  /** Many v2 writes at once (one curl process, one connection), to push etcd's 1000-event history forward. */
  floodV2(path: string, count: number): void {
    const lines: string[] = [];
    for (let i = 0; i < count; i++) lines.push(`url = "${this.servedUrl}/v2/keys${path}"`, '-X PUT', `-d value=${i}`, '-o /dev/null');
    const cfg = join(this.dataDir, 'flood.curl');
    writeFileSync(cfg, `${lines.join('\n')}\n`);
    checked('curl', runChild('curl', ['-sS', '-K', cfg], { encoding: 'utf8' }));
  }
}

/** The stdout of a finished child, or an error with its stderr (as execFileSync threw). */
export function checked(what: string, r: { status: number | null; stdout: string; stderr: string; error?: Error }): string {
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) throw new Error(`${what} exited with ${r.status}: ${r.stderr}`);
  return r.stdout;
}
