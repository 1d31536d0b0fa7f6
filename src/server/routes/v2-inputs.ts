import { invalidInput } from '../../core/errors.js';
import type { ErrorDetail } from '../../core/errors.js';
import { MAX_REPORTED_ERRORS } from '../../core/features/input-schema.js';
import { pointerToken } from '../../core/features/transformer.js';
import type { InputColumn } from '../../core/features/types.js';
import { previewJson } from '../../core/json-preview.js';
import type { Predictor } from '../../core/predictor/predictor.js';
import { dict } from '../../core/records/dict.js';
import type { ServerContext } from '../context.js';
import { JsonScanError, scanJson } from '../json-scan.js';
import { badInput, checkBatchSize, inputColumns, isObject, requiredColumns } from './protocol-common.js';

/**
 * The inputs of an Open Inference Protocol V2 inference request (routes/v2.ts), read into records:
 * one tensor per input column, one BYTES tensor of JSON records, or one numeric `[N, F]` tensor of
 * rows. Each tensor is checked (datatype, shape against data, elements against the datatype and the
 * column), and each record value keeps where it came from, so that a problem found later is reported
 * at the element that holds it (`/inputs/2/data/7`).
 */

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

/** A tensor of the request, checked: its flat elements and where element `i` lies in the body. */
export interface Tensor {
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
  if (problems.length > 0) throw invalidInput(problems);
}

/** A tensor is column-shaped: `[N]` or `[N, 1]`. */
function rowsOfColumn(tensor: Tensor): number {
  const [n = 0, ...rest] = tensor.shape;
  if (rest.length > 1 || (rest.length === 1 && rest[0] !== 1)) {
    throw badInput(`/inputs/${tensor.index}/shape`, `must be [N] or [N, 1] for the column "${tensor.name}", got [${tensor.shape.join(', ')}]`);
  }
  return n;
}

/** Records read from a request, and where record `row`'s value of `column` (undefined: the whole record) lies in it. */
export interface Decoded {
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

/** An inference request, checked: its id, its input tensors, the outputs it asks for. */
export interface InferRequest {
  id?: string;
  tensors: Tensor[];
  outputs?: { name: string; index: number }[];
}

/** Reads an inference request body: a 400 (HttpError) naming the field when it is not one. */
export function readRequest(body: unknown): InferRequest {
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
export function decode(ctx: ServerContext, model: Predictor, tensors: Tensor[], maxFields: number): Decoded {
  const only = tensors.length === 1 ? tensors[0]! : undefined;
  if (only && !inputColumns(model).some((c) => c.name === only.name)) {
    return only.datatype === 'BYTES' ? recordTensor(ctx, model, only, maxFields) : matrixTensor(ctx, model, only);
  }
  return columnTensors(ctx, model, tensors);
}

