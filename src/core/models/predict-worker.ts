// Worker thread of PredictPool: predicts the row ranges it is sent with a forest held in shared memory.
import { parentPort, workerData } from 'node:worker_threads';
import { CompiledForest, type ForestArrays } from './compiled-forest.js';

const forest = new CompiledForest(workerData as ForestArrays);

interface Task {
  id: number;
  matrix: Float64Array;
  start: number;
  end: number;
  out: Float64Array;
  proba?: Float64Array;
}

parentPort?.on('message', ({ id, matrix, start, end, out, proba }: Task) => {
  try {
    forest.predictMatrix(matrix, end - start, proba, { offset: start, out });
    parentPort?.postMessage({ id });
  } catch (err) {
    parentPort?.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});

parentPort?.postMessage({ ready: true });
