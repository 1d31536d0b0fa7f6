import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../start-worker.js';
import { binMatrix } from './binning.js';
import { type Tree, type TreeData, type TreeParams, growTree } from './tree.js';

/** Seed of tree `t`: a hash of the forest seed and the index, so a tree never depends on which worker grew it. */
function treeSeed(seed: number, t: number): number {
  let z = (seed ^ Math.imul(t + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** Options of {@link growForest}. */
export interface GrowOptions {
  /** Worker threads (default: every core). 1 grows the trees in this thread. */
  jobs?: number;
  /** Called after each tree with (trees done, total). */
  onTree?: (done: number, total: number) => void;
}

/** Below this many rows × trees, starting workers costs more than it saves. */
export const MIN_WORK_FOR_WORKERS = 500_000;

/** The number of worker threads a job count means (0 or undefined: every core). */
export function resolveJobs(jobs: number | undefined): number {
  return jobs === undefined || jobs <= 0 ? availableParallelism() : jobs;
}

/**
 * Grows `trees` trees on a row-major matrix, on worker threads when there is enough work. Features
 * are binned once, into shared memory. Tree t is grown from `treeSeed(seed, t)` alone, so the forest
 * is the same, byte for byte, whatever the number of workers.
 */
export async function growForest(
  matrix: Float64Array,
  rows: number,
  width: number,
  y: Float64Array,
  params: TreeParams,
  trees: number,
  seed: number,
  options: GrowOptions = {},
): Promise<{ trees: Tree[]; thresholds: Float64Array[] }> {
  const jobs = Math.min(resolveJobs(options.jobs), trees);
  const useWorkers = jobs > 1 && rows * trees >= MIN_WORK_FOR_WORKERS;
  const bins = binMatrix(matrix, rows, width, { seed, shared: useWorkers });
  const sharedY = new Float64Array(useWorkers ? new SharedArrayBuffer(y.length * 8) : new ArrayBuffer(y.length * 8));
  sharedY.set(y);
  const data: TreeData = { rows, width, binned: bins.binned, thresholds: bins.thresholds, binCount: bins.binCount, y: sharedY };
  const out: Tree[] = new Array(trees);
  let done = 0;
  if (!useWorkers) {
    for (let t = 0; t < trees; t++) {
      out[t] = growTree(data, params, treeSeed(seed, t));
      done++;
      options.onTree?.(done, trees);
      // Let progress output and signals through between trees.
      if (t % 4 === 3) await new Promise((r) => setImmediate(r));
    }
    return { trees: out, thresholds: bins.thresholds };
  }
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let failed = false;
      const dispatch = (w: Worker) => {
        if (next < trees) {
          const t = next++;
          w.postMessage({ t, seed: treeSeed(seed, t) });
        }
      };
      for (let i = 0; i < jobs; i++) {
        const w = startWorker(import.meta.url, 'forest-worker', { data, params });
        workers.push(w);
        w.on('message', (msg: { ready: true } | { t: number; tree: Tree }) => {
          // A worker gets its first tree once its module has loaded and it listens.
          if ('ready' in msg) {
            dispatch(w);
            return;
          }
          out[msg.t] = msg.tree;
          done++;
          options.onTree?.(done, trees);
          if (done === trees) resolve();
          else dispatch(w);
        });
        w.on('error', (err) => {
          if (!failed) {
            failed = true;
            reject(err);
          }
        });
        w.on('exit', (code) => {
          if (code !== 0 && !failed && done < trees) {
            failed = true;
            reject(new Error(`a training worker stopped with exit code ${code}`));
          }
        });
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return { trees: out, thresholds: bins.thresholds };
}
