import { NUMERIC_IMPUTE_KEYS, type NumericFill, type NumericImputeParams, fitNumericFill, imputeSummary, numericImputeParams, round } from './impute.js';
import { ParamError, param } from './params.js';
import { quantileSorted, sortedPresent } from './stats.js';
import type { FeaturizerKind } from './types.js';

/** Parameters of {@link bin}. */
export type BinParams = NumericImputeParams & {
  /** Number of quantile bins (default 5); null when `edges` is given. */
  bins: number | null;
  /** Fixed cut points, strictly increasing: n edges make n + 1 bins. Excludes `bins`. */
  edges: number[] | null;
  /** `onehot` (default): one 0/1 feature per bin; `ordinal`: the bin index 0 … n as one feature. */
  encode: 'onehot' | 'ordinal';
};
/** Fitted state: the cut points (bin i holds edges[i − 1] ≤ x < edges[i]), the encoding and the fill. */
export type BinState = NumericFill & { edges: number[]; encode: 'onehot' | 'ordinal' };

/** The bin of x: how many edges are ≤ x (binary search; numpy's `digitize`, scikit-learn's KBinsDiscretizer). */
function binOf(edges: readonly number[], x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((edges[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Discretizes a number: into `bins` bins of about equal training counts (cut at the quantiles
 * 1/bins … (bins−1)/bins, linear interpolation; repeated cut points merge, so a column with few
 * distinct values gets fewer bins), or at fixed `edges`. Bin i holds `edges[i−1] ≤ x < edges[i]`; the
 * first and last bins are open-ended, so every unseen value has a bin. Output: one-hot of the bin
 * (`age=[30,45)`) or its index (`age.bin`). A missing value is imputed in the column's units, then
 * binned (+ the missing indicator).
 */
export const bin: FeaturizerKind<BinParams, BinState> = {
  kind: 'bin',
  description: 'bins: quantile (bins: 5) or fixed edges; one-hot of the bin or its index; missing → imputed then binned + optional missing indicator',
  accepts: ['number', 'integer'],
  params(raw) {
    param.only(raw, [...NUMERIC_IMPUTE_KEYS, 'bins', 'edges', 'encode']);
    const edges = param.increasingNumbers(raw, 'edges') ?? null;
    if (edges && raw.bins !== undefined && raw.bins !== null) throw new ParamError('bins', 'cannot be given with edges (fixed edges decide the bins)');
    return {
      ...numericImputeParams(raw),
      bins: edges ? null : param.number(raw, 'bins', 5, { min: 2, max: 1000, integer: true }),
      edges,
      encode: param.oneOf(raw, 'encode', ['onehot', 'ordinal'] as const, 'onehot'),
    };
  },
  fit(column, params) {
    const sorted = sortedPresent(column.values as Float64Array);
    let edges: number[];
    if (params.edges) edges = [...params.edges];
    else {
      edges = [];
      const bins = params.bins ?? 5;
      for (let i = 1; i < bins; i++) {
        const q = quantileSorted(sorted, i / bins);
        // A cut at or below the minimum would leave the first bin empty; equal cuts merge.
        if (sorted.length > 0 && q > (sorted[0] as number) && (edges.length === 0 || q > (edges[edges.length - 1] as number))) edges.push(q);
      }
    }
    return { edges, encode: params.encode, ...fitNumericFill(column, params, sorted) };
  },
  outputs(column, _params, state) {
    const names =
      state.encode === 'ordinal'
        ? [`${column}.bin`]
        : Array.from({ length: state.edges.length + 1 }, (_, i) => `${column}=[${i === 0 ? '-inf' : round(state.edges[i - 1] as number)},${i === state.edges.length ? 'inf' : round(state.edges[i] as number)})`);
    if (state.indicator) names.push(`${column}__missing`);
    return names;
  },
  transform(state, cell, out, offset) {
    const missing = cell === null;
    const b = binOf(state.edges, missing ? state.fill : (cell as number));
    let width = 1;
    if (state.encode === 'ordinal') out[offset] = b;
    else {
      width = state.edges.length + 1;
      for (let j = 0; j < width; j++) out[offset + j] = 0;
      out[offset + b] = 1;
    }
    if (state.indicator) out[offset + width] = missing ? 1 : 0;
  },
  summary(params, state) {
    const how = params.edges ? 'fixed edges' : `${params.bins} quantile bins`;
    return `${state.edges.length + 1} bins (${how}) cut at [${state.edges.map(round).join(', ')}], ${state.encode}; ${imputeSummary(params, state)}`;
  },
};
