import { ConfigError } from '../errors.js';
import { plainTree } from './engine/to-mljs.js';
import type { Tree } from './engine/tree.js';
import type { MljsNode, SavedForest, Task } from './forest-format.js';

/** The arrays of a compiled forest. */
export interface ForestArrays {
  task: Task;
  classes: string[];
  width: number;
  /** Root node of each tree. */
  roots: Int32Array;
  /** Feature tested by each node; -1 at a leaf. */
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  /** At a leaf: the class index the tree votes for (first maximum of its distribution) or the value. */
  leafValue: Float64Array;
  /** Classification: each node's class distribution (`classes.length` numbers per node; zeros inside). */
  leafDist: Float64Array;
}

const MAGIC = 0x46504c4d; // "MLPF"
const BINARY_VERSION = 1;

/**
 * A forest compiled into flat typed arrays for serving. A node sends a row left when
 * `x[feature] < threshold` (NaN goes right) — ml-cart's own test — so predictions equal
 * ml-random-forest's `predict` on the same model; a test checks every row of several data sets.
 * The label is the trees' majority vote (ml-random-forest's rule; a tie goes to the label that first
 * reached the top count, as ml-array-mode). Probabilities are the mean of the trees' leaf class
 * distributions (scikit-learn's rule). One-row prediction allocates nothing.
 */
export class CompiledForest {
  readonly task: Task;
  readonly classes: string[];
  readonly width: number;
  readonly treeCount: number;
  readonly arrays: ForestArrays;
  private readonly votes: Int32Array;

  constructor(arrays: ForestArrays) {
    this.arrays = arrays;
    this.task = arrays.task;
    this.classes = arrays.classes;
    this.width = arrays.width;
    this.treeCount = arrays.roots.length;
    this.votes = new Int32Array(Math.max(1, arrays.classes.length));
    const { feature, left, right } = arrays;
    for (let n = 0; n < feature.length; n++) {
      if (feature[n]! >= 0 && right[n] !== left[n]! + 1) throw new ConfigError(`compiled forest: node ${n}'s children are not side by side`);
    }
  }

  /** Compiles ml-random-forest's model JSON (inside mlpipe's saved form); ConfigError when malformed. */
  static fromSaved(saved: SavedForest): CompiledForest {
    if (saved?.format !== 'mlpipe.random-forest' || saved.formatVersion !== 1) {
      throw new ConfigError('model.json: not an mlpipe random forest (format mlpipe.random-forest, version 1)');
    }
    const base = saved.mljs?.baseModel;
    if (!base || !Array.isArray(base.estimators) || !Array.isArray(base.indexes)) throw new ConfigError('model.json: mljs.baseModel lacks estimators or indexes');
    const classifier = saved.task === 'classification';
    const k = classifier ? (saved.classes ?? []).length : 0;
    const width = saved.featureNames.length;
    const b = new Builder(k);
    const roots = new Int32Array(base.estimators.length);
    base.estimators.forEach((tree, t) => {
      const columns = base.indexes[t];
      if (!columns) throw new ConfigError(`model.json: tree ${t} has no feature indexes`);
      const stack: { node: MljsNode; id: number }[] = [{ node: tree.root, id: b.add() }];
      roots[t] = stack[0]!.id;
      while (stack.length > 0) {
        const { node, id } = stack.pop()!;
        if (node.distribution !== undefined && node.distribution !== null) {
          if (classifier) b.setDist(id, leafDistribution(node.distribution, t, k));
          else b.leafValue[id] = node.distribution as number;
          continue;
        }
        if (!node.left || !node.right || typeof node.splitColumn !== 'number' || typeof node.splitValue !== 'number') {
          throw new ConfigError(`model.json: tree ${t} has a node that is neither a leaf nor a split`);
        }
        const column = columns[node.splitColumn];
        if (column === undefined || column < 0 || column >= width) throw new ConfigError(`model.json: tree ${t} splits on a feature outside the model`);
        const l = b.add();
        const r = b.add();
        b.setSplit(id, column, node.splitValue, l, r);
        stack.push({ node: node.right, id: r }, { node: node.left, id: l });
      }
    });
    return new CompiledForest(b.finish(saved.task, saved.classes ?? [], width, roots));
  }

  /** Compiles trees grown by mlpipe's engine, through the same rewrite the ml-cart JSON gets. */
  static fromTrees(trees: Tree[], task: Task, classes: string[], width: number): CompiledForest {
    const k = task === 'classification' ? classes.length : 0;
    const b = new Builder(k);
    const roots = new Int32Array(trees.length);
    trees.forEach((tree, t) => {
      const plain = plainTree(tree);
      const base = b.size;
      roots[t] = base;
      for (let n = 0; n < plain.feature.length; n++) {
        const id = b.add();
        const f = plain.feature[n]!;
        if (f >= 0) b.setSplit(id, f, plain.threshold[n]!, base + plain.left[n]!, base + plain.right[n]!);
        else {
          const src = plain.source[n]!;
          if (k > 0) b.setDist(id, Array.from(tree.value.subarray(src * k, (src + 1) * k)));
          else b.leafValue[id] = tree.value[src]!;
        }
      }
    });
    return new CompiledForest(b.finish(task, classes, width, roots));
  }

