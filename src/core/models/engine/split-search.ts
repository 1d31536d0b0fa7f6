import type { Rng } from '../rng.js';
import { MISSING_BIN } from './binning.js';
import { BINS, NodeHistograms } from './node-histograms.js';
import type { TreeData, TreeParams } from './tree.js';

/** The best split found so far at a node. */
export interface Best {
  score: number;
  feature: number;
  /** Values in bins ≤ bin go left; -1: every value goes left and the missing ones right (or the reverse). */
  bin: number;
  missingLeft: boolean;
}

/** Moves `score` into `best` when it beats it (values in bins ≤ `bin` go left). */
function consider(best: Best, score: number, f: number, bin: number, missingLeft: boolean): boolean {
  if (!(score > best.score)) return false;
  best.score = score;
  best.feature = f;
  best.bin = bin;
  best.missingLeft = missingLeft;
  return true;
}

/**
 * The split search of one tree: for a node (a range `[start, end)` of `idx`), the best feature and
 * threshold among a random subset of features, from bin histograms. One per tree (it owns the scratch
 * memory the search reuses).
 */
export class SplitSearch extends NodeHistograms {
  private readonly binCount: Int32Array;
  private readonly mtry: number;
  private readonly minLeaf: number;
  /** One feature's histogram; all zeros between uses. */
  private readonly scratch: Float64Array;
  /** The sorted distinct value bins of a feature in a small node. */
  private readonly present = new Int32Array(BINS);
  /** The features in drawing order (a partial Fisher–Yates shuffle each split). */
  private readonly features: Int32Array;
  private readonly leftStats: Float64Array;
  private readonly mOff0: number;
  /**
   * Set by {@link findBestSplit}: flags of features found unable to split the node (one value bin and
   * nothing missing, or only missing values), which cannot split its children either.
   */
  childKnown: Uint8Array | undefined;

  constructor(data: TreeData, params: TreeParams, cls: Int32Array, counts: Uint16Array, idx: Uint32Array) {
    super(data, params, cls, counts, idx);
    this.binCount = data.binCount;
    this.mtry = params.mtry;
    this.minLeaf = params.minSamplesLeaf;
    this.scratch = new Float64Array(BINS * this.stride);
    this.features = Int32Array.from({ length: this.width }, (_, f) => f);
    this.leftStats = new Float64Array(this.k || 2);
    this.mOff0 = MISSING_BIN * this.stride;
  }

  /**
   * The best split of the node [start, end) (W = `w`) over a fresh random subset of `mtry` features,
   * into `best` (whose score the caller sets to the node's own). Keeps drawing past `mtry` while none
   * of the drawn features can split the node, as scikit-learn does. `hist` is the node's histogram of
   * every feature, when it keeps one; `known` the features an ancestor found unable to split. Sets
   * {@link childKnown}. True when a split beat the caller's score.
   */
  findBestSplit(start: number, end: number, w: number, hist: Float64Array | undefined, known: Uint8Array | undefined, rng: Rng, best: Best): boolean {
    const { width, features, binCount, mtry } = this;
    let found = false;
    let mine: Uint8Array | undefined;
    // A fresh random subset of features for this split (partial Fisher–Yates).
    for (let j = 0; j < width; j++) {
      const pick = j + rng.int(width - j);
      const f = features[pick]!;
      features[pick] = features[j]!;
      features[j] = f;
      // Known to have one value bin and no missing value here (or only missing values): no split.
      if (known !== undefined && known[f] === 1) {
        if (j + 1 >= mtry && found) break;
        continue;
      }
      const nb = binCount[f]!;
      let result: 0 | 1 | 2;
      if (hist) result = this.scan(hist, f * BINS * this.stride, f, 0, nb - 1, w, best) ? 1 : 0;
      else if (nb === 2) result = this.binaryFeature(f, start, end, w, best);
      else result = this.histogramFeature(f, start, end, w, best);
      if (result === 1) found = true;
      else if (result === 2) {
        if (mine === undefined) mine = known === undefined ? new Uint8Array(width) : known.slice();
        mine[f] = 1;
      }
      if (j + 1 >= mtry && found) break;
    }
    this.childKnown = mine ?? known;
    return found;
  }

  /**
   * Scans one feature's histogram (at h[offset…]) for the best threshold; updates `best`. The bins
   * visited are lo…hi, or, when `list` is given, the `listLength` sorted bins in it (a small node
   * whose few rows are spread over many bins).
   */
  private scan(h: Float64Array, offset: number, f: number, lo: number, hi: number, w: number, best: Best, list?: Int32Array, listLength = 0): boolean {
    return this.classification ? this.scanClasses(h, offset, f, lo, hi, w, best, list, listLength) : this.scanMeans(h, offset, f, lo, hi, w, best, list, listLength);
  }

