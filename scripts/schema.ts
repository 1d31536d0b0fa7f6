/**
 * `make schema`: writes schema/pipeline.schema.json and the settings table of docs/pipeline-yaml.md (between its
 * schema-table markers) from PIPELINE_SCHEMA. src/core/pipeline/schema.test.ts fails when either is stale.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../src/core/fs-util.js';
import { SCHEMA_FILE, schemaText, withSettingsTable } from '../src/core/pipeline/schema.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const schemaPath = join(root, SCHEMA_FILE);
await mkdir(dirname(schemaPath), { recursive: true });
await writeFileAtomic(schemaPath, schemaText());
console.log(`wrote ${SCHEMA_FILE}`);
const PAGE = 'docs/pipeline-yaml.md';
const pagePath = join(root, PAGE);
const page = await readFile(pagePath, 'utf8');
const updated = withSettingsTable(page, PAGE);
if (updated !== page) {
  await writeFileAtomic(pagePath, updated);
  console.log(`wrote ${PAGE} (settings table)`);
} else console.log(`${PAGE}: settings table up to date`);
