/**
 * `mlpipe client` as a real process: the generated client for two bundles compiles with tsc under
 * strict settings and no ambient types at all; a caller that uses its types wrongly does not compile
 * (each misuse is an error on its own line); a caller that uses them rightly compiles, runs against a
 * live server and gets real predictions, and a typed error with the server's error body.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadPredictor } from '../core/predictor/from-bundle.js';
import { createApp } from '../server/app.js';
import { ServedModels } from '../server/models.js';
import { buildApiBundles } from '../test-helpers/api-bundles.js';
import { expectOneLineError } from '../test-helpers/expect-cli.js';
import { ROOT, cleanupTempDirs, runCli, runCommand, tempDir } from '../test-helpers/fixtures.js';

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
/**
 * Strict, and no ambient types: the client needs nothing but the language (it finds fetch on
 * globalThis). The temporary folder has no node_modules above it, so no @types package is seen.
 */
const STRICT = ['--strict', '--noUncheckedIndexedAccess', '--exactOptionalPropertyTypes', '--noImplicitOverride', '--target', 'ES2022', '--lib', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext'];

const tsc = (dir: string, files: string[], extra: string[] = ['--noEmit']) => runCommand(process.execPath, [TSC, ...STRICT, ...extra, ...files.map((f) => join(dir, f))], { cwd: dir, timeoutMs: 60_000 });

/** Misuses, one per line: each must be a compile error on exactly its line. */
const BAD_LINES = [
  "client.predict({ 'monthly spend': 'a lot' });", // a string where the model reads a number
  "client.predict({ 'monthly spnd': 3 });", // a misspelt field
  "const label: 'Maybe' = (await client.predict({})).prediction;", // the labels are 'No' | 'Yes'
  "client.model('nope');", // no such model
  "(await client.model('cars').predict({})).probabilities;", // a regression model has no probabilities
  "client.model('cars').predictBatch([{ Cylinders: 'four' }]);", // a number column of cars
  "client.predict({ constructor: 'x' });", // a column named after Object's member is still typed
];

const GOOD = `import { type ChurnRecord, MlpipeApiError, MlpipeClient, MODELS } from './client.js';
declare const console: { log(text: string): void };
const client = new MlpipeClient({ baseUrl: BASE_URL });
const one = await client.predict({ 'monthly spend': 80, 'plan.tier': 'basic', größe: 2, ['__proto__']: 'a', constructor: 1.5, 'say "hi"': 'yes' });
const fromNothing = await client.predict({});
const label: 'No' | 'Yes' = one.prediction;
const yes: number = one.probabilities.Yes;
const cars = await client.model('cars').predictBatch([{ Cylinders: 4, Horsepower: 90 }, {}]);
const mpg: number | undefined = cars.predictions[0]?.prediction;
const names = (await client.models()).map((m) => m.name + '@' + m.version);
let error: unknown;
try {
  await client.predict({ 'monthly spend': 'a lot' } as unknown as ChurnRecord);
} catch (err) {
  if (err instanceof MlpipeApiError) error = { status: err.status, code: err.code, details: err.details, name: err.name };
}
console.log(JSON.stringify({ label, yes, one, fromNothing: fromNothing.prediction, mpg, cars, names, error, churnVersion: MODELS.churn.version }));
`;

describe('mlpipe client (a typed TypeScript client)', function () {
  this.timeout(180_000);
  let store: string;
  let dir: string;
  let server: Server;
  let base: string;

  before(async () => {
    store = await buildApiBundles(await tempDir());
    dir = await tempDir();
    const models = new ServedModels();
    for (const ref of ['churn', 'penguins', 'cars']) models.add(await loadPredictor(ref, store));
    models.ready = true;
    server = await new Promise<Server>((resolve, reject) => {
      const s = createApp(models).listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((r) => server?.close(r));
    await cleanupTempDirs();
  });

  it('writes a client for two bundles that compiles strictly with no ambient types; right use compiles and wrong use does not, line by line', async () => {
    const run = await runCli(['client', 'churn', 'cars', '--artifacts', store, '--out', join(dir, 'client.ts')]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout.trim()).to.equal(`wrote ${join(dir, 'client.ts')}: a typed client for churn@1.0.0, cars@1.0.0`);
    const source = await readFile(join(dir, 'client.ts'), 'utf8');
    expect(source).to.match(/export type ChurnValue = 'No' \| 'Yes';/);
    expect(source).not.to.match(/^import /m);

    await writeFile(join(dir, 'package.json'), '{"type": "module"}\n');
    await writeFile(join(dir, 'good.ts'), `const BASE_URL = ${JSON.stringify(base)};\n${GOOD}`);
    const header = "import { MlpipeClient } from './client.js';\nconst client = new MlpipeClient({ baseUrl: 'http://127.0.0.1:1' });\n";
    await writeFile(join(dir, 'bad.ts'), `${header}${BAD_LINES.join('\n')}\nexport {};\n`);

    const [good, bad] = await Promise.all([tsc(dir, ['client.ts', 'good.ts']), tsc(dir, ['client.ts', 'bad.ts'])]);
    expect(good.code, good.stdout).to.equal(0);
    expect(bad.code).to.not.equal(0);
    const errorLines = new Set([...bad.stdout.matchAll(/bad\.ts\((\d+),\d+\): error TS\d+/g)].map((m) => Number(m[1])));
    expect([...errorLines].sort((a, b) => a - b), bad.stdout).to.deep.equal(BAD_LINES.map((_, i) => i + 3));
    expect(bad.stdout).not.to.match(/client\.ts\(/);
    if (process.env.SHOW_TSC) console.log(bad.stdout);
  });

  it('the compiled caller gets real predictions from a live server, and a typed error carrying the server\u2019s error body', async () => {
    const emit = await tsc(dir, ['client.ts', 'good.ts'], ['--outDir', join(dir, 'out')]);
    expect(emit.code, emit.stdout).to.equal(0);
    await writeFile(join(dir, 'out', 'package.json'), '{"type": "module"}\n');
    const run = await runCommand(process.execPath, [join(dir, 'out', 'good.js')], { cwd: dir, timeoutMs: 30_000 });
    expect(run.code, run.stderr).to.equal(0);
    const out = JSON.parse(run.stdout) as {
      label: string;
      fromNothing: string;
      yes: number;
      one: { prediction: string; probabilities: Record<string, number>; model: { name: string; version: string } };
      mpg: number;
      cars: { predictions: { prediction: number }[]; model: { name: string } };
      names: string[];
      error: { status: number; code: string; details: { path: string; message: string }[]; name: string };
      churnVersion: string;
    };
    expect(out.label).to.be.oneOf(['Yes', 'No']);
    expect(out.fromNothing).to.be.oneOf(['Yes', 'No']);
    expect(out.one.model).to.deep.equal({ name: 'churn', version: '1.0.0' });
    expect(out.one.probabilities.No! + out.one.probabilities.Yes!).to.be.closeTo(1, 1e-9);
    expect(out.yes).to.equal(out.one.probabilities.Yes);
    // The very predictions the server gives a plain HTTP request.
    const direct = await fetch(`${base}/v1/models/cars/predict/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ records: [{ Cylinders: 4, Horsepower: 90 }, {}] }) });
    expect(out.cars).to.deep.equal(await direct.json());
    expect(out.mpg).to.be.a('number').and.to.be.greaterThan(5).and.lessThan(60);
    expect(out.names).to.deep.equal(['churn@1.0.0', 'penguins@1.0.0', 'cars@1.0.0']);
    expect(out.error).to.deep.include({ status: 400, code: 'invalid_input', name: 'MlpipeApiError' });
    expect(out.error.details[0]).to.deep.include({ path: '/monthly spend' });
    expect(out.churnVersion).to.equal('1.0.0');
  });

  it('--out - writes the client to standard output; an unknown bundle or two bundles of one name are one-line errors', async () => {
    const stdout = await runCli(['client', 'penguins', '--artifacts', store, '--out', '-']);
    expect(stdout.code, stdout.stderr).to.equal(0);
    expect(stdout.stdout).to.match(/^\/\/ Generated by `mlpipe client`/);
    expect(stdout.stdout).to.include("export type PenguinsValue = 'Adelie' | 'Chinstrap' | 'Gentoo';");
    expectOneLineError(await runCli(['client', 'penguin', '--artifacts', store, '--out', '-']), 'penguin', 'did you mean "penguins"');
    expectOneLineError(await runCli(['client', 'cars', join(store, 'cars', '1.0.0'), '--artifacts', store, '--out', '-']), 'second bundle named "cars"');
    const usage = await runCli(['client', 'cars', '--artifacts', store]);
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.match(/--out/);
  });
});
