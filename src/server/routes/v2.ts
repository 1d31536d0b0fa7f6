import { randomUUID } from 'node:crypto';
import { type Request, type RequestHandler, type Response, Router } from 'express';
import type { ErrorDetail } from '../../core/errors.js';
import { MAX_REPORTED_ERRORS, invalid } from '../../core/features/input-schema.js';
import { pointerToken } from '../../core/features/pipeline.js';
import { previewJson } from '../../core/json-preview.js';
import type { InputColumn } from '../../core/features/types.js';
import type { Prediction, Predictor } from '../../core/predictor/predictor.js';
import { mlpipeVersion } from '../../core/version.js';
import { dict } from '../../core/dict.js';
import type { ServerContext } from '../context.js';
import { type ErrorFormat, HttpError, useErrorFormat } from '../errors.js';
import { jsonBody } from '../json-body.js';
import { JsonScanError, scanJson } from '../json-scan.js';
import { modelFor, requireReady } from '../predict.js';
import { allowOnly } from './allow.js';
import { type LabelKind, badInput, checkBatchSize, inputColumns, isObject, labelKind, predictAt, protocolMessage, requiredColumns } from './protocol-common.js';

/**
 * The Open Inference Protocol (KServe V2, Triton, MLServer) over REST: health, server and model
 * metadata, model readiness and `POST /v2/models/{name}[/versions/{v}]/infer`.
 *
 * Inputs: one tensor per input column (name = column, shape `[N]` or `[N, 1]`, data flat or nested),
 * or one BYTES tensor (any name that is not a column) whose elements are JSON records, or one numeric
 * tensor of shape `[N, F]` (any other name) whose rows hold the F input columns in the model's order.
 * Outputs (MLServer's scikit-learn names): `predict` (the label in the target's own values, or the
 * number), and for classifiers `predict_proba` (FP64 `[N, K]`, classes in the order of the metadata's
 * `proba_<label>` outputs) and one `proba_<label>` FP64 `[N]` per class. Without `outputs` in the
 * request, `predict` and (classifiers) `predict_proba` are answered.
 *
 * Errors answer `{"error": "<message>"}` (the protocol's form) with mlpipe's statuses; a problem in a
 * value is named by the JSON Pointer of the element that holds it (`/inputs/2/data/7`).
 */

/** The protocol's error body: `{"error": "<message>"}`. */
export const V2_ERROR_FORMAT: ErrorFormat = (answer) => ({ error: protocolMessage(answer) });

/** V2 tensor datatypes. */
const NUMERIC = new Set(['UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64']);
const INTEGRAL = new Set(['UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64']);
const DATATYPES = new Set([...NUMERIC, 'BOOL', 'BYTES']);

/** The datatype a column's tensor is described with in model metadata. */
export function columnDatatype(column: InputColumn): string {
  switch (column.type) {
    case 'number':
      return 'FP64';
    case 'integer':
      return 'INT64';
    case 'boolean':
      return 'BOOL';
    default:
      return 'BYTES';
  }
}

/** Datatypes a column accepts: any number for numbers; BOOL or BYTES (`"yes"`) for booleans; BYTES or a number (epoch ms) for dates; BYTES for text. */
function accepts(column: InputColumn, datatype: string): boolean {
  switch (column.type) {
    case 'number':
    case 'integer':
      return NUMERIC.has(datatype);
    case 'boolean':
      return datatype === 'BOOL' || datatype === 'BYTES';
    case 'datetime':
      return datatype === 'BYTES' || NUMERIC.has(datatype);
    default:
      return datatype === 'BYTES';
  }
}

const LABEL_DATATYPE: Record<LabelKind, string> = { string: 'BYTES', integer: 'INT64', number: 'FP64', boolean: 'BOOL' };

interface TensorMeta {
  name: string;
  datatype: string;
  shape: number[];
}

/** The output tensors of `model`, in the order metadata lists them. */
function outputsOf(model: Predictor): TensorMeta[] {
  const out: TensorMeta[] = [{ name: 'predict', datatype: LABEL_DATATYPE[labelKind(model)], shape: [-1] }];
  if (model.forest.task === 'classification') {
    const k = model.forest.classes.length;
    out.push({ name: 'predict_proba', datatype: 'FP64', shape: [-1, k] });
    for (const c of model.forest.classes) out.push({ name: `proba_${c}`, datatype: 'FP64', shape: [-1] });
  }
  return out;
}

