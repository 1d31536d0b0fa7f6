/** The server's settings: a module of its own so that every part of the server reads one definition. */

/** Server limits and settings (all have defaults; see DESIGN.md's `serve`). */
export interface AppOptions {
  /** Requests per minute per client on single-record predict routes; 0 turns the limit off. */
  rateLimit: number;
  /** Requests per minute per client on batch routes; 0 turns the limit off. */
  batchRateLimit: number;
  /** Most records accepted in one batch. */
  maxBatchRows: number;
  /** Largest request body, as a byte count or a size like `10mb`. */
  bodyLimit: string | number;
  /**
   * The most fields (keys) one record, or any object in a request body, may have, and the most distinct
   * field names one request may use; checked on the raw bytes before parsing. Default: the larger of
   * 1,000 and 10 × the model's input fields.
   */
  maxFields?: number;
  /** Proxy hops to trust for the client address (`X-Forwarded-For`); 0 = none, the socket address is used. */
  trustProxy: number;
  /** Records per minute per client on batch and stream routes (an API key's own limit overrides it); 0 turns it off. */
  rowsPerMinute: number;
  /** Most predict requests in progress at once; past it 503 `overloaded`; 0 = no cap. */
  maxInflight: number;
  /** A predict request not answered within this many ms gets 503 `timeout`; 0 = no deadline. */
  requestDeadlineMs: number;
  /**
   * Routes answered without an API key when keys are on: exact paths or prefixes ending in `*`
   * (default: health, readiness, metrics and API descriptions, see auth.ts); `[]` = every route needs a key.
   */
  publicRoutes?: readonly string[];
  /** Prefix of every key the limits write to Redis (`--redis-prefix`). */
  redisPrefix?: string;
  /** When the shared limit store (Redis) fails: `open` lets requests through, `closed` answers 503. */
  redisFailure?: 'open' | 'closed';
  /** How Redis is named in log lines (host and port, never a password). */
  redisWhere?: string;
  /** Rate-limit window in milliseconds (default one minute). */
  windowMs?: number;
  /**
   * How long a streaming prediction (`/predict/stream`) waits for a client that has stopped reading
   * its answer before closing the connection (ms; default 30,000).
   */
  streamStallTimeoutMs?: number;
  /** In a `--workers` cluster, this worker's id: sent in an `Mlpipe-Worker` header on every answer. */
  workerId?: number;
  /** Where server-side problems are reported (never the client). */
  log?: (message: string) => void;
}

/** Default of `streamStallTimeoutMs` (`--stream-stall-timeout`). */
export const DEFAULT_STREAM_STALL_MS = 30_000;

export const DEFAULT_APP_OPTIONS: AppOptions = {
  rateLimit: 600,
  batchRateLimit: 60,
  maxBatchRows: 10_000,
  bodyLimit: '10mb',
  trustProxy: 0,
  // As many rows as the default batch limits allow (60 batches of 10,000): the defaults refuse nothing
  // they accepted before, and bound the stream route; set it per key for tighter budgets.
  rowsPerMinute: 600_000,
  maxInflight: 256,
  requestDeadlineMs: 30_000,
};

/**
 * How often a served reference without a fixed version (`name`, `name@production`) is checked for a
 * new version by default (ms): `--poll-interval`, `MLPIPE_POLL_INTERVAL`; see follow.ts.
 */
export const DEFAULT_POLL_INTERVAL_MS = 10_000;
