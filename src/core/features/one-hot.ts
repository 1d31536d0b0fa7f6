import type { Cell } from '../values.js';
import { CATEGORY_IMPUTE_KEYS, type CategoryImputeParams, byFrequency, categoryImputeParams, countCategories } from './impute.js';
import { param } from './params.js';
import type { FeaturizerKind } from './types.js';

/** Parameters of {@link oneHot}. */
export type OneHotParams = {
  /** Keep at most this many most frequent values (the "top k"; ties broken by value). Default 20. */
  maxCategories: number;
  /** Keep only values seen at least this many times. Default 2. */
  minFrequency: number;
} & CategoryImputeParams;

/**
 * Fitted state of {@link oneHot}: the kept values in output order, whether a `<missing>` slot exists
 * (`impute: missing` and the training data had missing values), and, with `impute: most_frequent` or
 * `constant`, the value a missing one is read as (`missingAs`; absent otherwise, as in states written
 * before it existed).
 */
export type OneHotState = { categories: string[]; missingSlot: boolean; missingAs?: string };

const OTHER_SLOT = '<other>';
const MISSING_SLOT = '<missing>';

// Index lookup built once per fitted state object; the state itself stays plain JSON.
const lookups = new WeakMap<{ categories: string[] }, Map<string, number>>();
/** The index of each category of a state (built once per state object, then cached). */
export function categoryIndex(state: { categories: string[] }): Map<string, number> {
  let map = lookups.get(state);
  if (!map) {
    map = new Map(state.categories.map((c, i) => [c, i]));
    lookups.set(state, map);
  }
  return map;
}

/**
 * One 0/1 feature per frequent value (at most `maxCategories`, each seen at least `minFrequency`
 * times), plus an explicit `<other>` slot that takes rare values and values never seen in training.
 * Missing values (`impute`): `missing` (default) gives them a `<missing>` slot when the training data
 * had some (a value missing only at serving time goes to `<other>`); `most_frequent` and `constant`
 * read them as that value (counted as such at fit).
 */
export const oneHot: FeaturizerKind<OneHotParams, OneHotState> = {
  kind: 'one-hot',
  description: 'one 0/1 feature per frequent value + <missing> + <other> (rare and unknown values)',
  accepts: ['category', 'boolean', 'integer'],
  params(raw) {
    param.only(raw, ['maxCategories', 'minFrequency', ...CATEGORY_IMPUTE_KEYS]);
    return {
      maxCategories: param.number(raw, 'maxCategories', 20, { min: 1, max: 10_000, integer: true }),
      minFrequency: param.number(raw, 'minFrequency', 2, { min: 1, integer: true }),
      ...categoryImputeParams(raw),
    };
  },
  fit(column, params) {
    const { counts, missing, missingAs } = countCategories(column, params);
    const categories = [...counts.entries()]
      .filter(([, n]) => n >= params.minFrequency)
      .sort(byFrequency)
      .slice(0, params.maxCategories)
      .map(([value]) => value);
    if (missingAs !== undefined) return { categories, missingSlot: false, missingAs };
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
    if (cell === null && state.missingAs === undefined) slot = state.missingSlot ? k : width - 1;
    else slot = categoryIndex(state).get(cell === null ? (state.missingAs as string) : String(cell)) ?? width - 1;
    out[offset + slot] = 1;
  },
  summary(params, state) {
    const shown = state.categories.slice(0, 5).join(', ');
    const more = state.categories.length > 5 ? `, … (${state.categories.length} kept)` : '';
    const missing = state.missingAs !== undefined ? `; missing → ${JSON.stringify(state.missingAs)} (${params.impute})` : state.missingSlot ? ' + <missing>' : '';
    return `${state.categories.length} values [${shown}${more}]${missing} + <other> (min frequency ${params.minFrequency}, at most ${params.maxCategories})`;
  },
};