function metadata(model: Predictor) {
  return {
    name: model.name,
    versions: [model.version],
    platform: 'mlpipe',
    inputs: inputColumns(model).map((c) => ({ name: c.name, datatype: columnDatatype(c), shape: [-1] })),
    outputs: outputsOf(model),
  };
}

/** A tensor of the request, checked: its flat elements and where element `i` lies in the body. */
interface Tensor {
  index: number;
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
  /** True when the client sent the data nested (`[[1], [2]]`) rather than flat. */
  nested: boolean;
  /** JSON Pointer of element `i` (flat, row-major) as the client nested it. */
  at: (i: number) => string;
}

/** Depth of nested data arrays accepted (a tensor of the shapes mlpipe takes has at most 2 dimensions). */
const MAX_DATA_DEPTH = 2;

/** Flattens `data` row-major; nested arrays must follow `shape` exactly. */
function flatten(data: unknown[], shape: number[], base: string): { flat: unknown[]; nested: boolean } {
  if (!data.some(Array.isArray)) return { flat: data, nested: false };
  if (shape.length !== MAX_DATA_DEPTH) throw badInput(base, `is nested, but only tensors of two dimensions ([N, 1], [N, F]) may be sent nested, and the shape is [${shape.join(', ')}]: send the data flat`);
  const flat: unknown[] = [];
  const [rows = 0, cols = 1] = shape;
  if (data.length !== rows) throw badInput(base, `has ${data.length} rows; the shape says ${rows}`);
  data.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== cols) throw badInput(`${base}/${i}`, `must be an array of ${cols} element${cols === 1 ? '' : 's'}, as the shape [${shape.join(', ')}] says`);
    for (const v of row) {
      if (Array.isArray(v)) throw badInput(`${base}/${i}`, 'nests deeper than the shape says');
      flat.push(v);
    }
  });
  return { flat, nested: true };
}

function readTensor(raw: unknown, index: number): Tensor {
  const base = `/inputs/${index}`;
  if (!isObject(raw)) throw badInput(base, 'must be an input tensor: {"name", "shape", "datatype", "data"}');
  const { name, shape, datatype, data } = raw;
  if (typeof name !== 'string' || name === '') throw badInput(`${base}/name`, 'must be a non-empty string');
  if (typeof datatype !== 'string' || !DATATYPES.has(datatype)) {
    throw badInput(`${base}/datatype`, `must be a tensor datatype (${[...DATATYPES].join(', ')}), got ${JSON.stringify(datatype ?? null)}`);
  }
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw badInput(`${base}/shape`, 'must be a non-empty array of non-negative integers');
  }
  if (!Array.isArray(data)) throw badInput(`${base}/data`, 'must be an array (the tensor elements, flat or nested)');
  if (raw.parameters !== undefined && !isObject(raw.parameters)) throw badInput(`${base}/parameters`, 'must be a JSON object');
  const dims = shape as number[];
  const { flat, nested } = flatten(data, dims, `${base}/data`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (flat.length !== count) throw badInput(`${base}/data`, `has ${flat.length} element${flat.length === 1 ? '' : 's'}; the shape [${dims.join(', ')}] holds ${count}`);
  const cols = dims[1] ?? 1;
  const at = nested ? (i: number) => `${base}/data/${Math.floor(i / cols)}/${i % cols}` : (i: number) => `${base}/data/${i}`;
  return { index, name, datatype, shape: dims, data: flat, nested, at };
}

/** The problem of one element for its tensor's datatype, if any; null stands for a missing value. */
function elementProblem(tensor: Tensor, i: number): ErrorDetail | undefined {
  const v = tensor.data[i];
  if (v === null) return undefined;
  const dt = tensor.datatype;
  const wrong = (what: string): ErrorDetail => ({ path: tensor.at(i), message: `must be ${what} (the tensor is ${dt}), got ${typeof v === 'number' ? String(v) : previewJson(v, 40)}` });
  if (NUMERIC.has(dt)) {
    if (typeof v !== 'number') return wrong('a number');
    if (!Number.isFinite(v)) return wrong('a finite number');
    if (INTEGRAL.has(dt) && !Number.isInteger(v)) return wrong('an integer');
  } else if (dt === 'BOOL') {
    if (typeof v !== 'boolean') return wrong('true or false');
  } else if (typeof v !== 'string') return wrong('a string');
  return undefined;
}

