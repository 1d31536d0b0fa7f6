/**
 * A short JSON text of a client's value, for error messages. `JSON.stringify` would walk the whole
 * value first: a 10 MB value costs 10 MB of text to show 40 characters of it, and a value nested a few
 * thousand levels deep overflows the call stack (a 500 instead of the 400 the client earned). This
 * walk stops as soon as it has `max` characters, so its work and its depth are bounded by `max`.
 */

/** At most `max` characters of `value`'s JSON text, then `…` when there was more; `nothing` for undefined. */
export function previewJson(value: unknown, max = 40): string {
  if (value === undefined) return 'nothing';
  const out: string[] = [];
  let length = 0;
  let cut = false;
  /** Appends text; false once the preview is full (every caller then stops). */
  const add = (text: string): boolean => {
    if (length + text.length > max) {
      out.push(text.slice(0, max - length));
      length = max;
      cut = true;
      return false;
    }
    out.push(text);
    length += text.length;
    return true;
  };
  // Each level adds at least one character, so the recursion is at most `max` deep.
  const walk = (v: unknown): boolean => {
    if (v === null || typeof v !== 'object') {
      if (typeof v === 'string') return add(JSON.stringify(v.length > max ? v.slice(0, max + 1) : v));
      if (typeof v === 'number') return add(Number.isFinite(v) ? String(v) : 'null');
      if (typeof v === 'boolean') return add(String(v));
      return add('null');
    }
    if (Array.isArray(v)) {
      if (!add('[')) return false;
      for (let i = 0; i < v.length; i++) {
        if ((i > 0 && !add(',')) || !walk(v[i])) return false;
      }
      return add(']');
    }
    if (!add('{')) return false;
    let first = true;
    // for…in stops early: no array of all the keys of an object with a million of them.
    for (const key in v as Record<string, unknown>) {
      if (!Object.hasOwn(v, key)) continue;
      if ((!first && !add(',')) || !add(`${JSON.stringify(key.length > max ? key.slice(0, max + 1) : key)}:`) || !walk((v as Record<string, unknown>)[key])) return false;
      first = false;
    }
    return add('}');
  };
  walk(value);
  return cut ? `${out.join('')}…` : out.join('');
}
