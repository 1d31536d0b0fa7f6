import { invalidInput } from '../../core/errors.js';
import express, { type Request, type RequestHandler, type Response, Router } from 'express';
import { CsvParser } from '../../core/data/sources/csv-parser.js';
import { dict } from '../../core/records/dict.js';
import type { ErrorDetail } from '../../core/errors.js';
import { pointerToken } from '../../core/features/transformer.js';
import type { Prediction, Predictor } from '../../core/predictor/predictor.js';
import { CellError, toCell } from '../../core/values.js';
import { mlpipeVersion } from '../../core/version.js';
import type { ServerContext } from '../context.js';
import { type ErrorFormat, HttpError, useErrorFormat } from '../errors.js';
import { jsonBody } from '../json-body.js';
import { modelFor, requireReady } from '../predict.js';
import { allowOnly } from './allow.js';
import { badInput, checkBatchSize, inputColumns, isObject, predictAt, protocolMessage } from './protocol-common.js';

/**
 * MLflow scoring-server compatibility (`mlflow models serve`, mlflow/pyfunc/scoring_server): `GET
 * /ping` and `GET /health` (200, a body of one newline), `GET /version` (mlpipe's version, as plain
 * text the way MLflow answers its own), and `POST /invocations` with JSON in the forms
 * `dataframe_split`, `dataframe_records`, `instances` and `inputs` (and `params`), or `text/csv`.
 * The answer is `{"predictions": [...]}`: labels in the target's own values, numbers for regression,
 * as `mlflow models serve` answers for a scikit-learn model. With `"params": {"predict_proba": true}`
 * each prediction is instead the list of class probabilities, classes in the model's order (what a
 * model logged with `pyfunc_predict_fn="predict_proba"` answers).
 *
 * `/invocations` is answered by the default model; `POST /v1/models/{name}/invocations` by another.
 * Errors answer MLflow's form `{"error_code": "BAD_REQUEST", "message": "..."}`; an unsupported
 * Content-Type (or charset) answers 415 in plain text, as MLflow does.
 */

/** MLflow's error code for each status (mlflow/exceptions.py ERROR_CODE_TO_HTTP_STATUS, read backwards). */
const ERROR_CODE_OF_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'RESOURCE_DOES_NOT_EXIST',
  // MLflow has no code for these three statuses; the request is wrong as sent, so it is not retried.
  405: 'ENDPOINT_NOT_FOUND',
  413: 'BAD_REQUEST',
  415: 'BAD_REQUEST',
  429: 'REQUEST_LIMIT_EXCEEDED',
  503: 'TEMPORARILY_UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** MLflow's error body: `{"error_code": "BAD_REQUEST", "message": "..."}`. */