  /** The compact binary form kept beside model.json in a bundle (loads without parsing JSON). */
  toBinary(): Buffer {
    const a = this.arrays;
    const header = Buffer.from(JSON.stringify({ task: a.task, classes: a.classes, width: a.width, trees: a.roots.length, nodes: a.feature.length }));
    const pad = (n: number) => (8 - (n % 8)) % 8;
    const headLen = 12 + header.length;
    const parts: Buffer[] = [Buffer.alloc(12), header, Buffer.alloc(pad(headLen))];
    parts[0]!.writeUInt32LE(MAGIC, 0);
    parts[0]!.writeUInt32LE(BINARY_VERSION, 4);
    parts[0]!.writeUInt32LE(header.length, 8);
    for (const arr of [a.threshold, a.leafValue, a.leafDist, a.roots, a.feature, a.left, a.right]) {
      parts.push(Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength));
    }
    return Buffer.concat(parts);
  }

  /** Reads {@link toBinary}'s output; ConfigError when it is not one. */
  static fromBinary(bytes: Uint8Array): CompiledForest {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (buf.length < 12 || buf.readUInt32LE(0) !== MAGIC) throw new ConfigError('model.bin: not an mlpipe compiled forest');
    if (buf.readUInt32LE(4) !== BINARY_VERSION) throw new ConfigError(`model.bin: version ${buf.readUInt32LE(4)}, this mlpipe reads ${BINARY_VERSION}`);
    const headerLength = buf.readUInt32LE(8);
    const h = JSON.parse(buf.subarray(12, 12 + headerLength).toString('utf8')) as { task: Task; classes: string[]; width: number; trees: number; nodes: number };
    // Views straight onto the file's bytes when they are 8-byte aligned (a fresh read usually is),
    // else one aligned copy.
    let offset = 12 + headerLength;
    offset += (8 - (offset % 8)) % 8;
    let body: ArrayBufferLike;
    let base: number;
    if ((buf.byteOffset + offset) % 8 === 0) {
      body = buf.buffer;
      base = buf.byteOffset + offset;
    } else {
      const copy = new ArrayBuffer(buf.length - offset);
      new Uint8Array(copy).set(buf.subarray(offset));
      body = copy;
      base = 0;
    }
    const bodyLength = buf.length - offset;
    let at = base;
    const f64 = (n: number) => {
      const v = new Float64Array(body, at, n);
      at += n * 8;
      return v;
    };
    const i32 = (n: number) => {
      const v = new Int32Array(body, at, n);
      at += n * 4;
      return v;
    };
    const k = h.task === 'classification' ? h.classes.length : 0;
    const expected = h.nodes * 8 * (2 + k) + (h.trees + 3 * h.nodes) * 4;
    if (bodyLength !== expected) throw new ConfigError(`model.bin: ${bodyLength} bytes of arrays, expected ${expected}`);
    const threshold = f64(h.nodes);
    const leafValue = f64(h.nodes);
    const leafDist = f64(h.nodes * k);
    const roots = i32(h.trees);
    const feature = i32(h.nodes);
    const left = i32(h.nodes);
    const right = i32(h.nodes);
    return new CompiledForest({ task: h.task, classes: h.classes, width: h.width, roots, feature, threshold, left, right, leafValue, leafDist });
  }

  /**
   * Leaf node reached by tree `t` for the row at `x[offset …]`. Siblings are stored side by side
   * (right = left + 1, checked when the forest is built), so the walk reads three arrays, not four.
   */
  private leaf(t: number, x: ArrayLike<number>, offset: number): number {
    const { roots, feature, threshold, left } = this.arrays;
    let n = roots[t]!;
    let f = feature[n]!;
    while (f >= 0) {
      n = left[n]! + ((x[offset + f] as number) < threshold[n]! ? 0 : 1);
      f = feature[n]!;
    }
    return n;
  }

  /**
   * Predicts one row: the class index (majority vote) or the value (mean of the trees). With `proba`
   * (length = number of classes), also writes the mean of the trees' leaf distributions.
   */
  predictRow(x: ArrayLike<number>, offset = 0, proba?: Float64Array): number {
    const { leafValue, leafDist } = this.arrays;
    if (this.task === 'regression') {
      // Summed in tree order, then divided: exactly ml-array-mean, as ml-random-forest does.
      let sum = 0;
      for (let t = 0; t < this.treeCount; t++) sum += leafValue[this.leaf(t, x, offset)]!;
      return sum / this.treeCount;
    }
    const votes = this.votes;
    const k = this.classes.length;
    votes.fill(0);
    if (proba) proba.fill(0);
    let best = 0;
    let bestCount = 0;
    for (let t = 0; t < this.treeCount; t++) {
      const n = this.leaf(t, x, offset);
      const c = leafValue[n]!;
      const count = ++votes[c]!;
      if (count > bestCount) {
        bestCount = count;
        best = c;
      }
      if (proba) for (let j = 0; j < k; j++) proba[j]! += leafDist[n * k + j]!;
    }
    if (proba) for (let j = 0; j < k; j++) proba[j]! /= this.treeCount;
    return best;
  }

  /**
   * Predicts every row of a row-major matrix; `proba` (rows × classes) is filled for classifiers.
   * Tree by tree rather than row by row, so one tree's nodes stay in cache across all rows; votes are
   * counted in tree order, so the result (ties included) equals {@link predictRow}'s.
   * With `into`, predicts rows `into.offset … into.offset + rows − 1` of the matrix and writes their
   * results at the same row positions of `into.out` and `proba` (how {@link PredictPool} splits a batch).
   */
  predictMatrix(matrix: Float64Array, rows: number, proba?: Float64Array, into?: { offset: number; out: Float64Array }): Float64Array {
    const first = into?.offset ?? 0;
    const out = into?.out ?? new Float64Array(rows);
    const { leafValue, leafDist } = this.arrays;
    const w = this.width;
    const end = first + rows;
    if (this.task === 'regression') {
      out.fill(0, first, end);
      for (let t = 0; t < this.treeCount; t++) for (let i = first; i < end; i++) out[i]! += leafValue[this.leaf(t, matrix, i * w)]!;
      for (let i = first; i < end; i++) out[i]! /= this.treeCount;
      return out;
    }
    const k = this.classes.length;
    const votes = new Int32Array(rows * k);
    const bestCount = new Int32Array(rows);
    if (proba) proba.fill(0, first * k, end * k);
    for (let t = 0; t < this.treeCount; t++) {
      for (let i = first; i < end; i++) {
        const n = this.leaf(t, matrix, i * w);
        const c = leafValue[n]!;
        const r = i - first;
        const count = ++votes[r * k + c]!;
        if (count > bestCount[r]!) {
          bestCount[r] = count;
          out[i] = c;
        }
        if (proba) for (let j = 0; j < k; j++) proba[i * k + j]! += leafDist[n * k + j]!;
      }
    }
    if (proba) for (let q = first * k; q < end * k; q++) proba[q]! /= this.treeCount;
    return out;
  }
}