/** Checks the first `rows` elements of each tensor against its datatype: every problem (up to the usual cap) in one 400. */
function checkElements(tensors: Iterable<Tensor>, count: (t: Tensor) => number): void {
  const problems: ErrorDetail[] = [];
  for (const t of tensors) {
    for (let i = 0; i < count(t) && problems.length < MAX_REPORTED_ERRORS; i++) {
      const p = elementProblem(t, i);
      if (p) problems.push(p);
    }
  }
  if (problems.length > 0) throw invalid(problems);
}

/** A tensor is column-shaped: `[N]` or `[N, 1]`. */
function rowsOfColumn(tensor: Tensor): number {
  const [n = 0, ...rest] = tensor.shape;
  if (rest.length > 1 || (rest.length === 1 && rest[0] !== 1)) {
    throw badInput(`/inputs/${tensor.index}/shape`, `must be [N] or [N, 1] for the column "${tensor.name}", got [${tensor.shape.join(', ')}]`);
  }
  return n;
}

interface Decoded {
  records: Record<string, unknown>[];
  where: (row: number, column: string | undefined) => string;
}

/** One tensor per column → records. */
function columnTensors(ctx: ServerContext, model: Predictor, tensors: Tensor[]): Decoded {
  const columns = new Map(inputColumns(model).map((c) => [c.name, c]));
  const byColumn = new Map<string, Tensor>();
  let rows: number | undefined;
  for (const t of tensors) {
    const column = columns.get(t.name);
    if (!column) {
      throw badInput(`/inputs/${t.index}/name`, `"${t.name}" is not an input of ${model.ref} (its inputs: ${[...columns.keys()].map((c) => JSON.stringify(c)).join(', ')})`);
    }
    if (byColumn.has(t.name)) throw badInput(`/inputs/${t.index}/name`, `"${t.name}" is given twice`);
    if (!accepts(column, t.datatype)) {
      throw badInput(`/inputs/${t.index}/datatype`, `the column "${t.name}" is ${column.type}: send it as ${columnDatatype(column)}${column.type === 'boolean' ? ' (or BYTES "yes"/"no")' : column.type === 'datetime' ? ' (or a number: epoch milliseconds)' : ''}, not ${t.datatype}`);
    }
    const n = rowsOfColumn(t);
    if (rows === undefined) {
      rows = n;
      checkBatchSize(ctx, n);
    } else if (n !== rows) {
      throw badInput(`/inputs/${t.index}/shape`, `has ${n} rows, but /inputs/${tensors[0]!.index} has ${rows}: every input tensor holds the same rows`);
    }
    byColumn.set(t.name, t);
  }
  for (const name of requiredColumns(model)) {
    if (!byColumn.has(name)) throw badInput('/inputs', `has no tensor "${name}": ${model.ref} needs a value for it in every row (features.required)`);
  }
  const n = rows ?? 0;
  checkElements(byColumn.values(), () => n);
  const records = Array.from({ length: n }, (_, i) => {
    const rec = dict<unknown>(); // keyed by column names, which are data
    for (const [name, t] of byColumn) rec[name] = t.data[i];
    return rec;
  });
  const where = (row: number, column: string | undefined): string => {
    const t = column === undefined ? undefined : byColumn.get(column);
    return t ? t.at(row) : column === undefined ? '/inputs' : `/inputs (no tensor "${column}")`;
  };
  return { records, where };
}

/** One BYTES tensor of JSON records (strings, or objects) → records. */
function recordTensor(ctx: ServerContext, model: Predictor, t: Tensor, maxFields: number): Decoded {
  const n = rowsOfColumn(t);
  checkBatchSize(ctx, n);
  const records = t.data.map((v, i) => {
    if (isObject(v)) return v;
    if (typeof v !== 'string') throw badInput(t.at(i), `must be one record: a JSON object, or a string holding one (the tensor "${t.name}" is not a column of ${model.ref}, so it is read as records)`);
    const buf = Buffer.from(v, 'utf8');
    try {
      // The same bounds as a request body: a record inside a string is no way around them.
      scanJson(buf, maxFields);
    } catch (err) {
      if (!(err instanceof JsonScanError)) throw err;
      throw badInput(`${t.at(i)}${err.pointer}`, err.kind === 'syntax' ? `is not JSON: ${err.message}` : err.message);
    }
    const parsed: unknown = JSON.parse(v);
    if (!isObject(parsed)) throw badInput(t.at(i), 'must hold a JSON object (one record)');
    return parsed;
  });
  const where = (row: number, column: string | undefined) => (column === undefined ? t.at(row) : `${t.at(row)}/${pointerToken(column)}`);
  return { records, where };
}

