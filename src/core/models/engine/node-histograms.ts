import { MISSING_BIN } from './binning.js';
import type { TreeData, TreeParams } from './tree.js';

/** Bins per feature in a histogram: the value bins and, last, {@link MISSING_BIN}. */
export const BINS = 256;

/** A node's totals (see {@link NodeHistograms.computeStats}). */
export interface NodeStats {
  /** Bootstrap-weighted rows. */
  w: number;
  /** The score of not splitting, in the units of a split's score (Σc² / W, or S² / W). */
  proxy: number;
  impurity: number;
}

/**
 * What one tree's split search reads and counts: the training data, the tree's bootstrap sample, the
 * node totals and bin histograms over a node's rows (a range `[start, end)` of `idx`), and the pool of
 * full histograms the tree reuses. The rows in `idx` are partitioned by the tree's grower; this only
 * reads them.
 */
export class NodeHistograms {
  protected readonly rows: number;
  protected readonly width: number;
  protected readonly binned: Uint8Array;
  protected readonly y: Float64Array;
  /** Number of classes; 0 for regression. */
  protected readonly k: number;
  protected readonly classification: boolean;
  /** Numbers per bin in a histogram: class weights, or (weight, weighted sum of y). */
  readonly stride: number;
  /** Size of a histogram of every feature. */
  readonly histSize: number;
  private readonly pool: Float64Array[] = [];
  /** The node's class weights (classification) or W, S, S² (regression), set by {@link computeStats}. */
  readonly nodeStats: Float64Array;

  constructor(
    data: TreeData,
    params: TreeParams,
    /** Class index of each row (classification; empty for regression). */
    protected readonly cls: Int32Array,
    /** Bootstrap count of each row. */
    protected readonly counts: Uint16Array,
    /** The in-bag rows, each once; the grower partitions them node by node. */
    protected readonly idx: Uint32Array,
  ) {
    this.rows = data.rows;
    this.width = data.width;
    this.binned = data.binned;
    this.y = data.y;
    this.k = params.classes;
    this.classification = this.k > 0;
    this.stride = this.classification ? this.k : 2;
    this.histSize = this.width * BINS * this.stride;
    this.nodeStats = new Float64Array(this.stride === 2 ? 3 : this.k);
  }

  /** A histogram of every feature (from the pool when one is free; its contents are overwritten). */
  takeHist(): Float64Array {
    return this.pool.pop() ?? new Float64Array(this.histSize);
  }

  /** Gives a histogram back to the pool. */
  releaseHist(h: Float64Array): void {
    this.pool.push(h);
  }

  /** Adds the rows [start, end) of feature f into h at offset. Returns [minBin, maxBin] of value bins present. */
  fillFeature(h: Float64Array, offset: number, f: number, start: number, end: number): number {
    const { idx, binned, counts, y, cls, k } = this;
    const col = f * this.rows;
    let lo = BINS;
    let hi = -1;
    if (this.classification) {
      for (let i = start; i < end; i++) {
        const r = idx[i]!;
        const b = binned[col + r]!;
        h[offset + b * k + cls[r]!]! += counts[r]!;
        if (b !== MISSING_BIN) {
          if (b < lo) lo = b;
          if (b > hi) hi = b;
        }
      }
    } else {
      for (let i = start; i < end; i++) {
        const r = idx[i]!;
        const b = binned[col + r]!;
        const w = counts[r]!;
        h[offset + b * 2]! += w;
        h[offset + b * 2 + 1]! += w * y[r]!;
        if (b !== MISSING_BIN) {
          if (b < lo) lo = b;
          if (b > hi) hi = b;
        }
      }
    }
    return hi < 0 ? -1 : lo * 1024 + hi;
  }

  /** The histogram of every feature over the rows [start, end), into h. */
  fillAll(h: Float64Array, start: number, end: number): void {
    h.fill(0);
    const size = BINS * this.stride;
    for (let f = 0; f < this.width; f++) this.fillFeature(h, f * size, f, start, end);
  }

  /** Node totals: W and Σc² / W (classification) or W, S, S²/W (regression), kept in {@link nodeStats}. */
  computeStats(start: number, end: number): NodeStats {
    const { idx, counts, nodeStats } = this;
    nodeStats.fill(0);
    let w = 0;
    if (this.classification) {
      const { cls, k } = this;
      for (let i = start; i < end; i++) {
        const r = idx[i]!;
        const c = counts[r]!;
        nodeStats[cls[r]!]! += c;
        w += c;
      }
      let sq = 0;
      for (let c = 0; c < k; c++) sq += nodeStats[c]! * nodeStats[c]!;
      return { w, proxy: sq / w, impurity: 1 - sq / (w * w) };
    }
    const y = this.y;
    let s = 0;
    let ss = 0;
    for (let i = start; i < end; i++) {
      const r = idx[i]!;
      const c = counts[r]!;
      const v = y[r]!;
      w += c;
      s += c * v;
      ss += c * v * v;
    }
    nodeStats[0] = w;
    nodeStats[1] = s;
    nodeStats[2] = ss;
    const mean = s / w;
    return { w, proxy: (s * s) / w, impurity: Math.max(0, ss / w - mean * mean) };
  }

  /**
   * The histograms of a split node's children from the node's own (`hist`, which is reused): the
   * smaller child's computed, the larger one's by subtraction, when the smaller child has at least
   * `minRows` rows; else none, and `hist` goes back to the pool. Left rows are [start, mid).
   */
  childHistograms(hist: Float64Array, start: number, mid: number, end: number, minRows: number): [Float64Array | undefined, Float64Array | undefined] {
    const nLeft = mid - start;
    const nRight = end - mid;
    if (Math.min(nLeft, nRight) < minRows) {
      this.releaseHist(hist);
      return [undefined, undefined];
    }
    const smallHist = this.takeHist();
    if (nLeft <= nRight) this.fillAll(smallHist, start, mid);
    else this.fillAll(smallHist, mid, end);
    const size = this.histSize;
    for (let q = 0; q < size; q++) hist[q]! -= smallHist[q]!;
    return nLeft <= nRight ? [smallHist, hist] : [hist, smallHist];
  }
}
