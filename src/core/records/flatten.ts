/**
 * Nested JSON records made flat: the one place where a JSON record (a line of NDJSON, an item of a JSON
 * array, an HTTP API's record, a request to the server, a line of `mlpipe predict`'s input) becomes a
 * record of scalars. The loader and the server both call {@link flattenRecord}, so a model trained on
 * nested records reads the same columns from a nested request as from a flat one.
 *
 * - Nested objects become dotted column names, at any depth, as pandas' `json_normalize` does:
 *   `{"record": {"high": 3}}` → `record.high`. An empty object contributes nothing.
 * - MongoDB Extended JSON (what `mongoexport` writes, relaxed or canonical) is unwrapped:
 *   `{"$oid": …}` → its hex text; `{"$date": "…Z"}`, `{"$date": {"$numberLong": "…"}}` (and a legacy
 *   `{"$date": <ms>}`) → the ISO 8601 text (`2024-01-02T03:04:05.000Z`), which type inference reads as
 *   a datetime; `$numberInt`, `$numberLong`, `$numberDouble`, `$numberDecimal` → the number (a 64-bit
 *   integer beyond 2^53 stays its decimal text, as from databases; NaN and ±Infinity are missing values,
 *   since mlpipe's columns hold neither); `$symbol` and `$uuid` → their text; a UUID `$binary`
 *   (subtype 3 or 4) → the UUID text; `$undefined` → missing. Any other Extended JSON value (`$binary`,
 *   `$regularExpression`, `$regex`, `$timestamp`, `$code`, `$minKey` …) is kept as its JSON text.
 *   An object is Extended JSON when its only key starts with `$` (user keys cannot in MongoDB), or it
 *   is one of the legacy pairs `$binary`+`$type`, `$regex`+`$options`, `$code`+`$scope`.
 * - An array is kept as its JSON text (`["a","b"]`, Extended JSON inside unwrapped), as pandas keeps
 *   a list in one cell.
 *
 * Two values that flatten to the same name in one record (`{"a.b": 1, "a": {"b": 2}}`) are an error
 * naming both. The flat and the nested spelling of a name in different records are the same column
 * (the server accepts both spellings for the same reason).
 */
import { previewJson } from '../json-preview.js';
import { parseDatetime } from '../values.js';

/** A value of a flat record. */
export type FlatValue = string | number | boolean | null;

/** Objects nested deeper than this are refused (a guard for the call stack, not a format limit). */
export const MAX_DEPTH = 100;

/**
 * A record that cannot be flattened: a bad Extended JSON value, two values for one column, nesting
 * too deep. `pointer` is the JSON Pointer of the value at fault inside the record, `column` the flat
 * column it makes; `problem` says what is wrong without saying where.
 */
export class FlattenError extends Error {
  readonly pointer: string;
  readonly column: string;
  readonly problem: string;
  /** Two values for one name: `problem` then names both pointers. */
  readonly clash: boolean;
  constructor(pointer: string, column: string, problem: string, clash = false) {
    super(clash ? problem : `${pointer}: ${problem}`);
    this.name = 'FlattenError';
    this.pointer = pointer;
    this.column = column;
    this.problem = problem;
    this.clash = clash;
  }
}

/** Something about a flattened column worth a warning: an array or an Extended JSON value kept as its JSON text. */
export interface FlattenNote {
  column: string;
  /** `array`, or the Extended JSON type kept as text (`$binary`, `$regularExpression` …). */
  kind: string;
}

/** What {@link flattenRecord} made of a record. */
export interface FlatRecord {
  /** Every value as a scalar, under its flat name, in the record's order. */
  record: Record<string, FlatValue>;
  /** Flat name → JSON Pointer of its value in the original record, for names made from nested keys. */
  pointers: Map<string, string>;
  /** Flat name → JSON Pointer of every nested object, empty ones included (for names missing under them). */
  objects: Map<string, string>;
  /** Arrays and Extended JSON values kept as JSON text; undefined when none. */
  notes?: FlattenNote[];
}

