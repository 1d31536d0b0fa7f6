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
};
