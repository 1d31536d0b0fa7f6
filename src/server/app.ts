import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { ServerContext } from './context.js';
import { HttpError, errorHandler } from './errors.js';
import { createLimits } from './limits.js';
import type { ServedModels } from './models.js';
import { type AppOptions, DEFAULT_APP_OPTIONS } from './options.js';
import { healthRoutes } from './routes/health.js';
import { streamRoutes } from './routes/stream.js';
import { v1Routes } from './routes/v1.js';
import { NO_TELEMETRY, type Telemetry } from './telemetry.js';


/** What {@link createApp} can be given besides settings. */
export interface AppParts {
  telemetry?: Telemetry;
}

/**
 * Builds the Express app for a set of served models: one {@link ServerContext}, then each protocol's
 * routes (routes/), then 404 and the one error handler. No side effects, no `listen`: the start file
 * owns the socket.
 */
export function createApp(models: ServedModels, options: Partial<AppOptions> = {}, parts: AppParts = {}): Express {
  const opts: AppOptions = { ...DEFAULT_APP_OPTIONS, ...options };
  const log = opts.log ?? (() => {});
  const ctx: ServerContext = { models, options: opts, log, telemetry: parts.telemetry ?? NO_TELEMETRY, limits: createLimits(opts, log) };
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // Never `true`: with IP-keyed limits a client could pick its own address via X-Forwarded-For.
  app.set('trust proxy', opts.trustProxy > 0 ? opts.trustProxy : false);

  // --workers: which worker answered (operators and tests tell the processes apart).
  if (opts.workerId !== undefined) app.use((_req, res, next) => void (res.setHeader('Mlpipe-Worker', String(opts.workerId)), next()));
  app.use(healthRoutes(ctx));
  app.use(v1Routes(ctx));
  app.use(streamRoutes(ctx));

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}`));
  });
  app.use(errorHandler(log));
  return app;
}
