import { Rng } from './rng.js';

/** Row indices of a train/test split. */
export interface Split {
  train: number[];
  test: number[];
}

/**
 * A seeded holdout split. With `labels` (classification) it is stratified: each class puts
 * round(n × testFraction) of its rows in the test set, at least one when it has two or more rows,
 * never all of them. Row order inside each part is ascending.
 */
export function holdoutSplit(rows: number, testFraction: number, seed: number, labels?: ArrayLike<number>): Split {
  const rng = new Rng(seed);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < rows; i++) {
    const key = labels ? (labels[i] as number) : 0;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(i);
  }
  const test: number[] = [];
  const train: number[] = [];
  for (const key of [...groups.keys()].sort((a, b) => a - b)) {
    const members = rng.shuffle(groups.get(key) as number[]);
    let k = Math.round(members.length * testFraction);
    if (labels && members.length >= 2) k = Math.min(Math.max(k, 1), members.length - 1);
    if (!labels) k = Math.min(Math.max(k, 1), members.length - 1);
    // One row at a time: spreading a large group into push() overflows the call stack (~125k rows).
    for (let j = 0; j < members.length; j++) (j < k ? test : train).push(members[j]!);
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}
