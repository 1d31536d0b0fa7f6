import type { Prediction, Predictor } from '../core/predictor/predictor.js';

/**
 * What the server tells its observers (metrics, drift) about the work it does. Routes never talk to
 * prom-client or a logger directly: they report here, and {@link NO_TELEMETRY} is the default.
 * Request counts, latencies and rejections are not reported here: they are read off each response
 * (its status, `res.locals.model` and `res.locals.errorCode`, see errors.ts and predict.ts). The error
 * codes of rejections: `rate_limited` (429), `unauthorized` (401), `invalid_input` / `invalid_json`
 * (400, validation), `overloaded` (503, over --max-inflight), `timeout` (503, over the request
 * deadline), `limits_unavailable` (503, the shared limit store is down and --redis-failure closed), `payload_too_large` (413), `unsupported_media_type` (415), `not_found`, `method_not_allowed`.
 */
export interface Telemetry {
  /** `model` answered `records` (as the client sent them) with `predictions` (same order). */
  predicted(model: Predictor, records: readonly unknown[], predictions: readonly Prediction[]): void;
  /** A model version was loaded and verified in `seconds` and is now served under `name`. */
  modelLoaded(model: Predictor, seconds: number): void;
  /** Loading a new version of `name` failed; the old one (if any) keeps serving. */
  modelLoadFailed(name: string, reason: string): void;
  /** The shared rate-limit store (Redis) failed; `failedOpen`: the request was let through. */
  limitStoreError(reason: string, failedOpen: boolean): void;
}

export const NO_TELEMETRY: Telemetry = {
  predicted: () => {},
  modelLoaded: () => {},
  modelLoadFailed: () => {},
  limitStoreError: () => {},
};
