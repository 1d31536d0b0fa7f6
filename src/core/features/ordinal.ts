import { CATEGORY_IMPUTE_KEYS, type CategoryImputeParams, byFrequency, categoryImputeParams, countCategories } from './impute.js';
import { categoryIndex } from './one-hot.js';
import { param } from './params.js';
import type { FeaturizerKind } from './types.js';

/** Parameters of {@link ordinal}. */
export type OrdinalParams = {
  /** The values in order (code 0, 1, …), e.g. `[low, medium, high]`; default: by training frequency, most frequent first (ties by value). */
  order: string[] | null;
  /** Code of a value not in the order (or never seen in training); default -1. */
  unknownValue: number;
  /** Code of a missing value with `impute: missing`; default -2 (apart from unknown values). */
  missingValue: number;
} & CategoryImputeParams;

/** Fitted state: the values in code order, and the codes of unknown and missing values (`missingAs` as in one-hot). */
export type OrdinalState = { categories: string[]; unknownValue: number; missingValue: number; missingAs?: string };

/**
 * One feature: the value's code — its position in `order`, or by default its rank by training
 * frequency (0 = most frequent). A value outside the order or unseen in training gets
 * `unknownValue` (-1); training values outside a given `order` are unknown too (the summary counts
 * them). Missing (`impute`): `missing` (default) → `missingValue` (-2); `most_frequent` / `constant`
 * read it as that value.
 */
export const ordinal: FeaturizerKind<OrdinalParams, OrdinalState> = {
  kind: 'ordinal',
  description: 'one integer code per value: given order or by frequency; unknown → -1, missing → -2 (or imputed)',
  accepts: ['category', 'boolean', 'integer'],
  params(raw) {
    param.only(raw, ['order', 'unknownValue', 'missingValue', ...CATEGORY_IMPUTE_KEYS]);
    return {
      order: param.categories(raw, 'order') ?? null,
      unknownValue: param.number(raw, 'unknownValue', -1),
      missingValue: param.number(raw, 'missingValue', -2),
      ...categoryImputeParams(raw),
    };
  },
  fit(column, params) {
    const { counts, missingAs } = countCategories(column, params);
    const categories = params.order ? [...params.order] : [...counts.entries()].sort(byFrequency).map(([value]) => value);
    const state: OrdinalState = { categories, unknownValue: params.unknownValue, missingValue: params.missingValue };
    if (missingAs !== undefined) state.missingAs = missingAs;
    return state;
  },
  outputs(column) {
    return [column];
  },
  transform(state, cell, out, offset) {
    if (cell === null && state.missingAs === undefined) out[offset] = state.missingValue;
    else out[offset] = categoryIndex(state).get(cell === null ? (state.missingAs as string) : String(cell)) ?? state.unknownValue;
  },
  summary(params, state) {
    const shown = state.categories.slice(0, 6).map((c, i) => `${c}=${i}`).join(', ');
    const more = state.categories.length > 6 ? `, … (${state.categories.length} values)` : '';
    const missing = state.missingAs !== undefined ? `missing → ${JSON.stringify(state.missingAs)} (${params.impute})` : `missing → ${state.missingValue}`;
    return `${params.order ? 'given order' : 'by frequency'}: ${shown}${more}; unknown → ${state.unknownValue}; ${missing}`;
  },
};
