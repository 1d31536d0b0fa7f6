import type { DatasetProfile } from '../data/profile.js';
import type { SourceLineage } from '../data/sources/types.js';
import type { JsonSchema } from '../features/input-schema.js';
import { describeSource } from '../lineage.js';
import type { TaskMetrics } from '../models/model-dir.js';
import type { Manifest } from './manifest.js';

/**
 * The model card: `README.md` in every bundle, written by `package` from the manifest's data (the
 * same values, so it never disagrees with it), for people and for a registry's web page (npm,
 * GitHub): GitHub-flavoured Markdown, no HTML, every text from the data escaped.
 */
export const MODEL_CARD_FILE = 'README.md';

/** What the card is made of: the manifest without its file list (the card is one of the files). */
export type ModelCardManifest = Omit<Manifest, 'files' | 'manifestSha256'>;

/** Options of {@link renderModelCard}. */
export interface ModelCardOptions {
  /**
   * The training data's profile (report.json), when the model folder has one: the example request
   * then holds typical values (a column's most frequent value, its mean) instead of placeholders.
   */
  profile?: DatasetProfile;
  /**
   * The example request's record and the bundle's own answer to it (`package` predicts it with the
   * staged bundle), shown as the curl line and its response.
   */
  example?: { record: Record<string, unknown>; output: Record<string, unknown> };
}

/** Longest text of the data (a column name, a class label, a step) the card quotes. */
const TEXT_MAX = 200;
/** Most rows of one table (input fields, featurizers); the rest are counted, and are in the bundle's JSON files. */
const TABLE_MAX = 300;
/** Most fields of the example request. */
const EXAMPLE_FIELDS_MAX = 12;
/** A confusion matrix is shown up to this many classes. */
const CONFUSION_MAX = 12;

/** A text of the data on one line, cut to {@link TEXT_MAX} characters. */
function oneLine(text: string): string {
  // Control characters (newlines, tabs, escapes) would break a table row or a list item.
  const flat = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ');
  return flat.length > TEXT_MAX ? `${flat.slice(0, TEXT_MAX - 1)}…` : flat;
}

