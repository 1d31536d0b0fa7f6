import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';

/**
 * What every answered request looked like, gathered once when its response is done, for the
 * observers (metrics, the request log) mounted by {@link observeRequests}.
 */
export interface RequestInfo {
  /** `X-Request-Id`: the client's when it is a sane token, else a generated UUID. */
  requestId: string;
  method: string;
  /**
   * The Express route PATTERN that answered (`/v1/models/:name/predict`), never the raw URL, so that
   * label values stay bounded; `unmatched` when no route matched (a 404).
   */
  route: string;
  /** The model and version that answered (`res.locals.model`, set by predict.ts); '' when none. */
  model: string;
  version: string;
  /** The status sent, or 499 when the client closed the connection before the answer was complete (nginx's convention). */
  status: number;
  /** From the request's arrival at the app to its response being done. */
  seconds: number;
  /** `res.locals.errorCode` (see errors.ts): why a request was refused. */
  errorCode?: string;
}

/** Called once per request, when its response has finished or its connection closed. */
export type RequestObserver = (req: Request, res: Response, info: RequestInfo) => void;

/** `route` of a request that no route matched. */
const UNMATCHED_ROUTE = 'unmatched';

/** A client's `X-Request-Id` is kept when it is 1–128 of these characters; anything else is replaced. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@+=-]{1,128}$/;

/** The request's id: the client's `X-Request-Id` when sane, else a new UUID. */
function requestIdOf(req: Request): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * The pattern of the route that answered a request (`/v1/models/:name/predict`), read when its
 * response is done: Express leaves the last route that matched in `req.route`. Every router of the
 * app is mounted at the root (app.ts), so a route's path is its whole pattern; a router mounted at a
 * path would need its mount path added here.
 */
function routePattern(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  // A route given several paths (['/v2', '/v2/']) is named by all of them, comma-separated.
  return path === undefined || path === null ? UNMATCHED_ROUTE : String(path);
}

/**
 * The first middleware of the app: gives each request its id (`X-Request-Id`, returned on every
 * answer) and, when its response is done (finish, or close first), calls each observer once with the
 * request's {@link RequestInfo}.
 */
export function observeRequests(observers: readonly RequestObserver[]): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    const requestId = requestIdOf(req);
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      res.off('finish', finish);
      res.off('close', finish);
      const m = res.locals.model as { name?: unknown; version?: unknown } | undefined;
      const info: RequestInfo = {
        requestId,
        method: req.method,
        route: routePattern(req),
        model: typeof m?.name === 'string' ? m.name : '',
        version: typeof m?.version === 'string' ? m.version : '',
        status: res.writableFinished ? res.statusCode : 499,
        seconds: Number(process.hrtime.bigint() - start) / 1e9,
        ...(typeof res.locals.errorCode === 'string' ? { errorCode: res.locals.errorCode } : {}),
      };
      for (const observe of observers) observe(req, res, info);
    };
    res.on('finish', finish);
    res.on('close', finish);
    next();
  };
}

/**
 * The client's address, as `req.ip` gives it, without the cost of `req.ip` when no proxy is
 * trusted (then it is the socket's address: X-Forwarded-For is not read).
 */
export function clientAddress(req: Request): string {
  if (req.app.get('trust proxy') === false) return req.socket.remoteAddress ?? 'unknown';
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}
