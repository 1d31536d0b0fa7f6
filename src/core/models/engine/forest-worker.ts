// Worker thread of growForest: grows the trees it is asked for, on data shared with the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { type Tree, type TreeData, type TreeParams, growTree } from './tree.js';

const { data, params } = workerData as { data: TreeData; params: TreeParams };

parentPort?.on('message', ({ t, seed }: { t: number; seed: number }) => {
  const tree: Tree = growTree(data, params, seed);
  const buffers = [tree.feature, tree.threshold, tree.left, tree.right, tree.missingLeft, tree.samples, tree.gain, tree.value, ...(tree.oob ? [tree.oob] : [])].map(
    (a) => a.buffer as ArrayBuffer,
  );
  parentPort?.postMessage({ t, tree }, buffers);
});

parentPort?.postMessage({ ready: true });
