// A small Kubernetes API server for tests: Nodes, Calico BGPPeer/BGPConfiguration CRs, Leases and Secrets with the
// real API's semantics for list/watch/resourceVersion/410/409, bearer-token and client-certificate auth and RBAC.
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { randomUUID } from 'node:crypto';

export interface ResourceInfo {
  plural: string;
  singular: string;
  kind: string;
  group: string;
  version: string;
  namespaced: boolean;
  shortNames?: string[];
}

export const RESOURCES: ResourceInfo[] = [
  { plural: 'nodes', singular: 'node', kind: 'Node', group: '', version: 'v1', namespaced: false, shortNames: ['no'] },
  { plural: 'bgppeers', singular: 'bgppeer', kind: 'BGPPeer', group: 'crd.projectcalico.org', version: 'v1', namespaced: false },
  {
    plural: 'bgpconfigurations',
    singular: 'bgpconfiguration',
    kind: 'BGPConfiguration',
    group: 'crd.projectcalico.org',
    version: 'v1',
    namespaced: false,
  },
  { plural: 'leases', singular: 'lease', kind: 'Lease', group: 'coordination.k8s.io', version: 'v1', namespaced: true },
  { plural: 'secrets', singular: 'secret', kind: 'Secret', group: '', version: 'v1', namespaced: true },
];

export type Obj = Record<string, unknown> & { metadata: Record<string, unknown> };

interface HistoryEntry {
  rv: number;
  resource: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
  previous?: Obj;
}

type Listener = (e: HistoryEntry) => void;

/** Objects and their history; it outlives a server so that a "restarted" server has the same state. */
export class FakeStore {
  rv = 100;
  /** Watches from a resourceVersion below this get 410 Gone (etcd compaction). */
  compactedRv = 100;
  private readonly objects = new Map<string, Map<string, Obj>>();
  private history: HistoryEntry[] = [];
  private readonly listeners = new Set<Listener>();

  constructor() {
    for (const r of RESOURCES) this.objects.set(r.plural, new Map());
  }

  private info(resource: string): ResourceInfo {
    const r = RESOURCES.find((x) => x.plural === resource);
    if (r === undefined) throw new Error(`unknown resource ${resource}`);
    return r;
  }

  list(resource: string, namespace?: string): Obj[] {
    return [...this.objects.get(resource)!.values()].filter(
      (o) => namespace === undefined || o.metadata.namespace === namespace,
    );
  }

  get(resource: string, namespace: string | undefined, name: string): Obj | undefined {
    return this.objects.get(resource)!.get(`${namespace ?? ''}/${name}`);
  }

  /** POST semantics: AlreadyExists (409) when the name is taken. Returns the stored object. */
  create(resource: string, obj: Obj): Obj {
    const r = this.info(resource);
    const ns = r.namespaced ? (metaString(obj, 'namespace') ?? 'default') : undefined;
    const name = (metaString(obj, 'name') ?? '');
    if (name === '') throw new ApiFailure(422, 'Invalid', `${r.kind} "" is invalid: metadata.name: Required value: name is required`);
    if (this.get(resource, ns, name) !== undefined) {
      throw new ApiFailure(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`);
    }
    const stored = normalize(r, structuredClone(obj));
    stored.apiVersion = r.group === '' ? r.version : `${r.group}/${r.version}`;
    stored.kind = r.kind;
    stored.metadata = {
      ...stored.metadata,
      ...(ns !== undefined ? { namespace: ns } : {}),
      uid: randomUUID(),
      creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      resourceVersion: String(++this.rv),
    };
    this.objects.get(resource)!.set(`${ns ?? ''}/${name}`, stored);
    this.emit({ rv: this.rv, resource, type: 'ADDED', object: stored });
    return stored;
  }

  /** PUT semantics: NotFound when absent; Conflict when a given resourceVersion is not the current one. */
  update(resource: string, obj: Obj): Obj {
    const r = this.info(resource);
    const ns = r.namespaced ? (metaString(obj, 'namespace') ?? 'default') : undefined;
    const name = (metaString(obj, 'name') ?? '');
    const old = this.get(resource, ns, name);
    if (old === undefined) throw new ApiFailure(404, 'NotFound', `${qualified(r)} "${name}" not found`);
    const want = obj.metadata.resourceVersion;
    if (want !== undefined && want !== '' && want !== old.metadata.resourceVersion) {
      throw new ApiFailure(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualified(r)} "${name}": the object has been modified; ` +
          'please apply your changes to the latest version and try again',
      );
    }
    const stored = normalize(r, structuredClone(obj), old);
    stored.apiVersion = old.apiVersion;
    stored.kind = old.kind;
    stored.metadata = {
      ...stored.metadata,
      ...(ns !== undefined ? { namespace: ns } : {}),
      uid: old.metadata.uid,
      creationTimestamp: old.metadata.creationTimestamp,
      resourceVersion: String(++this.rv),
    };
    this.objects.get(resource)!.set(`${ns ?? ''}/${name}`, stored);
    this.emit({ rv: this.rv, resource, type: 'MODIFIED', object: stored, previous: old });
    return stored;
  }

