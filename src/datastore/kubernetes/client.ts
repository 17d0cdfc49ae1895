// A minimal Kubernetes API client: JSON requests (list/get/create/update/delete) and watch streams, over
// node:http/node:https with the kubeconfig's CA, client certificate and bearer token.
//
// Why not @kubernetes/client-node: we need four verbs on four resources, and that package brings a large
// generated API surface and many dependencies (request libraries, YAML, JSON-path, WebSocket) for it. Why not
// the global fetch: Node 20's fetch cannot take a client certificate or a private CA without importing
// undici's Agent, which is not a public dependency here; node:https can, and it streams watch bodies natively.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { KubeConnection } from './kubeconfig.js';

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  resourceVersion?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: unknown;
  [key: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

/** A non-2xx answer, or an ERROR watch event, with the API's Status fields when it sent one. */
export class KubeApiError extends Error {
  override name = 'KubeApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly reason?: string,
    readonly method?: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
}

export interface ListOptions {
  labelSelector?: string;
  /** e.g. metadata.name=<name>: one object, which RBAC can then grant by resourceNames. */
  fieldSelector?: string;
  /** Ask for metadata only (meta.k8s.io PartialObjectMetadata): all we read of a Node are its annotations. */
  metadataOnly?: boolean;
  /** Page size (the API's `limit`); undefined = one answer. */
  pageSize?: number;
  signal?: AbortSignal;
}

export interface WatchOptions {
  resourceVersion: string;
  metadataOnly?: boolean;
  labelSelector?: string;
  fieldSelector?: string;
  /** Server-side end of the watch; the caller re-watches from the last resourceVersion. */
  timeoutSeconds: number;
  signal?: AbortSignal;
}

const TOKEN_FILE_CACHE_MS = 60_000;
const MAX_PAGES = 10_000;
// Servers that cannot convert answer plain JSON (the second choice), which carries the same metadata.
const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

export class KubeClient {
  readonly server: string;
  private agent: http.Agent;
  /** The exec plugin's client certificate the agent was built with (a new one replaces the agent). */
  private agentCert?: Buffer;
  private readonly base: URL;
  private tokenCache?: { value: string; readAt: number };

  constructor(
    private readonly conn: KubeConnection,
    private readonly requestTimeoutMs = 30_000,
  ) {
    this.server = conn.server;
    this.base = new URL(conn.server);
    if (this.base.protocol === 'https:') {
      this.agent = new https.Agent({
        keepAlive: true,
        ca: conn.ca,
        cert: conn.cert,
        key: conn.key,
        rejectUnauthorized: !conn.insecureSkipTlsVerify,
        servername: conn.tlsServerName,
      });
    } else {
      this.agent = new http.Agent({ keepAlive: true });
    }
  }

  close(): void {
    this.agent.destroy();
  }

  /**
   * The whole collection, in pages of `pageSize` (limit/continue, all pages at the first page's
   * resourceVersion, as client-go's pager does). An expired continue token is a 410 like any other.
   */
  async list(path: string, opts: ListOptions = {}): Promise<ListResult> {
    const items: KubeObject[] = [];
    let resourceVersion = '';
    let token: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const q = new URLSearchParams();
      if (opts.labelSelector !== undefined) q.set('labelSelector', opts.labelSelector);
      if (opts.fieldSelector !== undefined) q.set('fieldSelector', opts.fieldSelector);
      if (opts.pageSize !== undefined) q.set('limit', String(opts.pageSize));
      if (token !== undefined) q.set('continue', token);
      const accept = opts.metadataOnly === true ? METADATA_LIST_ACCEPT : undefined;
      const body = await this.json('GET', withQuery(path, q), undefined, undefined, opts.signal, accept);
      if (!isRecord(body) || !Array.isArray(body.items)) {
        throw new KubeApiError(`GET ${path}: answer is not a list`, 0, undefined, 'GET', path);
      }
      const meta = isRecord(body.metadata) ? body.metadata : {};
      if (page === 0) resourceVersion = typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '';
      for (const it of body.items) if (isRecord(it)) items.push(it as KubeObject);
      token = typeof meta.continue === 'string' && meta.continue !== '' ? meta.continue : undefined;
      if (token === undefined) return { items, resourceVersion };
    }
    throw new KubeApiError(`GET ${path}: more than ${MAX_PAGES} pages`, 0, undefined, 'GET', path);
  }

  async get(path: string): Promise<KubeObject> {
    return (await this.json('GET', path)) as KubeObject;
  }

  async create(path: string, obj: KubeObject): Promise<KubeObject> {
    return (await this.json('POST', path, obj)) as KubeObject;
  }

  async update(path: string, obj: KubeObject): Promise<KubeObject> {
    return (await this.json('PUT', path, obj)) as KubeObject;
  }

  /** `timeoutMs` overrides the client's request timeout (a shutdown should not wait 30 s for a dead server). */
  async delete(path: string, timeoutMs?: number): Promise<void> {
    await this.json('DELETE', path, undefined, timeoutMs);
  }

  /**
   * One watch request. Yields its events until the server ends the stream (timeoutSeconds) or it breaks.
   * A non-200 answer (e.g. 410 Gone, 403) throws KubeApiError before any event; a broken stream throws
   * the network error. ERROR events are yielded as they come (the caller decides, e.g. 410 → re-list).
   */
  async *watch(path: string, opts: WatchOptions): AsyncGenerator<WatchEvent> {
    const q = new URLSearchParams({
      watch: 'true',
      resourceVersion: opts.resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(opts.timeoutSeconds),
    });
    if (opts.labelSelector !== undefined) q.set('labelSelector', opts.labelSelector);
    if (opts.fieldSelector !== undefined) q.set('fieldSelector', opts.fieldSelector);
    const fullPath = withQuery(path, q);
    // The server closes the stream after timeoutSeconds; a silent socket for much longer means a dead peer.
    const accept = opts.metadataOnly === true ? METADATA_ACCEPT : undefined;
    const res = await this.send('GET', fullPath, undefined, (opts.timeoutSeconds + 30) * 1000, opts.signal, accept);
    if (res.statusCode !== 200) {
      const text = await readAll(res);
      throw apiError('GET', fullPath, res.statusCode ?? 0, text);
    }
    res.setEncoding('utf8');
    let buffered = '';
    try {
      for await (const chunk of res as AsyncIterable<string>) {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line === '') continue;
          yield parseWatchLine(line, fullPath);
        }
      }
    } finally {
      res.destroy();
    }
    const tail = buffered.trim();
    if (tail !== '') yield parseWatchLine(tail, fullPath);
    if (!res.complete) throw new Error(`watch ${fullPath}: stream broke before its end`);
  }

  private async json(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs?: number,
    signal?: AbortSignal,
    accept?: string,
  ): Promise<unknown> {
    const res = await this.send(method, path, body, timeoutMs ?? this.requestTimeoutMs, signal, accept);
    const text = await readAll(res);
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) throw apiError(method, path, status, text);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new KubeApiError(`${method} ${path}: answer is not JSON`, status, undefined, method, path);
    }
  }

  private bearer(): string | undefined {
    if (this.conn.token !== undefined) return this.conn.token;
    if (this.conn.tokenFile === undefined) return undefined;
    const now = Date.now();
    if (this.tokenCache === undefined || now - this.tokenCache.readAt > TOKEN_FILE_CACHE_MS) {
      this.tokenCache = { value: readFileSync(this.conn.tokenFile, 'utf8').trim(), readAt: now };
    }
    return this.tokenCache.value;
  }

  private send(
    method: string,
    path: string,
    body: unknown,
    timeoutMs: number,
    signal?: AbortSignal,
    accept = 'application/json',
  ): Promise<http.IncomingMessage> {
    const url = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base);
    const headers: Record<string, string> = { Accept: accept, 'User-Agent': 'calico-ts-route-reflector' };
    return this.credentials().then((token) => {
      if (token !== undefined) headers.Authorization = `Bearer ${token}`;
      return this.sendWith(method, url, headers, body, timeoutMs, signal);
    });
  }

  /** Bearer token (static, file or exec plugin); an exec plugin's new client certificate rebuilds the agent. */
  private async credentials(): Promise<string | undefined> {
    const exec = this.conn.exec;
    if (exec === undefined) return this.bearer();
    const c = await exec.current();
    if (c.cert !== undefined && c.key !== undefined && c.cert !== this.agentCert && this.base.protocol === 'https:') {
      this.agent.destroy();
      this.agent = new https.Agent({
        keepAlive: true, ca: this.conn.ca, cert: c.cert, key: c.key,
        rejectUnauthorized: !this.conn.insecureSkipTlsVerify, servername: this.conn.tlsServerName,
      });
      this.agentCert = c.cert;
    }
    return c.token ?? this.conn.token;
  }

  private sendWith(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: unknown,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<http.IncomingMessage> {
    let payload: Buffer | undefined;
    if (body !== undefined) {
      payload = Buffer.from(JSON.stringify(body));
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolvePromise, reject) => {
      const req = mod.request(url, { method, headers, agent: this.agent, signal }, (res) => {
        if (res.statusCode === 401) this.conn.exec?.invalidate(); // refused: the plugin runs again next time
        resolvePromise(res);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url.pathname}: no answer for ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}

function parseWatchLine(line: string, path: string): WatchEvent {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    // Never quote the line: a Secret's watch events carry its data.
    throw new Error(`watch ${path}: an event of ${line.length} characters is not JSON`);
  }
  if (!isRecord(v) || typeof v.type !== 'string' || !isRecord(v.object)) {
    throw new Error(`watch ${path}: malformed event (${line.length} characters, no type or object)`);
  }
  const t = v.type;
  if (t !== 'ADDED' && t !== 'MODIFIED' && t !== 'DELETED' && t !== 'BOOKMARK' && t !== 'ERROR') {
    throw new Error(`watch ${path}: unknown event type ${JSON.stringify(t.slice(0, 40))}`);
  }
  return { type: t, object: v.object as KubeObject };
}

/** The error an ERROR watch event carries (its object is a meta/v1 Status). */
export function watchEventError(ev: WatchEvent, path: string): KubeApiError {
  const o = ev.object;
  const code = typeof o.code === 'number' ? o.code : 0;
  const message = typeof o.message === 'string' ? o.message : 'watch error';
  const reason = typeof o.reason === 'string' ? o.reason : undefined;
  return new KubeApiError(`watch ${path}: ${code} ${message}`, code, reason, 'GET', path);
}

function apiError(method: string, path: string, status: number, text: string): KubeApiError {
  let message = text.trim().slice(0, 500);
  let reason: string | undefined;
  try {
    const s = JSON.parse(text) as unknown;
    if (isRecord(s)) {
      if (typeof s.message === 'string') message = s.message;
      if (typeof s.reason === 'string') reason = s.reason;
    }
  } catch {
    // not a Status object: keep the raw text
  }
  const statusText = http.STATUS_CODES[status] ?? '';
  return new KubeApiError(`${method} ${path}: ${status} ${statusText}: ${message}`, status, reason, method, path);
}

function readAll(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolvePromise(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function withQuery(path: string, q: URLSearchParams): string {
  const s = q.toString();
  if (s === '') return path;
  return path + (path.includes('?') ? '&' : '?') + s;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
