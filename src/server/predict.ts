import type { Request, RequestHandler, Response } from 'express';
import { MAX_REPORTED_ERRORS } from '../core/features/input-schema.js';
import { type FeaturizedRows, type ForestOutputs, type Prediction, type Predictor, type RowProblem, batchRefusal } from '../core/predictor/predictor.js';
import type { ServerContext } from './context.js';
import { HttpError } from './errors.js';
import { checkDeadline } from './overload.js';
import { predictFeaturizedOffLoop, predictValuesOffLoop } from './off-loop.js';

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

/** A batch is validated and featurized this many records at a time, with a turn of the event loop between. */
const BATCH_SLICE_ROWS = 250;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Many records → their predictions in order, or one ValidationError listing the problems of all of
 * them (at most {@link MAX_REPORTED_ERRORS}, at `rowPath(i)`, by default `/records/<i>`). Validated and
 * featurized a slice at a time, yielding between slices, and the forest's work done on worker
 * threads (off-loop.ts), so that `/healthz` and single predictions sent during a 10,000-record batch
 * are answered while it runs, not after it. Predictions are exactly those of one predictMany call.
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
  const featurized = await featurizeInSlices(model, records, rowPath, res);
  if (featurized.problems.length > 0) throw batchRefusal(featurized.problems);
  return predictFeaturizedOffLoop(model, featurized);
}

/**
 * {@link Predictor.featurizeRows} a slice at a time with a turn of the event loop between slices; the
 * slices' matrices joined into one. Stops featurizing good rows once {@link MAX_REPORTED_ERRORS}
 * problems are found (the batch is refused then), but keeps every problem found so far.
 */
async function featurizeInSlices(model: Predictor, records: readonly unknown[], rowPath: (i: number) => string, res: Response): Promise<FeaturizedRows> {
  const width = model.transformer.width;
  const matrix = new Float64Array(records.length * width);
  const rows: number[] = [];
  const problems: RowProblem[] = [];
  let details = 0;
  for (let start = 0; start < records.length && details < MAX_REPORTED_ERRORS; start += BATCH_SLICE_ROWS) {
    if (start > 0) {
      await yieldToEventLoop();
      // Past the request deadline the client has its 503: the rest of the batch is not featurized.
      checkDeadline(res);
    }
    const slice = model.featurizeRows(records.slice(start, start + BATCH_SLICE_ROWS), (i) => rowPath(start + i));
    matrix.set(slice.matrix, rows.length * width);
    for (const r of slice.rows) rows.push(start + r);
    for (const p of slice.problems) {
      problems.push({ index: start + p.index, details: p.details });
      details += p.details.length;
    }
  }
  return { matrix: rows.length === records.length ? matrix : matrix.slice(0, rows.length * width), rows, problems };
}

/** What {@link predictRows} made of a stream's records: which are good (featurized) and which bad (their problems), and the forest's outputs for the good ones. */
export interface PredictedRows {
  featurized: FeaturizedRows;
  outputs: ForestOutputs;
}

/**
 * Records of a stream → the forest's outputs for the good ones, and the problems of the bad ones (an
 * invalid or unreadable record, paths under `rowPath(i)`), never a failed request: the good ones are
 * featurized together and predicted (the forest's work off the event loop when big, off-loop.ts).
 * `flat`: no record holds an object or array value (a table reader's rows), see
 * {@link Predictor.featurizeRows}. Reports the good ones to telemetry (their labels, without
 * probabilities: telemetry counts labels) and records on the response which version answers.
 */
export async function predictRows(
  ctx: ServerContext,
  res: Response,
  model: Predictor,
  records: readonly unknown[],
  { rowPath = () => '', flat = false }: { rowPath?: (i: number) => string; flat?: boolean } = {},
): Promise<PredictedRows> {
  answeredBy(res, model);
  const featurized = model.featurizeRows(records, rowPath, { flat });
  const outputs = await predictValuesOffLoop(model, featurized);
  const n = outputs.values.length;
  if (n > 0) {
    const good = featurized.rows.length === records.length ? records : featurized.rows.map((r) => records[r]);
    ctx.telemetry.predicted(model, good, labelsOnly(model, outputs.values));
  }
  return { featurized, outputs };
}

/** Predictions without probabilities, one object per class shared by its rows (regression: one per row). */
function labelsOnly(model: Predictor, values: Float64Array): Prediction[] {
  if (model.forest.task === 'regression') return Array.from(values, (v) => ({ prediction: v }));
  const byClass = model.forest.classes.map((_, c) => ({ prediction: model.labelOf(c) }));
  return Array.from(values, (v) => byClass[v] as Prediction);
}
