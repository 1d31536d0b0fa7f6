import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { expect } from 'chai';
import { parse } from 'yaml';
import { EXAMPLES, ROOT } from '../../test-helpers/fixtures.js';
import { PIPELINE_SCHEMA } from './config-schema.js';
import { SCHEMA_FILE, SCHEMA_ID, TABLE_END, TABLE_START, publishedSchema, schemaText, settingRows, settingsTable, typeText, withSettingsTable } from './schema.js';

/** The manual's page of pipeline.yaml, which holds the generated settings table (scripts/schema.ts writes it). */
const SETTINGS_PAGE = 'docs/pipeline-yaml.md';
const STALE = 'run `make schema` (it regenerates schema/pipeline.schema.json and the settings table of docs/pipeline-yaml.md from PIPELINE_SCHEMA) and commit the result';

describe('the published JSON Schema of pipeline.yaml', () => {
  it(`${SCHEMA_FILE} is what PIPELINE_SCHEMA generates`, async () => {
    const committed = await readFile(join(ROOT, SCHEMA_FILE), 'utf8').catch(() => '');
    if (committed !== schemaText()) expect.fail(`${SCHEMA_FILE} is stale or missing: ${STALE}`);
  });

  it('the settings table of docs/pipeline-yaml.md is what PIPELINE_SCHEMA generates', async () => {
    const page = await readFile(join(ROOT, SETTINGS_PAGE), 'utf8');
    expect(page, `${SETTINGS_PAGE} has the table markers`).to.contain(TABLE_START).and.to.contain(TABLE_END);
    if (withSettingsTable(page, SETTINGS_PAGE) !== page) expect.fail(`${SETTINGS_PAGE}'s settings table is stale: ${STALE}`);
  });

  it('is PIPELINE_SCHEMA with $schema and $id first, and validates alike', () => {
    const published = publishedSchema();
    expect(Object.keys(published).slice(0, 2)).to.deep.equal(['$schema', '$id']);
    expect(published.$schema).to.equal('http://json-schema.org/draft-07/schema#');
    expect(published.$id).to.equal(SCHEMA_ID);
    const { $id: _id, ...rest } = published;
    expect(rest).to.deep.equal(JSON.parse(JSON.stringify(PIPELINE_SCHEMA)));
  });

  it('the file on its own (a fresh ajv, strict mode) accepts the shipped examples and refuses what readPipelineConfig refuses', async () => {
    const validate = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true }).compile(JSON.parse(await readFile(join(ROOT, SCHEMA_FILE), 'utf8')) as object);
    for (const example of await readdir(EXAMPLES)) {
      if (example === 'ci') continue; // the CI/CD example uses ../penguins/pipeline.yaml
      const config = parse(await readFile(join(EXAMPLES, example, 'pipeline.yaml'), 'utf8')) as unknown;
      expect(validate(config), `${example}: ${JSON.stringify(validate.errors)}`).to.equal(true);
    }
    const wrong: unknown[] = [
      { source: 'a.csv' },
      { source: 'a.csv', target: 'y', model: { tress: 10 } },
      { source: 'a.csv', target: 'y', evaluation: { holdout: 2 } },
      { source: { sql: 'sqlite:x.db', query: 'SELECT 1', querry: 'x' }, target: 'y' },
      { source: { http: 'https://x', pagination: { type: 'cursor', param: 'after' } }, target: 'y' },
      { source: 'a.csv', target: 'y', features: { columns: { a: 'keep' } } },
    ];
    for (const config of wrong) expect(validate(config), JSON.stringify(config)).to.equal(false);
  });

  it('lists every setting: each property of the schema, map values and alternatives, with type, default and description', () => {
    const rows = settingRows();
    const row = (path: string, where?: string) => {
      const found = rows.filter((r) => r.path === path && (where === undefined || r.where.includes(where)));
      expect(found, `${path}${where ? ` (${where})` : ''}`).to.have.length(1);
      return found[0]!;
    };
    // every property name of the schema appears as the last segment of some path
    const names = new Set<string>();
    const collect = (s: unknown): void => {
      if (s === null || typeof s !== 'object') return;
      if (Array.isArray(s)) return s.forEach(collect);
      const o = s as Record<string, unknown>;
      if (o.properties && typeof o.properties === 'object') for (const k of Object.keys(o.properties)) names.add(k);
      for (const v of Object.values(o)) collect(v);
    };
    collect(PIPELINE_SCHEMA);
    const last = new Set(rows.map((r) => r.path.replace(/\[\]$/, '').split('.').pop()!));
    for (const name of names) expect(last.has(name), `a row for "${name}"`).to.equal(true);

    expect(row('model.trees')).to.deep.include({ type: 'integer 1 – 10000', default: '`100`', where: [] });
    expect(row('model.maxFeatures').type).to.equal('`sqrt`, `log2`, `all` or number > 0');
    expect(row('model.maxDepth')).to.deep.include({ type: 'integer ≥ 1 or null', default: '`null`' });
    expect(row('target').default).to.equal('required');
    expect(row('source').type).to.equal('string, object or list');
    expect(row('source.onBadRow')).to.deep.include({ type: '`error`, `skip`', default: '`error`', where: [] });
    expect(row('source.delimiter')).to.deep.include({ default: 'sniffed from the first lines (comma, semicolon, tab or |)', where: ['file source', 'command source'] });
    expect(row('source.format', 'file source').type).to.equal('`csv`, `tsv`, `json`, `ndjson`, `xlsx`, `parquet`, `arrow`');
    expect(row('source.format', 'command source').default).to.equal('`ndjson`');
    expect(row('source.sql').where).to.deep.equal(['SQL source']);
    expect(row('source.pagination.param', 'type: page').default).to.equal('`page`');
    expect(row('source.pagination.param', 'type: cursor').default).to.equal('required');
    expect(row('source.types.<column>').type).to.equal('`number`, `integer`, `boolean`, `category`, `datetime`, `text`, `datetime:mdy`, `datetime:dmy`');
    expect(row('features.drop').type).to.equal('list (each string or object)');
    expect(row('features.drop[].pattern').type).to.equal('string');
    expect(row('features.columns.<column>').type).to.equal('`drop` or object');
    expect(row('features.columns.<column>.kind').type).to.equal('string');
    expect(row('task').default).to.match(/^inferred from the target/);
    expect(rows.filter((r) => r.path === 'combine.on[]')).to.have.length(0);
  });

  it('renders Markdown: one row per setting, | escaped, < and > outside code as entities', () => {
    const table = settingsTable();
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).to.equal('| setting | type or allowed values | default | description |');
    expect(lines.length).to.equal(settingRows().length + 2);
    expect(table).to.contain('| `source.delimiter` | one character | sniffed from the first lines (comma, semicolon, tab or \\|) | *file source, command source*: CSV field separator |');
    expect(table).to.contain('saved as &lt;name&gt;@&lt;version&gt;');
    expect(typeText({ type: 'string', pattern: 'a|b' })).to.equal('string matching `a|b`');
    expect(() => withSettingsTable('no markers here')).to.throw('README.md: the settings table\'s markers are missing');
    const once = withSettingsTable(`before\n${TABLE_START}\nold\n${TABLE_END}\nafter\n`);
    expect(once).to.equal(`before\n${TABLE_START}\n${table}${TABLE_END}\nafter\n`);
    expect(withSettingsTable(once)).to.equal(once);
  });
});