  /** {@link scan} by Gini impurity: a split's score is Σc_L² / W_L + Σc_R² / W_R. */
  private scanClasses(h: Float64Array, offset: number, f: number, lo: number, hi: number, w: number, best: Best, list: Int32Array | undefined, listLength: number): boolean {
    const { k, leftStats, nodeStats, minLeaf } = this;
    const steps = list ? listLength : hi - lo + 1;
    let found = false;
    const mOff = offset + MISSING_BIN * k;
    let missW = 0;
    for (let c = 0; c < k; c++) missW += h[mOff + c]!;
    const valueW = w - missW;
    leftStats.fill(0);
    let lw = 0;
    for (let step = 0; step < steps; step++) {
      const b = list ? list[step]! : lo + step;
      let bw = 0;
      const o = offset + b * k;
      for (let c = 0; c < k; c++) {
        const v = h[o + c]!;
        leftStats[c]! += v;
        bw += v;
      }
      if (bw === 0) continue;
      lw += bw;
      const last = lw >= valueW; // every value is left: only a "values | missing" split remains
      if (last && missW === 0) break;
      for (let side = 0; side < (missW > 0 ? 2 : 1); side++) {
        // side 0: missing goes right; side 1: missing goes left
        if (last && side === 1) continue;
        const wl = side === 1 ? lw + missW : lw;
        const wr = w - wl;
        if (wl < minLeaf || wr < minLeaf || wl === 0 || wr === 0) continue;
        let sl = 0;
        let sr = 0;
        for (let c = 0; c < k; c++) {
          const l = leftStats[c]! + (side === 1 ? h[mOff + c]! : 0);
          const r = nodeStats[c]! - l;
          sl += l * l;
          sr += r * r;
        }
        if (consider(best, sl / wl + sr / wr, f, last ? -1 : b, side === 1)) found = true;
      }
      if (last) break;
    }
    return found;
  }

  /** {@link scan} by squared error: a split's score is S_L² / W_L + S_R² / W_R. */
  private scanMeans(h: Float64Array, offset: number, f: number, lo: number, hi: number, w: number, best: Best, list: Int32Array | undefined, listLength: number): boolean {
    const minLeaf = this.minLeaf;
    const steps = list ? listLength : hi - lo + 1;
    let found = false;
    const mOff = offset + MISSING_BIN * 2;
    const missW = h[mOff]!;
    const missS = h[mOff + 1]!;
    const valueW = w - missW;
    const totalS = this.nodeStats[1]!;
    let lw = 0;
    let ls = 0;
    for (let step = 0; step < steps; step++) {
      const b = list ? list[step]! : lo + step;
      const bw = h[offset + b * 2]!;
      if (bw === 0) continue;
      lw += bw;
      ls += h[offset + b * 2 + 1]!;
      const last = lw >= valueW;
      if (last && missW === 0) break;
      for (let side = 0; side < (missW > 0 ? 2 : 1); side++) {
        if (last && side === 1) continue;
        const wl = side === 1 ? lw + missW : lw;
        const sl = side === 1 ? ls + missS : ls;
        const wr = w - wl;
        if (wl < minLeaf || wr < minLeaf || wl === 0 || wr === 0) continue;
        const sr = totalS - sl;
        if (consider(best, (sl * sl) / wl + (sr * sr) / wr, f, last ? -1 : b, side === 1)) found = true;
      }
      if (last) break;
    }
    return found;
  }

  /** True when every row of the node is in one value bin and none is missing: no split possible (scan would find none). */
  private constantWithoutMissing(range: number): boolean {
    if (range >> 10 !== (range & 1023)) return false;
    const { scratch, mOff0, stride } = this;
    for (let c = 0; c < stride; c += this.classification ? 1 : 2) if (scratch[mOff0 + c] !== 0) return false;
    return true;
  }

