import { suggest } from '../suggest.js';
import { parseDatetime } from '../values.js';

/**
 * A bad featurizer parameter. `param` names it, `problem` says what is wrong without naming it (the
 * pipeline and the config reader put it after the config path: `features.columns.age.impute: must be
 * one of …`); `message` is readable on its own (`parameter "impute" must be one of …`).
 */
export class ParamError extends Error {
  readonly param: string;
  readonly problem: string;
  constructor(param: string, problem: string, message = `parameter "${param}" ${problem}`) {
    super(message);
    this.name = 'ParamError';
    this.param = param;
    this.problem = problem;
  }
}

function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

/**
 * Readers for featurizer parameters: each checks one value and throws a {@link ParamError} naming the
 * parameter. The readers of optional values read `null` as absent, so that a kind's parsed parameters
 * (saved in featurizer.json, where "none" is `null`) read back as themselves.
 */
export const param = {
  /** Rejects keys a kind does not know, suggesting the closest known one. */
  only(raw: Record<string, unknown>, known: readonly string[]): void {
    for (const key of Object.keys(raw)) {
      if (!known.includes(key)) {
        const hint = suggest(key, known);
        const problem = `unknown parameter "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}; known: ${known.join(', ') || 'none'}`;
        throw new ParamError(key, problem, problem);
      }
    }
  },
  number(raw: Record<string, unknown>, key: string, fallback: number, opts: { min?: number; max?: number; integer?: boolean; above?: number } = {}): number {
    const v = raw[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ParamError(key, `must be a number, got ${show(v)}`);
    if (opts.integer && !Number.isInteger(v)) throw new ParamError(key, `must be a whole number, got ${v}`);
    if (opts.min !== undefined && v < opts.min) throw new ParamError(key, `must be at least ${opts.min}, got ${v}`);
    if (opts.above !== undefined && v <= opts.above) throw new ParamError(key, `must be more than ${opts.above}, got ${v}`);
    if (opts.max !== undefined && v > opts.max) throw new ParamError(key, `must be at most ${opts.max}, got ${v}`);
    return v;
  },
  oneOf<T extends string>(raw: Record<string, unknown>, key: string, allowed: readonly T[], fallback: T): T {
    const v = raw[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      const hint = typeof v === 'string' ? suggest(v, allowed) : undefined;
      throw new ParamError(key, `must be one of ${allowed.join(', ')}, got ${show(v)}${hint ? ` (did you mean "${hint}"?)` : ''}`);
    }
    return v as T;
  },
  boolean(raw: Record<string, unknown>, key: string, fallback: boolean): boolean {
    const v = raw[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw new ParamError(key, `must be true or false, got ${show(v)}`);
    return v;
  },
  /** `true`, `false` or `"auto"`. */
  autoBoolean(raw: Record<string, unknown>, key: string): boolean | 'auto' {
    const v = raw[key];
    if (v === undefined || v === 'auto') return 'auto';
    if (typeof v !== 'boolean') throw new ParamError(key, `must be true, false or "auto", got ${show(v)}`);
    return v;
  },
  listOf<T extends string>(raw: Record<string, unknown>, key: string, allowed: readonly T[], fallback: readonly T[]): T[] {
    const v = raw[key];
    if (v === undefined) return [...fallback];
    if (!Array.isArray(v) || v.length === 0) throw new ParamError(key, `must be a non-empty list of ${allowed.join(', ')}`);
    const out = v.map((item) => {
      if (typeof item !== 'string' || !(allowed as readonly string[]).includes(item)) {
        const hint = typeof item === 'string' ? suggest(item, allowed) : undefined;
        throw new ParamError(key, `has ${show(item)}${hint ? ` (did you mean "${hint}"?)` : ''}; allowed: ${allowed.join(', ')}`);
      }
      return item as T;
    });
    const dup = out.find((item, i) => out.indexOf(item) !== i);
    if (dup !== undefined) throw new ParamError(key, `lists ${show(dup)} twice`);
    return out;
  },
  /** A non-empty list of distinct finite numbers in increasing order, or undefined when absent. */
  increasingNumbers(raw: Record<string, unknown>, key: string): number[] | undefined {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.length === 0) throw new ParamError(key, `must be a non-empty list of numbers in increasing order, got ${show(v)}`);
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x !== 'number' || !Number.isFinite(x)) throw new ParamError(key, `must be a list of numbers; item ${i + 1} is ${show(x)}`);
      if (i > 0 && x <= (v[i - 1] as number)) throw new ParamError(key, `must be in strictly increasing order; ${x} follows ${v[i - 1]}`);
    }
    return [...(v as number[])];
  },
  /**
   * A non-empty list of distinct category values (strings; numbers and booleans are read as their
   * text, as a category cell is), or undefined when absent.
   */
  categories(raw: Record<string, unknown>, key: string): string[] | undefined {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.length === 0) throw new ParamError(key, `must be a non-empty list of values, got ${show(v)}`);
    const out = v.map((item, i) => {
      if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') throw new ParamError(key, `must be a list of values; item ${i + 1} is ${show(item)}`);
      return String(item);
    });
    const dup = out.find((item, i) => out.indexOf(item) !== i);
    if (dup !== undefined) throw new ParamError(key, `lists ${show(dup)} twice`);
    return out;
  },
  /** A category value (string; a number or boolean is read as its text), or undefined when absent. */
  category(raw: Record<string, unknown>, key: string): string | undefined {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new ParamError(key, `must be a value (text or number), got ${show(v)}`);
    return String(v);
  },
  /** An IANA time zone (`Europe/Paris`, `UTC`), checked with Intl and returned in its canonical spelling. */
  timezone(raw: Record<string, unknown>, key: string, fallback: string): string {
    const v = raw[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || v.trim() === '') throw new ParamError(key, `must be a time zone name like "Europe/Paris" or "UTC", got ${show(v)}`);
    try {
      return new Intl.DateTimeFormat('en-US', { timeZone: v }).resolvedOptions().timeZone;
    } catch {
      throw new ParamError(key, `must be an IANA time zone like "Europe/Paris", "America/New_York" or "UTC", got ${show(v)}`);
    }
  },
  /** A date (`2024-01-31`, `2024-01-31T12:00:00Z`, or epoch milliseconds) as epoch milliseconds, or undefined when absent. */
  date(raw: Record<string, unknown>, key: string): number | undefined {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    const t = typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' ? parseDatetime(v) : Number.NaN;
    if (Number.isNaN(t)) throw new ParamError(key, `must be a date like 2024-01-31 or 2024-01-31T12:00:00Z, got ${show(v)}`);
    return t;
  },
};
