import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { checkGolden } from '../core/bundle/golden.js';
import { customKindsUsed, loadPredictor } from '../core/predictor/from-bundle.js';
import type { Predictor } from '../core/predictor/predictor.js';
import { ServedModels } from './models.js';
import type { TrustedKey } from '../core/bundle/signature.js';
import { MlpipeError } from '../core/errors.js';
import { type CustomModuleSpec, checkModulesUsed } from '../core/features/custom.js';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import { logFunction } from './logging.js';
import { ServerMetrics, allTelemetry } from './metrics.js';
import { shareMetrics } from './cluster-metrics.js';
import { ModelFollower } from './follow.js';
import type { Telemetry } from './telemetry.js';
import { type AppOptions, DEFAULT_POLL_INTERVAL_MS } from './options.js';
import { ApiKeySet, readApiKeys } from '../core/api-keys.js';
import { ApiKeyRing, watchApiKeyFile } from './auth.js';
import { connectRedis } from './redis.js';
import { DEFAULT_TIMEOUTS, type ServerTimeouts, timeoutProblem } from './timeouts.js';

/** Options of {@link startServer}. */
export interface StartOptions extends Partial<AppOptions> {
  /** Bundle references to serve (first = default model). */
  refs: string[];
  artifacts: string;
  port: number;
  host: string;
  /** How long a shutdown waits for in-flight requests before closing their connections (ms). */
  shutdownTimeoutMs?: number;
  log?: (message: string) => void;
  /**
   * Custom featurizer modules (`--featurizer-module name=path`), for every bundle that uses the kind;
   * one that no bundle uses is refused (a misspelt name).
   */
  featurizers?: readonly CustomModuleSpec[];
  /**
   * Public keys one of which must have signed every bundle (`--require-signature`): a bundle that is
   * unsigned, signed by another key or changed after signing stops the start, before listening.
   */
  requireSignature?: readonly TrustedKey[];
  /** Connection timeouts (ms); see {@link DEFAULT_TIMEOUTS}. */
  timeouts?: Partial<ServerTimeouts>;
  /** Request logs and server messages (see logging.ts); `log`, when given, takes the messages instead. */
  logger?: Logger;
  /** The server's metrics; made here (with the process metrics) when not given. */
  metrics?: ServerMetrics;
  /**
   * How often references without a fixed version (`name`, `name@production`) are checked for a new
   * version (ms; a folder store is also watched); 0 = never: serve what was loaded at start.
   * Default {@link DEFAULT_POLL_INTERVAL_MS}. See follow.ts.
   */
  pollIntervalMs?: number;
  /** Observers of the server's work (metrics); also told of every version followed in or refused. */
  telemetry?: Telemetry;
  /** The API key file (`--api-keys`): read before listening, then reloaded when it changes. */
  apiKeysFile?: string;
  /** How often the key file is checked for changes (ms; default 2000). */
  apiKeysReloadMs?: number;
  /** `redis://…` (`--redis`): the limits are kept in Redis, shared by every replica. */
  redisUrl?: string;
}


/** A running server. */
export interface RunningServer {
  server: Server;
  registry: ServedModels;
  /** What `GET /metrics` shows; report to it as {@link Telemetry} (e.g. `modelLoaded` after a hot swap). */
  metrics: ServerMetrics;
  /** Follows the references that can move (see follow.ts); stopped by {@link close}. */
  follower: ModelFollower;
  /** `http://host:port` */
  url: string;
  /** Stops accepting connections, lets in-flight requests finish (up to the timeout), then resolves. */
  close(): Promise<void>;
}

