import { Rng } from '../rng.js';
import { MISSING_BIN } from './binning.js';
import { type Best, SplitSearch } from './split-search.js';
import { NodeArrays } from './tree-nodes.js';

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
const SUBTRACT_MIN_ROWS = 512;

/** A node waiting to be split or made a leaf: its rows are `idx[start, end)`. */
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

/** The rows a tree trains on: a bootstrap sample as counts per row, and the rows drawn. */
interface Sample {
  counts: Uint16Array;
  /** The rows drawn at least once (each once, in row order). */
  idx: Uint32Array;
  /** The rows never drawn, when asked for. */
  oob: Uint32Array | undefined;
}

/** Draws the bootstrap sample of a tree (`draws` rows with replacement; every row once when 0). */
function drawSample(rows: number, params: TreeParams, rng: Rng): Sample {
  const counts = new Uint16Array(rows);
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
  return { counts, idx, oob };
}

/**
 * Partitions the rows `idx[start, end)` in place by a split of feature column `col` (left rows
 * first): values in bins ≤ `cut` go left (every value when `cut` is -1), missing ones as
 * `missingLeft` says. Returns where the right rows start.
 */
function partition(idx: Uint32Array, binned: Uint8Array, col: number, start: number, end: number, cut: number, missingLeft: boolean): number {
  let i = start;
  let j = end - 1;
  while (i <= j) {
    const b = binned[col + idx[i]!]!;
    if (b === MISSING_BIN ? missingLeft : cut < 0 || b <= cut) i++;
    else {
      const tmp = idx[i]!;
      idx[i] = idx[j]!;
      idx[j] = tmp;
      j--;
    }
  }
  return i;
}

/**
 * Grows one CART tree on binned data, scikit-learn's random forest way: a bootstrap sample (as
 * per-row counts), a fresh random subset of `mtry` features at every split, Gini impurity or
 * squared error, and the split search over bin histograms (split-search.ts). Rows of a node sit in
 * one typed-array partition (no per-node copies); where a node keeps histograms of every feature,
 * the smaller child's are computed and the larger child's come from subtraction. A missing value has
 * its own bin and the split sends it to whichever side scores better. Deterministic for a seed.
 */
export function growTree(data: TreeData, params: TreeParams, seed: number): Tree {
  const { rows, width, binned, thresholds, y } = data;
  const k = params.classes;
  const rng = new Rng(seed);
  // Class of each row as an integer (an index into histograms); 0 for regression.
  const cls = new Int32Array(k > 0 ? rows : 0);
  for (let i = 0; i < cls.length; i++) cls[i] = y[i]!;
  const { counts, idx, oob } = drawSample(rows, params, rng);
  const inBag = idx.length;
  const search = new SplitSearch(data, params, cls, counts, idx);
  const nodes = new NodeArrays(1024, k > 0 ? k : 1);
  // Full histograms pay off when a split looks at half of the features or more.
  const useFull = params.mtry * 2 >= width;

  const stack: Pending[] = [];
  const root = nodes.add();
  let rootHist: Float64Array | undefined;
  if (useFull && inBag >= SUBTRACT_MIN_ROWS) {
    rootHist = search.takeHist();
    search.fillAll(rootHist, 0, inBag);
  }
  stack.push({ start: 0, end: inBag, depth: 0, id: root, hist: rootHist, known: undefined });
  const best: Best = { score: 0, feature: -1, bin: -1, missingLeft: false };

  while (stack.length > 0) {
    const node = stack.pop()!;
    const { start, end, depth, id, hist } = node;
    const stats = search.computeStats(start, end);
    const { w } = stats;
    nodes.setSummary(id, w, search.nodeStats, k);

    const isLeaf = depth >= params.maxDepth || w < params.minSamplesSplit || w < 2 * params.minSamplesLeaf || stats.impurity <= 1e-12;
    best.score = stats.proxy;
    best.feature = -1;
    const found = !isLeaf && search.findBestSplit(start, end, w, hist, node.known, rng, best);
    // A split must lower the impurity by more than rounding noise.
    if (!found || best.score - stats.proxy <= 1e-12 * Math.abs(stats.proxy)) {
      if (hist) search.releaseHist(hist);
      continue;
    }
    const f = best.feature;
    const cut = best.bin; // -1: values left, missing right
    const mid = partition(idx, binned, f * rows, start, end, cut, best.missingLeft);
    const leftId = nodes.add();
    const rightId = nodes.add();
    nodes.setSplit(id, f, cut < 0 ? Number.MAX_VALUE : thresholds[f]![cut]!, best.missingLeft, leftId, rightId, best.score - stats.proxy);

    const [leftHist, rightHist] = hist ? search.childHistograms(hist, start, mid, end, SUBTRACT_MIN_ROWS) : [undefined, undefined];
    const childKnown = search.childKnown;
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
