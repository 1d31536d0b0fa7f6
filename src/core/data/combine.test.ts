import { join } from 'node:path';
import { expect } from 'chai';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { memorySource } from '../../test-helpers/memory-source.js';
import { ConfigError } from '../errors.js';
import { type Table, cellAt } from '../table.js';
import type { Cell, ColumnType } from '../values.js';
import { concatSources, joinSources } from './combine.js';
import type { RecordSource } from './sources/types.js';
import { MemoryTableSink } from './table-sinks.js';
import { streamLoad } from './type-chunks.js';
import { rejection } from '../../test-helpers/async.js';

let dir: string;

async function load(source: RecordSource, chunkRows = 2) {
  const sink = new MemoryTableSink();
  const result = await streamLoad(source, sink, { chunkRows, spoolNear: join(dir, 'x') });
  return { ...result, table: sink.table() };
}

function rows(table: Table): Cell[][] {
  return Array.from({ length: table.rowCount }, (_, i) => table.columns.map((c) => cellAt(c, i)));
}

function schema(table: Table): [string, ColumnType][] {
  return table.columns.map((c) => [c.name, c.type]);
}

const people = () =>
  memorySource(
    ['id', 'name', 'city'],
    [
      ['1', 'Ann', 'Oslo'],
      ['2', 'Bob', 'Rome'],
      ['3', 'Cy', 'Oslo'],
      ['', 'Nobody', 'Nowhere'],
      ['4', 'Di', 'Lima'],
    ],
    { name: 'people.csv', lines: [2, 3, 4, 5, 6] },
  );

/** Scores as a database gives them: integer keys, declared types. */
const scores = () =>
  memorySource(
    ['id', 'score', 'city'],
    [
      [1, 10.5, 'Bergen'],
      [2, 20, 'Milan'],
      [2, 21, 'Turin'], // a duplicate key: Bob's row appears twice, as in SQL
      [9, 90, 'Nice'],
      [null, 0, 'Null'], // a missing key never matches
    ],
    { name: 'postgres://db/test', declared: { id: 'integer', score: 'number', city: 'category' }, lineage: { kind: 'postgres', host: 'db', database: 'test', table: 'scores' } },
  );

