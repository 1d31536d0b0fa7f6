/**
 * `mlpipe serve` configured by the environment alone, as a container or a platform starts it:
 * MLPIPE_MODEL (what to serve; arguments win) from a remote store (s3rver), and the port from
 * `--port` > MLPIPE_PORT > PORT > 8080. Every case runs the real process.
 */
import { expect } from 'chai';
import { cleanupTempDirs, packagedExample, runCli, tempDir } from '../test-helpers/fixtures.js';
import { type S3Server, startS3Server } from '../test-helpers/s3.js';
import { type ServeProcess, startServeProcess, stopServe } from '../test-helpers/serve.js';
import { freePort } from '../test-helpers/http.js';
import { expectOneLineError } from '../test-helpers/expect-cli.js';

describe('serve from the environment (MLPIPE_MODEL, PORT)', function () {
  this.timeout(180_000);
  let artifacts: string;
  let serve: ServeProcess | undefined;
  const record = { Island: 'Dream', 'Beak Length (mm)': 45, 'Flipper Length (mm)': 190 };

  before(async () => {
    let modelDir: string;
    ({ artifacts, modelDir } = await packagedExample('penguins'));
    // A second name in the same store, for a list of references.
    const other = await runCli(['package', modelDir, '--name', 'gentoo', '--artifacts', artifacts]);
    expect(other.code, other.stderr).to.equal(0);
  });
  afterEach(async () => {
    await stopServe(serve);
    serve = undefined;
  });
  after(cleanupTempDirs);

  describe('MLPIPE_MODEL', () => {
    let s3: S3Server;
    let env: NodeJS.ProcessEnv;

    before(async () => {
      s3 = await startS3Server();
      env = { ...s3.env, MLPIPE_CACHE: await tempDir() };
      const push = await runCli(['bundles', 'push', 'penguins', '--artifacts', artifacts, '--to', 's3://models/fleet'], { env });
      expect(push.code, push.stderr).to.equal(0);
    });
    after(async () => s3.close());

    it('an image without a bundle: MLPIPE_ARTIFACTS=s3://… and MLPIPE_MODEL serve the remote bundle, predicting what mlpipe predict does', async () => {
      serve = startServeProcess([], { env: { ...env, MLPIPE_ARTIFACTS: 's3://models/fleet', MLPIPE_MODEL: 'penguins', MLPIPE_PORT: '0' } });
      const port = await serve.port();
      const ready = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { models: string[] };
      expect(ready.models).to.deep.equal(['penguins@1.0.0']);
      const answer = (await (await fetch(`http://127.0.0.1:${port}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(record) })).json()) as { prediction: string };
      const predicted = await runCli(['predict', 'penguins', '--artifacts', artifacts, '--input', '-', '--out', '-'], { input: `${JSON.stringify(record)}\n` });
      expect(predicted.code, predicted.stderr).to.equal(0);
      expect(answer.prediction).to.equal((JSON.parse(predicted.stdout) as { prediction: string }).prediction);
      // The name is followed, as an argument's would be.
      await serve.waitFor('stderr', /following penguins/);
    });

    it('holds several references, comma-separated (the first is the default model); an argument wins over it', async () => {
      serve = startServeProcess([], { env: { MLPIPE_ARTIFACTS: artifacts, MLPIPE_MODEL: ' gentoo , penguins@1.0.0 ', MLPIPE_PORT: '0' } });
      let port = await serve.port();
      let ready = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { models: string[] };
      expect(ready.models).to.deep.equal(['gentoo@1.0.0', 'penguins@1.0.0']);
      await stopServe(serve);

      serve = startServeProcess(['penguins@1.0.0'], { env: { MLPIPE_ARTIFACTS: artifacts, MLPIPE_MODEL: 'nothing-by-this-name', MLPIPE_PORT: '0' } });
      port = await serve.port();
      ready = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { models: string[] };
      expect(ready.models).to.deep.equal(['penguins@1.0.0']);
    });

    it('a store location given as a reference is refused with the two settings that say it; so is a value with no reference', async () => {
      const location = await runCli(['serve', '--port', '0'], { env: { ...env, MLPIPE_MODEL: 's3://models/fleet/penguins@production' } });
      expectOneLineError(location, 'MLPIPE_MODEL: "s3://models/fleet/penguins@production" is a store location', 'MLPIPE_ARTIFACTS=s3://models/fleet and MLPIPE_MODEL=penguins@production');
      const argument = await runCli(['serve', 'https://models.example.com/store/', '--port', '0']);
      expectOneLineError(argument, 'serve: "https://models.example.com/store/" is a store location', 'MLPIPE_ARTIFACTS=https://models.example.com/store/ and MLPIPE_MODEL=<name>[@alias]');
      const empty = await runCli(['serve', '--port', '0'], { env: { MLPIPE_ARTIFACTS: artifacts, MLPIPE_MODEL: ' , ' } });
      expectOneLineError(empty, 'MLPIPE_MODEL: no bundle reference in " , "');
      const missing = await runCli(['serve', '--port', '0'], { env: { MLPIPE_ARTIFACTS: artifacts, MLPIPE_MODEL: 'pengiuns' } });
      expectOneLineError(missing, 'pengiuns: no bundle named "pengiuns"', 'did you mean "penguins"');
    });
  });

  describe('the port: --port > MLPIPE_PORT > PORT > 8080', () => {
    const listening = async (s: ServeProcess): Promise<number> => Number((await s.waitFor('stdout', /listening on http:\/\/[\d.]+:(\d+)/))[1]);

    it('PORT alone (as platforms that run a Procfile set it) is the port', async () => {
      const port = await freePort();
      serve = startServeProcess(['penguins'], { env: { MLPIPE_ARTIFACTS: artifacts, PORT: String(port) } });
      expect(await listening(serve)).to.equal(port);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).to.equal(200);
    });

    it('MLPIPE_PORT wins over PORT, and --port over both', async () => {
      const [a, b, c] = [await freePort(), await freePort(), await freePort()];
      serve = startServeProcess(['penguins'], { env: { MLPIPE_ARTIFACTS: artifacts, MLPIPE_PORT: String(a), PORT: String(b) } });
      expect(await listening(serve)).to.equal(a);
      await stopServe(serve);
      serve = startServeProcess(['penguins', '--port', String(c)], { env: { MLPIPE_ARTIFACTS: artifacts, MLPIPE_PORT: String(a), PORT: String(b) } });
      expect(await listening(serve)).to.equal(c);
    });

    it('a PORT that is not a port is a usage error naming PORT (exit 2), as a bad MLPIPE_PORT is', async () => {
      for (const [name, value] of [['PORT', 'http'], ['PORT', '70000'], ['MLPIPE_PORT', 'http']] as const) {
        const r = await runCli(['serve', 'penguins'], { env: { MLPIPE_ARTIFACTS: artifacts, [name]: value } });
        expect(r.code, r.stderr).to.equal(2);
        expect(r.stderr.trimEnd().split('\n')).to.have.length(1);
        expect(r.stderr).to.contain(`value '${value}' from env '${name}' is invalid`);
      }
    });

    it('--help says where the port and the bundles come from', async () => {
      const help = await runCli(['serve', '--help']);
      expect(help.code).to.equal(0);
      expect(help.stdout).to.contain('$PORT (set by platforms that run a Procfile)');
      expect(help.stdout).to.match(/Also read from the environment:\n\s+MLPIPE_MODEL\s+bundle references to serve, comma-separated/);
    });
  });
});
