import type { Lineage } from '../lineage.js';
import type { JsonSchema } from '../features/input-schema.js';
import type { ForestParams, Task } from '../models/forest-format.js';
import type { MetricsReport } from '../models/model-dir.js';
import type { ColumnType } from '../values.js';
import { BUNDLE_NAME_MAX, BUNDLE_NAME_PATTERN, BUNDLE_VERSION_PATTERN } from './names.js';

/** Bundle format written by this mlpipe; readers refuse other versions with a clear message. */
export const BUNDLE_FORMAT = 'mlpipe.bundle';
export const BUNDLE_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';
export const ALIASES_FILE = 'aliases.json';

/** A file of the bundle with its checksum. */
export interface ManifestFile {
  sha256: string;
  bytes: number;
}

/**
 * `manifest.json` at a bundle's root: names every other file with its sha256, and describes the
 * model. `manifestSha256` is the sha256 of the manifest file itself with that value replaced by 64
 * zeros, so a change to any byte of the manifest is detected too.
 */
export interface Manifest {
  format: typeof BUNDLE_FORMAT;
  formatVersion: typeof BUNDLE_FORMAT_VERSION;
  name: string;
  version: string;
  createdAt: string;
  task: Task;
  target: { name: string; type: ColumnType };
  classes?: string[];
  model: {
    type: 'random-forest';
    engine: string;
    params: ForestParams;
    /** ml-random-forest's model JSON, wrapped. */
    file: string;
    /** The compiled forest serving loads (same predictions as `file`). */
    compiled: string;
    featureCount: number;
  };
  featurizer: { file: string; steps: string[]; dropped: { column: string; reason: string }[] };
  /**
   * Custom featurizer kinds the featurizer uses: name, module file name and sha256 (present only when
   * there are some). The bundle holds no code: `serve` and `predict` load each module from a path on
   * their command line (`--featurizer-module name=path`) and refuse one whose sha256 differs.
   */
  customFeaturizers?: { name: string; sha256: string; module: string }[];
  metrics: MetricsReport;
  inputSchema: JsonSchema;
  lineage: {
    dataset?: Lineage;
    configSha256?: string;
    trainedAt: string;
    mlpipeVersion: string;
    node: string;
    dependencies: Record<string, string>;
    gitCommit?: string;
  };
  /**
   * The golden records (see bundle/golden.ts): holdout inputs with the exact outputs this bundle gave
   * them, predicted again by `bundles verify`, `serve` and the commands that receive a bundle. Absent in
   * bundles packaged before golden records, or from a model folder without golden inputs.
   */
  golden?: { file: string; records: number; from: 'holdout' | 'training rows' };
  files: Record<string, ManifestFile>;
  manifestSha256: string;
}

/** The placeholder the manifest's own checksum is computed over. */
export const SELF_HASH_PLACEHOLDER = '0'.repeat(64);
const SELF_HASH_RE = /"manifestSha256": "([0-9a-f]{64})"/;

/** Replaces the manifest's own checksum in its text with the placeholder (for hashing). */
export function withPlaceholder(text: string): { text: string; recorded: string | undefined } {
  const m = SELF_HASH_RE.exec(text);
  if (!m) return { text, recorded: undefined };
  return { text: text.replace(SELF_HASH_RE, `"manifestSha256": "${SELF_HASH_PLACEHOLDER}"`), recorded: m[1] };
}

/** JSON Schema of the manifest: a bundle whose manifest does not match it is refused. */
export const MANIFEST_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['format', 'formatVersion', 'name', 'version', 'createdAt', 'task', 'target', 'model', 'featurizer', 'metrics', 'inputSchema', 'lineage', 'files', 'manifestSha256'],
  properties: {
    format: { const: BUNDLE_FORMAT },
    formatVersion: { const: BUNDLE_FORMAT_VERSION },
    name: { type: 'string', pattern: BUNDLE_NAME_PATTERN, maxLength: BUNDLE_NAME_MAX },
    version: { type: 'string', pattern: BUNDLE_VERSION_PATTERN },
    createdAt: { type: 'string' },
    task: { enum: ['classification', 'regression'] },
    target: { type: 'object', required: ['name', 'type'], properties: { name: { type: 'string' }, type: { type: 'string' } } },
    classes: { type: 'array', items: { type: 'string' } },
    model: {
      type: 'object',
      required: ['type', 'engine', 'params', 'file', 'compiled'],
      properties: { type: { const: 'random-forest' }, engine: { type: 'string' }, params: { type: 'object' }, file: { type: 'string' }, compiled: { type: 'string' } },
    },
    featurizer: { type: 'object', required: ['file'], properties: { file: { type: 'string' } } },
    customFeaturizers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'sha256', 'module'],
        properties: { name: { type: 'string', pattern: '^[a-z][a-z0-9-]*$' }, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' }, module: { type: 'string', pattern: '^[^/\\\\]+$' } },
      },
    },
    metrics: { type: 'object' },
    inputSchema: { type: 'object' },
    lineage: { type: 'object' },
    files: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['sha256', 'bytes'],
        properties: { sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' }, bytes: { type: 'integer', minimum: 0 } },
      },
    },
    manifestSha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  },
};