/**
 * Loads and verifies every bundle and predicts its golden records again, then listens. A bundle that
 * fails verification, or whose golden records predict differently, rejects the promise (naming the
 * file, and the record and field) before any socket is opened.
 */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const log = options.log ?? (options.logger ? logFunction(options.logger) : () => {});
  const metrics = options.metrics ?? new ServerMetrics();
  // A worker of `serve --workers N`: the primary gathers this registry with the others' for /metrics.
  if (options.workerId !== undefined) shareMetrics(metrics.registry);
  // Metrics, and whatever else the caller observes with: told of every load, at start and on each swap.
  const telemetry: Telemetry = options.telemetry ? allTelemetry(metrics, options.telemetry) : metrics;
  const registry = new ServedModels();
  const loadSeconds = new Map<Predictor, number>();
  for (const ref of options.refs) {
    const started = performance.now();
    const model = await loadPredictor(ref, options.artifacts, { featurizers: options.featurizers, ...(options.requireSignature ? { requireSignature: options.requireSignature } : {}) });
    // The skew gate: the golden records predict exactly as when the bundle was packaged, or no socket opens.
    await checkGolden(model);
    registry.add(model);
    loadSeconds.set(model, (performance.now() - started) / 1000);
  }
  const follower = new ModelFollower(registry, options.refs, {
    artifacts: options.artifacts,
    pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    featurizers: options.featurizers,
    ...(options.requireSignature ? { requireSignature: options.requireSignature } : {}),
    log,
    telemetry,
  });
  const served = registry.list().map((m) => m.ref).join(', ');
  // A module no served version uses may be meant for the next version of a followed reference: kept
  // then (with a note), unless its name is a near miss of a kind in use (a misspelling).
  const kept = checkModulesUsed(options.featurizers ?? [], customKindsUsed(registry.list()), served, { keepUnused: follower.refs.length > 0 });
  for (const problem of kept) log(`note: ${problem}; kept for new versions of ${follower.refs.join(', ')}`);
  const timeouts: ServerTimeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const problem = timeoutProblem(timeouts);
  if (problem) throw new MlpipeError('usage', problem);
  // Keys before Redis and the socket: a bad key file stops the start with one line naming it.
  const apiKeys = options.apiKeysFile ? new ApiKeyRing(new ApiKeySet((await readApiKeys(options.apiKeysFile)).keys)) : undefined;
  const redis = options.redisUrl ? await connectRedis(options.redisUrl, options.redisFailure ?? 'open', log) : undefined;
  const app = createApp(registry, { ...options, log, ...(redis ? { redisWhere: redis.where } : {}) }, {
    metrics,
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    follow: follower,
    apiKeys,
    redis: redis?.client,
  });
  const stopWatching = options.apiKeysFile && apiKeys ? watchApiKeyFile(options.apiKeysFile, apiKeys, log, options.apiKeysReloadMs) : () => {};

  // Drain state: requests being answered, and whether a shutdown has begun.
  const open = new Set<ServerResponse>();
  let draining = false;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (draining) {
      refuseWhileDraining(req, res);
      return;
    }
    open.add(res);
    res.once('close', () => {
      open.delete(res);
      if (draining && open.size === 0) closeIdle();
    });
    app(req, res);
  };
  const server = createServer(
    {
      requestTimeout: timeouts.requestTimeout,
      headersTimeout: timeouts.headersTimeout,
      keepAliveTimeout: timeouts.keepAliveTimeout,
      // requestTimeout and headersTimeout are only checked this often (Node's default: 30 s).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeouts.headersTimeout / 4))),
    },
    onRequest,
  );
  server.on('connect', refuseConnect);
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error) => {
      // Nothing may keep the process alive after a failed start.
      stopWatching();
      redis?.client.disconnect();
      reject(err);
    };
    server.once('error', failed);
    server.listen(options.port, options.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  registry.ready = true;
  for (const [model, seconds] of loadSeconds) telemetry.modelLoaded(model, seconds);
  await follower.start();
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let idleTimer: NodeJS.Timeout | undefined;
  /** Idle keep-alive connections are closed once nothing is in flight (a moment later, for clients already sending). */
  const closeIdle = () => {
    if (idleTimer) return;
    idleTimer = setTimeout(() => server.closeIdleConnections(), DRAIN_IDLE_GRACE_MS);
    idleTimer.unref();
  };
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      const followerStopped = follower.stop();
      registry.ready = false;
      draining = true;
      // Every answer still to be sent closes its connection, so no client reuses it.
      for (const res of open) if (!res.headersSent) res.setHeader('Connection', 'close');
      const timer = setTimeout(() => {
        log(`shutdown: in-flight requests did not finish within ${options.shutdownTimeoutMs ?? 10_000} ms; closing their connections`);
        server.closeAllConnections();
      }, options.shutdownTimeoutMs ?? 10_000);
      timer.unref();
      // http.Server#close would close idle keep-alive connections at once: a client that reuses one
      // at that moment gets ECONNRESET. They stay open while requests are in flight, and a request
      // that arrives on one is answered 503 not_ready with Connection: close (refuseWhileDraining).
      const closeIdleNow = server.closeIdleConnections;
      server.closeIdleConnections = () => {};
      server.close(() => {
        clearTimeout(timer);
        if (idleTimer) clearTimeout(idleTimer);
        stopWatching();
        redis?.client.disconnect();
        followerStopped.then(resolve, resolve);
      });
      server.closeIdleConnections = closeIdleNow;
      if (open.size === 0) closeIdle();
    }));
  return { server, registry, metrics, follower, url: `http://${host}:${address.port}`, close };
}

export { createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './logging.js';

/** How long idle connections stay open after the last in-flight request of a drain is answered. */
const DRAIN_IDLE_GRACE_MS = 250;

/** A request that arrived during a drain: 503 not_ready, and the connection closes. Its body is read first, so the close is clean. */
function refuseWhileDraining(req: IncomingMessage, res: ServerResponse): void {
  const body = JSON.stringify({ error: { code: 'not_ready', message: 'the server is shutting down; retry on a new connection', details: [] } });
  const answer = () => {
    if (res.headersSent) return;
    res.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Retry-After': '5', Connection: 'close' });
    res.end(body);
  };
  req.on('error', () => {});
  req.once('end', answer);
  req.resume();
  // A body that never ends: answer anyway after a moment.
  setTimeout(answer, 1000).unref();
}

/** A raw JSON error answer on a socket that Express never sees, closing the connection. */
function rawError(socket: Duplex, status: number, reason: string, code: string, message: string, extra = ''): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message, details: [] } });
  // Destroyed once the answer is flushed: such a socket is out of the server's connection tracking
  // (a CONNECT's is handed over paused), so nothing else would ever close it and server.close() would
  // wait for it forever.
  socket.resume();
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`, () => socket.destroy());
}

/** CONNECT (a proxy tunnel) goes to Node's 'connect' event, not to the app; without a listener the socket is dropped unanswered. */
function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  rawError(socket, 405, 'Method Not Allowed', 'method_not_allowed', 'CONNECT is not supported: mlpipe serve is not a proxy', 'Allow: GET, HEAD, POST\r\n');
}

/**
 * A request Node's parser refused (malformed head, header too large, a request timeout): the same
 * statuses as Node's own handler, with mlpipe's JSON error body instead of none.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') rawError(socket, 431, 'Request Header Fields Too Large', 'headers_too_large', 'the request head is too large (16 KB at most)');
  else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') rawError(socket, 408, 'Request Timeout', 'request_timeout', 'the request did not arrive within the request timeout (--request-timeout / --headers-timeout)');
  else rawError(socket, 400, 'Bad Request', 'bad_request', `malformed HTTP request (${err.code ?? 'parse error'})`);
}

/**
 * Resolves with the signal's name once SIGTERM or SIGINT has been received and the server has
 * drained (in-flight requests answered, or the shutdown timeout reached).
 */
export function closeOnSignals(running: RunningServer, log: (message: string) => void = () => {}): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      log(`${signal}: draining in-flight requests, then exiting`);
      running.close().then(() => resolve(signal), () => resolve(signal));
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}
