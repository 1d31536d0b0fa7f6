import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { ROOT, cleanupTempDirs, runCli, tempDir } from '../test-helpers/fixtures.js';
import { fixtureUsers, mongoExport, userRecord } from '../test-helpers/mongo-fixture.js';

describe('CLI on nested JSON (real process)', function () {
  this.timeout(180_000);
  let dir: string;
  let artifacts: string;
  const cli = (args: string[], input?: string) => runCli(args, { cwd: dir, env: { MLPIPE_ARTIFACTS: artifacts }, input });
  const users = fixtureUsers();
  const ndjson = (form: 'nested' | 'flat') => `${users.slice(0, 25).map((u) => JSON.stringify(userRecord(u, form))).join('\n')}\n`;

  before(async () => {
    dir = await tempDir();
    artifacts = join(dir, 'store');
    await writeFile(join(dir, 'users.ndjson'), mongoExport(users));
    await writeFile(join(dir, 'nested.ndjson'), ndjson('nested'));
    await writeFile(join(dir, 'flat.ndjson'), ndjson('flat'));
    await writeFile(join(dir, 'nested.json'), JSON.stringify(users.slice(0, 25).map((u) => userRecord(u, 'nested'))));
  });
  after(cleanupTempDirs);

  it('load reads vega-datasets’ weekly-weather.json into dotted columns', async () => {
    const r = await cli(['load', join(ROOT, 'node_modules', 'vega-datasets', 'data', 'weekly-weather.json'), '--out', 'weather.arrow']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('wrote weather.arrow: 10 rows × 12 columns (day: category, record.high: integer, record.low: integer, normal.high: integer');
    expect(r.stdout).to.contain('forecast.low.low: integer)');
  });

  it('run --from-command "cat <mongoexport file>" trains and packages on the flattened columns', async () => {
    const r = await cli(['run', '--from-command', 'cat users.ndjson', '--target', 'plan', '--name', 'users', '--seed', '1']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.contain('warning: command "cat users.ndjson": column "tags": arrays are kept as their JSON text');
    expect(r.stdout).to.contain('usage.hours (number) → numeric');
    expect(r.stdout).to.contain('meta.signup (datetime) → datetime-parts');
    expect(r.stdout).to.contain('_id: dropped (id-like: every value is distinct)');
    expect(r.stdout.trimEnd().split('\n').at(-1)).to.equal('users@1.0.0');
    const schema = JSON.parse(await readFile(join(artifacts, 'users', '1.0.0', 'input-schema.json'), 'utf8')) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).to.include.members(['usage.hours', 'account.region', 'meta.signup']);
  });

  it('predict gives the same output for nested NDJSON, flat NDJSON, a nested JSON array and nested stdin', async () => {
    const nested = await cli(['predict', 'users', '--input', 'nested.ndjson', '--id', '_id']);
    expect(nested.code, nested.stderr).to.equal(0);
    const lines = nested.stdout.trimEnd().split('\n');
    expect(lines).to.have.length(25);
    expect(JSON.parse(lines[0] as string)).to.have.property('_id', users[0]?.id);
    for (const args of [['--input', 'flat.ndjson'], ['--input', 'nested.json'], ['--input', '-']]) {
      const other = await cli(['predict', 'users', ...args, '--id', '_id'], ndjson('nested'));
      expect(other.code, other.stderr).to.equal(0);
      expect(other.stdout, args.join(' ')).to.equal(nested.stdout);
    }
  });

  it('predict names the row and the flattened column of a bad nested value', async () => {
    const bad = ndjson('nested').replace('"hours":0.5', '"hours":"many"');
    await writeFile(join(dir, 'bad.ndjson'), bad);
    const r = await cli(['predict', 'users', '--input', 'bad.ndjson', '--on-bad-row', 'fail']);
    expect(r.code).to.equal(1);
    expect(r.stderr.trim()).to.equal('mlpipe: bad.ndjson: row 1, column "usage.hours": must be number, got "many" (--on-bad-row null or skip predicts the other rows)');
    // By default the row is written with its error, the others predicted.
    const kept = await cli(['predict', 'users', '--input', 'bad.ndjson']);
    expect(kept.code, kept.stderr).to.equal(0);
    expect(kept.stderr.trim()).to.equal('1 row could not be predicted (written with an error field); first: row 1: /usage.hours: must be number, got "many"');
    const first = JSON.parse(kept.stdout.split('\n')[0]!) as Record<string, unknown>;
    expect(first).to.deep.equal({ prediction: null, probabilities: null, error: '/usage.hours: must be number, got "many"' });
  });
});