  /**
   * The split search of a feature with two value bins (one-hot columns, indicators): the same sums
   * as fillFeature + scan, without a histogram pass that writes memory for every row. Bin 0's class
   * weights are the node's minus bin 1's and the missing ones' (integers: exact); regression sums
   * each bin in registers, in row order as fillFeature does. Leaves `scratch` cleared. Returns 1
   * when it improved `best`, 2 when the feature cannot split this node's rows (one value bin and
   * nothing missing, or only missing values), else 0.
   */
  private binaryFeature(f: number, start: number, end: number, w: number, best: Best): 0 | 1 | 2 {
    const { idx, binned, counts, scratch, mOff0, stride } = this;
    const col = f * this.rows;
    let has0: boolean;
    let has1: boolean;
    if (this.classification) {
      const { cls, k, nodeStats } = this;
      for (let i = start; i < end; i++) {
        const r = idx[i]!;
        const b = binned[col + r]!;
        if (b !== 0) scratch[b * k + cls[r]!]! += counts[r]!;
      }
      has0 = false;
      has1 = false;
      for (let c = 0; c < k; c++) {
        const w1 = scratch[k + c]!;
        const w0 = nodeStats[c]! - w1 - scratch[mOff0 + c]!;
        scratch[c] = w0;
        if (w0 > 0) has0 = true;
        if (w1 > 0) has1 = true;
      }
    } else {
      const y = this.y;
      let w0 = 0;
      let s0 = 0;
      let w1 = 0;
      let s1 = 0;
      let wm = 0;
      let sm = 0;
      for (let i = start; i < end; i++) {
        const r = idx[i]!;
        const b = binned[col + r]!;
        const c = counts[r]!;
        if (b === 0) {
          w0 += c;
          s0 += c * y[r]!;
        } else if (b === 1) {
          w1 += c;
          s1 += c * y[r]!;
        } else {
          wm += c;
          sm += c * y[r]!;
        }
      }
      scratch[0] = w0;
      scratch[1] = s0;
      scratch[2] = w1;
      scratch[3] = s1;
      scratch[mOff0] = wm;
      scratch[mOff0 + 1] = sm;
      has0 = w0 > 0;
      has1 = w1 > 0;
    }
    let result: 0 | 1 | 2 = 2;
    if (has0 || has1) {
      const lo = has0 ? 0 : 1;
      const hi = has1 ? 1 : 0;
      if (!this.constantWithoutMissing(lo * 1024 + hi)) result = this.scan(scratch, 0, f, lo, hi, w, best) ? 1 : 0;
    }
    for (let q = 0; q < 2 * stride; q++) scratch[q] = 0;
    for (let q = mOff0; q < mOff0 + stride; q++) scratch[q] = 0;
    return result;
  }

  /**
   * The split search of a feature with more value bins, through its histogram over the node's rows
   * (in `scratch`, cleared after). Returns as {@link binaryFeature} does.
   */
  private histogramFeature(f: number, start: number, end: number, w: number, best: Best): 0 | 1 | 2 {
    const { scratch, stride, mOff0 } = this;
    let result: 0 | 1 | 2 = 0;
    const range = this.fillFeature(scratch, 0, f, start, end);
    if (range < 0) result = 2;
    else {
      const lo = range >> 10;
      const hi = range & 1023;
      if (hi - lo + 1 > 2 * (end - start)) {
        // Few rows over many bins: visit only the bins present (sorted, distinct), and clear only those.
        const present = this.present;
        const u = this.presentBins(f, start, end);
        if (this.scan(scratch, 0, f, lo, hi, w, best, present, u)) result = 1;
        for (let q = 0; q < u; q++) {
          const o = present[q]! * stride;
          for (let c = 0; c < stride; c++) scratch[o + c] = 0;
        }
      } else {
        if (this.constantWithoutMissing(range)) result = 2;
        else if (this.scan(scratch, 0, f, lo, hi, w, best)) result = 1;
        if (hi - lo < 8) for (let q = lo * stride; q < (hi + 1) * stride; q++) scratch[q] = 0;
        else scratch.fill(0, lo * stride, (hi + 1) * stride);
      }
    }
    for (let q = mOff0; q < mOff0 + stride; q++) scratch[q] = 0;
    return result;
  }

  /** The distinct value bins of feature f over the rows [start, end), sorted, into `present`; returns their count. */
  private presentBins(f: number, start: number, end: number): number {
    const { present, binned, idx } = this;
    const col = f * this.rows;
    let m = 0;
    for (let i = start; i < end; i++) {
      const b = binned[col + idx[i]!]!;
      if (b !== MISSING_BIN) present[m++] = b;
    }
    let u = 0;
    for (let q = 0; q < m; q++) {
      const b = present[q]!;
      let p = u - 1;
      while (p >= 0 && present[p]! > b) p--;
      if (p >= 0 && present[p] === b) continue;
      for (let t = u; t > p + 1; t--) present[t] = present[t - 1]!;
      present[p + 1] = b;
      u++;
    }
    return u;
  }
}
