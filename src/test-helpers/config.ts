import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readPipelineConfig } from '../core/pipeline/config.js';

/** Writes `yaml` as `dir/pipeline.yaml` and reads it as mlpipe does (paths resolve against `dir`). */
export async function readConfigText(dir: string, yaml: string) {
  const file = join(dir, 'pipeline.yaml');
  await writeFile(file, yaml);
  return readPipelineConfig(file);
}
