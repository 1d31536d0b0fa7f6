import type { Request, Response } from 'express';
import { type ErrorDetail, ValidationError, invalidInput } from '../../core/errors.js';
import type { InputColumn } from '../../core/features/types.js';
import { labelValues } from '../../core/models/task.js';
import type { Prediction, Predictor } from '../../core/predictor/predictor.js';
import type { ServerContext } from '../context.js';
import type { ErrorAnswer } from '../errors.js';
import { HttpError } from '../errors.js';
import { predictBatch } from '../predict.js';

/**
 * What the standard protocols (routes/v2.ts, routes/mlflow.ts) share: the model's input columns and
 * label type, a batch size check, predicting records whose values came from somewhere other than a
 * record (a tensor, a column list, a CSV cell) with each problem reported where the client put the
 * value, and the one-string error message their error bodies carry.
 */

/** The input columns a record of `model` may have, in the featurizer's order (the order positional rows use). */
export function inputColumns(model: Predictor): readonly InputColumn[] {
  return model.transformer.pipeline.inputs;
}

/** Columns a record must have a value for (the input schema's `required`, which old bundles fill differently). */
export function requiredColumns(model: Predictor): ReadonlySet<string> {
  const required = model.manifest.inputSchema.required;
  return new Set(Array.isArray(required) ? required.filter((r): r is string => typeof r === 'string') : []);
}

/** What a prediction's label is in JSON: the target's own values (`Yes`/`No` stay strings). */
export type LabelKind = 'string' | 'integer' | 'number' | 'boolean';

/** The JSON type of `model`'s predictions: numbers for regression, else the type of its class labels. */
export function labelKind(model: Predictor): LabelKind {
  if (model.forest.task === 'regression') return 'number';
  const values = labelValues(model.forest.classes, model.manifest.target.type);
  if (values.every((v) => typeof v === 'boolean')) return 'boolean';
  if (values.every((v) => typeof v === 'number')) return values.every((v) => Number.isInteger(v)) ? 'integer' : 'number';
  return 'string';
}

/** 413 when a request holds more records than `--max-batch-rows`. */
export function checkBatchSize(ctx: ServerContext, rows: number): void {
  if (rows > ctx.options.maxBatchRows) {
    throw new HttpError(413, 'payload_too_large', `the request has ${rows} rows; the limit is ${ctx.options.maxBatchRows} (--max-batch-rows)`);
  }
}

/** Decodes one JSON Pointer token (RFC 6901: `~1` is `/`, `~0` is `~`). */
function unescapeToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

/**
 * Charges `records` to the client's row budget (429 when they do not fit), then predicts them through
 * {@link predictBatch}, reporting each problem where the client put the
 * value: `where(row, column)` gives the location of record `row`'s value of `column` (or of the whole
 * record when `column` is undefined) in the request, e.g. `/inputs/2/data/7`. A problem inside a
 * nested value keeps its remaining path after that location.
 */
export async function predictAt(
  ctx: ServerContext,
  req: Request,
  res: Response,
  model: Predictor,
  records: readonly unknown[],
  where: (row: number, column: string | undefined) => string,
): Promise<Prediction[]> {
  await ctx.limits.chargeRows(req, res, records.length);
  try {
    return await predictBatch(ctx, res, model, records, (i) => `/${i}`);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    throw invalidInput(err.details.map((d) => relocate(d, where)));
  }
}

function relocate(detail: ErrorDetail, where: (row: number, column: string | undefined) => string): ErrorDetail {
  const m = /^\/(\d+)(?:\/([^/]*)(.*))?$/.exec(detail.path);
  if (!m) return detail;
  const row = Number(m[1]);
  if (m[2] === undefined) return { path: where(row, undefined), message: detail.message };
  return { path: `${where(row, unescapeToken(m[2]))}${m[3] ?? ''}`, message: detail.message };
}

/** At most this many problems are spelled out in a protocol's one-string error message. */
const PROBLEMS_IN_MESSAGE = 10;

/**
 * The one string a standard protocol's error body carries: the message, and for invalid input with
 * several problems each of them (`invalid input: /inputs/0/data/3 must be number, got "x"; …`), since
 * these bodies have no place for mlpipe's `details`.
 */
export function protocolMessage({ code, message, details }: ErrorAnswer): string {
  if (code !== 'invalid_input' || details.length < 2) return message;
  const listed = details.slice(0, PROBLEMS_IN_MESSAGE).map((d) => `${d.path || '(record)'} ${d.message}`);
  const more = details.length > PROBLEMS_IN_MESSAGE ? ` (and ${details.length - PROBLEMS_IN_MESSAGE} more)` : '';
  return `invalid input: ${listed.join('; ')}${more}`;
}

/** True for a JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A 400 invalid_input at one path (`''`: the whole body), its message `invalid input: <path> <message>`. */
export function badInput(path: string, message: string): HttpError {
  return new HttpError(400, 'invalid_input', `invalid input: ${path || 'the body'} ${message}`, [{ path, message }]);
}