export const MLFLOW_ERROR_FORMAT: ErrorFormat = (answer) => ({
  error_code: ERROR_CODE_OF_STATUS[answer.status] ?? (answer.status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST'),
  message: protocolMessage(answer),
});

/** The JSON input forms MLflow's scoring server reads. */
const FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;
type Format = (typeof FORMATS)[number];
const REQUIRED_FORMAT = `must be a JSON object with exactly one of the input fields ${FORMATS.map((f) => `"${f}"`).join(', ')}`;

interface Decoded {
  records: unknown[];
  where: (row: number, column: string | undefined) => string;
}

/** A row given as an array: its values are the model's input columns, in order (as scikit-learn reads a numpy row). */
function positional(model: Predictor, row: unknown[], path: string): Record<string, unknown> {
  const columns = inputColumns(model);
  if (row.length !== columns.length) {
    throw badInput(path, `has ${row.length} values; a row given as an array holds the ${columns.length} inputs of ${model.ref} in order (${columns.map((c) => JSON.stringify(c.name)).join(', ')})`);
  }
  const rec = dict<unknown>(); // keyed by column names, which are data
  columns.forEach((c, j) => {
    rec[c.name] = row[j];
  });
  return rec;
}

/** Rows of `instances` or of a list `inputs`: records, arrays (positional), or scalars for a one-input model. */
function rowList(model: Predictor, rows: unknown[], base: string): Decoded {
  const columns = inputColumns(model);
  const position = new Map(columns.map((c, j) => [c.name, j]));
  const kinds = new Set(rows.map((r) => (isObject(r) ? 'record' : Array.isArray(r) ? 'array' : 'scalar')));
  if (kinds.size > 1) throw badInput(base, 'mixes records, arrays and single values: send one kind of row');
  const records = rows.map((r, i) => {
    if (isObject(r)) return r;
    if (Array.isArray(r)) return positional(model, r, `${base}/${i}`);
    if (columns.length !== 1) throw badInput(`${base}/${i}`, `is a single value, but ${model.ref} has ${columns.length} inputs: send records (JSON objects) or arrays`);
    return positional(model, [r], `${base}/${i}`);
  });
  const arrays = kinds.has('array');
  const where = (row: number, column: string | undefined) => {
    if (column === undefined) return `${base}/${row}`;
    if (!arrays) return kinds.has('scalar') ? `${base}/${row}` : `${base}/${row}/${pointerToken(column)}`;
    const j = position.get(column);
    return j === undefined ? `${base}/${row}` : `${base}/${row}/${j}`;
  };
  return { records, where };
}

/** The records of a JSON request in one of MLflow's forms. */
function decodeJson(ctx: ServerContext, model: Predictor, format: Format, input: unknown): Decoded {
  const base = `/${format}`;
  switch (format) {
    case 'dataframe_split': {
      if (!isObject(input)) throw badInput(base, 'must be {"columns": [ … ], "data": [[ … ], …]} (pandas orient="split")');
      const { columns, data, index } = input;
      if (!Array.isArray(columns) || !columns.every((c) => typeof c === 'string')) throw badInput(`${base}/columns`, 'must be an array of column names');
      const names = columns as string[];
      const seen = new Set<string>();
      names.forEach((c, j) => {
        if (seen.has(c)) throw badInput(`${base}/columns/${j}`, `"${c}" is given twice`);
        seen.add(c);
      });
      if (!Array.isArray(data)) throw badInput(`${base}/data`, 'must be an array of rows (arrays of values, in the order of "columns")');
      if (index !== undefined && (!Array.isArray(index) || index.length !== data.length)) throw badInput(`${base}/index`, `must be an array of one label per row (${data.length})`);
      checkBatchSize(ctx, data.length);
      const records = data.map((row, i) => {
        if (!Array.isArray(row) || row.length !== names.length) throw badInput(`${base}/data/${i}`, `must be an array of ${names.length} values, one per column`);
        const rec = dict<unknown>();
        names.forEach((c, j) => {
          rec[c] = row[j];
        });
        return rec;
      });
      const position = new Map(names.map((c, j) => [c, j]));
      const where = (row: number, column: string | undefined) => {
        const j = column === undefined ? undefined : position.get(column);
        return j === undefined ? `${base}/data/${row}` : `${base}/data/${row}/${j}`;
      };
      return { records, where };
    }
    case 'dataframe_records': {
      if (!Array.isArray(input)) throw badInput(base, 'must be an array of records (pandas orient="records")');
      checkBatchSize(ctx, input.length);
      input.forEach((r, i) => {
        if (!isObject(r)) throw badInput(`${base}/${i}`, 'must be a record (a JSON object of column → value)');
      });
      return { records: input, where: (row, column) => (column === undefined ? `${base}/${row}` : `${base}/${row}/${pointerToken(column)}`) };
    }
    case 'instances':
    case 'inputs': {
      if (Array.isArray(input)) {
        checkBatchSize(ctx, input.length);
        return rowList(model, input, base);
      }
      if (format === 'instances' || !isObject(input)) throw badInput(base, format === 'instances' ? 'must be an array of rows' : 'must be an array of rows, or an object of column → array of values');
      // TF serving's columnar form: {"inputs": {"a": [1, 2], "b": ["x", "y"]}}.
      const names = Object.keys(input);
      let rows: number | undefined;
      for (const c of names) {
        const values = input[c];
        if (!Array.isArray(values)) throw badInput(`${base}/${pointerToken(c)}`, 'must be an array of values, one per row');
        if (rows === undefined) rows = values.length;
        else if (values.length !== rows) throw badInput(`${base}/${pointerToken(c)}`, `has ${values.length} values, but ${JSON.stringify(names[0])} has ${rows}: every column holds the same rows`);
      }
      checkBatchSize(ctx, rows ?? 0);
      const records = Array.from({ length: rows ?? 0 }, (_, i) => {
        const rec = dict<unknown>();
        for (const c of names) rec[c] = (input[c] as unknown[])[i];
        return rec;
      });
      return { records, where: (row, column) => (column === undefined ? base : `${base}/${pointerToken(column)}/${row}`) };
    }
  }
}

/** The records of a CSV body: a header row, then one row per record; cells read as their columns' types. */
function decodeCsv(ctx: ServerContext, model: Predictor, text: string): Decoded {
  const parser = new CsvParser({ delimiter: ',', quote: '"' });
  parser.push(text);
  parser.end();
  const { rows, lines } = parser.take();
  if (parser.error) {
    const e = parser.error;
    throw new HttpError(400, 'invalid_input', `the body is not valid CSV: ${e.problem.replace(/-/g, ' ')} at line ${e.at} (record starting on line ${e.line}, field ${e.field + 1})`);
  }
  const [header, ...data] = rows;
  if (!header) throw new HttpError(400, 'invalid_input', 'the CSV body is empty; send a header row of column names, then one row per record');
  checkBatchSize(ctx, data.length);
  const columns = new Map(inputColumns(model).map((c) => [c.name, c]));
  const lineOf = (row: number) => lines[row + 1] ?? row + 2;
  const where = (row: number, column: string | undefined) => `line ${lineOf(row)}${column === undefined ? '' : `, column ${JSON.stringify(column)}:`}`;
  const problems: ErrorDetail[] = [];
  const records = data.map((cells, i) => {
    if (cells.length !== header.length) {
      problems.push({ path: where(i, undefined), message: `has ${cells.length} fields; the header has ${header.length}` });
      return null;
    }
    const rec = dict<unknown>();
    header.forEach((name, j) => {
      const raw = cells[j] as string;
      const column = columns.get(name);
      if (!column) {
        rec[name] = raw;
        return;
      }
      // CSV cells are text: read them as the column's type, with the rules training used (as `mlpipe predict` does).
      try {
        rec[name] = toCell(column.type, raw, column.dateOrder);
      } catch (err) {
        if (!(err instanceof CellError)) throw err;
        problems.push({ path: where(i, name), message: err.message });
      }
    });
    return rec;
  });
  if (problems.length > 0) throw invalidInput(problems.slice(0, 100));
  return { records, where };
}

function predictionsOf(model: Predictor, predictions: readonly Prediction[], proba: boolean): unknown[] {
  if (!proba) return predictions.map((p) => p.prediction);
  const classes = model.forest.classes;
  return predictions.map((p) => classes.map((c) => p.probabilities?.[c] ?? 0));
}

/** `params.predict_proba`: true for class probabilities (classifiers only). */
function wantsProba(model: Predictor, params: unknown): boolean {
  if (params === undefined || params === null) return false;
  if (!isObject(params)) throw badInput('/params', 'must be a JSON object');
  const p = params.predict_proba;
  if (p === undefined) return false;
  if (typeof p !== 'boolean') throw badInput('/params/predict_proba', 'must be true or false');
  if (p && model.forest.task !== 'classification') throw badInput('/params/predict_proba', `${model.ref} is a regression model: it has no class probabilities`);
  return p;
}

/** The media type and parameters of a Content-Type header, lower-cased. */
function mediaType(header: string | undefined): { media: string; params: Map<string, string> } {
  const [media = '', ...rest] = (header ?? '').split(';');
  const params = new Map<string, string>();
  for (const p of rest) {
    const [k = '', v = ''] = p.split('=');
    if (k.trim() !== '') params.set(k.trim().toLowerCase(), v.trim().replace(/^"|"$/g, '').toLowerCase());
  }
  return { media: media.trim().toLowerCase(), params };
}

/** A plain-text 415, as MLflow answers an unsupported Content-Type or charset. */
function unsupported(res: Response, message: string): void {
  res.locals.errorCode = 'unsupported_media_type';
  res.status(415).type('text/plain').send(message);
}

/** The paths whose errors answer in MLflow's form (app.ts sets it before authentication too). */
export const MLFLOW_PATHS = ['/ping', '/health', '/version', '/invocations', '/v1/models/:name/invocations'];

/**
 * MLflow's scoring-server routes (see the top of this file). Mounted by createApp; errors on these
 * paths, including those of the throttles and body reader in front of the handlers, answer in
 * MLflow's form.
 */
export function mlflowRoutes(ctx: ServerContext): Router {
  const router = Router();
  const opts = ctx.options;
  const invocations = ['/invocations', '/v1/models/:name/invocations'];
  router.use(MLFLOW_PATHS, useErrorFormat(MLFLOW_ERROR_FORMAT));

  const name = (req: Request) => req.params.name as string | undefined;
  const maxFields = (req: Request): number => opts.maxFields ?? Math.max(1000, 10 * modelFor(ctx, name(req)).transformer.pipeline.inputs.length);

  // MLflow answers 200 with a newline once its model is loaded; here also "not ready" while draining.
  router.get(['/ping', '/health'], requireReady(ctx), (_req, res) => {
    res.status(200).type('application/json').send('\n');
  });
  // MLflow's own /version answers its version as bare text with an application/json type; so does this.
  router.get('/version', (_req, res) => {
    res.status(200).type('application/json').send(mlpipeVersion());
  });

  const contentType: RequestHandler = (req, res, next) => {
    const header = req.headers['content-type'];
    const { media, params } = mediaType(header);
    const charset = params.get('charset') ?? 'utf-8';
    if (charset !== 'utf-8' && charset !== 'utf8') return unsupported(res, 'The scoring server only supports UTF-8');
    const unexpected = [...params.keys()].filter((k) => k !== 'charset');
    if (unexpected.length > 0) return unsupported(res, `Unrecognized content type parameters: ${unexpected.join(', ')}.`);
    if (media !== 'application/json' && media !== 'text/csv') {
      return unsupported(res, `This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got '${(header ?? '').slice(0, 100)}'.`);
    }
    next();
  };
  const json = jsonBody({ limit: opts.bodyLimit, maxFields, expected: 'a JSON object with one of "dataframe_split", "dataframe_records", "instances" or "inputs"' });
  // The body reader the Content-Type asks for: mlpipe's hardened JSON reader, or the raw bytes of a CSV.
  // mergeParams: the JSON reader's field limit reads the model `:name` of the path.
  const readJson = Router({ mergeParams: true }).use(json);
  const readCsv = express.raw({ type: () => true, limit: opts.bodyLimit });
  const body: RequestHandler = (req, res, next) => (mediaType(req.headers['content-type']).media === 'text/csv' ? readCsv : readJson)(req, res, next);

  router.post(invocations, ...ctx.limits.batch, requireReady(ctx), contentType, body, async (req: Request, res: Response) => {
    const model = modelFor(ctx, name(req));
    let decoded: Decoded;
    let proba = false;
    if (mediaType(req.headers['content-type']).media === 'text/csv') {
      const buf = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
      } catch {
        throw new HttpError(400, 'invalid_input', 'the CSV body is not valid UTF-8');
      }
      decoded = decodeCsv(ctx, model, text);
    } else {
      const input: unknown = req.body;
      if (Array.isArray(input)) throw badInput('', `${REQUIRED_FORMAT}; received a list`);
      if (!isObject(input)) throw badInput('', `${REQUIRED_FORMAT}; received ${input === null ? 'null' : typeof input}`);
      const present = FORMATS.filter((f) => Object.hasOwn(input, f));
      if (present.length !== 1) throw badInput('', `${REQUIRED_FORMAT}; received a JSON object with the fields ${JSON.stringify(Object.keys(input).slice(0, 20))}`);
      const format = present[0] as Format;
      proba = wantsProba(model, input.params);
      decoded = decodeJson(ctx, model, format, input[format]);
    }
    const predictions = await predictAt(ctx, req, res, model, decoded.records, decoded.where);
    res.json({ predictions: predictionsOf(model, predictions, proba) });
  });

  allowOnly(router, 'GET, HEAD', ['/ping', '/health', '/version']);
  allowOnly(router, 'POST', invocations);
  return router;
}
