// The running reflector: wires the datastore, the Calico mapping, the sessions, the RIB, the control sockets
// and the metrics endpoint together, and owns their start-up and shut-down order. No protocol logic here.
import { log as rootLog, type Logger } from '../log.js';
import { hostname } from 'node:os';
import type { Config } from '../config/index.js';
import { desiredSessions, nodeIdentityFromEnv, type SessionsEnv } from '../datastore/calico-sessions.js';
import { DesiredPeersFeed } from '../datastore/desired-feed.js';
import { createKeySource } from './key-source.js';
import type { KeySource } from '../datastore/source.js';
import type { PeerSpec } from '../peers/peer-spec.js';
import { planReconcile } from '../peers/reconcile.js';
import { Reflector } from '../reflector/reflector.js';
import { BgpListener } from '../session/listener.js';
import { SessionManager } from '../session/session-manager.js';
import type { SessionOptions } from '../session/session.js';
import { ControlServer, socketPathFor } from '../control/server.js';
import { describeSocketAccess, type SocketAccess } from '../control/socket-access.js';
import type { MappingProblem } from '../datastore/calico-mapping.js';
import { timeFormatsFromSetting } from '../control/timefmt.js';
import type { ConfigureResult } from '../control/model.js';
import type { MetricsServer } from '../metrics/http-server.js';
import type { DatastoreMetricsView } from '../metrics/model.js';
import { ControlAdapter } from './control-adapter.js';
import { MetricsAdapter } from './metrics-adapter.js';
import { SessionBook } from './session-book.js';
import { systemClock, type Clock } from '../clock.js';
import { buildInfo, softwareText, type BuildInfo } from './build-info.js';
import { applySummary, readyLine } from './start-lines.js';

/** Longest the BGP listener waits for the datastore's first snapshot before it opens anyway. */
const FIRST_SYNC_WAIT_MS = 3000;

export interface AppOptions {
  /** The datastore; ReflectorApp.create builds it from the config when absent (tests pass their own). */
  keySource?: KeySource;
  /** Session timers and behaviour (tests shorten them). */
  session?: SessionOptions;
  /**
   * Start as a restarting speaker (RFC 4724 R and F bits; End-of-RIB deferred, see restart-plan.ts). Default
   * true: a first start cannot be told from a restart, and on a first start the deferral costs nothing.
   */
  restarting?: boolean;
  /** Wall clock for every time the control sockets print (start, reconfiguration, state changes, "now"). */
  clock?: Clock;
  /** Where NODENAME / HOSTNAME are read (default process.env): which Calico Node we are. */
  identityEnv?: Readonly<Record<string, string | undefined>>;
  /** Owner, group and mode of the control sockets; default read from SOCKET_OWNER/SOCKET_GROUP/SOCKET_MODE. */
  socketAccess?: SocketAccess;
}

export class ReflectorApp {
  readonly reflector: Reflector;
  readonly sessions: SessionManager;
  readonly book: SessionBook;
  private readonly listener: BgpListener;
  private readonly source: KeySource;
  private readonly controls: ControlServer[] = [];
  private metrics: MetricsServer | undefined;
  private readonly log: Logger = rootLog.child({ component: 'reflector' });
  private readonly clock: Clock;
  private readonly startedAt: Date;
  private lastReconfiguration: Date;
  private readonly feed: DesiredPeersFeed;
  private readonly mappingEnv: SessionsEnv;
  private lastError: string | undefined;
  private listening = false;
  private stopping = false;
  /** Applies run one after another, each with the latest desired list. */
  private reconcileChain: Promise<void> = Promise.resolve();
  private desired: PeerSpec[] | undefined;
  private desiredProblems: MappingProblem[] = [];
  private readonly build: BuildInfo = buildInfo();

  /**
   * The app with the datastore its config names (options.keySource, when given, replaces it). Asynchronous
   * because only the chosen datastore's modules are imported (key-source.ts).
   */
  static async create(config: Config, options: AppOptions = {}): Promise<ReflectorApp> {
    const keySource = options.keySource ?? (await createKeySource(config));
    return new ReflectorApp(config, { ...options, keySource });
  }

