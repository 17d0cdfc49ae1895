// kubeconfig `exec` credential plugins (client.authentication.k8s.io v1 and v1beta1, as kubectl runs them: EKS,
// GKE, AKS, OIDC helpers): run the command, read the ExecCredential it prints, keep it until expirationTimestamp.
import { execFile } from 'node:child_process';

export const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'] as const;

export interface ExecConfig {
  apiVersion: (typeof EXEC_API_VERSIONS)[number];
  /** Absolute when the kubeconfig gave a relative path with a '/', else looked up in PATH (as kubectl does). */
  command: string;
  args: string[];
  env: Array<{ name: string; value: string }>;
  /** For error messages: the kubeconfig user and file. */
  where: string;
  installHint?: string;
}

export interface ExecCredential {
  token?: string;
  cert?: Buffer;
  key?: Buffer;
  /** ms since the epoch; undefined = never expires (kept until the server refuses it). */
  expiresAtMs?: number;
}

export class ExecCredentialError extends Error {
  override name = 'ExecCredentialError';
}

const PLUGIN_TIMEOUT_MS = 60_000;
const MAX_OUTPUT = 1 << 20;

/** Runs the plugin when there is no credential yet, or the last one has expired (or was refused: invalidate()). */
export class ExecCredentialSource {
  private cached?: ExecCredential;
  private running?: Promise<ExecCredential>;

  constructor(
    readonly config: ExecConfig,
    private readonly now: () => number = Date.now,
    /** The environment the plugin inherits, as kubectl's plugins inherit kubectl's, plus exec.env. */
    private readonly baseEnv: NodeJS.ProcessEnv = process.env,
  ) {}

  /** A valid credential, running the plugin at most once at a time. */
  async current(): Promise<ExecCredential> {
    const c = this.cached;
    if (c !== undefined && (c.expiresAtMs === undefined || c.expiresAtMs > this.now())) return c;
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    const fresh = await this.running;
    this.cached = fresh;
    return fresh;
  }

  /** The API server answered 401: the next request runs the plugin again (client-go does the same). */
  invalidate(): void {
    this.cached = undefined;
  }

  private run(): Promise<ExecCredential> {
    const cfg = this.config;
    const env: NodeJS.ProcessEnv = { ...this.baseEnv };
    for (const { name, value } of cfg.env) env[name] = value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify({ apiVersion: cfg.apiVersion, kind: 'ExecCredential', spec: { interactive: false } });
    return new Promise((resolve, reject) => {
      execFile(cfg.command, cfg.args, { env, timeout: PLUGIN_TIMEOUT_MS, maxBuffer: MAX_OUTPUT, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err) {
          const hint = cfg.installHint !== undefined && (err as NodeJS.ErrnoException).code === 'ENOENT' ? ` (${cfg.installHint.trim()})` : '';
          const why = stderr.trim() !== '' ? `: ${stderr.trim().slice(0, 300)}` : '';
          reject(new ExecCredentialError(`${cfg.where}: exec plugin ${cfg.command} failed: ${err.message.split('\n')[0]}${why}${hint}`));
          return;
        }
        try {
          resolve(parseExecCredential(stdout, cfg));
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    });
  }
}

/** The plugin's stdout → credential, checked as client-go checks it. */
export function parseExecCredential(stdout: string, cfg: Pick<ExecConfig, 'apiVersion' | 'where' | 'command'>): ExecCredential {
  const bad = (why: string): never => {
    throw new ExecCredentialError(`${cfg.where}: exec plugin ${cfg.command}: ${why}`);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    bad('did not print an ExecCredential JSON object');
  }
  const o = (doc ?? {}) as Record<string, unknown>;
  if (o.kind !== 'ExecCredential') bad(`printed kind ${JSON.stringify(o.kind)}, not ExecCredential`);
  if (o.apiVersion !== cfg.apiVersion) bad(`printed apiVersion ${JSON.stringify(o.apiVersion)}; the kubeconfig asks for ${cfg.apiVersion}`);
  const status = o.status;
  if (status === null || typeof status !== 'object' || Array.isArray(status)) return bad('printed no status');
  const s = status as Record<string, unknown>;
  const str = (k: string): string | undefined => {
    const v = s[k];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') bad(`status.${k} is not a string`);
    return v as string;
  };
  const out: ExecCredential = {};
  const token = str('token');
  const cert = str('clientCertificateData');
  const key = str('clientKeyData');
  if (token !== undefined) out.token = token;
  if ((cert === undefined) !== (key === undefined)) bad('status.clientCertificateData and status.clientKeyData must be given together');
  if (cert !== undefined && key !== undefined) {
    if (!cert.includes('-----BEGIN') || !key.includes('-----BEGIN')) bad('status.clientCertificateData / clientKeyData are not PEM');
    out.cert = Buffer.from(cert);
    out.key = Buffer.from(key);
  }
  if (out.token === undefined && out.cert === undefined) bad('status has neither a token nor a client certificate');
  const exp = str('expirationTimestamp');
  if (exp !== undefined) {
    const t = Date.parse(exp);
    if (!Number.isFinite(t)) bad(`status.expirationTimestamp ${JSON.stringify(exp)} is not an RFC 3339 time`);
    // An already expired credential is still used once (the plugin's clock may differ); it is re-run next time.
    out.expiresAtMs = t;
  }
  return out;
}
