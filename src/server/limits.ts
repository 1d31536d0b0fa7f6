import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Limits } from './context.js';
import { sendError } from './errors.js';
import type { AppOptions } from './options.js';

/**
 * The rate limits of the predict routes: requests per window per client address, one budget for
 * single-record routes and one for batch routes. Off (no handler) when a limit is 0.
 */
export function createLimits(opts: AppOptions, log: (message: string) => void): Limits {
  const windowMs = opts.windowMs ?? 60_000;
  const limiter = (limit: number, what: string): RequestHandler =>
    rateLimit({
      windowMs,
      limit,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      // With trust proxy off, X-Forwarded-For is ignored on purpose; the library would print a stack
      // trace to stderr the first time a client sends one. We log one plain line instead (below).
      validate: { xForwardedForHeader: false },
      handler: (_req, res) =>
        sendError(res, 429, 'rate_limited', `too many ${what} requests: the limit is ${limit} per ${Math.round(windowMs / 1000)} s per client; retry after the time in Retry-After`),
    });
  let warnedForwarded = false;
  const noteForwarded: RequestHandler = (req, _res, next) => {
    if (!warnedForwarded && opts.trustProxy === 0 && req.headers['x-forwarded-for'] !== undefined) {
      warnedForwarded = true;
      log('note: a request came with X-Forwarded-For but --trust-proxy is 0, so clients are told apart by socket address; behind a proxy, set --trust-proxy to its number of hops');
    }
    next();
  };
  const guard = (limit: number, what: string): RequestHandler[] => (limit > 0 ? [...(opts.trustProxy === 0 ? [noteForwarded] : []), limiter(limit, what)] : []);
  return { single: guard(opts.rateLimit, 'predict'), batch: guard(opts.batchRateLimit, 'batch') };
}
