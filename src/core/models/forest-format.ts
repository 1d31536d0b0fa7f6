/**
 * The saved form of a random forest: ml-random-forest's own model JSON (so its `load` + `predict`
 * reproduce every prediction), wrapped with our format version and the state ml-random-forest drops
 * on `toJSON` (class labels, feature names, importances, parameters).
 */

export type Task = 'classification' | 'regression';

/** ml-cart's JSON for one tree node (options repeated in every node, as ml-cart writes them). */
export interface MljsNode {
  splitValue?: number;
  splitColumn?: number;
  gain?: number | null;
  numberSamples?: number;
  left?: MljsNode;
  right?: MljsNode;
  /** Leaf: class distribution `[[p0, p1, …]]` (classifier) or the mean value (regression). */
  distribution?: number[][] | number;
  [option: string]: unknown;
}

/** ml-cart's JSON for one tree. */
export interface MljsTree {
  name: 'DTClassifier' | 'DTRegression';
  options: Record<string, unknown>;
  root: MljsNode;
}

/** ml-random-forest's `toJSON()` output. */
export interface MljsForest {
  name: 'RFClassifier' | 'RFRegression';
  selectionMethod?: 'mean' | 'median';
  baseModel: {
    indexes: number[][];
    n: number;
    replacement: boolean;
    maxFeatures: number;
    nEstimators: number;
    treeOptions: Record<string, unknown>;
    isClassifier: boolean;
    seed: number;
    estimators: MljsTree[];
    useSampleBagging: boolean;
  };
}

/** Training engines: mlpipe's histogram engine (default) or ml-random-forest itself (the reference). */
export type Engine = 'hist' | 'mljs';
export const ENGINES: readonly Engine[] = ['hist', 'mljs'];

/** Hyperparameters of a random forest, as recorded in the model and the manifest. */
export interface ForestParams {
  trees: number;
  /**
   * Features considered: `sqrt`, `log2`, `all`, a fraction in (0, 1) or a count ≥ 1 — at every split
   * (engine hist, as scikit-learn) or once per tree (engine mljs, as ml-random-forest).
   */
  maxFeatures: 'sqrt' | 'log2' | 'all' | number;
  /** Unlimited when null. */
  maxDepth: number | null;
  /** A node with fewer (bootstrap-weighted) samples than this becomes a leaf. */
  minSamplesSplit: number;
  /** Each leaf keeps at least this many (bootstrap-weighted) samples (engine hist). */
  minSamplesLeaf: number;
  /** Rows drawn for each tree's bootstrap sample: a fraction in (0, 1] or a count; null = as many as rows (engine hist). */
  maxSamples: number | null;
  seed: number;
}

/** Model-level facts that ml-random-forest's JSON lacks (`model.json` without its `mljs` part). */
export interface ModelHeader {
  format: 'mlpipe.random-forest';
  formatVersion: 1;
  task: Task;
  engine: Engine;
  /** Class labels in index order (classification). ml-random-forest predicts indices into this. */
  classes?: string[];
  featureNames: string[];
  params: ForestParams;
  /** Impurity-based importance per feature, summing to 1 (0 for a forest without splits). */
  featureImportances: number[];
  /** The prediction rule in words, for readers of the file. */
  prediction: string;
}

/** The file `model.json` of a model folder and a bundle: the header and ml-random-forest's model JSON. */
export interface SavedForest extends ModelHeader {
  mljs: MljsForest;
}