/** A text of the data as Markdown text: every character Markdown or HTML could read as markup is escaped. */
export function mdText(text: string): string {
  return oneLine(text).replace(/[\\`*_[\]<>|~&]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : `\\${c}`));
}

/** {@link mdText} for the start of a list item: a leading `#` (heading), `-`/`+` (list), `1.` (ordered list) escaped too. */
function mdItem(text: string): string {
  return mdText(text).replace(/^([#+=-])/, '\\$1').replace(/^(\d+)([.)])/, '$1\\$2');
}

/** A text of the data as a code span (a fence longer than any run of backticks in it). */
export function mdCode(text: string): string {
  const t = oneLine(text);
  const longest = Math.max(0, ...(t.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = t.startsWith('`') || t.endsWith('`') || t === '' ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

/** A table cell: GitHub splits cells at every `|`, even inside a code span, unless escaped. */
function cell(markdown: string): string {
  return markdown.replace(/(?<!\\)\|/g, '\\|');
}

function tableOf(head: string[], rows: string[][], align?: ('l' | 'r')[]): string[] {
  const sep = head.map((_, i) => (align?.[i] === 'r' ? '---:' : '---'));
  return [`| ${head.join(' | ')} |`, `| ${sep.join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

/** A number for people: integers as they are, others to 4 significant digits. */
function num(x: number | null | undefined): string {
  if (x === undefined || x === null || Number.isNaN(x)) return 'n/a';
  if (Number.isInteger(x)) return String(x);
  return String(Number(x.toPrecision(4)));
}

function signed(x: number): string {
  const s = num(x);
  return x > 0 ? `+${s}` : s;
}

const METRICS: Record<string, { label: string; lowerIsBetter?: boolean }> = {
  accuracy: { label: 'accuracy' },
  balancedAccuracy: { label: 'balanced accuracy' },
  macroF1: { label: 'macro F1' },
  weightedF1: { label: 'weighted F1' },
  logLoss: { label: 'log loss', lowerIsBetter: true },
  rocAuc: { label: 'ROC AUC' },
  r2: { label: 'R²' },
  rmse: { label: 'RMSE', lowerIsBetter: true },
  mae: { label: 'MAE', lowerIsBetter: true },
  mape: { label: 'MAPE (fraction)', lowerIsBetter: true },
};
const CLASSIFICATION_KEYS = ['accuracy', 'balancedAccuracy', 'macroF1', 'weightedF1', 'logLoss', 'rocAuc'];
const REGRESSION_KEYS = ['r2', 'rmse', 'mae', 'mape'];

function metricValue(m: TaskMetrics, key: string): number | null | undefined {
  return (m as unknown as Record<string, number | null | undefined>)[key];
}

/** The types an input field accepts, from its JSON Schema (`number`, `string or number`), without null. */
function fieldType(property: JsonSchema): string {
  const t = property.type;
  const types = (Array.isArray(t) ? t : t === undefined ? [] : [t]).filter((x): x is string => typeof x === 'string' && x !== 'null');
  return types.length ? types.join(' or ') : 'any';
}

function nullable(property: JsonSchema): boolean {
  const t = property.type;
  return Array.isArray(t) && t.includes('null');
}

/** One input field of the schema. */
interface Field {
  name: string;
  schema: JsonSchema;
  required: boolean;
}

function fieldsOf(inputSchema: JsonSchema): Field[] {
  const properties = (inputSchema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set(Array.isArray(inputSchema.required) ? (inputSchema.required as string[]) : []);
  return Object.keys(properties).map((name) => ({ name, schema: properties[name] as JsonSchema, required: required.has(name) }));
}

/**
 * A record to show in the example request: the required fields and the first others, each with a
 * typical value of the training data when the profile is known (most frequent value; mean of a
 * number), else a placeholder of its type.
 */
export function exampleRecord(inputSchema: JsonSchema, profile?: DatasetProfile): Record<string, unknown> {
  const fields = fieldsOf(inputSchema);
  const chosen = [...fields.filter((f) => f.required), ...fields.filter((f) => !f.required)].slice(0, Math.max(EXAMPLE_FIELDS_MAX, fields.filter((f) => f.required).length));
  const keep = new Set(chosen.map((f) => f.name));
  const columns = new Map((profile?.columns ?? []).map((c) => [c.name, c]));
  const record: Record<string, unknown> = {};
  for (const f of fields) {
    if (!keep.has(f.name)) continue;
    const types = fieldType(f.schema).split(' or ');
    const c = columns.get(f.name);
    let value: unknown;
    if (c && (c.type === 'number' || c.type === 'integer') && typeof c.mean === 'number' && types.includes('number')) {
      value = c.type === 'integer' ? Math.round(c.mean) : Number(c.mean.toPrecision(4));
    } else if (c && c.type === 'datetime' && typeof c.min === 'string' && types.includes('string')) {
      value = c.min;
    } else if (c?.top?.[0] && types.includes('string')) {
      value = c.top[0].value;
    } else if (types.includes('number')) value = 0;
    else if (types.includes('boolean')) value = true;
    else if (types.includes('string')) value = 'text';
    else continue;
    Object.defineProperty(record, f.name, { value, enumerable: true, writable: true, configurable: true });
  }
  return record;
}

function describeLineageSource(source: SourceLineage): string[] {
  const lines = [`- source: ${mdText(describeSource(source))}${source.kind === 'file' && source.format ? ` (${mdText(source.format)} file)` : ` (${mdText(source.kind)})`}`];
  if (source.sha256) lines.push(`  - source file sha256: ${mdCode(source.sha256)}${source.bytes !== undefined ? `, ${source.bytes.toLocaleString('en-US')} bytes` : ''}`);
  if (source.query) lines.push(`  - query: ${mdCode(source.query)}`);
  if (source.sheet) lines.push(`  - sheet: ${mdText(source.sheet)}${source.range ? ` ${mdText(source.range)}` : ''}`);
  if (source.pages !== undefined) lines.push(`  - pages fetched: ${source.pages}`);
  return lines;
}

/** A shell word in single quotes. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A fenced code block whose fence is longer than any run of backticks inside. */
function codeBlock(lang: string, lines: string[]): string[] {
  const longest = Math.max(2, ...lines.flatMap((l) => (l.match(/`+/g) ?? []).map((r) => r.length)));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}${lang}`, ...lines, fence];
}

/**
 * Renders the model card of a bundle (`README.md`): what it predicts, how well against the baseline,
 * its input fields, the data and lineage it came from, its featurizers and parameters, and how to
 * serve and call it.
 */
export function renderModelCard(m: ModelCardManifest, options: ModelCardOptions = {}): string {
  const ref = `${m.name}@${m.version}`;
  const fields = fieldsOf(m.inputSchema);
  const h = m.metrics.holdout;
  const keys = m.task === 'classification' ? CLASSIFICATION_KEYS : REGRESSION_KEYS;
  const headline = m.task === 'classification' ? 'accuracy' : 'r2';
  const out: string[] = [];

  out.push(`# ${ref}`, '');
  const what = m.task === 'classification' ? `a ${m.model.type} classifier` : `a ${m.model.type} regression model`;
  out.push(`${m.name} is ${what} that predicts **${mdText(m.target.name)}** (${mdText(m.target.type)}) from ${fields.length} input field${fields.length === 1 ? '' : 's'}.`);
  if (m.classes) {
    const shown = m.classes.slice(0, 50).map(mdCode).join(', ');
    out.push(`It answers one of ${m.classes.length} classes: ${shown}${m.classes.length > 50 ? `, … (${m.classes.length - 50} more)` : ''}.`);
  }
  if (h) {
    out.push(`On ${h.testRows} held-out rows its ${METRICS[headline]?.label} is **${num(metricValue(h.model, headline))}**, against ${num(metricValue(h.baseline, headline))} for the baseline (${mdText(h.baseline.strategy)}).`);
  }
  out.push('');
  out.push(
    ...tableOf(
      ['property', 'value'],
      [
        ['bundle', mdCode(ref)],
        ['task', m.task],
        ['target', `${mdCode(m.target.name)} (${mdText(m.target.type)})`],
        ...(m.classes ? [['classes', String(m.classes.length)]] : []),
        ['model', `${mdText(m.model.type)}, ${mdText(m.model.engine)} engine, ${m.model.params.trees} trees, ${m.model.featureCount} features`],
        ['created', mdText(m.createdAt)],
        ['mlpipe', `${mdText(m.lineage.mlpipeVersion)} on Node ${mdText(m.lineage.node)}`],
      ],
    ),
    '',
  );

  // Evaluation
  out.push('## Evaluation', '');
  if (h) {
    out.push(`Holdout: ${h.testRows} of ${h.trainRows + h.testRows} rows${h.stratified ? ' (stratified by class)' : ''}, never seen in training; the featurizers were fitted on the training rows only. The baseline is the ${mdText(h.baseline.strategy)}.`, '');
    const rows = keys
      .filter((k) => typeof metricValue(h.model, k) === 'number')
      .map((k) => {
        const model = metricValue(h.model, k) as number;
        const base = metricValue(h.baseline, k);
        const info = METRICS[k]!;
        return [`${info.label}${info.lowerIsBetter ? ' (lower is better)' : ''}`, num(model), num(base), typeof base === 'number' ? signed(model - base) : 'n/a'];
      });
    out.push(...tableOf(['metric', 'model', 'baseline', 'model − baseline'], rows, ['l', 'r', 'r', 'r']), '');
    if ('confusionMatrix' in h.model && h.model.labels.length <= CONFUSION_MAX) {
      const labels = h.model.labels;
      out.push('Confusion matrix on the holdout (rows: actual class, columns: predicted class):', '');
      out.push(...tableOf(['actual \\ predicted', ...labels.map(mdCode)], h.model.confusionMatrix.map((row, i) => [mdCode(labels[i] ?? ''), ...row.map(String)]), ['l', ...labels.map(() => 'r' as const)]), '');
    }
  } else {
    out.push('No holdout evaluation (too few rows, or trained with `--holdout 0`).', '');
  }
  const cv = m.metrics.crossValidation;
  if (cv) {
    out.push(`${cv.folds}-fold cross-validation${cv.stratified ? ' (stratified)' : ''}, featurizers re-fitted in every fold:`, '');
    out.push(
      ...tableOf(
        ['metric', 'model (mean ± std)', 'baseline (mean ± std)'],
        keys.filter((k) => cv.summary[k]).map((k) => [METRICS[k]?.label ?? k, `${num(cv.summary[k]!.mean)} ± ${num(cv.summary[k]!.std)}`, cv.baselineSummary[k] ? `${num(cv.baselineSummary[k]!.mean)} ± ${num(cv.baselineSummary[k]!.std)}` : 'n/a']),
        ['l', 'r', 'r'],
      ),
      '',
    );
  }
  if (m.metrics.oobScore !== undefined && m.metrics.oobScore !== null) out.push(`Out-of-bag ${METRICS[headline]?.label}: ${num(m.metrics.oobScore)}.`, '');
  const importances = (m.metrics.columnImportances ?? []).filter((c) => c.importance > 0).slice(0, 10);
  if (importances.length) {
    out.push('Input fields that matter most (impurity importance, summed over the features each field makes):', '');
    out.push(...tableOf(['field', 'importance'], importances.map((c) => [mdCode(c.name), num(c.importance)]), ['l', 'r']), '');
  }

  // Input fields
  out.push('## Input fields', '');
  const required = fields.filter((f) => f.required).length;
  out.push(
    required === 0
      ? 'One record is a JSON object with these fields. **Every field is optional**: a missing value (absent or null) is imputed as in training.'
      : `One record is a JSON object with these fields; ${required} ${required === 1 ? 'is' : 'are'} required, and a missing optional value (absent or null) is imputed as in training.`,
    '',
  );
  out.push(
    ...tableOf(
      ['field', 'type', 'required', 'notes'],
      fields.slice(0, TABLE_MAX).map((f) => [mdCode(f.name), `${fieldType(f.schema)}${nullable(f.schema) ? ', or null' : ''}`, f.required ? 'yes' : 'no', typeof f.schema.description === 'string' ? mdText(f.schema.description) : '']),
    ),
  );
  if (fields.length > TABLE_MAX) out.push('', `… and ${fields.length - TABLE_MAX} more fields: see \`input-schema.json\`.`);
  out.push('', 'The whole JSON Schema of a record is `input-schema.json` (and `GET /v1/models/' + m.name + '` or `/openapi.json` on a running server).', '');

  // Data and lineage
  out.push('## Data and lineage', '');
  const d = m.lineage.dataset;
  if (d) {
    out.push(...describeLineageSource(d.source));
    out.push(`- rows: ${d.rows.toLocaleString('en-US')} × ${d.columns} columns, loaded ${mdText(d.loadedAt)}${d.skippedRows ? `; ${d.skippedRows} bad rows skipped` : ''}`);
    out.push(`- dataset fingerprint: ${mdCode(d.fingerprint)} (sha256 of the typed values: equal data, equal fingerprint)`);
    if (d.types && Object.keys(d.types).length) out.push(`- declared column types: ${Object.entries(d.types).slice(0, 50).map(([k, v]) => `${mdCode(k)} ${mdText(String(v))}`).join(', ')}`);
  } else {
    out.push('- source: not recorded (the model was trained from data without lineage)');
  }
  if (m.lineage.configSha256) out.push(`- pipeline config sha256: ${mdCode(m.lineage.configSha256)}`);
  out.push(`- git commit: ${m.lineage.gitCommit ? mdCode(m.lineage.gitCommit) : 'not recorded (not packaged inside a git repository)'}`);
  out.push(`- trained ${mdText(m.lineage.trainedAt)} with mlpipe ${mdText(m.lineage.mlpipeVersion)} on Node ${mdText(m.lineage.node)}; ${Object.entries(m.lineage.dependencies).map(([k, v]) => `${mdText(k)} ${mdText(v)}`).join(', ')}`);
  out.push('');

  // Featurizers
  out.push('## Featurizers', '');
  out.push(`Each input field becomes numbers the same way in training and in serving (the same code reads \`featurizer.json\`): ${m.model.featureCount} features in all.`, '');
  for (const s of m.featurizer.steps.slice(0, TABLE_MAX)) out.push(`- ${mdItem(s)}`);
  if (m.featurizer.steps.length > TABLE_MAX) out.push(`- … and ${m.featurizer.steps.length - TABLE_MAX} more (see \`featurizer.json\`)`);
  if (m.featurizer.dropped.length) {
    out.push('', 'Columns of the data the model does not use:', '');
    for (const dr of m.featurizer.dropped.slice(0, TABLE_MAX)) out.push(`- ${mdCode(dr.column)}: ${mdText(dr.reason)}`);
    if (m.featurizer.dropped.length > TABLE_MAX) out.push(`- … and ${m.featurizer.dropped.length - TABLE_MAX} more`);
  }
  if (m.customFeaturizers?.length) {
    out.push('', 'Custom featurizers (their code is not in the bundle: `serve` and `predict` load it with `--featurizer-module NAME=PATH`, refused unless its sha256 matches):', '');
    for (const c of m.customFeaturizers) out.push(`- ${mdCode(c.name)}: ${mdCode(c.module)}, sha256 ${mdCode(c.sha256)}`);
  }
  out.push('');

  // Parameters
  out.push('## Model parameters', '');
  out.push(...tableOf(['parameter', 'value'], Object.entries(m.model.params).map(([k, v]) => [mdCode(k), v === null || v === undefined ? 'none' : mdCode(String(v))])), '');

  // Serve and call
  out.push('## Serve it and call it', '');
  const modules = (m.customFeaturizers ?? []).map((c) => ` --featurizer-module ${c.name}=./${c.module}`).join('');
  const example = JSON.stringify(options.example?.record ?? exampleRecord(m.inputSchema, options.profile));
  const output = options.example?.output;
  const probabilities = output?.probabilities;
  // Many classes: the answer's probabilities would be a wall of numbers.
  const many = probabilities !== null && typeof probabilities === 'object' && Object.keys(probabilities).length > 8;
  const response = output
    ? JSON.stringify({ ...output, ...(many ? { probabilities: '{…}' } : {}), model: { name: m.name, version: m.version } }).replace('"probabilities":"{…}"', '"probabilities":{…}')
    : m.task === 'classification'
      ? `{"prediction": <one of the classes>, "probabilities": {<class>: <probability>, …}, "model": {"name": "${m.name}", "version": "${m.version}"}}`
      : `{"prediction": <a number>, "model": {"name": "${m.name}", "version": "${m.version}"}}`;
  out.push(
    ...codeBlock('sh', [
      `mlpipe bundles verify ${ref}          # every checksum (and the signature, with --key)`,
      `mlpipe serve ${ref} --port 8080${modules}`,
      `curl -s http://127.0.0.1:8080/v1/models/${m.name}/predict -H 'content-type: application/json' \\`,
      `  -d ${shellQuote(example)}`,
      `# → ${oneLine(response)}`,
    ]),
    '',
  );
  out.push(`Batches: \`POST /v1/models/${m.name}/predict/batch\` with \`{"records": [...]}\`. Files: \`mlpipe predict ${ref} --input rows.csv --out predictions.csv\`${modules ? ` (with${modules})` : ''}.`, '');
  out.push('---', '', `Written by mlpipe ${mdText(m.lineage.mlpipeVersion)} from this bundle's \`manifest.json\`, which lists every file of the bundle (this one too) with its sha256.`, '');
  return out.join('\n');
}