  constructor(private readonly config: Config, private readonly options: AppOptions & { keySource: KeySource }) {
    const { identity, hardening, gracefulRestart: gr, addPaths } = config;
    this.clock = options.clock ?? systemClock;
    this.startedAt = this.clock();
    this.lastReconfiguration = this.startedAt;
    this.reflector = new Reflector({
      routerId: identity.ip,
      restarting: options.restarting ?? true,
      restartDeferralMs: gr.deferralSeconds * 1000,
      lagLimitBytes: hardening.outboundQueueLimitBytes,
      importPolicy: { maxAsPathLength: hardening.maxAsPathLength, prefixLimits: hardening },
      addPaths: addPaths.mode,
    });
    this.book = new SessionBook(this.reflector, this.clock);
    const sessionOptions: SessionOptions = {
      ttlSecurity: hardening.ttlSecurity,
      outboundLimitBytes: hardening.outboundQueueLimitBytes,
      idleHoldBase: hardening.idleHoldBaseSeconds,
      idleHoldCap: hardening.idleHoldCapSeconds,
      ...options.session,
      local: {
        ...options.session?.local, addPaths: addPaths.mode,
        gracefulRestart: { restartTime: gr.restartTimeSeconds, restarting: options.restarting ?? true },
      },
    };
    this.sessions = new SessionManager({ onCreate: (s) => this.book.attach(s), onRemove: (s) => this.book.detach(s) }, sessionOptions);
    const addresses = [identity.ip, ...(identity.ip6 !== undefined ? [identity.ip6] : [])];
    this.listener = new BgpListener({ addresses, port: identity.bgpPort, maxPending: hardening.maxPendingConnections });
    this.sessions.bindListener(this.listener);
    this.source = options.keySource;
    this.mappingEnv = {
      ip: identity.ip,
      ip6: identity.ip6,
      port: identity.bgpPort,
      clusterId: config.datastore.register?.clusterId,
      ...nodeIdentityFromEnv(options.identityEnv ?? process.env, hostname()),
    };
    this.feed = new DesiredPeersFeed(this.source, this.mappingEnv, (peers, problems) => this.onDesired(peers, problems), {
      onProblem: (message) => {
        this.lastError = message;
      },
    });
  }

  async start(): Promise<void> {
    const { identity, observability: c } = this.config;
    this.log.info({ ip: identity.ip, ip6: identity.ip6, datastore: this.source.name, bgpPort: identity.bgpPort, version: this.build.version, nodeVersion: this.build.nodeVersion }, `starting route reflector ${softwareText(this.build)} on Node.js ${this.build.nodeVersion}`);
    for (const note of this.config.notes) this.log.info(note);
    for (const warning of this.config.warnings) this.log.warn(warning);

    const model = new ControlAdapter({
      routerId: identity.ip,
      startedAt: this.startedAt,
      reflector: this.reflector,
      book: this.book,
      configure: (mode) => this.configure(mode),
      lastReconfiguration: () => this.lastReconfiguration,
      shuttingDown: () => this.stopping,
      clock: this.clock,
      notApplied: () => this.feed.lastResult?.notApplied ?? [],
      software: softwareText(this.build),
    });
    const access = this.options.socketAccess ?? c.socketAccess;
    const timeFormats = timeFormatsFromSetting(c.birdTimeformat.spec);
    // bird6.ctl only with IPv6 on: an IPv6 socket with nothing behind it would tell birdc6 and bird_exporter
    // that a daemon runs. Said once, since both need a flag changed (the exporter fails its whole scrape on a
    // missing socket).
    const families = identity.ip6 !== undefined ? ([4, 6] as const) : ([4] as const);
    for (const family of families) {
      const server = new ControlServer();
      await server.start(socketPathFor(c.socketDir, family), family, model, { timeFormats, configPath: this.source.name, now: this.clock, ...access });
      this.controls.push(server);
      this.log.info({ socket: server.socketPath, access: describeSocketAccess(access) }, 'control socket ready');
    }
    if (identity.ip6 === undefined) {
      this.log.info(
        { socket: socketPathFor(c.socketDir, 6) },
        'IPv6 off (IP6 unset): no bird6.ctl is created; run bird_exporter with -bird.ipv6=false (it fails the whole scrape on a missing socket) and birdc, not birdc6',
      );
    }

    if (c.metricsListen !== undefined) {
      const metricsModel = new MetricsAdapter({
        reflector: this.reflector,
        book: this.book,
        datastore: () => this.datastoreView(),
        listening: () => this.listening,
        connectionsRefused: () => ({ ...this.listener.refusedByReason }),
        build: this.build,
      });
      const listen = `${c.metricsListen.host !== undefined ? (c.metricsListen.host.includes(':') ? `[${c.metricsListen.host}]` : c.metricsListen.host) : ''}:${c.metricsListen.port}`;
      // Imported here: with METRICS_LISTEN=off the Prometheus client is never loaded (issue 18, idle RSS).
      const [{ createMetricsRegistry }, { startMetricsServer }] = await Promise.all([import('../metrics/registry.js'), import('../metrics/http-server.js')]);
      this.metrics = await startMetricsServer(listen, createMetricsRegistry(metricsModel), metricsModel);
      this.log.info({ listen }, 'metrics endpoint ready (/metrics, /healthz, /readyz)');
    }

    // The datastore first, so the first nodes that connect find their sessions configured instead of being
    // refused; listening does not wait longer than FIRST_SYNC_WAIT_MS for an unreachable datastore.
    const firstSync = new Promise<void>((resolve) => {
      this.firstReconcileDone = resolve;
      setTimeout(resolve, FIRST_SYNC_WAIT_MS).unref();
    });
    const started = this.feed.start();
    started.catch((err: unknown) => {
      this.lastError = err instanceof Error ? err.message : String(err);
      this.log.error({ datastore: this.source.name, err: this.lastError }, 'the datastore failed to start');
    });
    // A source that fails at once (bad kubeconfig, bad TLS files) stops the start; one that keeps retrying does not.
    await Promise.race([started, firstSync]);
    await firstSync;
    await this.listener.listen();
    this.listening = true;
    const addresses = [identity.ip, ...(identity.ip6 !== undefined ? [identity.ip6] : [])];
    this.log.info({ addresses, port: identity.bgpPort, sessions: this.desired?.length ?? 0 }, readyLine(addresses, identity.bgpPort, this.desired ?? []));
  }

