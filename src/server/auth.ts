import { unwatchFile, watchFile } from 'node:fs';
import type { Request, RequestHandler, Response } from 'express';
import { type ApiKeyLimits, ApiKeySet, readApiKeys } from '../core/api-keys.js';
import { messageOf } from '../core/errors.js';
import type { ServerContext } from './context.js';
import { HttpError } from './errors.js';
import { clientAddress } from './request-info.js';
import { DEFAULT_PUBLIC_ROUTES, isPublicRoute } from '../core/http-api/public-routes.js';

/**
 * Who is calling, as logs, metrics and limits see it: a key by its NAME (never the key), or, when the
 * server has no keys (or the route is public), the client's address.
 */
export type Client = { kind: 'key'; name: string; limits: ApiKeyLimits } | { kind: 'address'; address: string };

/** The keys a running server accepts; replaced whole when the key file changes. */
export class ApiKeyRing {
  constructor(public keys: ApiKeySet) {}
}

/** The client of a request (set by {@link authenticate}; the socket address when it did not run). */
export function clientOf(req: Request, res: Response): Client {
  return (res.locals.client as Client | undefined) ?? { kind: 'address', address: clientAddress(req) };
}

const CHALLENGE = 'Bearer realm="mlpipe"';

/** A presented key is at most this long; anything longer is no key of ours (ours are 47 characters). */
const MAX_KEY_LENGTH = 256;

function unauthorized(res: Response, message: string, invalidToken: boolean): HttpError {
  res.setHeader('WWW-Authenticate', invalidToken ? `${CHALLENGE}, error="invalid_token"` : CHALLENGE);
  return new HttpError(401, 'unauthorized', message);
}

/** The key a request presents (`Authorization: Bearer <key>` or `X-API-Key: <key>`), or why there is none. */
function presentedKey(req: Request): { key: string } | { problem: string } | undefined {
  const authorization = req.headers.authorization;
  const apiKey = req.headers['x-api-key'];
  let bearer: string | undefined;
  if (authorization !== undefined) {
    const m = /^Bearer[ ]+(\S+)[ ]*$/i.exec(authorization);
    if (!m) return { problem: 'the Authorization header must be "Bearer <key>"' };
    bearer = m[1];
  }
  if (Array.isArray(apiKey)) return { problem: 'send one X-API-Key header' };
  if (bearer !== undefined && apiKey !== undefined && bearer !== apiKey.trim()) return { problem: 'Authorization and X-API-Key carry different keys; send one' };
  const key = bearer ?? apiKey?.trim();
  if (key === undefined || key === '') return undefined;
  if (key.length > MAX_KEY_LENGTH) return { problem: 'the API key is not known' };
  return { key };
}

/**
 * The authentication middleware, in front of every router. Without keys it only records the client
 * address. With keys, a request to a non-public route needs a known key (`Authorization: Bearer <key>`
 * or `X-API-Key: <key>`), or is answered 401 `unauthorized` with `WWW-Authenticate: Bearer
 * realm="mlpipe"`; a known key is recorded by name (`res.locals.client`). No message ever quotes a
 * presented key.
 */
export function authenticate(ctx: ServerContext): RequestHandler {
  const ring = ctx.apiKeys;
  const publicRoutes = ctx.options.publicRoutes ?? DEFAULT_PUBLIC_ROUTES;
  return (req, res, next) => {
    if (!ring || isPublicRoute(req.path, publicRoutes)) {
      res.locals.client = { kind: 'address', address: clientAddress(req) } satisfies Client;
      next();
      return;
    }
    const presented = presentedKey(req);
    if (presented === undefined) throw unauthorized(res, 'this route needs an API key: send "Authorization: Bearer <key>" or "X-API-Key: <key>"', false);
    if ('problem' in presented) throw unauthorized(res, presented.problem, true);
    const entry = ring.keys.match(presented.key);
    if (!entry) throw unauthorized(res, 'the API key is not known (mistyped, or revoked)', true);
    res.locals.client = { kind: 'key', name: entry.name, limits: entry.limits } satisfies Client;
    next();
  };
}

/**
 * Reloads the key file into `ring` when it changes (polled every `intervalMs`: a rename over the
 * file, as `mlpipe keys` writes it, is seen too). A file that no longer reads or validates leaves the
 * old keys in force, with one log line. Returns a function that stops watching.
 */
export function watchApiKeyFile(file: string, ring: ApiKeyRing, log: (message: string) => void, intervalMs = 2000): () => void {
  let reloading = Promise.resolve();
  const listener = (now: { mtimeMs: number; size: number; ino: number }, before: { mtimeMs: number; size: number; ino: number }) => {
    if (now.mtimeMs === before.mtimeMs && now.size === before.size && now.ino === before.ino) return;
    reloading = reloading.then(async () => {
      try {
        const read = await readApiKeys(file);
        ring.keys = new ApiKeySet(read.keys);
        log(`api keys: reloaded ${file} (${read.keys.length} key${read.keys.length === 1 ? '' : 's'}: ${read.keys.map((k) => k.name).join(', ') || 'none'})`);
      } catch (err) {
        log(`api keys: ${messageOf(err)}; the keys read before stay in force`);
      }
    });
  };
  watchFile(file, { interval: intervalMs, persistent: false }, listener);
  return () => unwatchFile(file, listener);
}
