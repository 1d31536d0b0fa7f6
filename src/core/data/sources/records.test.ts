import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { ROOT, cleanupTempDirs, tempDir } from '../../../test-helpers/fixtures.js';
import { chunksOf, rejection } from '../../../test-helpers/async.js';
import { DataError } from '../../errors.js';
import { cellAt, findColumn } from '../../table.js';
import { loadSource } from '../load.js';
import { commandSource } from './command.js';
import { fileSource, stdinSource } from './file.js';
import { RecordCollector } from './records.js';
import type { RawValue, RecordSource } from './types.js';

let dir: string;

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

/** Columns of the last chunk and every row, padded to them. */
async function rowsOf(source: RecordSource, chunkRows = 1000): Promise<{ columns: string[]; rows: RawValue[][] }> {
  const chunks = await chunksOf(source, chunkRows);
  const columns = chunks.at(-1)?.columns ?? [];
  return { columns, rows: chunks.flatMap((c) => c.rows).map((r) => columns.map((_, j) => r[j])) };
}

/** What `mongoexport` writes: relaxed mode (first lines) and canonical mode (`--jsonFormat=canonical`, last line). */
const MONGOEXPORT = [
  '{"_id":{"$oid":"65a1b2c3d4e5f60718293a41"},"name":"Ada","age":36,"joined":{"$date":"2024-01-02T03:04:05.678Z"},"address":{"city":"Oslo","geo":{"lat":59.9,"lon":10.7}},"tags":["vip","early"],"balance":{"$numberDecimal":"120.50"},"prefs":{}}',
  '{"_id":{"$oid":"65a1b2c3d4e5f60718293a42"},"name":"Bob","age":41,"joined":{"$date":"2023-11-30T12:00:00Z"},"address":{"city":"Bergen","geo":{"lat":60.4,"lon":5.3}},"tags":[],"balance":{"$numberDecimal":"0"},"prefs":{"theme":"dark"}}',
  '{"_id":{"$oid":"65a1b2c3d4e5f60718293a43"},"name":"Cy","age":{"$numberLong":"29"},"joined":{"$date":{"$numberLong":"1672531200000"}},"address":{"city":"Oslo","geo":{"lat":{"$numberDouble":"59.95"},"lon":{"$numberDouble":"10.75"}}},"tags":["early"],"balance":{"$numberDecimal":"NaN"}}',
  '{"_id":{"$oid":"65a1b2c3d4e5f60718293a44"},"name":{"$symbol":"Di"},"age":{"$numberInt":"52"},"joined":{"$date":{"$numberLong":"-86400000"}},"address":{"city":"Tromsø","geo":{"lat":{"$numberDouble":"69.6"},"lon":{"$numberDouble":"Infinity"}}},"tags":["vip"],"balance":{"$numberDecimal":"-3.25"}}',
].join('\n');

