import type { Worker } from 'node:worker_threads';
import type { CompiledForest, ForestArrays } from './compiled-forest.js';
import { startWorker } from './start-worker.js';

/** Shared buffers a pool keeps for reuse between batches. */
const MAX_SPARE_BUFFERS = 12;

/** Below this many rows × trees per thread, a batch is predicted in the calling thread alone. */
export const MIN_WORK_PER_THREAD = 200_000;

function shared<T extends Float64Array | Int32Array>(a: T): T {
  const Ctor = a.constructor as new (b: SharedArrayBuffer) => T;
  const s = new Ctor(new SharedArrayBuffer(a.byteLength));
  s.set(a);
  return s;
}

type Pending = { resolve: () => void; reject: (err: Error) => void };

/**
 * Batch prediction on several threads: the forest's arrays are copied once into shared memory, each
 * batch is split into contiguous row ranges, the calling thread predicts the first range and worker
 * threads the others, all writing into one shared output. Every row is predicted exactly as
 * {@link CompiledForest.predictMatrix} does, so results are identical for any number of threads.
 */
export class PredictPool {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | undefined;

  private constructor(
    readonly forest: CompiledForest,
    private readonly workers: Worker[],
  ) {
    for (const w of workers) {
      w.on('message', (msg: { id: number; error?: string }) => {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.error !== undefined) p.reject(new Error(`prediction worker: ${msg.error}`));
        else p.resolve();
      });
      const fail = (err: Error) => {
        this.failure ??= err;
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      };
      w.on('error', fail);
      w.on('exit', (code) => {
        if (code !== 0) fail(new Error(`a prediction worker stopped with exit code ${code}`));
      });
    }
  }

  /** Starts `threads − 1` workers (the calling thread is the last one) and waits until they listen. */
  static async start(forest: CompiledForest, threads: number): Promise<PredictPool> {
    const a = forest.arrays;
    const arrays: ForestArrays = {
      ...a,
      roots: shared(a.roots),
      feature: shared(a.feature),
      threshold: shared(a.threshold),
      left: shared(a.left),
      right: shared(a.right),
      leafValue: shared(a.leafValue),
      leafDist: shared(a.leafDist),
    };
    const workers: Worker[] = [];
    try {
      await Promise.all(
        Array.from({ length: Math.max(0, threads - 1) }, () => {
          const w = startWorker(import.meta.url, 'predict-worker', arrays);
          workers.push(w);
          return new Promise<void>((resolve, reject) => {
            const onMessage = (msg: { ready?: boolean }) => {
              if (msg.ready) {
                w.off('message', onMessage);
                resolve();
              }
            };
            w.on('message', onMessage);
            w.once('error', reject);
          });
        }),
      );
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
    return new PredictPool(forest, workers);
  }

  /** Threads a batch is split over (workers + the calling thread). */
  get threads(): number {
    return this.workers.length + 1;
  }

  /** {@link CompiledForest.predictMatrix}, split over the pool's threads when the batch is big enough. */
  async predictMatrix(matrix: Float64Array, rows: number, proba?: Float64Array): Promise<Float64Array> {
    if (this.failure) throw this.failure;
    const parts = Math.min(this.threads, Math.floor((rows * this.forest.treeCount) / MIN_WORK_PER_THREAD));
    if (parts <= 1) return this.forest.predictMatrix(matrix, rows, proba);
    return this.split(matrix, rows, proba, parts, true);
  }

  /**
   * {@link CompiledForest.predictMatrix} on the worker threads alone, the calling thread only waiting:
   * for a server, whose event loop must keep answering other requests meanwhile. Split over as many
   * workers as the batch has work for (at least one). Throws when the pool has no worker.
   */
  async predictMatrixOffThread(matrix: Float64Array, rows: number, proba?: Float64Array): Promise<Float64Array> {
    if (this.failure) throw this.failure;
    if (this.workers.length === 0) throw new Error('predictMatrixOffThread needs a pool with at least one worker (threads ≥ 2)');
    const parts = Math.max(1, Math.min(this.workers.length, Math.floor((rows * this.forest.treeCount) / MIN_WORK_PER_THREAD)));
    return this.split(matrix, rows, proba, parts, false);
  }

  /** Lets the process exit while the pool's workers are idle (a server's pool lives as long as it). */
  unref(): void {
    for (const w of this.workers) w.unref();
  }

  /** `rows` over `parts` contiguous ranges; the first one in this thread when `callerWorks`, all on workers otherwise. */
  private async split(matrix: Float64Array, rows: number, proba: Float64Array | undefined, parts: number, callerWorks: boolean): Promise<Float64Array> {
    const forest = this.forest;
    const w = forest.width;
    const k = forest.classes.length;
    const taken: Float64Array[] = [];
    const take = (length: number): Float64Array => {
      const a = this.takeShared(length);
      taken.push(a);
      return a.subarray(0, length);
    };
    let m = matrix;
    if (!(matrix.buffer instanceof SharedArrayBuffer)) {
      m = take(rows * w);
      m.set(matrix.subarray(0, rows * w));
    }
    const out = take(rows);
    const p = proba && forest.task === 'classification' ? take(rows * k) : undefined;
    const bounds = Array.from({ length: parts + 1 }, (_, i) => Math.round((i * rows) / parts));
    const first = callerWorks ? 1 : 0;
    const done = bounds.slice(first + 1).map((end, i) => {
      const id = this.nextId++;
      const start = bounds[i + first]!;
      return new Promise<void>((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        this.workers[i]!.postMessage({ id, matrix: m, start, end, out, proba: p });
      });
    });
    if (callerWorks) forest.predictMatrix(m, bounds[1]!, p, { offset: 0, out });
    await Promise.all(done);
    if (proba && p) proba.set(p);
    // Copied out of shared memory, whose buffers are kept for the next batch.
    const values = out.slice();
    for (const a of taken) this.giveShared(a);
    return values;
  }

  /** Shared buffers of finished batches, reused: a server predicting chunk after chunk allocates none. */
  private readonly spare: Float64Array[] = [];

  /** A shared array of at least `length` values: a spare one when there is one big enough. */
  private takeShared(length: number): Float64Array {
    const i = this.spare.findIndex((a) => a.length >= length && a.length <= 4 * length + 1024);
    if (i >= 0) return this.spare.splice(i, 1)[0] as Float64Array;
    return new Float64Array(new SharedArrayBuffer(Math.max(1, length) * 8));
  }

  private giveShared(a: Float64Array): void {
    this.spare.push(a);
    // A handful is what one stream with one chunk in flight, or a few concurrent batches, need.
    if (this.spare.length > MAX_SPARE_BUFFERS) this.spare.shift();
  }

  /**
   * A function that stops the workers and holds no reference to the pool or its forest: to register
   * with a FinalizationRegistry keyed by the forest, so a pool whose forest is gone stops its threads.
   */
  stopper(): () => void {
    const workers = this.workers;
    return () => {
      for (const w of workers) void w.terminate();
    };
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