/** Escapes a property name for a JSON Pointer (RFC 6901). */
function token(name: string): string {
  return name.includes('~') || name.includes('/') ? name.replace(/~/g, '~0').replace(/\//g, '~1') : name;
}

function unescapeToken(t: string): string {
  return t.replace(/~1/g, '/').replace(/~0/g, '~');
}

/**
 * True when some value of the record is an object or an array, i.e. {@link flattenRecord} would change
 * it. Reads each value once and allocates nothing: the fast check before the flat path.
 */
export function hasNestedValue(record: Record<string, unknown>): boolean {
  for (const key in record) {
    const v = record[key];
    if (v !== null && typeof v === 'object') return true;
  }
  return false;
}

/** Sets an own property, also one named `__proto__` (which plain assignment would take as the prototype). */
function setOwn(target: Record<string, FlatValue>, key: string, value: FlatValue): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** A client's value in a message: bounded in length and depth, whatever the value. */
function describe(value: unknown): string {
  return previewJson(value, 60);
}

/**
 * Throws unless `value` (at `depth`) nests at most to {@link MAX_DEPTH}: run before a kept value is
 * written as JSON text, since `JSON.stringify` recurses and a few thousand levels overflow the stack.
 * The recursion here stops at the bound.
 */
function checkDepth(value: unknown, pointer: string, column: string, depth: number): void {
  if (value === null || typeof value !== 'object') return;
  if (depth > MAX_DEPTH) throw new FlattenError(pointer, column, `nested more than ${MAX_DEPTH} levels deep`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) checkDepth(value[i], `${pointer}/${i}`, column, depth + 1);
    return;
  }
  for (const key in value as Record<string, unknown>) {
    if (Object.hasOwn(value, key)) checkDepth((value as Record<string, unknown>)[key], `${pointer}/${token(key)}`, column, depth + 1);
  }
}

const LEGACY_PAIRS: Record<string, string> = { $binary: '$type', $regex: '$options', $code: '$scope' };

/** The Extended JSON type key of an object (`$date`, `$oid` …), or undefined for an ordinary object. */
function wrapperType(obj: Record<string, unknown>): string | undefined {
  let first: string | undefined;
  let count = 0;
  for (const key in obj) {
    if (count === 0) first = key;
    if (++count > 2) return undefined;
  }
  if (first === undefined || first.charCodeAt(0) !== 36 /* $ */) return undefined;
  if (count === 1) return first;
  // A legacy pair, written in either order.
  const keys = Object.keys(obj);
  for (const [a, b] of Object.entries(LEGACY_PAIRS)) if (keys.includes(a) && keys.includes(b)) return a;
  return undefined;
}

/** Marks an Extended JSON value that is kept as its JSON text. */
const KEEP = Symbol('keep');

/** Milliseconds of 0000-01-01T00:00:00Z and of 10000-01-01T00:00:00Z: the years ISO 8601 writes with four digits. */
const FIRST_MS = -62_167_219_200_000;
const END_MS = 253_402_300_800_000;

/** The ISO text of a $date; `text` is the text given, returned as it is when already in that form. */
function dateText(ms: number, pointer: string, column: string, given: unknown, text?: string): string {
  if (!(ms >= FIRST_MS && ms < END_MS)) {
    throw new FlattenError(pointer, column, `Extended JSON $date ${describe(given)} is outside the years 0–9999`);
  }
  // mongoexport's relaxed form is already 2024-01-02T03:04:05.678Z: no need to write it again.
  if (text !== undefined && text.length === 24 && text.charCodeAt(23) === 90 /* Z */ && text.charCodeAt(19) === 46 /* . */ && text.charCodeAt(10) === 84 /* T */) {
    return text;
  }
  return new Date(ms).toISOString();
}

const INTEGER_TEXT = /^[+-]?\d+$/;

/** A number from the text of `$numberDouble` / `$numberDecimal`; NaN and ±Infinity are missing. */
function decimalNumber(type: string, text: unknown, pointer: string, column: string): number | null {
  if (typeof text === 'number') return Number.isFinite(text) ? text : null;
  if (typeof text !== 'string') throw new FlattenError(pointer, column, `Extended JSON ${type} must hold a number as text, got ${describe(text)}`);
  const t = text.trim();
  if (/^[+-]?(NaN|Inf(inity)?)$/i.test(t)) return null;
  const n = t === '' ? Number.NaN : Number(t);
  if (Number.isNaN(n)) throw new FlattenError(pointer, column, `Extended JSON ${type} must hold a number as text, got ${describe(text)}`);
  return Number.isFinite(n) ? n : null;
}