/** Growable node arrays used while compiling. */
class Builder {
  size = 0;
  private cap = 1024;
  feature = new Int32Array(this.cap);
  threshold = new Float64Array(this.cap);
  left = new Int32Array(this.cap);
  right = new Int32Array(this.cap);
  leafValue = new Float64Array(this.cap);
  leafDist: Float64Array;

  constructor(private readonly k: number) {
    this.leafDist = new Float64Array(this.cap * k);
  }

  add(): number {
    if (this.size === this.cap) {
      this.cap *= 2;
      const grow = <T extends Int32Array | Float64Array>(a: T, n: number): T => {
        const b = new (a.constructor as new (n: number) => T)(n);
        b.set(a);
        return b;
      };
      this.feature = grow(this.feature, this.cap);
      this.threshold = grow(this.threshold, this.cap);
      this.left = grow(this.left, this.cap);
      this.right = grow(this.right, this.cap);
      this.leafValue = grow(this.leafValue, this.cap);
      this.leafDist = grow(this.leafDist, this.cap * this.k);
    }
    const id = this.size++;
    this.feature[id] = -1;
    this.left[id] = -1;
    this.right[id] = -1;
    return id;
  }

  setSplit(id: number, feature: number, threshold: number, left: number, right: number): void {
    this.feature[id] = feature;
    this.threshold[id] = threshold;
    this.left[id] = left;
    this.right[id] = right;
  }

  /** A classification leaf: its distribution, and its vote = index of the first maximum (ml-matrix maxRowIndex). */
  setDist(id: number, dist: number[]): void {
    let best = 0;
    for (let c = 0; c < dist.length; c++) {
      if (c < this.k) this.leafDist[id * this.k + c] = dist[c]!;
      if (dist[c]! > dist[best]!) best = c;
    }
    this.leafValue[id] = best;
  }

  finish(task: Task, classes: string[], width: number, roots: Int32Array): ForestArrays {
    const n = this.size;
    return {
      task,
      classes,
      width,
      roots,
      feature: this.feature.slice(0, n),
      threshold: this.threshold.slice(0, n),
      left: this.left.slice(0, n),
      right: this.right.slice(0, n),
      leafValue: this.leafValue.slice(0, n),
      leafDist: this.leafDist.slice(0, n * this.k),
    };
  }
}

/** A leaf distribution `[[p0, p1, …]]`; ml-cart may store fewer entries than classes (the rest are 0). */
function leafDistribution(distribution: number[][] | number, tree: number, k: number): number[] {
  const row = Array.isArray(distribution) ? distribution[0] : undefined;
  if (!row || row.length === 0 || row.length > k) throw new ConfigError(`model.json: tree ${tree} has a leaf without a class distribution`);
  return row;
}
