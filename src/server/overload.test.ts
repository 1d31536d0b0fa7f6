import { expect } from 'chai';
import express from 'express';
import { closeServers, listen, reply } from '../test-helpers/http.js';
import { checkDeadline, requestDeadline } from './overload.js';
import { errorHandler } from './errors.js';

/** An app whose /slow/:ms answers after :ms ms (checking its deadline first), behind a deadline of `deadlineMs`. */
function app(deadlineMs: number) {
  const a = express();
  a.use(requestDeadline(deadlineMs));
  a.get('/slow/:ms', async (req, res) => {
    await new Promise((resolve) => setTimeout(resolve, Number(req.params.ms)));
    checkDeadline(res);
    res.json({ answered: true });
  });
  a.use(errorHandler(() => {}));
  return a;
}

describe('requestDeadline (one sweeping timer for every open request)', function () {
  this.timeout(30_000);
  after(closeServers);

  it('answers each request past its own deadline with 503 timeout, oldest first, and leaves the quick ones alone', async () => {
    const url = await listen(app(400));
    const order: string[] = [];
    const call = (label: string, ms: number) =>
      fetch(`${url}/slow/${ms}`).then(async (r) => {
        order.push(label);
        return reply(r);
      });
    const first = call('first', 5_000);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const second = call('second', 5_000);
    const quick = call('quick', 10);
    const [a, b, q] = await Promise.all([first, second, quick]);
    expect(a.status).to.equal(503);
    expect((a.body as { error: { code: string } }).error.code).to.equal('timeout');
    expect(a.headers.get('retry-after')).to.equal('1');
    expect(b.status).to.equal(503);
    expect(q.status).to.equal(200);
    expect(order).to.deep.equal(['quick', 'first', 'second']);
  });

  it('keeps serving after a sweep: a request arriving once the earlier ones expired gets its full time', async () => {
    const url = await listen(app(300));
    expect((await reply(await fetch(`${url}/slow/2000`))).status).to.equal(503);
    // The timer stopped when nothing was open; this request starts it again.
    const ok = await reply(await fetch(`${url}/slow/50`));
    expect(ok.status).to.equal(200);
    expect(ok.body).to.deep.equal({ answered: true });
    expect((await reply(await fetch(`${url}/slow/2000`))).status).to.equal(503);
  });
});
