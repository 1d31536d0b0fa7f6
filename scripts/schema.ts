/**
 * `make schema`: writes schema/pipeline.schema.json and the settings table of README.md (between its
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
const readmePath = join(root, 'README.md');
const readme = await readFile(readmePath, 'utf8');
const updated = withSettingsTable(readme);
if (updated !== readme) {
  await writeFileAtomic(readmePath, updated);
  console.log('wrote README.md (settings table)');
} else console.log('README.md: settings table up to date');
