import { expect } from 'chai';
import { permutationImportance } from './permutation.js';
import { Rng } from './rng.js';

const ROWS = 60;

/** Column 0 holds the row index (the "signal"); columns 1 and 2 are noise. */
function signalMatrix(): Float64Array {
  const rng = new Rng(42);
  const m = new Float64Array(ROWS * 3);
  for (let i = 0; i < ROWS; i++) {
    m[i * 3] = i;
    m[i * 3 + 1] = rng.next();
    m[i * 3 + 2] = rng.next();
  }
  return m;
}

/** Fraction of rows whose column 0 still holds its own row index: depends on column 0 only. */
function signalScore(m: Float64Array): number {
  let hits = 0;
  for (let i = 0; i < ROWS; i++) if (m[i * 3] === i) hits++;
  return hits / ROWS;
}

describe('permutationImportance', () => {
  it('gives the column the score depends on a large importance and the others exactly 0', () => {
    const r = permutationImportance({ matrix: signalMatrix(), rows: ROWS, width: 3, score: signalScore, seed: 1 });
    expect(r.mean).to.have.length(3);
    // a random permutation of 60 rows keeps about one fixed point: the drop is about 1 − 1/60
    expect(r.mean[0]).to.be.greaterThan(0.9);
    expect(r.mean.slice(1)).to.deep.equal([0, 0]);
    expect(r.std.slice(1)).to.deep.equal([0, 0]);
    expect(r.std[0]).to.be.at.least(0);
  });

  it('never modifies the input matrix and never hands it to score', () => {
    const matrix = signalMatrix();
    const before = Float64Array.from(matrix);
    let calls = 0;
    permutationImportance({
      matrix,
      rows: ROWS,
      width: 3,
      seed: 2,
      score: (m) => {
        calls++;
        expect(m).not.to.equal(matrix);
        return signalScore(m);
      },
    });
    expect(matrix).to.deep.equal(before);
    // baseline + 3 columns × 5 default repeats
    expect(calls).to.equal(1 + 3 * 5);
  });

  it('restores each column before shuffling the next', () => {
    // the score checks that every column other than the one being shuffled is intact
    const matrix = signalMatrix();
    const intact = (m: Float64Array, c: number): boolean => {
      for (let i = 0; i < ROWS; i++) if (m[i * 3 + c] !== matrix[i * 3 + c]) return false;
      return true;
    };
    const seen: number[] = [];
    permutationImportance({
      matrix,
      rows: ROWS,
      width: 3,
      seed: 3,
      repeats: 2,
      score: (m) => {
        seen.push([0, 1, 2].filter((c) => !intact(m, c)).length);
        return 0;
      },
    });
    expect(Math.max(...seen)).to.be.at.most(1);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const run = (seed: number) => permutationImportance({ matrix: signalMatrix(), rows: ROWS, width: 3, score: signalScore, seed, repeats: 3 });
    expect(run(7)).to.deep.equal(run(7));
    expect(run(7).mean[0]).not.to.equal(run(8).mean[0]);
  });

  it('shuffles a group with one row permutation shared by all its columns', () => {
    // columns 1–2 are a one-hot pair; column 0 and 3 are constant
    const width = 4;
    const matrix = new Float64Array(ROWS * width);
    for (let i = 0; i < ROWS; i++) {
      matrix[i * width + 1] = i % 2 === 0 ? 1 : 0;
      matrix[i * width + 2] = i % 2 === 0 ? 0 : 1;
    }
    // share of rows that are still a valid one-hot encoding: only broken by shuffling 1 and 2 apart
    const validOneHot = (m: Float64Array): number => {
      let ok = 0;
      for (let i = 0; i < ROWS; i++) if ((m[i * width + 1] as number) + (m[i * width + 2] as number) === 1) ok++;
      return ok / ROWS;
    };
    const grouped = permutationImportance({ matrix, rows: ROWS, width, score: validOneHot, seed: 4, groups: [[0], [1, 2], [3]] });
    expect(grouped.mean).to.deep.equal([0, 0, 0]);
    const separate = permutationImportance({ matrix, rows: ROWS, width, score: validOneHot, seed: 4 });
    expect(separate.mean[1]).to.be.greaterThan(0);

    // share of rows whose one-hot pair still matches the row's parity: the group matters as a whole
    const parity = (m: Float64Array): number => {
      let ok = 0;
      for (let i = 0; i < ROWS; i++) if (m[i * width + 1] === (i % 2 === 0 ? 1 : 0) && m[i * width + 2] === (i % 2 === 0 ? 0 : 1)) ok++;
      return ok / ROWS;
    };
    const r = permutationImportance({ matrix, rows: ROWS, width, score: parity, seed: 4, groups: [[0], [1, 2], [3]] });
    expect(r.mean).to.have.length(3);
    expect(r.mean[1]).to.be.greaterThan(0.2);
    expect([r.mean[0], r.mean[2]]).to.deep.equal([0, 0]);
  });

  it('singleton groups give the same result as no groups', () => {
    const base = { matrix: signalMatrix(), rows: ROWS, width: 3, score: signalScore, seed: 5 };
    expect(permutationImportance({ ...base, groups: [[0], [1], [2]] })).to.deep.equal(permutationImportance(base));
  });

  it('rejects a matrix of the wrong size, bad repeats and bad groups', () => {
    const base = { matrix: signalMatrix(), rows: ROWS, width: 3, score: signalScore, seed: 1 };
    expect(() => permutationImportance({ ...base, rows: ROWS + 1 })).to.throw(RangeError, 'expected rows (61) × width (3) = 183');
    expect(() => permutationImportance({ ...base, repeats: 0 })).to.throw(RangeError, 'repeats must be a positive integer');
    expect(() => permutationImportance({ ...base, groups: [[0], [3]] })).to.throw(RangeError, 'groups[1] names column 3');
    expect(() => permutationImportance({ ...base, groups: [[]] })).to.throw(RangeError, 'groups[0] is empty');
  });
});
