/**
 * The published forms of the pipeline config's JSON Schema, all generated from {@link PIPELINE_SCHEMA}
 * (the schema `readPipelineConfig` validates with), so they cannot drift from it:
 *
 * - `schema/pipeline.schema.json`: the schema with `$schema` and `$id`, for editors (the YAML language
 *   server reads `# yaml-language-server: $schema=…`) and other validators; `mlpipe schema` prints it.
 * - The README's settings table (between {@link TABLE_START} and {@link TABLE_END}): every setting's
 *   path, type or allowed values, default and description, from the schema's annotations.
 *
 * `make schema` rewrites both; a test fails when either differs from what this module generates.
 */
import { isDeepStrictEqual } from 'node:util';
import { ConfigError } from '../errors.js';
import { PIPELINE_SCHEMA } from './config-schema.js';

/** Where the published schema lives, relative to the repository's root. */
export const SCHEMA_FILE = 'schema/pipeline.schema.json';

/**
 * The schema's identifier. There is no public URL for mlpipe yet, so it is a URN: editors find the
 * schema by the path in the YAML comment (or their settings), never by this identifier.
 */
export const SCHEMA_ID = 'urn:mlpipe:schema:pipeline';

/** The markers around the generated settings table in README.md. */
export const TABLE_START = '<!-- schema-table:start (generated from PIPELINE_SCHEMA by `make schema`; do not edit by hand) -->';
export const TABLE_END = '<!-- schema-table:end -->';

type Schema = Record<string, unknown>;

/** The published schema: PIPELINE_SCHEMA with `$schema` and `$id` first. */
export function publishedSchema(): Schema {
  const { $schema, ...rest } = PIPELINE_SCHEMA as Schema;
  return { $schema, $id: SCHEMA_ID, ...rest };
}

/** The text of `schema/pipeline.schema.json` (two-space JSON, one final newline). */
export function schemaText(): string {
  return `${JSON.stringify(publishedSchema(), null, 2)}\n`;
}

/** One row of the settings table. */
export interface SettingRow {
  /** `model.trees`, `source.types.<column>`, `features.drop[]` */
  path: string;
  /** `integer 1 – 10000`, `` `error`, `skip` ``, `string or object` */
  type: string;
  /** `` `100` ``, `required`, or empty */
  default: string;
  description: string;
  /** The alternatives (`file source`, `type: page`) this row belongs to, when not all of them. */
  where: string[];
}

const isSchema = (v: unknown): v is Schema => v !== null && typeof v === 'object' && !Array.isArray(v);

function code(text: string): string {
  return `\`${text}\``;
}

function valueText(v: unknown): string {
  return code(typeof v === 'string' ? v : JSON.stringify(v));
}

const TYPE_WORDS: Record<string, string> = { array: 'list', object: 'object', string: 'string', integer: 'integer', number: 'number', boolean: 'boolean', null: 'null' };

function orList(items: string[]): string {
  const unique = [...new Set(items.filter((t) => t !== ''))];
  return unique.length <= 1 ? (unique[0] ?? '') : `${unique.slice(0, -1).join(', ')} or ${unique[unique.length - 1]}`;
}