  /** Create or update without preconditions: the test's way to change the cluster. */
  apply(resource: string, obj: Obj): Obj {
    const r = this.info(resource);
    const ns = r.namespaced ? (metaString(obj, 'namespace') ?? 'default') : undefined;
    const existing = this.get(resource, ns, metaString(obj, 'name') ?? '');
    if (existing === undefined) return this.create(resource, obj);
    const copy = structuredClone(obj);
    delete copy.metadata.resourceVersion;
    return this.update(resource, copy);
  }

  delete(resource: string, namespace: string | undefined, name: string): Obj {
    const r = this.info(resource);
    const old = this.get(resource, r.namespaced ? (namespace ?? 'default') : undefined, name);
    if (old === undefined) throw new ApiFailure(404, 'NotFound', `${qualified(r)} "${name}" not found`);
    this.objects.get(resource)!.delete(`${r.namespaced ? (namespace ?? 'default') : ''}/${name}`);
    const gone = structuredClone(old);
    gone.metadata.resourceVersion = String(++this.rv);
    this.emit({ rv: this.rv, resource, type: 'DELETED', object: gone });
    return gone;
  }

  /** Forget the history (as etcd compaction does): older watch positions now get 410 Gone. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history = [];
  }

  since(rv: number): HistoryEntry[] {
    return this.history.filter((e) => e.rv > rv);
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(e: HistoryEntry): void {
    this.history.push(e);
    for (const l of [...this.listeners]) l(e);
  }
}

export class ApiFailure extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * What the API server does to an object on write, for the kinds that have such rules. Secrets: `data` values
 * must be base64 (they are []byte in JSON), `stringData` is write-only and merged into `data` (it wins), `type`
 * defaults to Opaque and cannot change, and an `immutable` Secret keeps its data.
 */
function normalize(r: ResourceInfo, o: Obj, old?: Obj): Obj {
  if (r.plural !== 'secrets') return o;
  const data: Record<string, unknown> = { ...(isRecord(o.data) ? o.data : {}) };
  for (const [k, v] of Object.entries(data)) {
    if (typeof v !== 'string' || v.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) {
      throw new ApiFailure(400, 'BadRequest', `Secret in version "v1" cannot be handled as a Secret: illegal base64 data in data[${JSON.stringify(k)}]`);
    }
  }
  if (o.stringData !== undefined && o.stringData !== null) {
    if (!isRecord(o.stringData)) throw new ApiFailure(400, 'BadRequest', 'Secret in version "v1" cannot be handled as a Secret: stringData is not a map');
    for (const [k, v] of Object.entries(o.stringData)) {
      if (typeof v !== 'string') throw new ApiFailure(400, 'BadRequest', `Secret in version "v1" cannot be handled as a Secret: stringData[${JSON.stringify(k)}] is not a string`);
      data[k] = Buffer.from(v, 'utf8').toString('base64');
    }
  }
  delete o.stringData;
  const name = metaString(o, 'name') ?? '';
  for (const k of Object.keys(data)) {
    if (!/^[-._a-zA-Z0-9]+$/.test(k) || k.length > 253) {
      throw new ApiFailure(422, 'Invalid', `Secret "${name}" is invalid: data[${k}]: Invalid value: ${JSON.stringify(k)}: a valid config key must consist of alphanumeric characters, '-', '_' or '.'`);
    }
  }
  if (Object.keys(data).length > 0) o.data = data;
  else delete o.data;
  if (typeof o.type !== 'string' || o.type === '') o.type = old !== undefined && typeof old.type === 'string' ? old.type : 'Opaque';
  if (old !== undefined) {
    if (o.type !== old.type) throw new ApiFailure(422, 'Invalid', `Secret "${name}" is invalid: type: Invalid value: ${JSON.stringify(o.type)}: field is immutable`);
    if (old.immutable === true && JSON.stringify(o.data ?? {}) !== JSON.stringify(old.data ?? {})) {
      throw new ApiFailure(422, 'Invalid', `Secret "${name}" is invalid: data: Forbidden: field is immutable when \`immutable\` is set`);
    }
  }
  return o;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function qualified(r: ResourceInfo): string {
  return r.group === '' ? r.plural : `${r.plural}.${r.group}`;
}

export interface FakeApiServerOptions {
  host: string;
  port?: number;
  /** HTTPS with this server certificate; clients may present certificates signed by `ca` (CN = user name). */
  tls?: { key: string | Buffer; cert: string | Buffer; ca: string | Buffer };
  /** Bearer token → user name. */
  tokens?: Record<string, string>;
  /** Requests without credentials act as "system:anonymous" (the API server's --anonymous-auth); else 401. */
  anonymous?: boolean;
  /**
   * User → allowed "verb resource [namespace [name]]" rules ("list nodes", "* leases", "get secrets kube-system",
   * "watch secrets kube-system bgp-secrets", "*"): a rule with a namespace is a Role's (that namespace only), with a
   * name it has resourceNames (a list or watch matches it only through a metadata.name field selector, as in the
   * API server's RequestInfo). Users not listed may do nothing.
   */
  rbac?: Record<string, string[]>;
  /** Interval of BOOKMARK events on watches that asked for them. Default 1000 ms. */
  bookmarkIntervalMs?: number;
  /** How a too-old watch resourceVersion is refused: an ERROR event in a 200 stream (like the watch cache) or HTTP 410. */
  goneAs?: 'event' | 'status';
  /** Resources this server does not serve (a cluster without Calico's CRDs): 404 and absent from discovery. */
  unserved?: string[];
}

export interface RequestRecord {
  method: string;
  path: string;
  user?: string;
  verb?: string;
  resource?: string;
  status: number;
  query: Record<string, string>;
  accept?: string;
}

export class FakeApiServer {
  readonly requests: RequestRecord[] = [];
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly watches = new Set<() => void>();
  port = 0;

  private constructor(
    readonly store: FakeStore,
    private readonly opts: FakeApiServerOptions,
  ) {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => this.handle(req, res);
    this.server =
      opts.tls !== undefined
        ? https.createServer({ ...opts.tls, requestCert: true, rejectUnauthorized: false }, handler)
        : http.createServer(handler);
    // Raw TCP sockets (for HTTPS too, so that half-done handshakes are cut as well on stop).
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(opts: FakeApiServerOptions, store: FakeStore = new FakeStore()): Promise<FakeApiServer> {
    const s = new FakeApiServer(store, opts);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(opts.port ?? 0, opts.host, () => resolve());
    });
    const addr = s.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no address');
    s.port = addr.port;
    return s;
  }

  get url(): string {
    return `${this.opts.tls !== undefined ? 'https' : 'http'}://${this.opts.host}:${this.port}`;
  }

  /** Ends every open watch stream cleanly (as the server does at timeoutSeconds). */
  endWatches(): void {
    for (const end of [...this.watches]) end();
  }

  /** Counts requests of one verb on one resource, e.g. count('list', 'nodes'). */
  count(verb: string, resource: string): number {
    return this.requests.filter((r) => r.verb === verb && r.resource === resource).length;
  }

  async stop(): Promise<void> {
    this.endWatches();
    await new Promise<void>((resolve) => {
      // Bounded: a test's cleanup must never hang on a connection that will not close.
      const t = setTimeout(resolve, 2000);
      this.server.close(() => {
        clearTimeout(t);
        resolve();
      });
      for (const s of this.sockets) s.destroy();
      this.server.closeAllConnections?.();
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const rec: RequestRecord = { method: req.method ?? 'GET', path: url.pathname, status: 0, query, accept: req.headers.accept };
    this.requests.push(rec);
    const send = (status: number, body: unknown, contentType = 'application/json'): void => {
      rec.status = status;
      const text = JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    };
    const fail = (f: ApiFailure): void =>
      send(f.code, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: f.message,
        reason: f.reason,
        code: f.code,
      });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const user = this.authenticate(req);
        if (user === undefined) throw new ApiFailure(401, 'Unauthorized', 'Unauthorized');
        rec.user = user;
        const discovery = this.discovery(url.pathname);
        if (discovery !== undefined) {
          if (req.method !== 'GET') throw new ApiFailure(405, 'MethodNotAllowed', 'the server does not allow this method');
          if (discovery === null) throw new ApiFailure(404, 'NotFound', 'the server could not find the requested resource');
          send(200, discovery);
          return;
        }
        const parsed = parseRoute(url.pathname);
        const route = parsed !== undefined && this.opts.unserved?.includes(parsed.r.plural) === true ? undefined : parsed;
        if (route === undefined) throw new ApiFailure(404, 'NotFound', 'the server could not find the requested resource');
        const { r, namespace, name } = route;
        const watch = query.watch === 'true' || query.watch === '1';
        const verb = verbOf(req.method ?? 'GET', name !== undefined, watch);
        rec.verb = verb;
        rec.resource = r.plural;
        // A list/watch for one name (metadata.name field selector) is authorized as that name, as the API server does.
        const authName = name ?? (verb === 'list' || verb === 'watch' ? exactName(query.fieldSelector) : undefined);
        this.authorize(user, verb, r, namespace, authName);
        const body = chunks.length > 0 ? parseBody(Buffer.concat(chunks)) : undefined;
        if (verb === 'watch') {
          this.serveWatch(r, namespace, query, req, res, rec);
          return;
        }
        switch (verb) {
          case 'list': {
            const sel = query.labelSelector;
            const fields = fieldSelector(query.fieldSelector);
            const all = this.store
              .list(r.plural, namespace)
              .filter((o) => matchesSelector(o, sel) && fields(o))
              .sort((a, b) => (objKey(a) < objKey(b) ? -1 : 1));
            // Paging (limit/continue). Simplification: later pages show current objects after the last key, not a
            // snapshot at the first page's resourceVersion; an expired token (history compacted) is 410 as in the API.
            let rv = String(this.store.rv);
            let after = '';
            if (query.continue !== undefined && query.continue !== '') {
              const tok = JSON.parse(Buffer.from(query.continue, 'base64').toString('utf8')) as { rv: string; after: string };
              if (Number(tok.rv) < this.store.compactedRv) {
                throw new ApiFailure(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result.');
              }
              rv = tok.rv;
              after = tok.after;
            }
            let items = all.filter((o) => objKey(o) > after);
            const limit = Number(query.limit ?? '0');
            let cont: string | undefined;
            if (limit > 0 && items.length > limit) {
              items = items.slice(0, limit);
              cont = Buffer.from(JSON.stringify({ rv, after: objKey(items.at(-1)!) })).toString('base64');
            }
            const partial = wantsMetadataOnly(req);
            const out = partial
              ? items.map(toPartial)
              : items.map((o) => (r.group === '' || r.group === 'coordination.k8s.io' ? withoutTypeMeta(o) : o));
            send(200, {
              kind: partial ? 'PartialObjectMetadataList' : `${r.kind}List`,
              apiVersion: partial ? 'meta.k8s.io/v1' : r.group === '' ? r.version : `${r.group}/${r.version}`,
              metadata: { resourceVersion: rv, ...(cont !== undefined ? { continue: cont } : {}) },
              items: out,
            });
            return;
          }
          case 'get': {
            const o = this.store.get(r.plural, namespace, name!);
            if (o === undefined) throw new ApiFailure(404, 'NotFound', `${qualified(r)} "${name!}" not found`);
            send(200, o);
            return;
          }
          case 'create': {
            const o = requireObj(body);
            if (namespace !== undefined) o.metadata.namespace = namespace;
            send(201, this.store.create(r.plural, o));
            return;
          }
          case 'update': {
            const o = requireObj(body);
            if (o.metadata.name !== name) throw new ApiFailure(400, 'BadRequest', 'the name of the object does not match the name on the URL');
            if (namespace !== undefined) o.metadata.namespace = namespace;
            send(200, this.store.update(r.plural, o));
            return;
          }
          case 'patch': {
            const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
            if (ct !== 'application/merge-patch+json' && ct !== 'application/strategic-merge-patch+json') {
              throw new ApiFailure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format: ${ct}`);
            }
            const cur = this.store.get(r.plural, namespace, name!);
            if (cur === undefined) throw new ApiFailure(404, 'NotFound', `${qualified(r)} "${name!}" not found`);
            const merged = mergePatch(structuredClone(cur), body, ct === 'application/strategic-merge-patch+json') as Obj;
            send(200, this.store.update(r.plural, merged));
            return;
          }
          case 'delete': {
            send(200, this.store.delete(r.plural, namespace, name!));
            return;
          }
          default:
            throw new ApiFailure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        }
      } catch (err) {
        if (err instanceof ApiFailure) fail(err);
        else fail(new ApiFailure(500, 'InternalError', (err as Error).message));
      }
    });
  }

  private authenticate(req: http.IncomingMessage): string | undefined {
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = /^Bearer (.+)$/.exec(auth);
      return m === null ? undefined : this.opts.tokens?.[m[1]!];
    }
    const sock = req.socket;
    if (this.opts.tls !== undefined && sock instanceof TLSSocket && sock.authorized) {
      const cert = sock.getPeerCertificate();
      const cn = cert.subject?.CN;
      return typeof cn === 'string' ? cn : undefined;
    }
    return this.opts.anonymous === true ? 'system:anonymous' : undefined;
  }

  private authorize(user: string, verb: string, r: ResourceInfo, namespace: string | undefined, name: string | undefined): void {
    const rules = this.opts.rbac?.[user] ?? [];
    const ok = rules.some((rule) => {
      if (rule === '*') return true;
      const [v, res, ns, only] = rule.split(' ');
      return (v === '*' || v === verb) && (res === '*' || res === r.plural) && (ns === undefined || ns === namespace) && (only === undefined || only === name);
    });
    if (ok) return;
    const obj = name !== undefined ? `${qualified(r)} "${name}"` : qualified(r);
    const scope = namespace !== undefined ? `in the namespace "${namespace}"` : 'at the cluster scope';
    throw new ApiFailure(
      403,
      'Forbidden',
      `${obj} is forbidden: User "${user}" cannot ${verb} resource "${r.plural}" in API group "${r.group}" ${scope}`,
    );
  }

  /** Discovery documents kubectl reads; undefined = not a discovery path, null = unknown group/version. */
  private discovery(path: string): unknown {
    const p = path.replace(/\/+$/, '');
    if (p === '/version') {
      return { major: '1', minor: '29', gitVersion: 'v1.29.0-fake', platform: 'linux/amd64' };
    }
    if (p === '/api') {
      return {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `${this.opts.host}:${this.port}` }],
      };
    }
    if (p === '/apis') {
      const groups = [...new Set(RESOURCES.filter((r) => r.group !== '').map((r) => r.group))];
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: groups.map((g) => ({
          name: g,
          versions: [{ groupVersion: `${g}/v1`, version: 'v1' }],
          preferredVersion: { groupVersion: `${g}/v1`, version: 'v1' },
        })),
      };
    }
    const gv = /^\/api\/(v1)$/.exec(p) ?? /^\/apis\/([^/]+\/[^/]+)$/.exec(p);
    if (gv !== null) {
      const groupVersion = gv[1]!;
      const rs = RESOURCES.filter((r) => (r.group === '' ? r.version : `${r.group}/${r.version}`) === groupVersion);
      if (rs.length === 0) return null;
      return {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion,
        resources: rs.map((r) => ({
          name: r.plural,
          singularName: r.singular,
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
          ...(r.shortNames !== undefined ? { shortNames: r.shortNames } : {}),
        })),
      };
    }
    if (/^\/apis\/[^/]+$/.exec(p) !== null) {
      const g = p.slice('/apis/'.length);
      if (!RESOURCES.some((r) => r.group === g)) return null;
      return {
        kind: 'APIGroup',
        apiVersion: 'v1',
        name: g,
        versions: [{ groupVersion: `${g}/v1`, version: 'v1' }],
        preferredVersion: { groupVersion: `${g}/v1`, version: 'v1' },
      };
    }
    if (p.startsWith('/openapi')) return null;
    return undefined;
  }

  private serveWatch(
    r: ResourceInfo,
    namespace: string | undefined,
    query: Record<string, string>,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    rec: RequestRecord,
  ): void {
    const rvText = query.resourceVersion ?? '';
    const labels = query.labelSelector;
    const fields = fieldSelector(query.fieldSelector);
    const sel = (o: Obj): boolean => matchesSelector(o, labels) && fields(o);
    const from = rvText === '' || rvText === '0' ? undefined : Number(rvText);
    if (from !== undefined && !Number.isInteger(from)) throw new ApiFailure(400, 'BadRequest', `invalid resource version "${rvText}"`);
    const tooOld = from !== undefined && from < this.store.compactedRv;
    const goneStatus = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `too old resource version: ${from} (${this.store.compactedRv})`,
      reason: 'Expired',
      code: 410,
    };
    if (tooOld && this.opts.goneAs === 'status') {
      throw new ApiFailure(410, 'Expired', goneStatus.message);
    }
    rec.status = 200;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    const partial = wantsMetadataOnly(req);
    const write = (type: string, object: unknown): void => {
      const o = partial && type !== 'ERROR' && type !== 'BOOKMARK' ? toPartial(object as Obj) : object;
      res.write(`${JSON.stringify({ type, object: o })}\n`);
    };
    if (tooOld) {
      write('ERROR', goneStatus);
      res.end();
      return;
    }
    const inScope = (o: Obj): boolean => namespace === undefined || o.metadata.namespace === namespace;
    const deliver = (e: HistoryEntry): void => {
      if (e.resource !== r.plural || !inScope(e.object)) return;
      const now = sel(e.object);
      if (e.type === 'MODIFIED' && e.previous !== undefined) {
        const before = sel(e.previous);
        if (before && !now) write('DELETED', e.object);
        else if (!before && now) write('ADDED', e.object);
        else if (now) write('MODIFIED', e.object);
        return;
      }
      if (now) write(e.type, e.object);
    };
    if (from === undefined) {
      // "Start at any/most recent": synthetic ADDED events for the current state, then changes.
      for (const o of this.store.list(r.plural, namespace)) if (sel(o)) write('ADDED', o);
    } else {
      for (const e of this.store.since(from)) deliver(e);
    }
    const unsubscribe = this.store.subscribe(deliver);
    const timers: NodeJS.Timeout[] = [];
    if (query.allowWatchBookmarks === 'true') {
      timers.push(
        setInterval(() => {
          write('BOOKMARK', {
            kind: r.kind,
            apiVersion: r.group === '' ? r.version : `${r.group}/${r.version}`,
            metadata: { resourceVersion: String(this.store.rv) },
          });
        }, this.opts.bookmarkIntervalMs ?? 1000),
      );
    }
    const timeout = Number(query.timeoutSeconds ?? '0');
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      unsubscribe();
      for (const t of timers) clearInterval(t);
      this.watches.delete(end);
      res.end();
    };
    if (timeout > 0) timers.push(setTimeout(end, timeout * 1000));
    this.watches.add(end);
    res.on('close', end);
  }
}

function verbOf(method: string, hasName: boolean, watch: boolean): string {
  switch (method) {
    case 'GET':
      return watch ? 'watch' : hasName ? 'get' : 'list';
    case 'POST':
      return hasName ? 'unsupported' : 'create';
    case 'PUT':
      return hasName ? 'update' : 'unsupported';
    case 'PATCH':
      return hasName ? 'patch' : 'unsupported';
    case 'DELETE':
      return hasName ? 'delete' : 'deletecollection';
    default:
      return 'unsupported';
  }
}

function parseRoute(path: string): { r: ResourceInfo; namespace?: string; name?: string } | undefined {
  const parts = path.split('/').filter((x) => x !== '');
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api') {
    group = '';
    version = parts[1] ?? '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis') {
    group = parts[1] ?? '';
    version = parts[2] ?? '';
    rest = parts.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = decodeURIComponent(rest[1]!);
    rest = rest.slice(2);
  }
  const r = RESOURCES.find((x) => x.group === group && x.version === version && x.plural === rest[0]);
  if (r === undefined || rest.length > 2) return undefined;
  if (!r.namespaced && namespace !== undefined) return undefined;
  // A namespaced resource without a namespace in the path is the all-namespaces list/watch.
  if (r.namespaced && namespace === undefined && rest.length > 1) return undefined;
  return { r, namespace, name: rest[1] !== undefined ? decodeURIComponent(rest[1]) : undefined };
}

function parseBody(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8')) as unknown;
  } catch {
    throw new ApiFailure(400, 'BadRequest', 'the body of the request is not JSON');
  }
}

function requireObj(body: unknown): Obj {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiFailure(400, 'BadRequest', 'object expected');
  const o = body as Obj;
  if (typeof o.metadata !== 'object' || o.metadata === null) o.metadata = {};
  return o;
}

/** metadata.name or .namespace; a value that is not a string is refused as the real API server does (422). */
function metaString(o: Obj, field: 'name' | 'namespace'): string | undefined {
  const v = o.metadata[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ApiFailure(422, 'Invalid', `metadata.${field}: Invalid value: must be a string`);
  return v;
}

function objKey(o: Obj): string {
  return `${metaString(o, 'namespace') ?? ''}/${metaString(o, 'name') ?? ''}`;
}

/** The client asked for meta.k8s.io PartialObjectMetadata(List) first in its Accept header. */
function wantsMetadataOnly(req: http.IncomingMessage): boolean {
  const first = (req.headers.accept ?? '').split(',')[0] ?? '';
  return /;as=PartialObjectMetadata(List)?;/.test(`${first};`) && first.includes('g=meta.k8s.io');
}

function toPartial(o: Obj): Obj {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

function withoutTypeMeta(o: Obj): Obj {
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return rest as Obj;
}

/** The name a field selector pins down (a single metadata.name equality term), else undefined. */
function exactName(selector: string | undefined): string | undefined {
  const m = /^\s*metadata\.name\s*==?\s*([^,\s]+)\s*$/.exec(selector ?? '');
  return m === null ? undefined : m[1];
}

/** Field selectors on metadata.name / metadata.namespace ("=", "==", "!="), as every resource supports. */
function fieldSelector(selector: string | undefined): (o: Obj) => boolean {
  if (selector === undefined || selector.trim() === '') return () => true;
  const terms = selector.split(',').map((term) => {
    const m = /^\s*(metadata\.name|metadata\.namespace)\s*(!=|==|=)\s*(.*?)\s*$/.exec(term);
    if (m === null) throw new ApiFailure(400, 'BadRequest', `"${term}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
    const field = m[1] === 'metadata.name' ? 'name' : 'namespace';
    return (o: Obj): boolean => ((metaString(o, field) ?? '') === m[3]) === (m[2] !== '!=');
  });
  return (o) => terms.every((f) => f(o));
}

/** Equality-based label selectors: "a=b", "a==b", "a!=b", "a", "!a", comma = AND. */
export function matchesSelector(o: Obj, selector: string | undefined): boolean {
  if (selector === undefined || selector.trim() === '') return true;
  const labels = (o.metadata.labels ?? {}) as Record<string, string>;
  return selector.split(',').every((term) => {
    const t = term.trim();
    let m: RegExpExecArray | null;
    if ((m = /^([^!=]+)!=(.*)$/.exec(t)) !== null) return labels[m[1]!.trim()] !== m[2]!.trim();
    if ((m = /^([^!=]+)==?(.*)$/.exec(t)) !== null) return labels[m[1]!.trim()] === m[2]!.trim();
    if (t.startsWith('!')) return !(t.slice(1) in labels);
    return t in labels;
  });
}

/**
 * RFC 7386 JSON merge patch. For strategic-merge patches of these objects (maps only, no lists that need
 * merge keys) the same rule applies once the "$..." directive keys kubectl adds are dropped.
 */
function mergePatch(target: unknown, patch: unknown, strategic: boolean): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (strategic && k.startsWith('$')) continue;
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v, strategic);
  }
  return out;
}