/** A 64-bit integer: a number when exact, else its decimal text (as 64-bit database integers are). */
function longValue(type: string, text: unknown, pointer: string, column: string): number | string {
  if (typeof text === 'number' && Number.isInteger(text)) return text;
  if (typeof text !== 'string' || !INTEGER_TEXT.test(text.trim())) {
    throw new FlattenError(pointer, column, `Extended JSON ${type} must hold a whole number as text, got ${describe(text)}`);
  }
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text.trim()).toString();
}

function uuidText(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The scalar an Extended JSON value stands for, or {@link KEEP} when it is kept as its JSON text.
 * `pointer` is where the wrapper is in the record, `column` the flat name it makes.
 */
function unwrap(type: string, obj: Record<string, unknown>, pointer: string, column: string): FlatValue | typeof KEEP {
  const inner = obj[type];
  const at = `${pointer}/${token(type)}`;
  switch (type) {
    case '$oid':
    case '$symbol':
    case '$uuid':
      if (typeof inner !== 'string') throw new FlattenError(at, column, `Extended JSON ${type} must hold a string, got ${describe(inner)}`);
      return inner;
    case '$numberInt': {
      if (typeof inner === 'number' && Number.isInteger(inner)) return inner;
      if (typeof inner !== 'string' || !INTEGER_TEXT.test(inner.trim())) {
        throw new FlattenError(at, column, `Extended JSON $numberInt must hold a whole number as text, got ${describe(inner)}`);
      }
      return Number(inner);
    }
    case '$numberLong':
      return longValue(type, inner, at, column);
    case '$numberDouble':
    case '$numberDecimal':
      return decimalNumber(type, inner, at, column);
    case '$date': {
      if (typeof inner === 'string') {
        const ms = parseDatetime(inner);
        if (Number.isNaN(ms)) {
          throw new FlattenError(at, column, `Extended JSON $date must be an ISO 8601 date (like 2024-01-02T03:04:05Z) or {"$numberLong": "<milliseconds>"}, got ${describe(inner)}`);
        }
        return dateText(ms, at, column, inner, inner);
      }
      if (typeof inner === 'number' && Number.isFinite(inner)) return dateText(inner, at, column, inner);
      if (inner !== null && typeof inner === 'object' && !Array.isArray(inner) && wrapperType(inner as Record<string, unknown>) === '$numberLong') {
        const ms = longValue('$numberLong', (inner as Record<string, unknown>).$numberLong, `${at}/$numberLong`, column);
        return dateText(Number(ms), at, column, inner);
      }
      throw new FlattenError(at, column, `Extended JSON $date must be an ISO 8601 date (like 2024-01-02T03:04:05Z) or {"$numberLong": "<milliseconds>"}, got ${describe(inner)}`);
    }
    case '$undefined':
      return null;
    case '$binary': {
      // Canonical {"$binary": {"base64", "subType"}} or legacy {"$binary": base64, "$type": hex}.
      const b = inner !== null && typeof inner === 'object' ? (inner as Record<string, unknown>) : { base64: inner, subType: obj.$type };
      const subType = typeof b.subType === 'string' ? b.subType.toLowerCase().replace(/^0x/, '') : undefined;
      if ((subType === '04' || subType === '4' || subType === '03' || subType === '3') && typeof b.base64 === 'string') {
        const bytes = Buffer.from(b.base64, 'base64');
        if (bytes.length === 16) return uuidText(bytes.toString('hex'));
      }
      return KEEP;
    }
    default:
      return KEEP;
  }
}

/** A value inside an array as plain JSON: Extended JSON unwrapped (kept ones as they are), nested values kept. */
function plainJson(value: unknown, pointer: string, column: string, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) throw new FlattenError(pointer, column, `nested more than ${MAX_DEPTH} levels deep`);
  if (Array.isArray(value)) return value.map((v, i) => plainJson(v, `${pointer}/${i}`, column, depth + 1));
  const obj = value as Record<string, unknown>;
  const type = wrapperType(obj);
  if (type !== undefined) {
    const v = unwrap(type, obj, pointer, column);
    if (v !== KEEP) return v;
    checkDepth(obj, pointer, column, depth);
    return obj;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) {
    const v = plainJson(obj[key], `${pointer}/${token(key)}`, column, depth + 1);
    if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    else out[key] = v;
  }
  return out;
}

