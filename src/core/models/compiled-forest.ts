import { ConfigError } from '../errors.js';
import type { MljsNode, SavedForest, Task } from './forest-format.js';

/**
 * A forest compiled into flat typed arrays for serving. Node `n` of the forest tests
 * `x[feature[n]] < threshold[n]` and goes to `left[n]` or `right[n]`; a leaf has `feature[n] = -1`
 * and its output in `value[n]` (class index or regression value). Prediction walks these arrays and
 * allocates nothing; its result equals ml-random-forest's `predict` on the same model (a test checks
 * every row of several data sets).
 */
export class CompiledForest {
  readonly task: Task;
  readonly classes: string[];
  readonly width: number;
  readonly treeCount: number;
  private readonly roots: Int32Array;
  private readonly feature: Int32Array;
  private readonly threshold: Float64Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly value: Float64Array;
  private readonly votes: Int32Array;

  /** Compiles a saved forest; throws ConfigError when its tree JSON is malformed. */
  constructor(saved: SavedForest) {
    if (saved?.format !== 'mlpipe.random-forest' || saved.formatVersion !== 1) {
      throw new ConfigError('model.json: not an mlpipe random forest (format mlpipe.random-forest, version 1)');
    }
    this.task = saved.task;
    this.classes = saved.classes ?? [];
    this.width = saved.featureNames.length;
    const base = saved.mljs?.baseModel;
    if (!base || !Array.isArray(base.estimators) || !Array.isArray(base.indexes)) throw new ConfigError('model.json: mljs.baseModel lacks estimators or indexes');
    this.treeCount = base.estimators.length;
    const feature: number[] = [];
    const threshold: number[] = [];
    const left: number[] = [];
    const right: number[] = [];
    const value: number[] = [];
    this.roots = new Int32Array(this.treeCount);
    const classifier = this.task === 'classification';
    base.estimators.forEach((tree, t) => {
      const columns = base.indexes[t];
      if (!columns) throw new ConfigError(`model.json: tree ${t} has no feature indexes`);
      // Iterative pre-order walk: deep trees must not overflow the stack.
      const add = (): number => {
        feature.push(-1);
        threshold.push(0);
        left.push(-1);
        right.push(-1);
        value.push(0);
        return feature.length - 1;
      };
      const stack: { node: MljsNode; id: number }[] = [{ node: tree.root, id: add() }];
      this.roots[t] = stack[0]!.id;
      while (stack.length > 0) {
        const { node, id } = stack.pop()!;
        if (node.distribution !== undefined && node.distribution !== null) {
          value[id] = classifier ? argmaxFirst(node.distribution, t) : (node.distribution as number);
          continue;
        }
        if (!node.left || !node.right || typeof node.splitColumn !== 'number' || typeof node.splitValue !== 'number') {
          throw new ConfigError(`model.json: tree ${t} has a node that is neither a leaf nor a split`);
        }
        const column = columns[node.splitColumn];
        if (column === undefined || column < 0 || column >= this.width) throw new ConfigError(`model.json: tree ${t} splits on a feature outside the model`);
        feature[id] = column;
        threshold[id] = node.splitValue;
        const l = add();
        const r = add();
        left[id] = l;
        right[id] = r;
        stack.push({ node: node.right, id: r }, { node: node.left, id: l });
      }
    });
    this.feature = Int32Array.from(feature);
    this.threshold = Float64Array.from(threshold);
    this.left = Int32Array.from(left);
    this.right = Int32Array.from(right);
    this.value = Float64Array.from(value);
    this.votes = new Int32Array(Math.max(1, this.classes.length));
  }

  /** Output of tree `t` for the row at `x[offset .. offset + width)`. */
  private leaf(t: number, x: ArrayLike<number>, offset: number): number {
    let n = this.roots[t] as number;
    const feature = this.feature;
    while ((feature[n] as number) >= 0) {
      n = (x[offset + (feature[n] as number)] as number) < (this.threshold[n] as number) ? (this.left[n] as number) : (this.right[n] as number);
    }
    return this.value[n] as number;
  }

  /**
   * Predicts one row: the class index (classification) or the value (regression). With `proba`
   * (length = number of classes), also writes the fraction of trees voting for each class.
   */
  predictRow(x: ArrayLike<number>, offset = 0, proba?: Float64Array): number {
    if (this.task === 'regression') {
      // Summed in tree order, then divided: exactly ml-array-mean, as ml-random-forest does.
      let sum = 0;
      for (let t = 0; t < this.treeCount; t++) sum += this.leaf(t, x, offset);
      return sum / this.treeCount;
    }
    const votes = this.votes;
    votes.fill(0);
    // ml-array-mode: the first label whose running count exceeds the best so far wins.
    let best = 0;
    let bestCount = 0;
    for (let t = 0; t < this.treeCount; t++) {
      const c = this.leaf(t, x, offset);
      const count = ++votes[c]!;
      if (count > bestCount) {
        bestCount = count;
        best = c;
      }
    }
    if (proba) for (let c = 0; c < proba.length; c++) proba[c] = (votes[c] as number) / this.treeCount;
    return best;
  }

  /** Predicts every row of a row-major matrix; `proba` (rows × classes) is filled for classifiers. */
  predictMatrix(matrix: Float64Array, rows: number, proba?: Float64Array): Float64Array {
    const out = new Float64Array(rows);
    const k = this.classes.length;
    for (let i = 0; i < rows; i++) {
      out[i] = this.predictRow(matrix, i * this.width, proba && this.task === 'classification' ? proba.subarray(i * k, (i + 1) * k) : undefined);
    }
    return out;
  }
}

/** Index of the first maximum of a leaf distribution `[[p0, p1, …]]` (ml-matrix `maxRowIndex`). */
function argmaxFirst(distribution: number[][] | number, tree: number): number {
  const row = Array.isArray(distribution) ? distribution[0] : undefined;
  if (!row || row.length === 0) throw new ConfigError(`model.json: tree ${tree} has a leaf without a class distribution`);
  let best = 0;
  let v = row[0] as number;
  for (let i = 1; i < row.length; i++) {
    if ((row[i] as number) > v) {
      v = row[i] as number;
      best = i;
    }
  }
  return best;
}
