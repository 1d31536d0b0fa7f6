import type { Tree } from './tree.js';

/**
 * A tree rewritten with ml-cart's only test, `x < threshold` (a missing value, NaN, always fails it
 * and goes right). A node whose missing values go left becomes two nodes: the split itself, whose
 * right child tests `x < Number.MAX_VALUE` — true for every number, false for NaN — sending numbers
 * to the original right subtree and NaN to a copy of the left subtree. The result predicts exactly
 * like the tree, under ml-random-forest and under mlpipe's compiled forest alike.
 */
export interface PlainTree {
  /** -1 for a leaf. */
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  /** Index into the source tree's nodes, for leaf values and sample counts. */
  source: number[];
  /** True for the `x < Number.MAX_VALUE` nodes added to send missing values left. */
  guard: boolean[];
}

/** Rewrites a tree into ml-cart semantics (see {@link PlainTree}); node 0 is the root. */
export function plainTree(tree: Tree): PlainTree {
  const out: PlainTree = { feature: [], threshold: [], left: [], right: [], source: [], guard: [] };
  const add = (src: number): number => {
    out.feature.push(-1);
    out.threshold.push(0);
    out.left.push(-1);
    out.right.push(-1);
    out.source.push(src);
    out.guard.push(false);
    return out.feature.length - 1;
  };
  // Iterative copy: (source node, target slot) pairs.
  const stack: [number, number][] = [[0, add(0)]];
  while (stack.length > 0) {
    const [src, dst] = stack.pop()!;
    const f = tree.feature[src]!;
    if (f < 0) continue;
    const l = tree.left[src]!;
    const r = tree.right[src]!;
    out.feature[dst] = f;
    out.threshold[dst] = tree.threshold[src]!;
    const left = add(l);
    out.left[dst] = left;
    stack.push([l, left]);
    if (tree.missingLeft[src]) {
      const guard = add(r);
      out.right[dst] = guard;
      out.feature[guard] = f;
      out.threshold[guard] = Number.MAX_VALUE;
      out.guard[guard] = true;
      const numbers = add(r);
      const missing = add(l);
      out.left[guard] = numbers;
      out.right[guard] = missing;
      stack.push([r, numbers], [l, missing]);
    } else {
      const right = add(r);
      out.right[dst] = right;
      stack.push([r, right]);
    }
  }
  return out;
}

const TREE_OPTIONS = {
  classification: { gainFunction: 'gini', splitFunction: 'mean', minNumSamples: 3, maxDepth: null, gainThreshold: 0.01, kind: 'classifier' },
  regression: { gainFunction: 'regression', splitFunction: 'mean', minNumSamples: 3, maxDepth: null, kind: 'regression' },
};

/**
 * One tree as ml-cart's JSON text (`{"options":…,"root":…,"name":"DTClassifier"}`), written without
 * the options ml-cart repeats in every node (its `load` reads them from the tree, not the nodes).
 * Classifier leaves hold the class distribution `[[p0, …]]`, regression leaves the mean.
 */
export function mljsTreeJson(tree: Tree, classes: number): string {
  const plain = plainTree(tree);
  const classification = classes > 0;
  const leaf = (src: number): string => {
    if (!classification) return `{"distribution":${JSON.stringify(tree.value[src])}}`;
    const d: number[] = [];
    for (let c = 0; c < classes; c++) d.push(tree.value[src * classes + c]!);
    return `{"distribution":[${JSON.stringify(d)}]}`;
  };
  // Built bottom-up with an explicit order (children before parents), so deep trees need no recursion.
  const text: string[] = new Array(plain.feature.length);
  const order: number[] = [];
  const stack = [0];
  while (stack.length > 0) {
    const n = stack.pop()!;
    order.push(n);
    if (plain.feature[n]! >= 0) stack.push(plain.left[n]!, plain.right[n]!);
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i]!;
    const src = plain.source[n]!;
    if (plain.feature[n]! < 0) {
      text[n] = leaf(src);
      continue;
    }
    const gain = plain.guard[n] ? 0 : tree.gain[src]!;
    text[n] = `{"splitValue":${JSON.stringify(plain.threshold[n])},"splitColumn":${plain.feature[n]},"gain":${JSON.stringify(gain)},"numberSamples":${tree.samples[src]},"left":${text[plain.left[n]!]},"right":${text[plain.right[n]!]}}`;
    text[plain.left[n]!] = '';
    text[plain.right[n]!] = '';
  }
  const options = classification ? TREE_OPTIONS.classification : TREE_OPTIONS.regression;
  return `{"options":${JSON.stringify(options)},"root":${text[0]},"name":"${classification ? 'DTClassifier' : 'DTRegression'}"}`;
}
