/**
 * Hostile headers (issue 11, problems 5 and 12): many repeated names, more columns than mlpipe reads,
 * a column name megabytes long, JSON records with a million keys. Each is refused or read quickly,
 * with a message that names the file and quotes at most a few dozen characters of the data.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { rejection } from '../../test-helpers/async.js';
import { cleanupTempDirs, runCli, tempDir } from '../../test-helpers/fixtures.js';
import { DataError, QUOTED_TEXT_MAX, formatLocation, quoteText } from '../errors.js';
import { MAX_COLUMNS, MAX_COLUMN_NAME_LENGTH, cleanHeader, readRawFile } from './files.js';

let dir: string;

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

/** The DataError of reading `path`; its message is at most `maxLength` characters. */
async function refused(path: string, maxLength = 400): Promise<string> {
  const err = await rejection(readRawFile(path));
  expect(err, String(err)).to.be.instanceOf(DataError);
  const { message } = err as DataError;
  expect(message.length, message.slice(0, 1000)).to.be.at.most(maxLength);
  expect(message).to.contain(path);
  return message;
}

describe('hostile headers (issue 11)', function () {
  this.timeout(120_000);
  before(async () => {
    dir = await tempDir();
  });
  after(cleanupTempDirs);

  it('renames 60,000 repeated names in linear time, with the names it always gave', () => {
    const n = 60_000;
    const started = performance.now();
    const names = cleanHeader(new Array<string>(n).fill('a'), 'wide.csv', []);
    const ms = performance.now() - started;
    console.log(`      cleanHeader of ${n} × "a": ${ms.toFixed(0)} ms`);
    // Quadratic took ~30 s for 20,000 names; linear takes milliseconds. The bound is generous.
    expect(ms).to.be.below(10_000);
    expect(names[0]).to.equal('a');
    expect(names[1]).to.equal('a_2');
    expect(names[n - 1]).to.equal(`a_${n}`);
    expect(new Set(names).size).to.equal(n);
    // Names already taken are skipped, as before; a repeated renamed name gets its own suffix.
    const warnings: string[] = [];
    expect(cleanHeader(['a', 'a', 'a_3', 'a', ' ', 'a_2', 'b', 'a', 'unnamed_5'], 'f.csv', warnings)).to.deep.equal([
      'a', 'a_2', 'a_3', 'a_4', 'unnamed_5', 'a_2_2', 'b', 'a_5', 'unnamed_5_2',
    ]);
    expect(warnings).to.have.length(6);
  });

  it('reads a CSV header of 30,000 repeated names quickly', async () => {
    const n = 30_000;
    const path = await file('dups.csv', `${new Array<string>(n).fill('a').join(',')}\n${new Array<string>(n).fill('1').join(',')}\n`);
    const started = performance.now();
    const table = await readRawFile(path);
    console.log(`      read ${n} repeated names: ${(performance.now() - started).toFixed(0)} ms`);
    expect(table.columnNames).to.have.length(n);
    expect(table.columnNames[n - 1]).to.equal(`a_${n}`);
    expect(table.rows).to.have.length(1);
  });

  it(`refuses a CSV header wider than ${MAX_COLUMNS.toLocaleString('en-US')} columns, naming the file and the limit`, async () => {
    for (const n of [MAX_COLUMNS + 1, 1_200_000]) {
      const header = Array.from({ length: n }, (_, j) => `c${j}`).join(',');
      const path = await file(`wide-${n}.csv`, `${header}\n${header}\n`);
      const message = await refused(path);
      expect(message).to.contain(`${n.toLocaleString('en-US')} columns`);
      expect(message).to.contain(MAX_COLUMNS.toLocaleString('en-US'));
      expect(message).not.to.contain('typed array');
    }
  });

  it('refuses a wide table read with --no-header too', async () => {
    const path = await file('wide-noheader.csv', `${new Array<string>(MAX_COLUMNS + 5).fill('1').join(',')}\n`);
    const err = await rejection(readRawFile(path, { header: false }));
    expect(err).to.be.instanceOf(DataError);
    expect((err as Error).message).to.contain(MAX_COLUMNS.toLocaleString('en-US'));
  });

  it('reads a table of exactly the limit of columns would be allowed: 5,000 columns load with small chunks', async () => {
    const n = 5_000;
    const header = Array.from({ length: n }, (_, j) => `c${j}`).join(',');
    const row = new Array<string>(n).fill('7').join(',');
    const path = await file('w5000.csv', `${header}\n${row}\n${row}\n`);
    const table = await readRawFile(path);
    expect(table.columnNames).to.have.length(n);
    expect(table.rows).to.have.length(2);
  });

  it(`refuses a column name longer than ${MAX_COLUMN_NAME_LENGTH} characters, quoting only its start`, async () => {
    const long = 'x'.repeat(10_000_000);
    const message = await refused(await file('longname.csv', `id,${long}\n1,2\n`));
    expect(message).to.contain('column 2');
    expect(message).to.contain('10,000,000 characters');
    // A name just inside the limit is fine.
    const ok = 'y'.repeat(MAX_COLUMN_NAME_LENGTH);
    const table = await readRawFile(await file('okname.csv', `id,${ok}\n1,2\n`));
    expect(table.columnNames).to.deep.equal(['id', ok]);
  });

  it('refuses NDJSON and JSON records with more keys than the limit, or a key too long', async () => {
    const wide: Record<string, number> = {};
    for (let j = 0; j <= MAX_COLUMNS; j++) wide[`k${j}`] = j;
    const ndjson = await file('wide.ndjson', `${JSON.stringify(wide)}\n`);
    expect(await refused(ndjson)).to.contain(MAX_COLUMNS.toLocaleString('en-US'));
    const json = await file('wide.json', JSON.stringify([wide]));
    expect(await refused(json)).to.contain(MAX_COLUMNS.toLocaleString('en-US'));
    const longKey = await file('longkey.ndjson', `${JSON.stringify({ a: 1, ['k'.repeat(2_000_000)]: 2 })}\n`);
    expect(await refused(longKey)).to.contain('2,000,000 characters');
    const notRecord = await file('string.ndjson', `${JSON.stringify('s'.repeat(1_000_000))}\n`);
    await refused(notRecord);
  });

  it('caps every quoted name or value in messages (quoteText, formatLocation)', () => {
    expect(quoteText('age')).to.equal('"age"');
    const cut = quoteText('z'.repeat(5_000_000));
    expect(cut.length).to.be.below(QUOTED_TEXT_MAX + 40);
    expect(cut).to.contain('5,000,000 characters');
    expect(formatLocation({ source: 'f.csv', row: 1, column: 'q'.repeat(1_000_000) }).length).to.be.below(200);
    // A surrogate pair is not cut in half.
    const emoji = quoteText(`${'a'.repeat(QUOTED_TEXT_MAX - 1)}😀😀`);
    expect(JSON.parse(emoji.slice(0, emoji.indexOf('" (') + 1))).not.to.match(/[\ud800-\udbff]…/);
  });

  it('mlpipe load of a 1.2M-column header: one short line, exit 1, no dataset', async () => {
    const header = Array.from({ length: 1_200_000 }, (_, j) => `c${j}`).join(',');
    const path = await file('huge.csv', `${header}\n`);
    const out = join(dir, 'huge.arrow');
    const run = await runCli(['load', path, '--out', out]);
    expect(run.code, run.stderr).to.equal(1);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines, run.stderr.slice(0, 2000)).to.have.length(1);
    expect(lines[0]).to.contain('1,200,000 columns');
    expect(lines[0]!.length).to.be.below(400);
  });
});