/** What a value may be, in a few words: `integer 1 – 10000`, `` `sqrt`, `log2`, `all` or number > 0 ``. */
export function typeText(s: Schema): string {
  if ('const' in s) return valueText(s.const);
  if (Array.isArray(s.enum)) return s.enum.map(valueText).join(', ');
  const alternatives = (s.oneOf ?? s.anyOf) as unknown;
  if (Array.isArray(alternatives)) return orList(alternatives.filter(isSchema).map(typeText));
  const types = (Array.isArray(s.type) ? s.type : s.type === undefined ? [] : [s.type]) as string[];
  if (types.length === 0) return Object.keys(s).some((k) => k !== 'description' && k !== 'default' && k !== 'title') ? '' : 'any';
  if (types.length > 1) return orList(types.map((t) => TYPE_WORDS[t] ?? t));
  const type = types[0]!;
  if (type === 'integer' || type === 'number') {
    const min = s.minimum as number | undefined;
    const max = s.maximum as number | undefined;
    const above = s.exclusiveMinimum as number | undefined;
    if (min !== undefined && max !== undefined) return `${type} ${min} – ${max}`;
    if (min !== undefined) return `${type} ≥ ${min}`;
    if (above !== undefined) return `${type} > ${above}`;
    if (max !== undefined) return `${type} ≤ ${max}`;
    return type;
  }
  if (type === 'string' && typeof s.pattern === 'string') return `string matching ${code(s.pattern)}`;
  if (type === 'string' && s.maxLength === 1) return 'one character';
  if (type === 'array' && isSchema(s.items)) {
    const item = typeText(s.items);
    if (item === '') return 'list';
    return Object.values(TYPE_WORDS).includes(item) ? `list of ${item}s` : `list (each ${item})`;
  }
  return TYPE_WORDS[type] ?? type;
}

/** The label of a branch: its title, else what its condition says (`type: page`). */
function branchLabel(branch: Schema, condition: unknown): string | undefined {
  if (typeof branch.title === 'string') return branch.title;
  if (isSchema(condition) && isSchema(condition.properties)) {
    const [key, value] = Object.entries(condition.properties)[0] ?? [];
    if (key !== undefined && isSchema(value) && 'const' in value) return `${key}: ${String(value.const)}`;
  }
  return undefined;
}

interface Walk {
  rows: SettingRow[];
  /** Row index by path + type + default + description (identical rows of several alternatives merge). */
  index: Map<string, number>;
  /** For a path where alternatives branch: every label seen there. */
  labelsAt: Map<string, Set<string>>;
  /** For each row: where its label was attached, to show it only on the branch point's own settings. */
  labelAt: Map<number, string>;
}

