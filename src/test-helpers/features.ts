/** Helpers for featurizer tests: typed columns from cells, and one fitted step ready to transform. */
import { fitPipeline } from '../core/features/fit-pipeline.js';
import { FeatureTransformer } from '../core/features/transformer.js';
import type { FitContext } from '../core/features/types.js';
import { type Column, type Table, emptyColumn, setCell } from '../core/table.js';
import type { Cell, ColumnType } from '../core/values.js';

/** A column of a type, from cells (null = missing). */
export function column(name: string, type: ColumnType, cells: Cell[]): Column {
  const col = emptyColumn(name, type, cells.length);
  cells.forEach((c, i) => setCell(col, i, c));
  return col;
}

/** A table of one column. */
export function tableOf(col: Column): Table {
  return { columns: [col], rowCount: col.values.length };
}

/** Fits one step of `kind` on a column named `c` and returns its transformer. */
export function fitStep(kind: string, type: ColumnType, cells: Cell[], params: Record<string, unknown> = {}, context: FitContext = {}): FeatureTransformer {
  return new FeatureTransformer(fitPipeline(tableOf(column('c', type, cells)), { steps: [{ column: 'c', kind, params }], dropped: [] }, context));
}

/** The outputs of one record `{c: value}` (`undefined`: the property is absent). */
export function run(t: FeatureTransformer, value: unknown): number[] {
  return Array.from(t.transformRecord(value === undefined ? {} : { c: value }));
}

/** Rounds every number to `digits` decimals (for comparing with hand-computed values). */
export function rounded(xs: ArrayLike<number>, digits = 4): number[] {
  return Array.from(xs, (x) => Number(x.toFixed(digits)) + 0);
}
