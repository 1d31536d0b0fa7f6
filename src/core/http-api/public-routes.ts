/** The routes answered without an API key: a module of its own, so the CLI reads the default without loading the server. */

/**
 * Routes answered without a key by default: liveness, readiness, metrics and the API's description,
 * of every protocol. A pattern is an exact path, or a prefix ending in `*`. Matching is exact and
 * case-sensitive: a near miss (`/HEALTHZ`, `/healthz/`) needs a key, never the other way round.
 */
export const DEFAULT_PUBLIC_ROUTES: readonly string[] = ['/healthz', '/readyz', '/metrics', '/v2/health/*', '/ping', '/health', '/version', '/openapi.json', '/docs'];

/** True when `path` is one of the public `patterns`. */
export function isPublicRoute(path: string, patterns: readonly string[]): boolean {
  for (const p of patterns) {
    if (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : path === p) return true;
  }
  return false;
}
