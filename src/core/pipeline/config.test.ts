import { expect } from 'chai';
import { join } from 'node:path';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { ConfigError, NotFoundError } from '../errors.js';
import { FEATURIZER_KINDS } from '../features/registry.js';
import { readPipelineConfig } from './config.js';
import { readConfigText } from '../../test-helpers/config.js';

const KINDS = [...FEATURIZER_KINDS.keys()].join(', ');

describe('pipeline config', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(cleanupTempDirs);

  const read = (yaml: string) => readConfigText(dir, yaml);

  it('reads features.derive in order, with each entry\'s path and line', async () => {
    const cfg = await read('source: x.csv\ntarget: y\nfeatures:\n  derive:\n    zeta: "income / (debt + 1)"\n    adult: "age >= 18"\n    both: "zeta * adult"\n');
    expect(cfg.features.derive).to.deep.equal([
      { name: 'zeta', expression: 'income / (debt + 1)', path: 'features.derive.zeta', line: 5 },
      { name: 'adult', expression: 'age >= 18', path: 'features.derive.adult', line: 6 },
      { name: 'both', expression: 'zeta * adult', path: 'features.derive.both', line: 7 },
    ]);
  });

  it('reads a valid config, resolving paths against its folder', async () => {
    const cfg = await read(`name: m\nsource: data/x.csv\ntarget: y\nseed: 3\nmodel:\n  trees: 10\n  maxFeatures: sqrt\npackage:\n  artifacts: ../store\n`);
    expect(cfg.source.path).to.equal(join(dir, 'data/x.csv'));
    expect(cfg.package.artifacts).to.equal(join(dir, '../store'));
    expect(cfg.model).to.deep.equal({ type: 'random-forest', trees: 10, maxFeatures: 'sqrt' });
    expect(cfg.sha256).to.match(/^[0-9a-f]{64}$/);
  });

  const wrong: [string, string, string][] = [
    ['a misspelt setting', 'source: x.csv\ntarget: y\nmodel:\n  tress: 10\n', 'model.tress: unknown setting (did you mean "trees"?); allowed here: type, engine, trees, maxFeatures, maxDepth, minSamplesSplit, minSamplesLeaf, maxSamples (line 4)'],
    ['a misspelt top-level key', 'source: x.csv\ntraget: y\n', 'traget: unknown setting (did you mean "target"?)'],
    ['a missing target', 'source: x.csv\n', 'pipeline.yaml: target: is required (line 1)'],
    ['a wrong type', 'source: x.csv\ntarget: y\nmodel:\n  trees: many\n', 'model.trees: must be integer (line 4)'],
    ['an out-of-range value', 'source: x.csv\ntarget: y\nevaluation:\n  holdout: 1.5\n', 'evaluation.holdout: must be <= 0.9 (line 4)'],
    // What the schema cannot say about the forest's parameters, checked by their declaration (models/params.ts).
    ['a fractional count of features', 'source: x.csv\ntarget: y\nmodel:\n  trees: 10\n  maxFeatures: 2.5\n', 'pipeline.yaml: model.maxFeatures: must be sqrt, log2, all, a fraction in (0, 1) or a whole count, got 2.5 (line 5)'],
    ['a fractional bootstrap count', 'source: x.csv\ntarget: y\nmodel:\n  maxSamples: 1.5\n', 'pipeline.yaml: model.maxSamples: must be a fraction in (0, 1] or a whole count, got 1.5 (line 4)'],
    ['a seed out of range', 'source: x.csv\ntarget: y\nseed: 2147483648\n', 'pipeline.yaml: seed: must be <= 2147483647 (line 3)'],
    ['an unknown task', 'source: x.csv\ntarget: y\ntask: clustering\n', 'task: must be one of classification, regression (line 3)'],
    // Adapted for issue 6: the kinds are checked by the registry (with a suggestion), and there are more of them.
    ['an unknown featurizer', 'source: x.csv\ntarget: y\nfeatures:\n  columns:\n    age: {kind: zscore}\n', `pipeline.yaml: features.columns.age.kind: unknown featurizer "zscore"; must be one of ${KINDS} (line 5)`],
    ['a misspelt featurizer', 'source: x.csv\ntarget: y\nfeatures:\n  columns:\n    age:\n      kind: standard-scal\n', `pipeline.yaml: features.columns.age.kind: unknown featurizer "standard-scal" (did you mean "standard-scale"?); must be one of ${KINDS} (line 6)`],
    ['a featurizer parameter with a wrong value', 'source: x.csv\ntarget: y\nfeatures:\n  columns:\n    age: {kind: numeric, impute: avg}\n', 'pipeline.yaml: features.columns.age.impute: must be one of median, mean, most_frequent, constant, got "avg" (line 5)'],
    ['a misspelt featurizer parameter', 'source: x.csv\ntarget: y\nfeatures:\n  columns:\n    age:\n      kind: standard-scale\n      imputee: mean\n', 'pipeline.yaml: features.columns.age.imputee: unknown parameter "imputee" (did you mean "impute"?); known: impute, fillValue, indicator (line 7)'],
    ['a misspelt value in a parameter list', 'source: x.csv\ntarget: y\nfeatures:\n  columns:\n    when:\n      kind: datetime-cyclic\n      parts: [month, weekday]\n', 'pipeline.yaml: features.columns.when.parts: has "weekday"; allowed: month, dayofweek, hour, dayofyear (line 7)'],
    ['an unknown time zone', 'source: x.csv\ntarget: y\nfeatures:\n  columns:\n    when: {kind: datetime-parts, timezone: Europe/Pariss}\n', 'pipeline.yaml: features.columns.when.timezone: must be an IANA time zone like "Europe/Paris", "America/New_York" or "UTC", got "Europe/Pariss" (line 5)'],
    ['a parameter that needs another', 'source: x.csv\ntarget: y\nfeatures:\n  columns:\n    city:\n      kind: one-hot\n      impute: constant\n', 'pipeline.yaml: features.columns.city.fillValue: is required with impute: constant (the value a missing one is read as) (line 6)'],
    ['bins and edges together', 'source: x.csv\ntarget: y\nfeatures:\n  columns:\n    age: {kind: bin, bins: 4, edges: [18, 65]}\n', 'pipeline.yaml: features.columns.age.bins: cannot be given with edges (fixed edges decide the bins) (line 5)'],
    ['a misspelt drop selector', 'source: x.csv\ntarget: y\nfeatures:\n  drop:\n    - id\n    - {typ: text}\n', 'pipeline.yaml: features.drop[1].typ: unknown setting (did you mean "type"?); allowed here: type, pattern (line 6)'],
    ['an unknown column type in drop', 'source: x.csv\ntarget: y\nfeatures:\n  drop: [{type: txt}]\n', 'pipeline.yaml: features.drop[0].type: must be one of number, integer, boolean, category, datetime, text (line 4)'],
    ['a drop selector with type and pattern', 'source: x.csv\ntarget: y\nfeatures:\n  drop:\n    - {type: text, pattern: "^id_"}\n', 'pipeline.yaml: features.drop[0]: give type: or pattern:, not both (use two items) (line 5)'],
    ['an empty drop selector', 'source: x.csv\ntarget: y\nfeatures:\n  drop:\n    - {}\n', 'pipeline.yaml: features.drop[0]: give type: (a column type) or pattern: (a regular expression) (line 5)'],
    ['a drop pattern that is not a regular expression', 'source: x.csv\ntarget: y\nfeatures:\n  drop:\n    - pattern: "id_("\n', 'pipeline.yaml: features.drop[0].pattern: not a valid regular expression (Invalid regular expression: /id_(/u: Unterminated group) (line 5)'],
    ['a drop item that is a number', 'source: x.csv\ntarget: y\nfeatures:\n  drop: [3]\n', 'pipeline.yaml: features.drop[0]: must be string or object (line 4)'],
    ['a bad version', 'source: x.csv\ntarget: y\npackage:\n  version: v1\n', 'package.version: must match pattern'],
    // Adapted for issue 5: the file formats now include xlsx and parquet.
    ['a bad source format', 'source: {path: x.csv, format: xls}\ntarget: y\n', 'source.format: must be one of csv, tsv, json, ndjson, xlsx, parquet, arrow (line 1)'],
    ['a misspelt SQL setting', 'source:\n  sql: sqlite:x.db\n  querry: select 1\ntarget: y\n', 'source.querry: unknown setting (did you mean "query"?); allowed here: sql, query, table, types, onBadRow, inferRows, chunkRows (line 3)'],
    ['an SQL source with query and table', 'source:\n  sql: sqlite:x.db\n  query: select 1\n  table: t\ntarget: y\n', 'source.table: give query or table, not both (line 4)'],
    ['an SQL source with neither query nor table', 'source:\n  sql: postgres://h/db\ntarget: y\n', 'source.sql: an SQL source needs query: or table: (line 2)'],
    ['a misspelt HTTP setting in a list', 'source:\n  - a.csv\n  - http: https://x\n    paginate: {type: page}\ncombine: {how: concat}\ntarget: y\n', 'source[1].paginate: unknown setting (did you mean "pagination"?)'],
    ['an HTTP URL that is not http(s)', 'source:\n  http: ftp://x\ntarget: y\n', 'source.http: must match pattern'],
    ['an unknown HTTP method', 'source:\n  http: https://x\n  method: PUT\ntarget: y\n', 'source.method: must be one of GET, POST (line 3)'],
    ['a body with GET', 'source:\n  http: https://x\n  method: GET\n  body: {a: 1}\ntarget: y\n', 'source.body: a body needs method: POST (line 4)'],
    ['an unknown pagination', 'source:\n  http: https://x\n  pagination: {type: scroll}\ntarget: y\n', 'source.pagination.type: must be one of page, offset, cursor, link (line 3)'],
    ['cursor pagination without its path', 'source:\n  http: https://x\n  pagination:\n    type: cursor\n    param: c\ntarget: y\n', 'source.pagination.cursorPath: is required (line 4)'],
    ['offset pagination without a limit', 'source:\n  http: https://x\n  pagination: {type: offset}\ntarget: y\n', 'source.pagination.limit: is required (line 3)'],
    ['an extra pagination setting', 'source:\n  http: https://x\n  pagination: {type: link, size: 3}\ntarget: y\n', 'source.pagination.size: unknown setting; allowed here: type (line 3)'],
    ['a negative retry count', 'source:\n  http: https://x\n  retries: -1\ntarget: y\n', 'source.retries: must be >= 0 (line 3)'],
    ['a command with a spreadsheet format', 'source:\n  command: ls\n  format: xlsx\ntarget: y\n', 'source.format: must be one of csv, tsv, json, ndjson (line 3)'],
    ['a bad onBadRow', 'source:\n  path: a.csv\n  onBadRow: ignore\ntarget: y\n', 'source.onBadRow: must be one of error, skip (line 3)'],
    ['a zero chunkRows', 'source:\n  path: a.csv\n  chunkRows: 0\ntarget: y\n', 'source.chunkRows: must be >= 1 (line 3)'],
    ['an unknown declared type', 'source:\n  path: a.csv\n  types: {zip: string}\ntarget: y\n', 'source.types.zip: must be one of number, integer, boolean, category, datetime, text, datetime:mdy, datetime:dmy (line 3)'],
    ['a bad spreadsheet range', 'source:\n  path: a.xlsx\n  range: 2B\ntarget: y\n', 'source.range: must match pattern'],
    ['a source that is a number', 'source: 3\ntarget: y\n', 'source: must be string, object or array (line 1)'],
    ['an empty source list', 'source: []\ntarget: y\n', 'source: must NOT have fewer than 1 items (line 1)'],
    ['several sources without combine', 'source:\n  - a.csv\n  - b.csv\ntarget: y\n', 'source: several sources need combine: {how: concat} or {how: inner|left, on: [key, ...]} (line 2)'],
    ['combine with one source', 'source: a.csv\ncombine: {how: concat}\ntarget: y\n', 'combine: combines a list of two or more sources (source: [..., ...]) (line 2)'],
    ['a join without keys', 'source: [a.csv, b.csv]\ncombine: {how: inner}\ntarget: y\n', 'combine.on: is required with how: inner (the key columns) (line 2)'],
    ['keys with concat', 'source: [a.csv, b.csv]\ncombine: {how: concat, on: [id]}\ntarget: y\n', 'combine.on: only with how: inner or left (a join) (line 2)'],
    ['an unknown combine', 'source: [a.csv, b.csv]\ncombine: {how: outer, on: [id]}\ntarget: y\n', 'combine.how: must be one of concat, inner, left (line 2)'],
    ['a misspelt combine setting', 'source: [a.csv, b.csv]\ncombine:\n  how: left\n  onn: [id]\ntarget: y\n', 'combine.onn: unknown setting (did you mean "on"?); allowed here: how, on (line 4)'],
    ['conflicting load options in a list', 'source:\n  - path: a.csv\n    onBadRow: skip\n  - path: b.csv\n    onBadRow: error\ncombine: {how: concat}\ntarget: y\n', 'source[1].onBadRow: conflicts with "skip" given by source[0]: load options apply to the combined table (line 5)'],
    ['conflicting declared types in a list', 'source:\n  - {path: a.csv, types: {zip: category}}\n  - {path: b.csv, types: {zip: integer}}\ncombine: {how: concat}\ntarget: y\n', 'source[1].types.zip: conflicts with the type category given for "zip" by source[0] (line 3)'],
    // Issue 6: derived columns, checked at read time (unknown column names once the data is loaded).
    ['a derive syntax error', 'source: x.csv\ntarget: y\nfeatures:\n  derive:\n    ratio: "income / (debt + 1"\n', 'pipeline.yaml: features.derive.ratio: syntax error: expected ")" at character 19 of "income / (debt + 1" (line 5)'],
    ['a derive forward reference', 'source: x.csv\ntarget: y\nfeatures:\n  derive:\n    a: "b * 2"\n    b: "income + 1"\n', 'pipeline.yaml: features.derive.a: uses "b", which is derived after it; a derived column may only use columns derived before it (move "b" up) (line 5)'],
    ['a derive using itself', 'source: x.csv\ntarget: y\nfeatures:\n  derive:\n    a: "income + a"\n', 'pipeline.yaml: features.derive.a: uses itself ("a") (line 5)'],
    ['a misspelt derive function', 'source: x.csv\ntarget: y\nfeatures:\n  derive:\n    l: "lg(income)"\n', 'pipeline.yaml: features.derive.l: unknown function "lg" (did you mean "log"?); functions: sqrt, log, abs, ceil, floor, round, exp, min, max, if at character 1 of "lg(income)" (line 5)'],
    ['member access in derive', 'source: x.csv\ntarget: y\nfeatures:\n  derive:\n    x: "income.constructor"\n', 'pipeline.yaml: features.derive.x: syntax error: "." is not allowed (no member access) at character 7 of "income.constructor" (line 5)'],
    ['constructor in derive', 'source: x.csv\ntarget: y\nfeatures:\n  derive:\n    x: "constructor"\n', 'pipeline.yaml: features.derive.x: the name "constructor" is not allowed at character 1 of "constructor" (line 5)'],
    ['__proto__ in derive', 'source: x.csv\ntarget: y\nfeatures:\n  derive:\n    x: "__proto__ + 1"\n', 'pipeline.yaml: features.derive.x: the name "__proto__" is not allowed at character 1 of "__proto__ + 1" (line 5)'],
    ['toString in derive', 'source: x.csv\ntarget: y\nfeatures:\n  derive:\n    x: "toString()"\n', 'pipeline.yaml: features.derive.x: the name "toString" is not allowed at character 1 of "toString()" (line 5)'],
    ['assignment in derive', 'source: x.csv\ntarget: y\nfeatures:\n  derive:\n    x: "y = 1"\n', 'pipeline.yaml: features.derive.x: syntax error: "=" is not allowed (no assignment; compare with ==) at character 3 of "y = 1" (line 5)'],
    ['a function definition in derive', 'source: x.csv\ntarget: y\nfeatures:\n  derive:\n    x: "f(a) = a * 2"\n', 'pipeline.yaml: features.derive.x: syntax error: "=" is not allowed (no assignment; compare with ==) at character 6 of "f(a) = a * 2" (line 5)'],
    ['a very long derive expression', 'source: x.csv\ntarget: y\nfeatures:\n  derive:\n    x: "a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a"\n', 'pipeline.yaml: features.derive.x: the expression is 1201 characters long; at most 1000 are allowed in "a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a" (line 5)'],
    ['a derive name that is not an identifier', 'source: x.csv\ntarget: y\nfeatures:\n  derive:\n    "my ratio": "income / 2"\n', 'pipeline.yaml: features.derive.my ratio: a derived column name is letters, digits and _ (not starting with a digit), so that expressions can use it (line 5)'],
    ['a derive expression that is not text', 'source: x.csv\ntarget: y\nfeatures:\n  derive:\n    x: [1, 2]\n', 'pipeline.yaml: features.derive.x: must be string (line 5)'],
  ];
  for (const [what, yaml, message] of wrong) {
    it(`reports ${what} with its path and line`, async () => {
      try {
        await read(yaml);
        expect.fail('should refuse');
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        const all = [(err as ConfigError).message, ...(err as ConfigError).details.map((d) => `${d.path}: ${d.message}`)].join('\n');
        expect(all).to.contain(message);
      }
    });
  }

  it('reads every source form, resolving relative file and sqlite paths against its folder', async () => {
    const yaml = [
      'source:',
      '  - {path: data/a.csv, delimiter: ";", quote: "\'", encoding: latin1, header: false, types: {zip: category}, onBadRow: skip}',
      '  - {sql: "sqlite:db/x.sqlite", table: customers, inferRows: 100}',
      '  - {sql: "postgres://u:${PW}@h:5432/db", query: "select 1"}',
      '  - {sql: /abs/y.db, table: t}',
      '  - http: https://api.example.com/v1/items',
      '    method: POST',
      '    body: {filter: new}',
      '    headers: {X-Key: "${KEY}"}',
      '    bearerToken: "${TOKEN}"',
      '    recordsPath: data.items',
      '    pagination: {type: cursor, cursorPath: next, param: after}',
      '    retries: 2',
      '    timeoutMs: 5000',
      '    maxRecords: 1000',
      '  - {command: "cat x.ndjson", format: ndjson, chunkRows: 500}',
      'combine: {how: left, on: [id]}',
      'target: y',
      '',
    ].join('\n');
    const cfg = await read(yaml);
    expect(cfg.source.sources).to.deep.equal([
      { kind: 'file', path: join(dir, 'data/a.csv'), delimiter: ';', quote: "'", encoding: 'latin1', header: false },
      { kind: 'sql', url: `sqlite:${join(dir, 'db/x.sqlite')}`, table: 'customers' },
      { kind: 'sql', url: 'postgres://u:${PW}@h:5432/db', query: 'select 1' },
      { kind: 'sql', url: '/abs/y.db', table: 't' },
      {
        kind: 'http',
        url: 'https://api.example.com/v1/items',
        method: 'POST',
        body: { filter: 'new' },
        headers: { 'X-Key': '${KEY}' },
        bearerToken: '${TOKEN}',
        recordsPath: 'data.items',
        pagination: { type: 'cursor', cursorPath: 'next', param: 'after' },
        retries: 2,
        timeoutMs: 5000,
        maxRecords: 1000,
      },
      { kind: 'command', command: 'cat x.ndjson', format: 'ndjson' },
    ]);
    expect(cfg.source.combine).to.deep.equal({ how: 'left', on: ['id'] });
    expect(cfg.source).to.include({ onBadRow: 'skip', inferRows: 100, chunkRows: 500, path: join(dir, 'data/a.csv') });
    expect(cfg.source.types).to.deep.equal({ zip: 'category' });
    expect(cfg.source.keyLocations[1]).to.deep.equal({ path: `${join(dir, 'pipeline.yaml')}: source[1].on`, line: 3 });
  });

  it('reads drop selectors and featurizer choices, with the line of each entry', async () => {
    const cfg = await read(
      [
        'source: x.csv',
        'target: y',
        'features:',
        '  drop:',
        '    - customer_id',
        '    - {type: text}',
        '    - pattern: "^tmp_"',
        '  columns:',
        '    age: {kind: standard-scale, impute: mean}',
        '    city: drop',
        '',
      ].join('\n'),
    );
    expect(cfg.features).to.deep.equal({
      drop: ['customer_id', { type: 'text' }, { pattern: '^tmp_' }],
      columns: { age: { kind: 'standard-scale', impute: 'mean' }, city: 'drop' },
      lines: { 'features.drop[0]': 5, 'features.drop[1]': 6, 'features.drop[2]': 7, 'features.columns.age': 9, 'features.columns.city': 10 },
    });
  });

  it('a relative sqlite path without the scheme, and a string source, resolve against the folder', async () => {
    const sql = await read('source: {sql: data/x.db, table: t}\ntarget: y\n');
    expect(sql.source.sources).to.deep.equal([{ kind: 'sql', url: join(dir, 'data/x.db'), table: 't' }]);
    expect(sql.source.path).to.equal(undefined);
    const file = await read('source: x.csv\ntarget: y\n');
    expect(file.source.sources).to.deep.equal([{ kind: 'file', path: join(dir, 'x.csv') }]);
    expect(file.source.combine).to.equal(undefined);
  });

  it('reports the required target by name', async () => {
    try {
      await read('source: x.csv\n');
      expect.fail('should refuse');
    } catch (err) {
      expect((err as ConfigError).details).to.deep.equal([{ path: 'target', message: 'is required (line 1)' }]);
    }
  });

  it('reports YAML syntax errors with line and column', async () => {
    try {
      await read('source: x.csv\ntarget: [y\n');
      expect.fail('should refuse');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.match(/pipeline\.yaml: line \d+, column \d+: invalid YAML/);
    }
  });

  it('refuses a missing file', async () => {
    try {
      await readPipelineConfig(join(dir, 'nope.yaml'));
      expect.fail('should refuse');
    } catch (err) {
      expect(err).to.be.instanceOf(NotFoundError);
    }
  });
});
