import type { Request, RequestHandler, Response } from 'express';
import { type ErrorDetail, ValidationError } from '../core/errors.js';
import { MAX_REPORTED_ERRORS, invalid } from '../core/features/input-schema.js';
import type { Prediction, Predictor } from '../core/predictor/predictor.js';
import type { ServerContext } from './context.js';
import { HttpError } from './errors.js';
import { checkDeadline } from './overload.js';

/**
 * How every route predicts: it picks the model once ({@link modelFor}), so a request is answered by
 * one version from start to end even when a new one goes live meanwhile, then predicts through
 * {@link predictOne} or {@link predictBatch}, which report to telemetry and record on the response
 * which version answered (`res.locals.model`, read by logs and metrics).
 */

/** The model a request names (`:name`), or the default model; 404 naming the served ones. */
export function modelFor(ctx: ServerContext, name: string | undefined): Predictor {
  if (name === undefined) {
    const m = ctx.models.default;
    if (!m) throw new HttpError(404, 'not_found', 'no model is served');
    return m;
  }
  const m = ctx.models.get(name);
  if (!m) throw new HttpError(404, 'not_found', `no model named "${name}" (served: ${ctx.models.names().join(', ') || 'none'})`);
  return m;
}

/**
 * Records on the response which version answers it: `res.locals.model` for logs and metrics, and the
 * `Mlpipe-Model: name@version` header, so that every protocol's answers name the version.
 */
export function answeredBy(res: Response, model: Predictor): void {
  res.locals.model = { name: model.name, version: model.version };
  if (!res.headersSent) res.setHeader('Mlpipe-Model', model.ref);
}

/** 503 with Retry-After until the models are loaded, and again while draining. */
export function requireReady(ctx: ServerContext): RequestHandler {
  return (_req: Request, res: Response, next) => {
    if (!ctx.models.ready) {
      res.setHeader('Retry-After', '5');
      throw new HttpError(503, 'not_ready', 'the server is not ready (models loading or shutting down)');
    }
    next();
  };
}

/** One record → one prediction (ValidationError with JSON paths under `pathPrefix` when invalid). */
export function predictOne(ctx: ServerContext, res: Response, model: Predictor, record: unknown, pathPrefix = ''): Prediction {
  checkDeadline(res);
  answeredBy(res, model);
  const prediction = model.predictOne(record, pathPrefix);
  ctx.telemetry.predicted(model, [record], [prediction]);
  return prediction;
}

/** A batch is validated and predicted this many records at a time, with a turn of the event loop between. */
export const BATCH_SLICE_ROWS = 250;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Many records → their predictions in order, or one ValidationError listing the problems of all of
 * them (at most {@link MAX_REPORTED_ERRORS}, at `rowPath(i)`, by default `/records/<i>`). Predicted a
 * slice at a time, yielding between slices, so that single predictions sent during a 10,000-record
 * batch are answered between its slices, not after it; each slice predicts exactly as one
 * predictMany call would.
 */
export async function predictBatch(
  ctx: ServerContext,
  res: Response,
  model: Predictor,
  records: readonly unknown[],
  rowPath: (i: number) => string = (i) => `/records/${i}`,
): Promise<Prediction[]> {
  checkDeadline(res);
  answeredBy(res, model);
  const predictions = await predictInSlices(model, records, rowPath, res);
  ctx.telemetry.predicted(model, records, predictions);
  return predictions;
}

async function predictInSlices(model: Predictor, records: readonly unknown[], rowPath: (i: number) => string, res: Response): Promise<Prediction[]> {
  if (records.length <= BATCH_SLICE_ROWS) return model.predictMany(records, rowPath);
  const out: Prediction[] = [];
  const details: ErrorDetail[] = [];
  for (let start = 0; start < records.length && details.length < MAX_REPORTED_ERRORS; start += BATCH_SLICE_ROWS) {
    if (start > 0) {
      await yieldToEventLoop();
      // Past the request deadline the client has its 503: the rest of the batch is not predicted.
      checkDeadline(res);
    }
    try {
      const predictions = model.predictMany(records.slice(start, start + BATCH_SLICE_ROWS), (i) => rowPath(start + i));
      if (details.length === 0) for (const p of predictions) out.push(p);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      details.push(...err.details);
    }
  }
  if (details.length > 0) throw invalid(details.slice(0, MAX_REPORTED_ERRORS));
  return out;
}
