import { Rng } from './rng.js';

/** Options of {@link permutationImportance}. */
export interface PermutationImportanceOptions {
  /** Feature matrix, row-major (`rows × width`). Never modified. */
  matrix: Float64Array;
  rows: number;
  width: number;
  /**
   * Scores a whole matrix, higher is better (e.g. accuracy or R² of a fitted model's predictions on
   * it). It receives a working copy that is reused between calls: it must not keep or modify it.
   */
  score: (matrix: Float64Array) => number;
  seed: number;
  /** Shuffles per column (or group). Default 5. */
  repeats?: number;
  /**
   * Sets of column indices permuted together, e.g. all one-hot columns of one input column; one result
   * per group instead of per column. A column may appear in several groups.
   */
  groups?: number[][];
}

/** Importance per column (or per group), in column (group) order. */
export interface PermutationImportance {
  /** Mean over repeats of baseline score − score with the column (group) shuffled. */
  mean: number[];
  /** Population standard deviation over repeats (as scikit-learn's `permutation_importance`). */
  std: number[];
}

/**
 * Permutation importance: how much `score` drops when one column (or one group of columns) is shuffled
 * across rows, breaking its link with the target. A group is shuffled with one row permutation applied
 * to all its columns, so one-hot columns stay a valid encoding. The input matrix is never modified:
 * the shuffles happen on a copy, restored after each one.
 *
 * Deterministic for a seed; like scikit-learn, every column (group) sees the same sequence of row
 * permutations (a fresh `Rng(seed)` each), so its importance does not depend on which columns come
 * before it.
 *
 * @throws RangeError when the matrix size is not `rows × width`, `repeats` is not a positive integer,
 * or a group is empty or names a column outside `[0, width)`.
 */
export function permutationImportance(options: PermutationImportanceOptions): PermutationImportance {
  const { matrix, rows, width, score, seed } = options;
  const repeats = options.repeats ?? 5;
  if (!Number.isInteger(rows) || !Number.isInteger(width) || rows < 0 || width < 0 || matrix.length !== rows * width) {
    throw new RangeError(`permutationImportance: matrix has ${matrix.length} values, expected rows (${rows}) × width (${width}) = ${rows * width}`);
  }
  if (!Number.isInteger(repeats) || repeats < 1) throw new RangeError(`permutationImportance: repeats must be a positive integer, got ${repeats}`);
  const groups = options.groups ?? Array.from({ length: width }, (_, c) => [c]);
  groups.forEach((group, g) => {
    if (group.length === 0) throw new RangeError(`permutationImportance: groups[${g}] is empty; give each group at least one column`);
    for (const c of group) {
      if (!Number.isInteger(c) || c < 0 || c >= width) throw new RangeError(`permutationImportance: groups[${g}] names column ${c}, outside 0…${width - 1}`);
    }
  });

  const work = Float64Array.from(matrix);
  const baseline = score(work);
  const mean: number[] = [];
  const std: number[] = [];
  for (const group of groups) {
    const rng = new Rng(seed);
    const drops: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const perm = rng.shuffle(Array.from({ length: rows }, (_, i) => i));
      for (const c of group) {
        for (let i = 0; i < rows; i++) work[i * width + c] = matrix[(perm[i] as number) * width + c] as number;
      }
      drops.push(baseline - score(work));
      for (const c of group) {
        for (let i = 0; i < rows; i++) work[i * width + c] = matrix[i * width + c] as number;
      }
    }
    const m = drops.reduce((s, v) => s + v, 0) / repeats;
    mean.push(m);
    std.push(Math.sqrt(drops.reduce((s, v) => s + (v - m) * (v - m), 0) / repeats));
  }
  return { mean, std };
}