/** One numeric tensor `[N, F]`, its rows the F input columns in the model's order → records. */
function matrixTensor(ctx: ServerContext, model: Predictor, t: Tensor): Decoded {
  const columns = inputColumns(model);
  const [n = 0, f = 0, ...rest] = t.shape;
  if (t.shape.length !== 2 || rest.length > 0 || f !== columns.length) {
    throw badInput(
      `/inputs/${t.index}/name`,
      `"${t.name}" is not an input of ${model.ref}: send one tensor per column (${columns.map((c) => JSON.stringify(c.name)).join(', ')}), one BYTES tensor of JSON records, or one [N, ${columns.length}] tensor of rows`,
    );
  }
  checkBatchSize(ctx, n);
  for (const c of columns) {
    if (!accepts(c, t.datatype)) throw badInput(`/inputs/${t.index}/datatype`, `a [N, ${f}] tensor of rows needs every column numeric, but "${c.name}" is ${c.type}: send one tensor per column`);
  }
  checkElements([t], () => t.data.length);
  const records = Array.from({ length: n }, (_, i) => {
    const rec = dict<unknown>();
    columns.forEach((c, j) => {
      rec[c.name] = t.data[i * f + j];
    });
    return rec;
  });
  const position = new Map(columns.map((c, j) => [c.name, j]));
  const base = `/inputs/${t.index}/data`;
  const where = (row: number, column: string | undefined) => {
    const j = column === undefined ? undefined : position.get(column);
    if (j === undefined) return `${base}/${row}`;
    return t.nested ? `${base}/${row}/${j}` : `${base}/${row * f + j}`;
  };
  return { records, where };
}

interface InferRequest {
  id?: string;
  tensors: Tensor[];
  outputs?: { name: string; index: number }[];
}

function readRequest(body: unknown): InferRequest {
  if (!isObject(body)) throw badInput('', 'must be an inference request: {"inputs": [ … ]}');
  if (body.id !== undefined && typeof body.id !== 'string') throw badInput('/id', 'must be a string');
  if (body.parameters !== undefined && !isObject(body.parameters)) throw badInput('/parameters', 'must be a JSON object');
  if (!Array.isArray(body.inputs) || body.inputs.length === 0) throw badInput('/inputs', 'must be a non-empty array of input tensors');
  const tensors = body.inputs.map(readTensor);
  let outputs: InferRequest['outputs'];
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs)) throw badInput('/outputs', 'must be an array of {"name": …}');
    outputs = body.outputs.map((o, index) => {
      if (!isObject(o) || typeof o.name !== 'string') throw badInput(`/outputs/${index}`, 'must be {"name": "<output>"}');
      if (o.parameters !== undefined && !isObject(o.parameters)) throw badInput(`/outputs/${index}/parameters`, 'must be a JSON object');
      return { name: o.name, index };
    });
  }
  return { ...(typeof body.id === 'string' ? { id: body.id } : {}), tensors, ...(outputs ? { outputs } : {}) };
}

/** Which form the inputs are in: one tensor per column, JSON records, or a matrix of rows. */
function decode(ctx: ServerContext, model: Predictor, tensors: Tensor[], maxFields: number): Decoded {
  const only = tensors.length === 1 ? tensors[0]! : undefined;
  if (only && !inputColumns(model).some((c) => c.name === only.name)) {
    return only.datatype === 'BYTES' ? recordTensor(ctx, model, only, maxFields) : matrixTensor(ctx, model, only);
  }
  return columnTensors(ctx, model, tensors);
}

