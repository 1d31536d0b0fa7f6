import { Rng } from '../rng.js';
import { MISSING_BIN } from './binning.js';

/** What one tree needs to know about the training data (all of it shareable with worker threads). */
export interface TreeData {
  rows: number;
  width: number;
  /** Column-major bins (`binned[f * rows + i]`), see binning.ts. */
  binned: Uint8Array;
  /** Thresholds per feature: `x < thresholds[f][b]` ⟺ bin(x) ≤ b. */
  thresholds: Float64Array[];
  binCount: Int32Array;
  /** Class index (classification) or value (regression) per row. */
  y: Float64Array;
}

/** Parameters of one tree (already resolved from the forest's parameters). */
export interface TreeParams {
  /** Number of classes; 0 for regression. */
  classes: number;
  /** Features drawn at each split (more are drawn while none of them gives a valid split). */
  mtry: number;
  maxDepth: number;
  /** A node with fewer (bootstrap-weighted) samples than this is a leaf. */
  minSamplesSplit: number;
  /** Each child must keep at least this many (bootstrap-weighted) samples. */
  minSamplesLeaf: number;
  /** Rows drawn with replacement for the tree; 0 = no bootstrap (every row once). */
  draws: number;
  /** Return the out-of-bag rows (rows never drawn). */
  oob: boolean;
}

/**
 * A trained tree as flat arrays. Node 0 is the root. An internal node sends a row left when
 * `x[feature] < threshold`, or when x is missing and `missingLeft` is 1; a leaf has `feature = -1`.
 * `value` holds, per node, the class distribution (`classes` numbers) or the mean (1 number).
 */
export interface Tree {
  nodeCount: number;
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  missingLeft: Uint8Array;
  /** Bootstrap-weighted samples in each node. */
  samples: Float64Array;
  /** Weighted impurity decrease of each split (0 at leaves): W·imp − W_L·imp_L − W_R·imp_R. */
  gain: Float64Array;
  value: Float64Array;
  /** Width of `value` per node. */
  valueWidth: number;
  /** Rows never drawn for this tree (when asked for). */
  oob?: Uint32Array;
}

/** Nodes at least this large keep a histogram of every feature, so a child can be had by subtraction. */
export const SUBTRACT_MIN_ROWS = 512;
const BINS = 256;

class NodeArrays {
  size = 0;
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  missingLeft: Uint8Array;
  samples: Float64Array;
  gain: Float64Array;
  value: Float64Array;

  constructor(
    capacity: number,
    readonly valueWidth: number,
  ) {
    this.feature = new Int32Array(capacity);
    this.threshold = new Float64Array(capacity);
    this.left = new Int32Array(capacity);
    this.right = new Int32Array(capacity);
    this.missingLeft = new Uint8Array(capacity);
    this.samples = new Float64Array(capacity);
    this.gain = new Float64Array(capacity);
    this.value = new Float64Array(capacity * valueWidth);
  }

  add(): number {
    if (this.size === this.feature.length) this.grow();
    const id = this.size++;
    this.feature[id] = -1;
    this.left[id] = -1;
    this.right[id] = -1;
    return id;
  }

  private grow(): void {
    const cap = this.feature.length * 2;
    const g = <T extends Int32Array | Float64Array | Uint8Array>(a: T, n: number): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.feature = g(this.feature, cap);
    this.threshold = g(this.threshold, cap);
    this.left = g(this.left, cap);
    this.right = g(this.right, cap);
    this.missingLeft = g(this.missingLeft, cap);
    this.samples = g(this.samples, cap);
    this.gain = g(this.gain, cap);
    this.value = g(this.value, cap * this.valueWidth);
  }

  finish(oob?: Uint32Array): Tree {
    const n = this.size;
    return {
      nodeCount: n,
      feature: this.feature.slice(0, n),
      threshold: this.threshold.slice(0, n),
      left: this.left.slice(0, n),
      right: this.right.slice(0, n),
      missingLeft: this.missingLeft.slice(0, n),
      samples: this.samples.slice(0, n),
      gain: this.gain.slice(0, n),
      value: this.value.slice(0, n * this.valueWidth),
      valueWidth: this.valueWidth,
      ...(oob ? { oob } : {}),
    };
  }
}