/** A label attached at `at` (a branch point) by the path it applies to. */
interface Label {
  at: string;
  text: string;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * A default that is no JSON value (`sniffed from the first lines`) is written as the last clause of
 * the description, `…; default: <text>`, where editors show it too; the table moves it to its column.
 */
const DEFAULT_CLAUSE = /(?:^|; )default: ([^;]+)$/;

function visit(w: Walk, s: Schema, path: string, required: boolean, label: Label | undefined): void {
  let description = typeof s.description === 'string' ? s.description : '';
  let byDefault = s.default !== undefined ? valueText(s.default) : required ? 'required' : '';
  const clause = DEFAULT_CLAUSE.exec(description);
  if (clause && byDefault === '') {
    byDefault = clause[1]!;
    description = description.slice(0, clause.index);
  }
  const row: SettingRow = { path, type: typeText(s), default: byDefault, description, where: [] };
  const key = JSON.stringify([row.path, row.type, row.default, row.description]);
  let at = w.index.get(key);
  if (at === undefined) {
    at = w.rows.push(row) - 1;
    w.index.set(key, at);
  }
  if (label) {
    const existing = w.rows[at]!;
    if (!existing.where.includes(label.text)) existing.where.push(label.text);
    w.labelAt.set(at, label.at);
  }
  children(w, s, path, undefined);
}

/** The settings inside a schema at `path`: its properties, map values, list items, and those of its alternatives. */
function children(w: Walk, s: Schema, path: string, label: Label | undefined): void {
  const required = Array.isArray(s.required) ? (s.required as string[]) : [];
  if (isSchema(s.properties)) {
    for (const [key, child] of Object.entries(s.properties)) {
      // `type: {}` in a branch only allows a key the parent describes.
      if (!isSchema(child) || Object.keys(child).length === 0) continue;
      visit(w, child, join(path, key), required.includes(key), label);
    }
  }
  if (isSchema(s.additionalProperties)) {
    const name = isSchema(s.propertyNames) && typeof s.propertyNames.title === 'string' ? s.propertyNames.title : 'name';
    visit(w, s.additionalProperties, `${path}.<${name}>`, false, undefined);
  }
  // A list's items get rows of their own only when there is more to say than the list's type.
  if (isSchema(s.items) && (typeof s.items.description === 'string' || ['properties', 'if', 'oneOf', 'anyOf', 'allOf'].some((k) => k in (s.items as Schema)))) {
    visit(w, s.items, `${path}[]`, false, undefined);
  }
  const branch = (b: unknown, condition: unknown) => {
    if (!isSchema(b)) return;
    const text = branchLabel(b, condition);
    if (text !== undefined) {
      const seen = w.labelsAt.get(path) ?? new Set<string>();
      seen.add(text);
      w.labelsAt.set(path, seen);
    }
    children(w, b, path, text !== undefined ? { at: path, text } : label);
  };
  // `one X, or a list of X`: the list's items are the single form's settings; list them once.
  const listOfElse = isSchema(s.then) && isSchema(s.then.items) && isDeepStrictEqual(s.then.items, s.else);
  // The fallback (else) first: in a chain of alternatives it is the common form (a file source).
  if ('else' in s) branch(s.else, undefined);
  if ('then' in s && !listOfElse) branch(s.then, s.if);
  for (const keyword of ['oneOf', 'anyOf', 'allOf'] as const) {
    const list = s[keyword];
    if (!Array.isArray(list)) continue;
    for (const alt of list) {
      if (!isSchema(alt)) continue;
      if (isSchema(alt.then) && !isSchema(alt.properties)) branch(alt.then, alt.if);
      else branch(alt, undefined);
    }
  }
}

/** Every setting of the pipeline config, in schema order (the variants of one path next to each other). */
export function settingRows(schema: Schema = PIPELINE_SCHEMA as Schema): SettingRow[] {
  const w: Walk = { rows: [], index: new Map(), labelsAt: new Map(), labelAt: new Map() };
  children(w, schema, '', undefined);
  // A label says something only where it does not cover every alternative of its branch point.
  w.rows.forEach((row, i) => {
    const at = w.labelAt.get(i);
    const all = at === undefined ? undefined : w.labelsAt.get(at);
    const parent = row.path.includes('.') ? row.path.slice(0, row.path.lastIndexOf('.')) : '';
    if (at === undefined || all === undefined || parent !== at || [...all].every((l) => row.where.includes(l))) row.where = [];
  });
  const first = new Map<string, number>();
  w.rows.forEach((r, i) => {
    if (!first.has(r.path)) first.set(r.path, i);
  });
  return w.rows.map((r, i) => ({ r, i })).sort((a, b) => first.get(a.r.path)! - first.get(b.r.path)! || a.i - b.i).map(({ r }) => r);
}

/** Text for a table cell: `|` escaped, one line, and outside code spans `<` and `>` as entities (`<name>` is no HTML tag). */
function cell(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .split('`')
    .map((part, i) => (i % 2 === 0 ? part.replace(/</g, '&lt;').replace(/>/g, '&gt;') : part))
    .join('`')
    .replace(/\|/g, '\\|');
}

/** The settings table as Markdown: setting, type or allowed values, default, description. */
export function settingsTable(schema: Schema = PIPELINE_SCHEMA as Schema): string {
  const lines = ['| setting | type or allowed values | default | description |', '|---|---|---|---|'];
  for (const r of settingRows(schema)) {
    const where = r.where.length > 0 ? `*${r.where.join(', ')}*${r.description ? ': ' : ''}` : '';
    lines.push(`| ${code(r.path)} | ${cell(r.type)} | ${cell(r.default)} | ${cell(`${where}${r.description}`)} |`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `readme` with the text between the table markers replaced by the generated table. Throws a
 * ConfigError naming the markers when they are missing or out of order.
 */
export function withSettingsTable(readme: string, file = 'README.md'): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new ConfigError(`${file}: the settings table's markers are missing (${TABLE_START} … ${TABLE_END})`);
  return `${readme.slice(0, start + TABLE_START.length)}\n${settingsTable()}${readme.slice(end)}`;
}