describe('JSON records into rows (RecordCollector, every JSON source)', () => {
  before(async () => {
    dir = await tempDir();
  });
  after(cleanupTempDirs);

  it('flattens nesting of any depth; a column first seen in a later row appears then, earlier rows miss it', async () => {
    const path = await file('depths.ndjson', ['{"a":1,"b":{}}', '{"a":2,"n":{"x":{"y":{"z":3}}}}', '{"a":3,"b":{"c":true}}'].join('\n'));
    const { columns, rows } = await rowsOf(fileSource({ kind: 'file', path }), 1);
    expect(columns).to.deep.equal(['a', 'n.x.y.z', 'b.c']);
    expect(rows).to.deep.equal([
      [1, undefined, undefined],
      [2, 3, undefined],
      [3, undefined, true],
    ]);
  });

  it('a clash names the row, the column and both paths', async () => {
    const path = await file('clash.json', '[{"a.b":0}, {"x":1,"a.b":1,"a":{"b":2}}]');
    const err = await rejection(rowsOf(fileSource({ kind: 'file', path })));
    expect(err).to.be.instanceOf(DataError);
    expect(err.message).to.equal(`${path}: row 2, column "a.b": two values flatten to the name "a.b": /a.b and /a/b; rename one of them`);
  });

  it('the flat and the nested spelling of a name in different records are one column', async () => {
    const { columns, rows } = await rowsOf(stdinSource({ kind: 'stdin' }, Readable.from(['{"a.b":1}\n{"a":{"b":2}}\n'])));
    expect(columns).to.deep.equal(['a.b']);
    expect(rows).to.deep.equal([[1], [2]]);
  });

  it('arrays become JSON text, with one warning per column', async () => {
    const path = await file('tags.ndjson', '{"id":1,"tags":["a","b"],"n":{"list":[1]}}\n{"id":2,"tags":["c"],"n":{"list":[]}}\n');
    const source = fileSource({ kind: 'file', path });
    const { rows } = await rowsOf(source);
    expect(rows).to.deep.equal([
      [1, '["a","b"]', '[1]'],
      [2, '["c"]', '[]'],
    ]);
    expect(source.warnings).to.deep.equal([
      `${path}: column "tags": arrays are kept as their JSON text (like ["a","b"]), a text or category column`,
      `${path}: column "n.list": arrays are kept as their JSON text (like ["a","b"]), a text or category column`,
    ]);
  });

  it('unwraps mongoexport’s Extended JSON (relaxed and canonical) from a command, typed as a user expects', async () => {
    const path = await file('users.ndjson', `${MONGOEXPORT}\n`);
    const result = await loadSource({ source: { kind: 'command', command: `cat '${path}'` } });
    expect(result.schema.map((c) => `${c.name}: ${c.type}`)).to.deep.equal([
      '_id: category',
      'name: category',
      'age: integer',
      'joined: datetime',
      'address.city: category',
      'address.geo.lat: number',
      'address.geo.lon: number',
      'tags: category',
      'balance: number',
      'prefs.theme: category',
    ]);
    const t = result.table;
    const col = (name: string) => findColumn(t, name)!;
    expect([0, 1, 2, 3].map((i) => cellAt(col('_id'), i))).to.deep.equal([
      '65a1b2c3d4e5f60718293a41',
      '65a1b2c3d4e5f60718293a42',
      '65a1b2c3d4e5f60718293a43',
      '65a1b2c3d4e5f60718293a44',
    ]);
    expect([0, 1, 2, 3].map((i) => cellAt(col('joined'), i))).to.deep.equal([
      Date.UTC(2024, 0, 2, 3, 4, 5, 678),
      Date.UTC(2023, 10, 30, 12),
      Date.UTC(2023, 0, 1),
      Date.UTC(1969, 11, 31),
    ]);
    expect([0, 1, 2, 3].map((i) => cellAt(col('age'), i))).to.deep.equal([36, 41, 29, 52]);
    expect([0, 1, 2, 3].map((i) => cellAt(col('balance'), i))).to.deep.equal([120.5, 0, null, -3.25]);
    expect([0, 1, 2, 3].map((i) => cellAt(col('address.geo.lon'), i))).to.deep.equal([10.7, 5.3, 10.75, null]);
    expect([0, 1, 2, 3].map((i) => cellAt(col('prefs.theme'), i))).to.deep.equal([null, 'dark', null, null]);
    expect([0, 1, 2, 3].map((i) => cellAt(col('tags'), i))).to.deep.equal(['["vip","early"]', '[]', '["early"]', '["vip"]']);
    expect(result.warnings).to.deep.equal([`command "cat '${path}'": column "tags": arrays are kept as their JSON text (like ["a","b"]), a text or category column`]);
  });

  it('a malformed Extended JSON value in a command’s output names the row, line, column and path', async () => {
    const path = await file('bad.ndjson', '{"n":{"$numberInt":"1"}}\n\n{"n":{"$numberInt":"one"}}\n');
    const err = await rejection(rowsOf(commandSource({ kind: 'command', command: `cat '${path}'` })));
    expect(err.message).to.equal(
      `command "cat '${path}'": row 2 (line 3), column "n": at /n/$numberInt: Extended JSON $numberInt must hold a whole number as text, got "one"`,
    );
  });

  it('loads vega-datasets’ weekly-weather.json (nested two and three levels, keys that appear in later rows)', async () => {
    const result = await loadSource({ source: join(ROOT, 'node_modules', 'vega-datasets', 'data', 'weekly-weather.json') });
    expect(result.rows).to.equal(10);
    expect(result.schema.map((c) => `${c.name}: ${c.type}`)).to.deep.equal([
      'day: category',
      'record.high: integer',
      'record.low: integer',
      'normal.high: integer',
      'normal.low: integer',
      'actual.high: integer',
      'actual.low: integer',
      'id: integer',
      'forecast.high.high: integer',
      'forecast.high.low: integer',
      'forecast.low.high: integer',
      'forecast.low.low: integer',
    ]);
    const forecast = findColumn(result.table, 'forecast.high.high')!;
    expect(cellAt(forecast, 0)).to.equal(null);
    expect(cellAt(forecast, 9)).to.equal(53);
    expect(cellAt(findColumn(result.table, 'record.high')!, 0)).to.equal(62);
    expect(result.warnings).to.deep.equal([]);
  });

  it('flat records take the fast path and come out as before', () => {
    const warnings: string[] = [];
    const c = new RecordCollector('x', true, warnings);
    c.add({ a: 1, b: 'x' }, 1, 1);
    c.add({ b: null, c: true }, 2, 3);
    const chunk = c.take();
    expect(chunk.columns).to.deep.equal(['a', 'b', 'c']);
    expect(chunk.rows.map((r) => [r[0], r[1], r[2]])).to.deep.equal([
      [1, 'x', undefined],
      [undefined, null, true],
    ]);
    expect(chunk.lines).to.deep.equal([1, 3]);
    expect(warnings).to.deep.equal([]);
  });
});