/**
 * Flattens one JSON record (see the module comment for the rules): nested objects into dotted names,
 * Extended JSON unwrapped, arrays and other Extended JSON values as their JSON text. The result is a
 * new object; `record` is not changed. Call {@link hasNestedValue} first to skip records that are
 * already flat.
 *
 * @throws FlattenError for two values that flatten to one name, a malformed Extended JSON value (a
 *   `$date` that is not a date, a `$numberInt` that is not a number), or nesting deeper than
 *   {@link MAX_DEPTH}.
 */
export function flattenRecord(record: Record<string, unknown>): FlatRecord {
  const out: FlatRecord = { record: {}, pointers: new Map(), objects: new Map() };
  walk(record, '', '', out, 0);
  return out;
}

function put(out: FlatRecord, column: string, pointer: string, value: FlatValue, nested: boolean): void {
  if (Object.hasOwn(out.record, column)) {
    const first = out.pointers.get(column) ?? `/${token(column)}`;
    throw new FlattenError(pointer, column, `two values flatten to the name "${column}": ${first} and ${pointer}; rename one of them`, true);
  }
  setOwn(out.record, column, value);
  if (nested) out.pointers.set(column, pointer);
}

function note(out: FlatRecord, column: string, kind: string): void {
  (out.notes ??= []).push({ column, kind });
}

function walk(obj: Record<string, unknown>, prefix: string, pointerPrefix: string, out: FlatRecord, depth: number): void {
  // By depth, not by the prefix: under an empty key (`{"": {"a": 1}}`) the prefix is empty too, and
  // the name is `.a`, not a top-level `a`.
  const nested = depth > 0;
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    const column = nested ? `${prefix}.${key}` : key;
    const pointer = `${pointerPrefix}/${token(key)}`;
    if (v === null || typeof v !== 'object') {
      put(out, column, pointer, v as FlatValue, nested);
      continue;
    }
    if (depth >= MAX_DEPTH) throw new FlattenError(pointer, column, `nested more than ${MAX_DEPTH} levels deep`);
    if (Array.isArray(v)) {
      put(out, column, pointer, JSON.stringify(plainJson(v, pointer, column, depth + 1)), nested);
      note(out, column, 'array');
      continue;
    }
    const child = v as Record<string, unknown>;
    const type = wrapperType(child);
    if (type !== undefined) {
      const value = unwrap(type, child, pointer, column);
      if (value === KEEP) {
        checkDepth(child, pointer, column, depth + 1);
        put(out, column, pointer, JSON.stringify(child), nested);
        note(out, column, type);
      } else {
        put(out, column, pointer, value, nested);
      }
      continue;
    }
    out.objects.set(column, pointer);
    walk(child, column, pointer, out, depth + 1);
  }
}

/**
 * The JSON Pointer, in the original record, of a property of its flat form: `/record.high` → `/record/high`
 * when the record had `record` as a nested object (also for a name the record lacks, under a nested object
 * it has, e.g. a required field that is missing); any other pointer unchanged. For error paths of records
 * validated in their flat form. Only the first token of `pointer` is looked at.
 */
export function originalPointer(flat: FlatRecord, pointer: string): string {
  if (!pointer.startsWith('/')) return pointer;
  const end = pointer.indexOf('/', 1);
  const first = unescapeToken(end < 0 ? pointer.slice(1) : pointer.slice(1, end));
  const rest = end < 0 ? '' : pointer.slice(end);
  const moved = flat.pointers.get(first);
  if (moved !== undefined) return moved + rest;
  // A top-level name with a dot (`{"b.c": 0, "b": {}}`) is where it is, whatever objects it looks nested under.
  if (Object.hasOwn(flat.record, first)) return pointer;
  // A name absent from the record: under the deepest nested object whose name it starts with.
  let best: string | undefined;
  for (const prefix of flat.objects.keys()) {
    if (first.startsWith(`${prefix}.`) && (best === undefined || prefix.length > best.length)) best = prefix;
  }
  if (best === undefined) return pointer;
  const under = first.slice(best.length + 1).split('.').map(token).join('/');
  return `${flat.objects.get(best)}/${under}${rest}`;
}
