import { availableParallelism } from 'node:os';
import type { CompiledForest } from '../core/models/compiled-forest.js';
import { PredictPool } from '../core/models/predict-pool.js';
import type { FeaturizedRows, ForestOutputs, Prediction, Predictor } from '../core/predictor/predictor.js';

/**
 * The forest's work of big batches and streams, on worker threads (the {@link PredictPool} that
 * `mlpipe predict --jobs` uses), so that the event loop keeps answering other requests (`/healthz`,
 * single predictions) while a 10,000-row batch is predicted. Measured on the penguins example (100
 * trees, 10,000 rows): validating and featurizing ≈ 20 ms, the forest ≈ 35 ms, writing the JSON ≈
 * 4 ms. Featurizing stays on the loop in slices of 250 rows with a turn of the loop between them
 * (predict.ts); the forest, the larger part and one call, goes to the pool.
 */

/** Rows × trees from which a featurized batch's forest work goes to the pool (below it, the hand-off costs about what it saves). */
export const OFF_LOOP_MIN_WORK = 100_000;

/** Worker threads of one served model's pool: the machine's cores, at most 4. */
const OFF_LOOP_THREADS = Math.max(1, Math.min(4, availableParallelism()));

/** One pool per forest (per served version), started when first needed. */
const pools = new WeakMap<CompiledForest, Promise<PredictPool>>();

/** Stops the threads of a pool whose version is no longer served and has been collected (hot swap). */
const stopWhenCollected = new FinalizationRegistry<() => void>((stop) => stop());

function poolFor(forest: CompiledForest): Promise<PredictPool> {
  let pool = pools.get(forest);
  if (!pool) {
    // threads + 1: PredictPool counts the calling thread, which here only waits.
    pool = PredictPool.start(forest, OFF_LOOP_THREADS + 1).then((p) => {
      p.unref();
      stopWhenCollected.register(forest, p.stopper());
      return p;
    });
    pools.set(forest, pool);
    // A pool that fails to start is forgotten, so the next batch tries again (and this one predicts in-thread).
    pool.catch(() => pools.delete(forest));
  }
  return pool;
}

/**
 * Predictions of the good rows of `featurized` (as {@link Predictor.predictFeaturized}, identical
 * values), the forest's work on the model's worker-thread pool when there is enough of it. A pool
 * that cannot start, or whose worker died, is dropped and the rows are predicted in this thread.
 */
export async function predictFeaturizedOffLoop(model: Predictor, featurized: FeaturizedRows): Promise<Prediction[]> {
  return model.predictionsOf(await predictValuesOffLoop(model, featurized));
}

/** {@link predictFeaturizedOffLoop}'s forest outputs as arrays ({@link Predictor.predictFeaturizedValues}), for a caller that writes them without a Prediction per row. */
export async function predictValuesOffLoop(model: Predictor, featurized: FeaturizedRows): Promise<ForestOutputs> {
  if (featurized.rows.length * model.forest.treeCount < OFF_LOOP_MIN_WORK) return model.predictFeaturizedValues(featurized);
  let pool: PredictPool;
  try {
    pool = await poolFor(model.forest);
  } catch {
    return model.predictFeaturizedValues(featurized);
  }
  try {
    return await model.predictFeaturizedValuesOn(pool, featurized, { offThread: true });
  } catch {
    // A worker died (the pool has failed for good): a fresh pool next time; this batch in-thread.
    pools.delete(model.forest);
    pool.stopper()();
    return model.predictFeaturizedValues(featurized);
  }
}
