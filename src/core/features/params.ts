import { suggest } from '../suggest.js';

/** Readers for featurizer parameters: each checks one value and throws an Error naming the parameter. */
export const param = {
  /** Rejects keys a kind does not know, suggesting the closest known one. */
  only(raw: Record<string, unknown>, known: readonly string[]): void {
    for (const key of Object.keys(raw)) {
      if (!known.includes(key)) {
        const hint = suggest(key, known);
        throw new Error(`unknown parameter "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}; known: ${known.join(', ') || 'none'}`);
      }
    }
  },
  number(raw: Record<string, unknown>, key: string, fallback: number, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
    const v = raw[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`parameter "${key}" must be a number, got ${JSON.stringify(v)}`);
    if (opts.integer && !Number.isInteger(v)) throw new Error(`parameter "${key}" must be a whole number, got ${v}`);
    if (opts.min !== undefined && v < opts.min) throw new Error(`parameter "${key}" must be at least ${opts.min}, got ${v}`);
    if (opts.max !== undefined && v > opts.max) throw new Error(`parameter "${key}" must be at most ${opts.max}, got ${v}`);
    return v;
  },
  oneOf<T extends string>(raw: Record<string, unknown>, key: string, allowed: readonly T[], fallback: T): T {
    const v = raw[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      const hint = typeof v === 'string' ? suggest(v, allowed) : undefined;
      throw new Error(`parameter "${key}" must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}${hint ? ` (did you mean "${hint}"?)` : ''}`);
    }
    return v as T;
  },
  /** `true`, `false` or `"auto"`. */
  autoBoolean(raw: Record<string, unknown>, key: string): boolean | 'auto' {
    const v = raw[key];
    if (v === undefined || v === 'auto') return 'auto';
    if (typeof v !== 'boolean') throw new Error(`parameter "${key}" must be true, false or "auto", got ${JSON.stringify(v)}`);
    return v;
  },
  listOf<T extends string>(raw: Record<string, unknown>, key: string, allowed: readonly T[], fallback: readonly T[]): T[] {
    const v = raw[key];
    if (v === undefined) return [...fallback];
    if (!Array.isArray(v) || v.length === 0) throw new Error(`parameter "${key}" must be a non-empty list of ${allowed.join(', ')}`);
    return v.map((item) => {
      if (typeof item !== 'string' || !(allowed as readonly string[]).includes(item)) {
        throw new Error(`parameter "${key}" has ${JSON.stringify(item)}; allowed: ${allowed.join(', ')}`);
      }
      return item as T;
    });
  },
};
