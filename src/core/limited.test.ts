import { expect } from 'chai';
import { forEachLimited } from './limited.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('forEachLimited', () => {
  it('runs every item, never more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await forEachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++;
      most = Math.max(most, running);
      await sleep(5 + (n % 3) * 3);
      running--;
      done.push(n);
    });
    expect(done.sort()).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
    expect(most).to.equal(3);
  });

  it('after a failure starts nothing new, waits for what is running, then throws that failure', async () => {
    const started: number[] = [];
    let finished = 0;
    let error: unknown;
    try {
      await forEachLimited([1, 2, 3, 4, 5, 6], 2, async (n) => {
        started.push(n);
        if (n === 1) throw new Error('first fails');
        await sleep(20);
        finished++;
      });
    } catch (err) {
      error = err;
    }
    expect((error as Error).message).to.equal('first fails');
    // Item 2 was running when 1 failed: it was waited for; nothing after it started.
    expect(started).to.deep.equal([1, 2]);
    expect(finished).to.equal(1);
  });
});
