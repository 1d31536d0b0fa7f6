import { CATEGORY_IMPUTE_KEYS, type CategoryImputeParams, byFrequency, categoryImputeParams, countCategories, round } from './impute.js';
import { categoryIndex } from './one-hot.js';
import { param } from './params.js';
import type { FeaturizerKind } from './types.js';

/** Parameters of {@link frequency}: imputation only. */
export type FrequencyParams = CategoryImputeParams;

/**
 * Fitted state: each training value with its share of the training rows (same order), the share of
 * rows whose value was missing, and `missingAs` as in one-hot.
 */
export type FrequencyState = { categories: string[]; shares: number[]; missingShare: number; missingAs?: string };

/**
 * One feature: the share of training rows (all of them, missing ones included in the count) that had
 * the value; a value never seen in training → 0. Missing (`impute`): `missing` (default) → the share
 * of training rows that were missing (0 when none were); `most_frequent` / `constant` read it as that
 * value (and count the missing rows as it at fit).
 */
export const frequency: FeaturizerKind<FrequencyParams, FrequencyState> = {
  kind: 'frequency',
  description: 'share of training rows with the value; unknown → 0; missing → share of missing rows (or imputed)',
  accepts: ['category', 'boolean', 'integer'],
  params(raw) {
    param.only(raw, CATEGORY_IMPUTE_KEYS);
    return categoryImputeParams(raw);
  },
  fit(column, params) {
    const rows = column.values.length;
    const { counts, missing, missingAs } = countCategories(column, params);
    const entries = [...counts.entries()].sort(byFrequency);
    const state: FrequencyState = {
      categories: entries.map(([value]) => value),
      shares: entries.map(([, n]) => n / rows),
      missingShare: missingAs === undefined && rows > 0 ? missing / rows : 0,
    };
    if (missingAs !== undefined) state.missingAs = missingAs;
    return state;
  },
  outputs(column) {
    return [column];
  },
  transform(state, cell, out, offset) {
    if (cell === null && state.missingAs === undefined) {
      out[offset] = state.missingShare;
      return;
    }
    const i = categoryIndex(state).get(cell === null ? (state.missingAs as string) : String(cell));
    out[offset] = i === undefined ? 0 : (state.shares[i] as number);
  },
  summary(params, state) {
    const shown = state.categories.slice(0, 5).map((c, i) => `${c} ${round(state.shares[i] as number)}`).join(', ');
    const more = state.categories.length > 5 ? `, … (${state.categories.length} values)` : '';
    const missing = state.missingAs !== undefined ? `missing → ${JSON.stringify(state.missingAs)} (${params.impute})` : `missing → ${round(state.missingShare)}`;
    return `${shown}${more}; unknown → 0; ${missing}`;
  },
};
