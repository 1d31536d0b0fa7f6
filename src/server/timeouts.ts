/** The server's connection timeouts: a module of its own, so the CLI reads the defaults without loading the server. */

/**
 * Node's connection timeouts. `requestTimeout` bounds a whole request (head and body: a client that
 * dribbles its body a byte a second is answered 408 and closed); `headersTimeout` bounds the head;
 * `keepAliveTimeout` is how long an idle keep-alive connection is kept. Keep-alive must be shorter
 * than the header timeout, which may not exceed the request timeout. Behind a load balancer, keep-alive
 * must be LONGER than the balancer's idle timeout (AWS ALB: 60 s, nginx upstream: 60 s), or the
 * balancer may reuse a connection the server has just closed and answer its client 502: hence 65 s,
 * and the header timeout above it.
 */
export interface ServerTimeouts {
  requestTimeout: number;
  headersTimeout: number;
  keepAliveTimeout: number;
}

export const DEFAULT_TIMEOUTS: ServerTimeouts = { requestTimeout: 120_000, headersTimeout: 66_000, keepAliveTimeout: 65_000 };

/** Checks the order keep-alive < headers ≤ request; the message names the flags. */
export function timeoutProblem(t: ServerTimeouts): string | undefined {
  if (t.requestTimeout <= 0 || t.headersTimeout <= 0 || t.keepAliveTimeout <= 0) return 'every timeout must be above 0 ms';
  if (t.headersTimeout > t.requestTimeout) return `--headers-timeout (${t.headersTimeout} ms) must not be above --request-timeout (${t.requestTimeout} ms)`;
  if (t.keepAliveTimeout >= t.headersTimeout) return `--keep-alive-timeout (${t.keepAliveTimeout} ms) must be below --headers-timeout (${t.headersTimeout} ms); raise both behind a load balancer`;
  return undefined;
}