interface Pending {
  start: number;
  end: number;
  depth: number;
  id: number;
  /** Histogram of every feature (`f * BINS * stride`), or undefined. */
  hist: Float64Array | undefined;
  /**
   * Flags of features found unable to split an ancestor (one value bin and nothing missing, or only
   * missing values): they cannot split this node either, and are drawn but not looked at.
   */
  known: Uint8Array | undefined;
}

interface Best {
  score: number;
  feature: number;
  bin: number;
  missingLeft: boolean;
}

/**
 * Grows one CART tree on binned data, scikit-learn's random forest way: a bootstrap sample (as
 * per-row counts), a fresh random subset of `mtry` features at every split, Gini impurity or
 * squared error, and the split search over bin histograms. Rows of a node sit in one typed-array
 * partition (no per-node copies); where a node keeps histograms of every feature, the smaller
 * child's are computed and the larger child's come from subtraction. A missing value has its own
 * bin and the split sends it to whichever side scores better. Deterministic for a seed.
 */
export function growTree(data: TreeData, params: TreeParams, seed: number): Tree {
  const { rows, width, binned, thresholds, binCount, y } = data;
  const k = params.classes;
  const classification = k > 0;
  const stride = classification ? k : 2; // per bin: class weights, or (weight, weighted sum of y)
  const rng = new Rng(seed);

  // Bootstrap as counts per row.
  const counts = new Uint16Array(rows);
  // Class of each row as an integer (an index into histograms); 0 for regression.
  const cls = new Int32Array(k > 0 ? rows : 0);
  for (let i = 0; i < cls.length; i++) cls[i] = y[i]!;
  if (params.draws > 0) for (let d = 0; d < params.draws; d++) counts[rng.int(rows)]! += 1;
  else counts.fill(1);
  let inBag = 0;
  for (let i = 0; i < rows; i++) if (counts[i]! > 0) inBag++;
  const idx = new Uint32Array(inBag);
  for (let i = 0, j = 0; i < rows; i++) if (counts[i]! > 0) idx[j++] = i;
  let oob: Uint32Array | undefined;
  if (params.oob) {
    oob = new Uint32Array(rows - inBag);
    for (let i = 0, j = 0; i < rows; i++) if (counts[i] === 0) oob[j++] = i;
  }

  const nodes = new NodeArrays(1024, classification ? k : 1);
  const histSize = width * BINS * stride;
  const pool: Float64Array[] = [];
  const takeHist = () => pool.pop() ?? new Float64Array(histSize);
  const scratch = new Float64Array(BINS * stride);
  const present = new Int32Array(BINS);
  const features = Int32Array.from({ length: width }, (_, f) => f);
  const nodeStats = new Float64Array(stride === 2 ? 3 : k);
  const leftStats = new Float64Array(k || 2);
  const binW = new Float64Array(BINS);
  // Full histograms pay off when a split looks at half of the features or more.
  const useFull = params.mtry * 2 >= width;

  /** Adds the rows [start, end) of feature f into h at offset. Returns [minBin, maxBin] of value bins present. */
  const fillFeature = (h: Float64Array, offset: number, f: number, start: number, end: number): number => {
    const col = f * rows;
    let lo = BINS;
    let hi = -1;
    if (classification) {
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
  };

  const fillAll = (h: Float64Array, start: number, end: number): void => {
    h.fill(0);
    for (let f = 0; f < width; f++) fillFeature(h, f * BINS * stride, f, start, end);
  };

  /** Node totals: W and Σc² / W (classification) or W, S, S²/W (regression). */
  const computeStats = (start: number, end: number): { w: number; proxy: number; impurity: number } => {
    nodeStats.fill(0);
    let w = 0;
    if (classification) {
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
  };

  /**
   * Scans one feature's histogram (at h[offset…]) for the best threshold; updates `best`. The bins
   * visited are lo…hi, or, when `list` is given, the `listLength` sorted bins in it (a small node
   * whose few rows are spread over many bins).
   */
  const scan = (h: Float64Array, offset: number, f: number, lo: number, hi: number, w: number, best: Best, list?: Int32Array, listLength = 0): boolean => {
    const steps = list ? listLength : hi - lo + 1;
    const minLeaf = params.minSamplesLeaf;
    let found = false;
    const mOff = offset + MISSING_BIN * stride;
    if (classification) {
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
          const score = sl / wl + sr / wr;
          if (score > best.score) {
            best.score = score;
            best.feature = f;
            best.bin = last ? -1 : b;
            best.missingLeft = side === 1;
            found = true;
          }
        }
        if (last) break;
      }
      return found;
    }
    const missW = h[mOff]!;
    const missS = h[mOff + 1]!;
    const valueW = w - missW;
    const totalS = nodeStats[1]!;
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
        const score = (sl * sl) / wl + (sr * sr) / wr;
        if (score > best.score) {
          best.score = score;
          best.feature = f;
          best.bin = last ? -1 : b;
          best.missingLeft = side === 1;
          found = true;
        }
      }
      if (last) break;
    }
    return found;
  };

  const mOff0 = MISSING_BIN * stride;
  /** True when every row of the node is in one value bin and none is missing: no split possible (scan would find none). */
  const constantWithoutMissing = (range: number): boolean => {
    if (range >> 10 !== (range & 1023)) return false;
    for (let c = 0; c < stride; c += classification ? 1 : 2) if (scratch[mOff0 + c] !== 0) return false;
    return true;
  };

  /**
   * The split search of a feature with two value bins (one-hot columns, indicators): the same sums
   * as fillFeature + scan, without a histogram pass that writes memory for every row. Bin 0's class
   * weights are the node's minus bin 1's and the missing ones' (integers: exact); regression sums
   * each bin in registers, in row order as fillFeature does. Leaves `scratch` cleared. Returns 1
   * when it improved `best`, 2 when the feature cannot split this node's rows (one value bin and
   * nothing missing, or only missing values), else 0.
   */
  const binaryFeature = (f: number, start: number, end: number, w: number, best: Best): 0 | 1 | 2 => {
    const col = f * rows;
    let has0: boolean;
    let has1: boolean;
    if (classification) {
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
      if (!constantWithoutMissing(lo * 1024 + hi)) result = scan(scratch, 0, f, lo, hi, w, best) ? 1 : 0;
    }
    for (let q = 0; q < 2 * stride; q++) scratch[q] = 0;
    for (let q = mOff0; q < mOff0 + stride; q++) scratch[q] = 0;
    return result;
  };

  const stack: Pending[] = [];
  const root = nodes.add();
  let rootHist: Float64Array | undefined;
  if (useFull && inBag >= SUBTRACT_MIN_ROWS) {
    rootHist = takeHist();
    fillAll(rootHist, 0, inBag);
  }
  stack.push({ start: 0, end: inBag, depth: 0, id: root, hist: rootHist, known: undefined });
  const best: Best = { score: 0, feature: -1, bin: -1, missingLeft: false };

  while (stack.length > 0) {
    const node = stack.pop()!;
    const { start, end, depth, id } = node;
    const stats = computeStats(start, end);
    const { w } = stats;
    nodes.samples[id] = w;
    const vOff = id * nodes.valueWidth;
    if (classification) for (let c = 0; c < k; c++) nodes.value[vOff + c] = nodeStats[c]! / w;
    else nodes.value[vOff] = nodeStats[1]! / w;

    const isLeaf = depth >= params.maxDepth || w < params.minSamplesSplit || w < 2 * params.minSamplesLeaf || stats.impurity <= 1e-12;
    best.score = stats.proxy;
    best.feature = -1;
    let found = false;
    const known = node.known;
    let mine: Uint8Array | undefined;
    if (!isLeaf) {
      // A fresh random subset of features for this split (partial Fisher–Yates); keep drawing
      // past mtry while none of the drawn features can split the node, as scikit-learn does.
      for (let j = 0; j < width; j++) {
        const pick = j + rng.int(width - j);
        const f = features[pick]!;
        features[pick] = features[j]!;
        features[j] = f;
        // Known to have one value bin and no missing value here (or only missing values): no split.
        if (known !== undefined && known[f] === 1) {
          if (j + 1 >= params.mtry && found) break;
          continue;
        }
        const nb = binCount[f]!;
        let constant = false;
        if (node.hist) {
          const off = f * BINS * stride;
          if (scan(node.hist, off, f, 0, nb - 1, w, best)) found = true;
        } else if (nb === 2) {
          const r = binaryFeature(f, start, end, w, best);
          if (r === 1) found = true;
          else if (r === 2) constant = true;
        } else {
          const range = fillFeature(scratch, 0, f, start, end);
          if (range < 0) constant = true;
          else {
            const lo = range >> 10;
            const hi = range & 1023;
            const rowsHere = end - start;
            if (hi - lo + 1 > 2 * rowsHere) {
              // Few rows over many bins: visit only the bins present (sorted, distinct), and clear only those.
              const col = f * rows;
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
              if (scan(scratch, 0, f, lo, hi, w, best, present, u)) found = true;
              for (let q = 0; q < u; q++) {
                const o = present[q]! * stride;
                for (let c = 0; c < stride; c++) scratch[o + c] = 0;
              }
            } else {
              if (constantWithoutMissing(range)) constant = true;
              else if (scan(scratch, 0, f, lo, hi, w, best)) found = true;
              if (hi - lo < 8) for (let q = lo * stride; q < (hi + 1) * stride; q++) scratch[q] = 0;
              else scratch.fill(0, lo * stride, (hi + 1) * stride);
            }
          }
          for (let q = mOff0; q < mOff0 + stride; q++) scratch[q] = 0;
        }
        if (constant) {
          if (mine === undefined) mine = known === undefined ? new Uint8Array(width) : known.slice();
          mine[f] = 1;
        }
        if (j + 1 >= params.mtry && found) break;
      }
    }
    // A split must lower the impurity by more than rounding noise.
    if (!found || best.score - stats.proxy <= 1e-12 * Math.abs(stats.proxy)) {
      if (node.hist) pool.push(node.hist);
      continue;
    }
    const f = best.feature;
    const col = f * rows;
    const cut = best.bin; // -1: values left, missing right
    const missingLeft = best.missingLeft;
    // Partition [start, end) in place: left rows first.
    let i = start;
    let j = end - 1;
    const goesLeft = (r: number): boolean => {
      const b = binned[col + r]!;
      if (b === MISSING_BIN) return missingLeft;
      return cut < 0 || b <= cut;
    };
    while (i <= j) {
      if (goesLeft(idx[i]!)) i++;
      else {
        const tmp = idx[i]!;
        idx[i] = idx[j]!;
        idx[j] = tmp;
        j--;
      }
    }
    const mid = i;
    const leftId = nodes.add();
    const rightId = nodes.add();
    nodes.feature[id] = f;
    nodes.threshold[id] = cut < 0 ? Number.MAX_VALUE : thresholds[f]![cut]!;
    nodes.missingLeft[id] = missingLeft ? 1 : 0;
    nodes.left[id] = leftId;
    nodes.right[id] = rightId;
    nodes.gain[id] = best.score - stats.proxy;

    // Histograms for the children: the smaller one computed, the larger one by subtraction.
    let leftHist: Float64Array | undefined;
    let rightHist: Float64Array | undefined;
    const nLeft = mid - start;
    const nRight = end - mid;
    const small = Math.min(nLeft, nRight);
    if (node.hist && small >= SUBTRACT_MIN_ROWS) {
      const smallHist = takeHist();
      if (nLeft <= nRight) fillAll(smallHist, start, mid);
      else fillAll(smallHist, mid, end);
      const big = node.hist;
      for (let q = 0; q < histSize; q++) big[q]! -= smallHist[q]!;
      if (nLeft <= nRight) {
        leftHist = smallHist;
        rightHist = big;
      } else {
        leftHist = big;
        rightHist = smallHist;
      }
    } else if (node.hist) {
      pool.push(node.hist);
    }
    const childKnown = mine ?? known;
    stack.push({ start: mid, end, depth: depth + 1, id: rightId, hist: rightHist, known: childKnown });
    stack.push({ start, end: mid, depth: depth + 1, id: leftId, hist: leftHist, known: childKnown });
  }
  return nodes.finish(oob);
}

/** The leaf of `tree` reached by the row at `x[offset …]` (raw values; NaN follows `missingLeft`). */
export function treeLeaf(tree: Tree, x: ArrayLike<number>, offset: number): number {
  let n = 0;
  while (tree.feature[n]! >= 0) {
    const v = x[offset + tree.feature[n]!] as number;
    const goLeft = Number.isNaN(v) ? tree.missingLeft[n] === 1 : v < tree.threshold[n]!;
    n = goLeft ? tree.left[n]! : tree.right[n]!;
  }
  return n;
}
