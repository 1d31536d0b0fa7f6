import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { cleanupTempDirs, tempDir } from '../../../test-helpers/fixtures.js';
import { MlpipeError } from '../../errors.js';
import { loadToDataset } from '../load.js';
import { type SourceFlags, openSource, parseSourceArgument, sourceKindOf, specLabel } from './index.js';
import type { SourceSpec } from './types.js';

function usageError(arg: string | undefined, flags: SourceFlags, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseSourceArgument(arg, flags, env);
  } catch (err) {
    expect(err).to.be.instanceOf(MlpipeError);
    expect((err as MlpipeError).exitCode).to.equal(2);
    return (err as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('source arguments and opening sources', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(cleanupTempDirs);

  it('tells the kind of source from the argument', () => {
    const kinds: [string, string][] = [
      ['-', 'stdin'],
      ['postgres://u@h/db', 'sql'],
      ['postgresql://h/db', 'sql'],
      ['mysql://h/db', 'sql'],
      ['mariadb://h/db', 'sql'],
      ['sqlite:data/x.db', 'sql'],
      ['data/x.db', 'sql'],
      ['x.SQLITE', 'sql'],
      ['x.sqlite3', 'sql'],
      ['http://api/x', 'http'],
      ['HTTPS://api/x', 'http'],
      ['data.csv', 'file'],
      ['data.arrow', 'file'],
      ['db.csv', 'file'],
    ];
    for (const [arg, kind] of kinds) expect(sourceKindOf(arg), arg).to.equal(kind);
  });

  it('builds a spec of each kind from the argument and flags', () => {
    const cases: [string | undefined, SourceFlags, SourceSpec][] = [
      ['a.csv', {}, { kind: 'file', path: 'a.csv' }],
      [
        'a.txt',
        { format: 'TSV', delimiter: ';', quote: "'", encoding: 'latin1', header: false },
        { kind: 'file', path: 'a.txt', format: 'tsv', delimiter: ';', quote: "'", encoding: 'latin1', header: false },
      ],
      ['book.xlsx', { sheet: 'Data', range: 'B2:F100' }, { kind: 'file', path: 'book.xlsx', sheet: 'Data', range: 'B2:F100' }],
      ['-', { format: 'ndjson' }, { kind: 'stdin', format: 'ndjson' }],
      [undefined, { fromCommand: 'cat x.csv', format: 'csv' }, { kind: 'command', command: 'cat x.csv', format: 'csv' }],
      ['postgres://u:${PW}@h:5432/db', { query: 'select 1' }, { kind: 'sql', url: 'postgres://u:${PW}@h:5432/db', query: 'select 1' }],
      ['x.db', { table: 't' }, { kind: 'sql', url: 'x.db', table: 't' }],
      ['https://api/x', {}, { kind: 'http', url: 'https://api/x' }],
      [
        'https://api/x',
        { data: '{"q": 1}', httpHeader: ['X-Key: ${KEY}', 'Accept:application/json'], bearerEnv: 'TOKEN', recordsPath: 'data', paginate: 'cursor', cursorPath: 'next', pageParam: 'after', maxRecords: 10, retries: 1, timeout: 500 },
        {
          kind: 'http',
          url: 'https://api/x',
          method: 'POST',
          body: { q: 1 },
          headers: { 'X-Key': '${KEY}', Accept: 'application/json' },
          bearerToken: '${TOKEN}',
          recordsPath: 'data',
          pagination: { type: 'cursor', cursorPath: 'next', param: 'after' },
          maxRecords: 10,
          retries: 1,
          timeoutMs: 500,
        },
      ],
      ['http://a/x', { paginate: 'page', pageParam: 'p', pageSize: 50 }, { kind: 'http', url: 'http://a/x', pagination: { type: 'page', param: 'p', size: 50 } }],
      ['http://a/x', { paginate: 'offset', pageSize: 50 }, { kind: 'http', url: 'http://a/x', pagination: { type: 'offset', limit: 50 } }],
      ['http://a/x', { paginate: 'link', method: 'get' }, { kind: 'http', url: 'http://a/x', method: 'GET', pagination: { type: 'link' } }],
    ];
    for (const [arg, flags, spec] of cases) expect(parseSourceArgument(arg, flags, { TOKEN: 't0ken' }), `${arg} ${JSON.stringify(flags)}`).to.deep.equal(spec);
  });

  it('never copies a secret into the spec: a bearer token stays a ${NAME} reference', () => {
    const spec = parseSourceArgument('https://api/x', { bearerEnv: 'API_TOKEN' }, { API_TOKEN: 'very-secret' });
    expect(JSON.stringify(spec)).not.to.contain('very-secret');
  });

  it('refuses flags that do not fit the source, and bad values, naming the flag (usage errors)', () => {
    const cases: [string | undefined, SourceFlags, string, NodeJS.ProcessEnv?][] = [
      [undefined, {}, '<source>: give a source (a file, -, a database URL or an http(s) URL) or --from-command'],
      ['a.csv', { fromCommand: 'ls' }, '--from-command: give either a <source> argument or --from-command, not both'],
      ['a.csv', { query: 'select 1' }, '--query: only for an SQL source (postgres://…, mysql://…, sqlite:… or a .db file), not for a file'],
      ['postgres://h/db', {}, '--query: an SQL source needs --query <sql> or --table <name>'],
      ['postgres://h/db', { query: 'select 1', table: 't' }, '--query: give --query or --table, not both'],
      ['postgres://h/db', { table: 't', delimiter: ';' }, '--delimiter: only for a file or standard input or --from-command, not for an SQL source'],
      ['a.csv', { method: 'POST' }, '--method: only for an HTTP source (http://… or https://…), not for a file'],
      ['a.csv', { header: false, sheet: 'x', format: 'csvx' }, '--format: expected one of csv, tsv, json, ndjson, xlsx, parquet, arrow, got "csvx"'],
      ['-', { format: 'xlsx' }, '--format: standard input can be csv, tsv, json, ndjson, not "xlsx"'],
      ['-', { sheet: 'x' }, '--sheet: only for a file, not for standard input'],
      ['a.csv', { delimiter: ';;' }, '--delimiter: expected one character, got ";;"'],
      ['a.csv', { encoding: 'klingon' }, '--encoding: unknown text encoding "klingon"'],
      ['a.xlsx', { range: '2B' }, '--range: expected an A1 range such as B2:F100, A1:D or B:F, got "2B"'],
      ['https://a/x', { data: '{nope' }, '--data: expected a JSON document (the POST body)'],
      ['https://a/x', { data: '{}', method: 'GET' }, '--data: a body needs --method POST'],
      ['https://a/x', { method: 'PUT' }, '--method: expected GET or POST, got "PUT"'],
      ['https://a/x', { httpHeader: ['NoColon'] }, '--http-header: expected "Name: value", got "NoColon"'],
      ['https://a/x', { bearerEnv: 'NOT_SET' }, '--bearer-env: the environment variable NOT_SET is not set'],
      ['https://a/x', { bearerEnv: '$X' }, '--bearer-env: expected the name of an environment variable, got "$X"'],
      ['https://a/x', { pageSize: 5 }, '--page-size: only with --paginate'],
      ['https://a/x', { paginate: 'offset' }, '--page-size: is needed with --paginate offset (records per request)'],
      ['https://a/x', { paginate: 'cursor', pageParam: 'c' }, '--cursor-path: is needed with --paginate cursor'],
      ['https://a/x', { paginate: 'cursor', cursorPath: 'next' }, '--page-param: is needed with --paginate cursor'],
      ['https://a/x', { paginate: 'link', pageSize: 3 }, '--page-size: not with --paginate link'],
      ['https://a/x', { paginate: 'scroll' }, '--paginate: expected one of page, offset, cursor, link, got "scroll"'],
      [undefined, { fromCommand: '  ' }, '--from-command: the command is empty'],
      [undefined, { fromCommand: 'ls', format: 'parquet' }, '--format: a command\'s output can be csv, tsv, json, ndjson, not "parquet"'],
    ];
    for (const [arg, flags, message, env] of cases) expect(usageError(arg, flags, env), `${arg} ${JSON.stringify(flags)}`).to.contain(message);
  });

  it('names sources in messages without secrets', () => {
    expect(specLabel({ kind: 'sql', url: 'postgres://bob:hunter2@db:5432/x', table: 't' })).to.equal('postgres://bob:***@db:5432/x');
    expect(specLabel({ kind: 'http', url: 'https://api/x?token=abc&page=1' })).to.equal('https://api/x?token=***&page=1');
    expect(specLabel({ kind: 'file', path: 'a.csv' })).to.equal('a.csv');
    expect(specLabel({ kind: 'command', command: 'ls' })).to.equal('command: ls');
  });

  it('opens .arrow files (by extension or format) as datasets and everything else through its own source', async () => {
    const csv = join(dir, 'a.csv');
    await writeFile(csv, 'x,y\n1,a\n2,b\n');
    const out = join(dir, 'a.arrow');
    await loadToDataset({ source: csv, out });
    const ctx = { env: {} };
    expect(openSource({ kind: 'file', path: out }, ctx).name).to.equal(out);
    const renamed = join(dir, 'a.data');
    await writeFile(renamed, await (await import('node:fs/promises')).readFile(out));
    const viaFormat = await loadToDataset({ source: { kind: 'file', path: renamed, format: 'arrow' }, out: join(dir, 'b.arrow') });
    expect(viaFormat.lineage.source.kind).to.equal('dataset');
    const viaStdin = await loadToDataset({ source: { kind: 'file', path: '-' }, stdin: Readable.from([Buffer.from('x\n1\n')]), out: join(dir, 'c.arrow') });
    expect(viaStdin.lineage.source.kind).to.equal('stdin');
    expect(() => openSource({ kind: 'stdin' }, ctx)).to.throw(MlpipeError, 'reading "-" needs standard input');
  });
});