describe('combining sources', () => {
  before(async () => {
    dir = await tempDir();
  });
  after(cleanupTempDirs);

  describe('concat', () => {
    it('stacks rows, matching columns by name (the union, in first-seen order)', async () => {
      const a = memorySource(['id', 'x'], [['1', 'p'], ['2', 'q'], ['3', 'r']], { name: 'a.csv' });
      const b = memorySource(['x', 'id', 'extra'], [['s', '4', 'yes'], ['t', '5', 'no']], { name: 'b.csv' });
      const loaded = await load(concatSources([a, b]));
      expect(schema(loaded.table)).to.deep.equal([
        ['id', 'integer'],
        ['x', 'category'],
        ['extra', 'boolean'],
      ]);
      expect(rows(loaded.table)).to.deep.equal([
        [1, 'p', null],
        [2, 'q', null],
        [3, 'r', null],
        [4, 's', true],
        [5, 't', false],
      ]);
      expect(loaded.lineage.source).to.deep.equal({
        kind: 'concat',
        rows: 5,
        sources: [
          { kind: 'file', path: 'a.csv', rows: 3 },
          { kind: 'file', path: 'b.csv', rows: 2 },
        ],
      });
    });

    it('keeps declared types the sources agree on (integer and number widen to number; other disagreements give category)', async () => {
      const a = memorySource(['n', 'c', 'b', 'u'], [[1, 'x', true, '1']], { declared: { n: 'integer', c: 'category', b: 'boolean' } });
      const b = memorySource(['n', 'c', 'b', 'u'], [[2.5, 3, 7, '2']], { declared: { n: 'number', c: 'integer', b: 'integer' } });
      const loaded = await load(concatSources([a, b]));
      expect(schema(loaded.table)).to.deep.equal([
        ['n', 'number'],
        ['c', 'category'],
        ['b', 'category'],
        ['u', 'integer'],
      ]);
      expect(rows(loaded.table)).to.deep.equal([
        [1, 'x', 'true', 1],
        [2.5, '3', '7', 2],
      ]);
    });
  });

  describe('joins', () => {
    it('inner: rows with a match; keys compared after typing ("2" in a CSV matches the integer 2); duplicate keys multiply rows', async () => {
      const loaded = await load(joinSources(people(), [scores()], { how: 'inner', on: ['id'] }));
      expect(schema(loaded.table)).to.deep.equal([
        ['id', 'integer'],
        ['name', 'category'],
        ['city', 'category'],
        ['score', 'number'],
        ['city_2', 'category'],
      ]);
      expect(rows(loaded.table)).to.deep.equal([
        [1, 'Ann', 'Oslo', 10.5, 'Bergen'],
        [2, 'Bob', 'Rome', 20, 'Milan'],
        [2, 'Bob', 'Rome', 21, 'Turin'],
      ]);
      expect(loaded.warnings).to.deep.equal(['postgres://db/test: column "city" is also in an earlier source; calling it "city_2"']);
      expect(loaded.lineage.source).to.deep.equal({
        kind: 'join',
        how: 'inner',
        on: ['id'],
        rows: 3,
        sources: [
          { kind: 'file', path: 'people.csv', rows: 5 },
          { kind: 'postgres', host: 'db', database: 'test', table: 'scores' },
        ],
      });
    });

    it('left: every row of the first source, the later columns missing where nothing matched', async () => {
      const loaded = await load(joinSources(people(), [scores()], { how: 'left', on: ['id'] }), 1);
      expect(rows(loaded.table)).to.deep.equal([
        [1, 'Ann', 'Oslo', 10.5, 'Bergen'],
        [2, 'Bob', 'Rome', 20, 'Milan'],
        [2, 'Bob', 'Rome', 21, 'Turin'],
        [3, 'Cy', 'Oslo', null, null],
        [null, 'Nobody', 'Nowhere', null, null],
        [4, 'Di', 'Lima', null, null],
      ]);
    });

    it('rows keep the line of the first source in messages', async () => {
      const right = memorySource(['id', 'tag'], [['1', 'a'], ['3', 'c']], { name: 'tags.csv' });
      const sink = new MemoryTableSink();
      const err = await rejection(streamLoad(joinSources(people(), [right], { how: 'inner', on: ['id'] }), sink, { types: { name: 'integer' }, spoolNear: join(dir, 'x') }));
      expect((err as Error).message).to.equal('people.csv inner join tags.csv: row 1 (line 2), column "name": expected a number, got "Ann" (column type integer)');
    });

    it('joins several later sources and on several keys', async () => {
      const left = memorySource(['a', 'b', 'v'], [['1', 'x', 'l1'], ['1', 'y', 'l2'], ['2', 'x', 'l3']], { name: 'l' });
      const r1 = memorySource(['b', 'a', 'w'], [['x', '1', 'r1'], ['y', '1', 'r2']], { name: 'r1' });
      const r2 = memorySource(['a', 'b', 'z'], [['1', 'x', 'z1'], ['2', 'x', 'z3']], { name: 'r2' });
      const loaded = await load(joinSources(left, [r1, r2], { how: 'left', on: ['a', 'b'] }));
      expect(schema(loaded.table).map((c) => c[0])).to.deep.equal(['a', 'b', 'v', 'w', 'z']);
      expect(rows(loaded.table)).to.deep.equal([
        [1, 'x', 'l1', 'r1', 'z1'],
        [1, 'y', 'l2', 'r2', null],
        [2, 'x', 'l3', null, 'z3'],
      ]);
      const inner = await load(joinSources(memorySource(['a', 'b', 'v'], [['1', 'x', 'l1'], ['1', 'y', 'l2'], ['2', 'x', 'l3']]), [memorySource(['b', 'a', 'w'], [['x', '1', 'r1'], ['y', '1', 'r2']]), memorySource(['a', 'b', 'z'], [['1', 'x', 'z1'], ['2', 'x', 'z3']])], { how: 'inner', on: ['a', 'b'] }));
      expect(rows(inner.table)).to.deep.equal([[1, 'x', 'l1', 'r1', 'z1']]);
    });

    it('a key column missing from a later source is a ConfigError naming source[i].on', async () => {
      const right = memorySource(['key', 'score'], [['1', '2']], { name: 'scores.csv' });
      const err = await rejection(load(joinSources(people(), [right], { how: 'left', on: ['id'] })));
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.equal('source[1].on: key column "id" is not in scores.csv (columns: key, score)');
    });

    it('a key column missing from the first source names source[0].on, with the config\'s file and line when given', async () => {
      const left = memorySource(['key', 'x'], [['1', '2']], { name: 'left.csv' });
      const err = await rejection(
        load(joinSources(left, [scores()], { how: 'inner', on: ['id'], keyLocation: (i) => ({ path: `pipeline.yaml: source[${i}].on`, line: 3 + i }) })),
      );
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.equal('pipeline.yaml: source[0].on: key column "id" is not in left.csv (columns: key, x) (line 3)');
    });
  });
});
