import type { Tree } from './tree.js';

/** The nodes of a tree being grown, in flat arrays that double when full (see {@link Tree}). */
export class NodeArrays {
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

  /**
   * Records a node's bootstrap-weighted sample count `w` and its value: with `classes` > 0 the class
   * distribution (`totals` holds the class weights), else the mean (`totals[1]` holds the weighted sum
   * of y). Every node gets one; a leaf is a node that is never split after it.
   */
  setSummary(id: number, w: number, totals: Float64Array, classes: number): void {
    this.samples[id] = w;
    const vOff = id * this.valueWidth;
    if (classes > 0) for (let c = 0; c < classes; c++) this.value[vOff + c] = totals[c]! / w;
    else this.value[vOff] = totals[1]! / w;
  }

  /** Makes `id` an internal node: rows with `x[feature] < threshold` (or missing, with `missingLeft`) go to `left`. */
  setSplit(id: number, feature: number, threshold: number, missingLeft: boolean, left: number, right: number, gain: number): void {
    this.feature[id] = feature;
    this.threshold[id] = threshold;
    this.missingLeft[id] = missingLeft ? 1 : 0;
    this.left[id] = left;
    this.right[id] = right;
    this.gain[id] = gain;
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
