import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import { type ApiKeyRing, authenticate } from './auth.js';
import type { FollowStatus, ServerContext } from './context.js';
import { HttpError, errorHandler, useErrorFormat } from './errors.js';
import { limitBackend } from './limit-stores.js';
import { createLimits } from './limits.js';
import { logFunction, requestLogger } from './logging.js';
import { ServerMetrics, allTelemetry } from './metrics.js';
import type { ServedModels } from './models.js';
import { type AppOptions, DEFAULT_APP_OPTIONS } from './options.js';
import { observeRequests } from './request-info.js';
import { driftRoutes } from './routes/drift.js';
import { docsRoutes } from './routes/docs.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { MLFLOW_ERROR_FORMAT, MLFLOW_PATHS, mlflowRoutes } from './routes/mlflow.js';
import { streamRoutes } from './routes/stream.js';
import { v1Routes } from './routes/v1.js';
import { V2_ERROR_FORMAT, v2Routes } from './routes/v2.js';
import type { Telemetry } from './telemetry.js';
import type { Logger } from 'pino';


/** What {@link createApp} can be given besides settings. */
export interface AppParts {
  /** More observers of predictions and loads, besides {@link metrics}. */
  telemetry?: Telemetry;
  /**
   * The server's metrics (`GET /metrics`, drift): startServer passes its own; without, the app makes
   * one (a registry of its own, without the process metrics).
   */
  metrics?: ServerMetrics;
  /** Request logs (one line per request) and, when `options.log` is not given, server messages. */
  logger?: Logger;
  /** The follower of references that can move (start.ts): `/v1/models/:name` shows its state. */
  follow?: FollowStatus;
  /** The API keys to require (`--api-keys`); none: no authentication, clients are told apart by address. */
  apiKeys?: ApiKeyRing;
  /** A Redis client (ioredis, lazyConnect, no offline queue) that keeps the limits shared by every replica. */
  redis?: Redis;
}

/**
 * Builds the Express app for a set of served models: one {@link ServerContext}, then each protocol's
 * routes (routes/), then 404 and the one error handler. No side effects, no `listen`: the start file
 * owns the socket.
 */
export function createApp(models: ServedModels, options: Partial<AppOptions> = {}, parts: AppParts = {}): Express {
  const opts: AppOptions = { ...DEFAULT_APP_OPTIONS, ...options };
  const log = opts.log ?? (parts.logger ? logFunction(parts.logger) : () => {});
  const metrics = parts.metrics ?? new ServerMetrics({ processMetrics: false });
  const telemetry = parts.telemetry ? allTelemetry(metrics, parts.telemetry) : metrics;
  const backend = limitBackend({ redis: parts.redis, redisPrefix: opts.redisPrefix ?? 'mlpipe:', redisFailure: opts.redisFailure ?? 'open', redisWhere: opts.redisWhere, log, telemetry });
  const ctx: ServerContext = {
    models,
    options: opts,
    log,
    telemetry,
    limits: createLimits(opts, log, backend, parts.apiKeys !== undefined),
    apiKeys: parts.apiKeys,
    ...(parts.follow ? { follow: parts.follow } : {}),
  };
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // Never `true`: with IP-keyed limits a client could pick its own address via X-Forwarded-For.
  app.set('trust proxy', opts.trustProxy > 0 ? opts.trustProxy : false);

  // First: every request gets its id, and is counted, timed and logged when answered.
  app.use(observeRequests([metrics.observeRequest, ...(parts.logger ? [requestLogger(parts.logger)] : [])]));
  // --workers: which worker answered (operators and tests tell the processes apart).
  if (opts.workerId !== undefined) app.use((_req, res, next) => void (res.setHeader('Mlpipe-Worker', String(opts.workerId)), next()));
  // The standard protocols answer every error in their own form, also the ones raised before their
  // routers (a missing API key, an unknown path under /v2).
  app.use('/v2', useErrorFormat(V2_ERROR_FORMAT));
  app.use(MLFLOW_PATHS, useErrorFormat(MLFLOW_ERROR_FORMAT));
  app.use(authenticate(ctx));
  // The predict routes first: every router is walked layer by layer until one matches, and their
  // paths do not overlap, so the order only decides what a prediction passes by.
  app.use(v1Routes(ctx));
  app.use(healthRoutes(ctx));
  app.use(metricsRoutes(metrics, opts.workerId !== undefined));
  app.use(driftRoutes(ctx, metrics));
  app.use(v2Routes(ctx));
  app.use(mlflowRoutes(ctx));
  app.use(docsRoutes(ctx));
  app.use(streamRoutes(ctx));

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}`));
  });
  app.use(errorHandler(log));
  return app;
}
