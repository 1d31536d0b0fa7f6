import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { ApiKeyLimits } from '../core/api-keys.js';
import { clientOf } from './auth.js';
import type { Limits } from './context.js';
import { HttpError, sendError } from './errors.js';
import { LIMITS_UNAVAILABLE, type LimitBackend } from './limit-stores.js';
import type { AppOptions } from './options.js';
import { inflightCap, requestDeadline } from './overload.js';

/** The key a client's counts are kept under: its API key's name, or its address. */
function limitKey(req: Request, res: Response): string {
  const client = clientOf(req, res);
  return client.kind === 'key' ? `key:${client.name}` : `ip:${ipKeyGenerator(client.address)}`;
}

/** A client's own limit (its API key's), else the server's. */
function limitOf(res: Response, name: keyof ApiKeyLimits, serverDefault: number): number {
  const client = res.locals.client as { kind: string; limits?: ApiKeyLimits } | undefined;
  return client?.kind === 'key' ? (client.limits?.[name] ?? serverDefault) : serverDefault;
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * The throttles of the predict routes, per client (API key name, or address when keys are off):
 * requests per window (express-rate-limit; one budget for single-record routes, one for batch and
 * stream routes), rows per window on batch and stream routes ({@link Limits.chargeRows}), the
 * concurrency cap and the request deadline. A key's own limits override the server's defaults; 0 is
 * no limit. The counts live in `backend` (memory, the cluster primary, or Redis).
 */
export function createLimits(opts: AppOptions, log: (message: string) => void, backend: LimitBackend, keysOn: boolean): Limits {
  const windowMs = opts.windowMs ?? 60_000;
  const health = backend.health;
  const limiter = (name: 'rateLimit' | 'batchRateLimit', what: string, storeName: string): RequestHandler => {
    const store = backend.requestStore(storeName);
    const limit = (_req: Request, res: Response) => limitOf(res, name, opts[name]);
    const handler = rateLimit({
      windowMs,
      limit,
      skip: (req, res) => limit(req, res) === 0,
      keyGenerator: limitKey,
      ...(store ? { store } : {}),
      // A failing shared store is reported by the store (limit-stores.ts): once a outage in the log.
      passOnStoreError: health?.failure !== 'closed',
      logger: { error: () => {}, warn: (w: unknown) => log(`limits: ${String((w as Error)?.message ?? w)}`) },
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      // With trust proxy off, X-Forwarded-For is ignored on purpose; the library would print a stack
      // trace to stderr the first time a client sends one. We log one plain line instead (below).
      validate: { xForwardedForHeader: false },
      handler: (req, res) => {
        const used = (req as Request & { rateLimit?: { limit: number } }).rateLimit?.limit ?? opts[name];
        sendError(res, 429, 'rate_limited', `too many ${what} requests: the limit is ${used} per ${Math.round(windowMs / 1000)} s per client; retry after the time in Retry-After`);
      },
    });
    // Closed on a failing store: the store's 503 gets its Retry-After here.
    return (req, res, next: NextFunction) =>
      handler(req, res, (err?: unknown) => {
        // A stream charges its rows after its answer has begun: no header can be set then.
      if (err instanceof HttpError && err.code === LIMITS_UNAVAILABLE && !res.headersSent) res.setHeader('Retry-After', '5');
        next(err);
      });
  };
  let warnedForwarded = false;
  const noteForwarded: RequestHandler = (req, _res, next) => {
    if (!warnedForwarded && opts.trustProxy === 0 && req.headers['x-forwarded-for'] !== undefined) {
      warnedForwarded = true;
      log('note: a request came with X-Forwarded-For but --trust-proxy is 0, so clients are told apart by socket address; behind a proxy, set --trust-proxy to its number of hops');
    }
    next();
  };
  // Without keys a limit of 0 needs no handler at all; with keys, a key may have a limit of its own.
  const guard = (name: 'rateLimit' | 'batchRateLimit', what: string, storeName: string): RequestHandler[] =>
    opts[name] > 0 || keysOn ? [...(opts.trustProxy === 0 ? [noteForwarded] : []), limiter(name, what, storeName)] : [];
  const cap = opts.maxInflight > 0 ? [inflightCap(opts.maxInflight)] : [];
  const deadline = opts.requestDeadlineMs > 0 ? [requestDeadline(opts.requestDeadlineMs)] : [];
  const batchRequests = guard('batchRateLimit', 'batch', 'batch');

  const chargeRows = async (req: Request, res: Response, rows: number): Promise<void> => {
    const limit = limitOf(res, 'rowsPerMinute', opts.rowsPerMinute);
    if (limit === 0 || rows <= 0) return;
    let result;
    try {
      result = await backend.rows.take(limitKey(req, res), rows, limit, windowMs);
    } catch (err) {
      // A stream charges its rows after its answer has begun: no header can be set then.
      if (err instanceof HttpError && err.code === LIMITS_UNAVAILABLE && !res.headersSent) res.setHeader('Retry-After', '5');
      throw err;
    }
    if (result.taken) return;
    if (!res.headersSent) res.setHeader('Retry-After', String(seconds(result.resetMs)));
    throw new HttpError(
      429,
      'rate_limited',
      rows > limit
        ? `this request has ${rows} records, more than the ${limit} records per ${Math.round(windowMs / 1000)} s this client may send (--rows-per-minute); send it in smaller batches`
        : `too many records: this request has ${rows}, and ${limit - result.used} of this client's ${limit} records per ${Math.round(windowMs / 1000)} s are left (--rows-per-minute); retry after the time in Retry-After`,
    );
  };

  return {
    single: [...cap, ...guard('rateLimit', 'predict', 'single'), ...deadline],
    batch: [...cap, ...batchRequests, ...deadline],
    stream: [...cap, ...batchRequests],
    chargeRows,
  };
}
