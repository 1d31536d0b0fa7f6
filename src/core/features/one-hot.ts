import { cellAt } from '../table.js';
import type { Cell } from '../values.js';
import { param } from './params.js';
import type { FeaturizerKind } from './types.js';

/** Parameters of {@link oneHot}. */
export type OneHotParams = {
  /** Keep at most this many most frequent values (ties broken by value). */
  maxCategories: number;
  /** Keep only values seen at least this many times. */
  minFrequency: number;
};

/**
 * Fitted state of {@link oneHot}: the kept values in output order, and whether the training data had
 * missing values (then a `<missing>` slot exists).
 */
export type OneHotState = { categories: string[]; missingSlot: boolean };

export const OTHER_SLOT = '<other>';
export const MISSING_SLOT = '<missing>';

// Index lookup built once per fitted state object; the state itself stays plain JSON.
const lookups = new WeakMap<OneHotState, Map<string, number>>();
function lookup(state: OneHotState): Map<string, number> {
  let map = lookups.get(state);
  if (!map) {
    map = new Map(state.categories.map((c, i) => [c, i]));
    lookups.set(state, map);
  }
  return map;
}

/**
 * One 0/1 feature per frequent value, plus a `<missing>` slot when the training data had missing
 * values, plus an `<other>` slot that takes rare values and values never seen in training. A missing
 * value at serving time in a column that had none goes to `<other>`.
 */
export const oneHot: FeaturizerKind<OneHotParams, OneHotState> = {
  kind: 'one-hot',
  description: 'one 0/1 feature per frequent value + <missing> + <other> (rare and unknown values)',
  accepts: ['category', 'boolean', 'integer'],
  params(raw) {
    param.only(raw, ['maxCategories', 'minFrequency']);
    return {
      maxCategories: param.number(raw, 'maxCategories', 20, { min: 1, max: 10_000, integer: true }),
      minFrequency: param.number(raw, 'minFrequency', 2, { min: 1, integer: true }),
    };
  },
  fit(column, params) {
    const counts = new Map<string, number>();
    let missing = 0;
    for (let i = 0; i < column.values.length; i++) {
      const cell = cellAt(column, i);
      if (cell === null) missing++;
      else {
        const key = String(cell);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    const categories = [...counts.entries()]
      .filter(([, n]) => n >= params.minFrequency)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, params.maxCategories)
      .map(([value]) => value);
    return { categories, missingSlot: missing > 0 };
  },
  outputs(column, _params, state) {
    const names = state.categories.map((c) => `${column}=${c}`);
    if (state.missingSlot) names.push(`${column}=${MISSING_SLOT}`);
    names.push(`${column}=${OTHER_SLOT}`);
    return names;
  },
  transform(state, cell: Cell, out, offset) {
    const k = state.categories.length;
    const width = k + (state.missingSlot ? 1 : 0) + 1;
    for (let j = 0; j < width; j++) out[offset + j] = 0;
    let slot: number;
    if (cell === null) slot = state.missingSlot ? k : width - 1;
    else slot = lookup(state).get(String(cell)) ?? width - 1;
    out[offset + slot] = 1;
  },
  summary(params, state) {
    const shown = state.categories.slice(0, 5).join(', ');
    const more = state.categories.length > 5 ? `, … (${state.categories.length} kept)` : '';
    return `${state.categories.length} values [${shown}${more}]${state.missingSlot ? ' + <missing>' : ''} + <other> (min frequency ${params.minFrequency}, at most ${params.maxCategories})`;
  },
};
