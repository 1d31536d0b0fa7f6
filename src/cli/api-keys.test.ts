import net from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { expectOneLineError } from '../test-helpers/expect-cli.js';
import { buildExampleBundle, cleanupTempDirs, exampleRecords, runCli, tempDir } from '../test-helpers/fixtures.js';
import { freePort } from '../test-helpers/http.js';
import { type ServeProcess, startServeProcess } from '../test-helpers/serve.js';

describe('mlpipe keys api-key and serve --api-keys (real processes)', function () {
  this.timeout(60_000);
  let dir: string;
  let artifacts: string;
  let ref: string;
  let record: Record<string, unknown>;
  const serving: ServeProcess[] = [];

  const start = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const p = startServeProcess([ref, '--artifacts', artifacts, '--port', '0', ...args], { cwd: dir, env });
    serving.push(p);
    return `http://127.0.0.1:${await p.port()}`;
  };
  const predict = (url: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(record) });

  before(async () => {
    dir = await tempDir();
    artifacts = join(dir, 'artifacts');
    ref = (await buildExampleBundle({ artifacts, example: 'penguins', trees: 3 })).package.ref;
    const { Species: _t, ...rest } = (await exampleRecords('penguins'))[0] as Record<string, unknown>;
    record = rest;
  });

  after(async () => {
    for (const p of serving.splice(0)) if (p.running) p.child.kill('SIGKILL');
    await cleanupTempDirs();
  });

  it('keys api-key prints the key once (alone on stdout), writes only its hash; a duplicate name exits 1 with one line; list shows names and limits only', async () => {
    const made = await runCli(['keys', 'api-key', '--name', 'ci', '--rate-limit', '100', '--rows-per-minute', '5000'], { cwd: dir });
    expect(made.code, made.stderr).to.equal(0);
    const key = made.stdout.trim();
    expect(key).to.match(/^mlp_[A-Za-z0-9_-]{43}$/);
    expect(made.stderr).to.contain('added key "ci" to api-keys.json');
    const file = await readFile(join(dir, 'api-keys.json'), 'utf8');
    expect(file).to.not.contain(key);
    expect(file).to.contain('"rowsPerMinute": 5000');

    expectOneLineError(await runCli(['keys', 'api-key', '--name', 'ci'], { cwd: dir }), 'api-keys.json: a key named "ci" already exists');

    const list = await runCli(['keys', 'api-keys', 'list'], { cwd: dir });
    expect(list.code, list.stderr).to.equal(0);
    expect(list.stdout).to.match(/^ci {2}created \S+ {2}rate-limit 100 {2}batch-rate-limit default {2}rows-per-minute 5000\n$/);
    const json = await runCli(['keys', 'api-keys', 'list', '--json'], { cwd: dir });
    expect(JSON.parse(json.stdout).keys[0]).to.have.all.keys('name', 'createdAt', 'limits');
    expect(json.stdout).to.not.match(/[0-9a-f]{64}/);
  });

  it('serve --api-keys: 401 without a key, 200 with it; new keys are picked up and revoked ones refused without a restart; no key ever reaches stderr', async () => {
    const keyFile = join(dir, 'serve-keys.json');
    const first = (await runCli(['keys', 'api-key', '--name', 'first', '--file', keyFile], { cwd: dir })).stdout.trim();
    const url = await start([], { MLPIPE_API_KEYS_FILE: keyFile });
    const none = await predict(url);
    expect(none.status).to.equal(401);
    expect(none.headers.get('www-authenticate')).to.equal('Bearer realm="mlpipe"');
    expect((await fetch(`${url}/healthz`)).status).to.equal(200);
    expect((await predict(url, { authorization: `Bearer ${first}` })).status).to.equal(200);
    const wrongBody = await (await predict(url, { 'x-api-key': `${first}x` })).text();

    const second = (await runCli(['keys', 'api-key', '--name', 'second', '--file', keyFile], { cwd: dir })).stdout.trim();
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      status = (await predict(url, { 'x-api-key': second })).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).to.equal(200);
    expect((await runCli(['keys', 'api-keys', 'revoke', 'first', '--file', keyFile], { cwd: dir })).code).to.equal(0);
    for (let i = 0; i < 40 && status !== 401; i++) {
      status = (await predict(url, { authorization: `Bearer ${first}` })).status;
      if (status !== 401) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).to.equal(401);

    const p = serving.at(-1) as ServeProcess;
    await p.waitFor('stderr', /api keys: reloaded/); // logs are asynchronous
    for (const key of [first, second]) {
      expect(p.stderr).to.not.contain(key);
      expect(p.stdout).to.not.contain(key);
      expect(wrongBody).to.not.contain(key.slice(4));
    }
  });

  it('serve refuses a bad key file before listening, with one line naming the file and the JSON path', async () => {
    const bad = join(dir, 'bad-keys.json');
    await (await import('node:fs/promises')).writeFile(bad, '{"format": 1, "keys": [{"name": "x", "sha256": "abc", "createdAt": "2026-12-07T20:00:00Z"}]}');
    const run = await runCli(['serve', ref, '--artifacts', artifacts, '--port', '0', '--api-keys', bad], { cwd: dir });
    expectOneLineError(run, `${bad}: /keys/0/sha256`);
  });

  it('serve --redis to a Redis that is not there starts anyway (fail open, one line that never shows the password)', async () => {
    const port = await freePort();
    const url = await start(['--redis', `redis://:hunter2secret@127.0.0.1:${port}`, '--rate-limit', '1']);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await predict(url)).status);
    expect(statuses).to.deep.equal([200, 200, 200]);
    const p = serving.at(-1) as ServeProcess;
    await p.waitFor('stderr', /cannot reach Redis/); // logs are asynchronous
    expect(p.stderr).to.contain(`cannot reach Redis at redis://127.0.0.1:${port}`);
    expect(p.stderr).to.not.contain('hunter2secret');
    expect(p.stderr.match(/Redis/g)).to.have.length(1);
  });

  it('a client sending its request head one byte a second is cut off by the headers timeout', async () => {
    const url = await start(['--headers-timeout', '2000', '--request-timeout', '3000', '--keep-alive-timeout', '1000']);
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    let answer = '';
    socket.setEncoding('latin1').on('data', (d: string) => (answer += d));
    socket.on('error', () => {});
    const head = 'POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}';
    let sent = 0;
    const t0 = Date.now();
    const dribble = setInterval(() => {
      if (!socket.destroyed && sent < head.length) socket.write(head.charAt(sent++));
    }, 1000);
    try {
      await new Promise((r) => socket.once('close', r));
    } finally {
      clearInterval(dribble);
    }
    const seconds = (Date.now() - t0) / 1000;
    console.log(`      one byte a second: cut off after ${seconds.toFixed(1)} s and ${sent} of ${head.length} bytes (${answer.split('\r\n')[0] || 'closed without an answer'})`);
    expect(sent).to.be.below(head.length);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).to.equal(true);
    // The 2 s headers timeout, its check interval, and room for a slow machine.
    expect(seconds).to.be.below(15);
  });
});
