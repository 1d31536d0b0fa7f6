import type { Request, RequestHandler, Response } from 'express';
import type { ApiKeyRing } from './auth.js';
import type { FollowState } from './follow.js';
import type { ServedModels } from './models.js';
import type { AppOptions } from './options.js';
import type { Telemetry } from './telemetry.js';

/** The throttles in front of predict routes (see limits.ts). */
export interface Limits {
  /** Handlers in front of a single-record route, before its body is read. */
  single: RequestHandler[];
  /** Handlers in front of a batch route (many records in one request), before its body is read. */
  batch: RequestHandler[];
  /**
   * Handlers in front of a streaming route: the concurrency cap and the batch request budget, but no
   * request deadline (a stream may rightly outlast it; its rows are charged chunk by chunk instead).
   */
  stream: RequestHandler[];
  /**
   * Charges `rows` records to the client's row budget (`--rows-per-minute`, or its API key's own), once
   * a route knows how many records a request holds (after parsing, before predicting). Throws
   * HttpError 429 `rate_limited` (Retry-After set) when they do not all fit, taking none of them; 503
   * `limits_unavailable` when the shared store is down and `--redis-failure closed`.
   */
  chargeRows(req: Request, res: Response, rows: number): Promise<void>;
}

/** Which served names follow a reference that can move, and how that goes (follow.ts). */
export interface FollowStatus {
  state(name: string): FollowState | undefined;
}

/** What every router of the server is built from: one object, made once by {@link createApp}. */
export interface ServerContext {
  models: ServedModels;
  options: AppOptions;
  log: (message: string) => void;
  telemetry: Telemetry;
  limits: Limits;
  /** Present when the server follows references that can move (`name`, `name@production`). */
  follow?: FollowStatus;
  /** The API keys required (`--api-keys`), or undefined when the server has none (no authentication). */
  apiKeys?: ApiKeyRing;
}