  private datastoreView(): DatastoreMetricsView {
    const last = this.feed.lastUpdate;
    return {
      source: this.source.name,
      synced: this.feed.isSynced,
      // A later snapshot or change means the backend is back: an older error no longer stands.
      lastError: this.lastError,
      lastSyncUnixSeconds: last !== undefined ? last.getTime() / 1000 : undefined,
    };
  }

  /** The feed's desired session list (after the first snapshot and every change): apply it in order. */
  private onDesired(peers: PeerSpec[], problems: MappingProblem[]): void {
    this.desired = peers;
    this.desiredProblems = problems;
    // The configured sessions are the peers our End-of-RIB waits for after a restart (not "whoever is up").
    this.reflector.setExpectedPeers(peers.map((p) => p.name));
    this.lastError = undefined;
    this.reconcileChain = this.reconcileChain
      .then(() => this.reconcile())
      .catch((err: unknown) => {
        this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'applying the datastore failed');
      })
      .finally(() => this.firstReconcileDone());
  }

  private async reconcile(): Promise<void> {
    const peers = this.desired;
    if (this.stopping || peers === undefined) return;
    const plan = planReconcile(this.sessions.running(), peers);
    const summary = applySummary(peers, this.desiredProblems);
    if (plan.start.length + plan.stop.length + plan.restart.length === 0) {
      this.log.info(summary.fields, summary.text);
      return;
    }
    for (const p of plan.start) this.log.info({ peer: p.name, address: p.neighborAddress, as: p.peerAs, keys: p.sourceKeys }, 'session added by the datastore');
    for (const p of plan.stop) this.log.info({ peer: p.name, address: p.neighborAddress, as: p.peerAs }, 'session removed by the datastore');
    for (const r of plan.restart) this.log.info({ peer: r.to.name, address: r.to.neighborAddress, as: r.to.peerAs }, 'session parameters changed: restarting it');
    await this.sessions.apply(plan);
    this.lastReconfiguration = this.clock();
    this.log.info(summary.fields, summary.text);
  }

  private firstReconcileDone: () => void = () => undefined;

  /** `birdc configure` and SIGHUP: apply the datastore as it is now; `check` only reports bad entries. */
  async configure(mode: 'apply' | 'check'): Promise<ConfigureResult> {
    // Warnings (entries used as they are) do not fail a check; skipped entries and bad resources do.
    const problems = desiredSessions(this.feed.current, this.mappingEnv).problems.filter((p) => p.kind !== 'warning');
    if (mode === 'check') {
      return problems.length === 0 ? { ok: true } : { ok: false, error: problems.map((p) => `${p.key}: ${p.reason}`).join('; ') };
    }
    this.feed.emit();
    await this.reconcileChain;
    this.lastReconfiguration = this.clock();
    return { ok: true };
  }

  /** Graceful shutdown: Cease with an RFC 8203 message to every peer, deregister, close every socket. */
  async stop(message = 'shutting down'): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.log.info({ message }, 'stopping route reflector');
    await this.sessions.stopAll(message);
    await this.listener.close();
    this.listening = false;
    try {
      await this.source.deregister?.();
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'deregistration failed');
    }
    await this.feed.stop();
    await Promise.all(this.controls.map((c) => c.stop()));
    await this.metrics?.close();
    this.reflector.close();
  }
}