function outputTensor(model: Predictor, name: string, predictions: readonly Prediction[]) {
  const n = predictions.length;
  const classes = model.forest.classes;
  if (name === 'predict') {
    return { name, datatype: LABEL_DATATYPE[labelKind(model)], shape: [n], data: predictions.map((p) => p.prediction) };
  }
  if (name === 'predict_proba') {
    const data: number[] = [];
    for (const p of predictions) for (const c of classes) data.push(p.probabilities?.[c] ?? 0);
    return { name, datatype: 'FP64', shape: [n, classes.length], data };
  }
  const c = name.slice('proba_'.length);
  return { name, datatype: 'FP64', shape: [n], data: predictions.map((p) => p.probabilities?.[c] ?? 0) };
}

/**
 * The Open Inference Protocol routes (see the top of this file). Mounted by createApp; errors on
 * `/v2` paths, including those of the throttles and body reader in front of the handlers, answer in
 * the protocol's form.
 */
export function v2Routes(ctx: ServerContext): Router {
  const router = Router();
  const opts = ctx.options;
  router.use('/v2', useErrorFormat(V2_ERROR_FORMAT));

  /** The model a path names, checked against its `/versions/{v}` when given. */
  const pathModel = (req: Request): Predictor => {
    const model = modelFor(ctx, req.params.name as string);
    const version = req.params.version as string | undefined;
    if (version !== undefined && version !== model.version) {
      throw new HttpError(404, 'not_found', `model "${model.name}" has no version "${version}" served (serving ${model.version})`);
    }
    return model;
  };
  const maxFields = (req: Request): number => opts.maxFields ?? Math.max(1000, 10 * pathModel(req).transformer.pipeline.inputs.length);

  router.get(['/v2', '/v2/'], (_req, res) => {
    res.json({ name: 'mlpipe', version: mlpipeVersion(), extensions: [] });
  });
  router.get('/v2/health/live', (_req, res) => {
    res.json({ live: true });
  });
  router.get('/v2/health/ready', (_req, res) => {
    if (!ctx.models.ready) notReady(res);
    res.json({ ready: ctx.models.ready });
  });
  const model = '/v2/models/:name{/versions/:version}';
  router.get(model, (req, res) => {
    res.json(metadata(pathModel(req)));
  });
  router.get(`${model}/ready`, (req, res) => {
    const m = pathModel(req);
    if (!ctx.models.ready) notReady(res);
    res.json({ name: m.name, ready: ctx.models.ready });
  });

  // tritonclient sends its JSON without a Content-Type; its binary tensor extension is not JSON at all.
  const protocolBody: RequestHandler = (req, _res, next) => {
    if (req.headers['inference-header-content-length'] !== undefined) {
      throw new HttpError(400, 'invalid_input', 'the binary tensor data extension is not supported: send the tensors as JSON (tritonclient: binary_data=False on every input and output)');
    }
    if (req.headers['content-type'] === undefined) req.headers['content-type'] = 'application/json';
    next();
  };
  const inferGuard: RequestHandler[] = [
    ...ctx.limits.batch,
    requireReady(ctx),
    protocolBody,
    ...jsonBody({ limit: opts.bodyLimit, maxFields, expected: 'an inference request {"inputs": [ … ]} as JSON' }),
  ];
  router.post(`${model}/infer`, ...inferGuard, async (req: Request, res: Response) => {
    const m = pathModel(req);
    const request = readRequest(req.body);
    const known = outputsOf(m).map((o) => o.name);
    for (const o of request.outputs ?? []) {
      if (!known.includes(o.name)) throw badInput(`/outputs/${o.index}/name`, `"${o.name}" is not an output of ${m.ref} (its outputs: ${known.join(', ')})`);
    }
    const { records, where } = decode(ctx, m, request.tensors, maxFields(req));
    const predictions = await predictAt(ctx, res, m, records, where);
    const names = request.outputs?.map((o) => o.name) ?? (m.forest.task === 'classification' ? ['predict', 'predict_proba'] : ['predict']);
    res.json({
      model_name: m.name,
      model_version: m.version,
      id: request.id ?? randomUUID(),
      outputs: names.map((name) => outputTensor(m, name, predictions)),
    });
  });

  allowOnly(router, 'GET, HEAD', ['/v2', '/v2/', '/v2/health/live', '/v2/health/ready', model, `${model}/ready`]);
  allowOnly(router, 'POST', [`${model}/infer`]);
  return router;
}

/** Readiness probes answer 503 (with Retry-After) while the models load or the server drains. */
function notReady(res: Response): void {
  res.status(503).setHeader('Retry-After', '5');
  res.locals.errorCode = 'not_ready';
}
