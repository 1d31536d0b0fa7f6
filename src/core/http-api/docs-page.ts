/**
 * The /docs page: the OpenAPI document of `mlpipe serve` as ONE self-contained HTML page (inline CSS,
 * no script, no font, no image, nothing fetched), so it works offline and under a strict
 * Content-Security-Policy that allows only its own style sheet (by hash). Routes grouped by tag; each
 * model's fields in a table; example bodies and curl commands built from each model's example record.
 */
import { createHash } from 'node:crypto';
import type { JsonSchema } from '../features/input-schema.js';
import type { DocumentedModel, OpenApiDocument } from './openapi.js';

const STYLE = `
:root{color-scheme:light dark;--fg:#1d232a;--bg:#fff;--mute:#5b6470;--line:#d9dee4;--code:#f3f5f7;--accent:#0b63c5}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ec;--bg:#14171a;--mute:#a0a8b1;--line:#2f353c;--code:#1e2327;--accent:#6cb0ff}}
*{box-sizing:border-box}body{margin:0 auto;max-width:1100px;padding:24px;font:15px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:1.6em;margin:0 0 4px}h2{margin-top:2em;border-bottom:1px solid var(--line);padding-bottom:4px}h3{margin:1.5em 0 .4em}
.mute{color:var(--mute)}code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,monospace;background:var(--code);border-radius:4px}
code{padding:1px 4px}pre{padding:10px 12px;overflow-x:auto;white-space:pre}
table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{text-align:left;vertical-align:top;padding:5px 8px;border-bottom:1px solid var(--line)}
th{font-weight:600;color:var(--mute)}.method{font-weight:700;font-family:ui-monospace,monospace}.get{color:#1a7f37}.post{color:var(--accent)}
nav a{margin-right:12px}a{color:var(--accent)}details{margin:.3em 0}summary{cursor:pointer}.badge{font-size:.8em;border:1px solid var(--line);border-radius:10px;padding:0 7px;margin-left:6px}
`;

/** The Content-Security-Policy the page is served with: nothing but its own inline style sheet (and the empty `data:` icon that stops a browser asking for /favicon.ico). */
export const DOCS_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/** Escapes text for HTML content and attribute values. */
function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A string in single quotes for a POSIX shell (a `'` inside closes, escapes and reopens). */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** Options of {@link renderDocsPage}. */
export interface DocsPageOptions {
  /** The base URL shown in curl commands (default `http://127.0.0.1:8080`). */
  baseUrl?: string;
}

/** The whole /docs page for `doc`. Every text from a bundle (names, columns, labels) is escaped. */
export function renderDocsPage(doc: OpenApiDocument, options: DocsPageOptions = {}): string {
  const base = (options.baseUrl ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const info = doc.info as { title: string; version: string };
  const models = doc['x-mlpipe-models'];
  const tags = (doc.tags as { name: string; description: string }[]) ?? [];
  const parts: string[] = [];
  parts.push(`<header><h1>${esc(info.title)}</h1><p class="mute">mlpipe ${esc(info.version)} \u00b7 OpenAPI ${esc(doc.openapi)} \u00b7 <a href="openapi.json">openapi.json</a></p>`);
  parts.push(`<nav><a href="#models">Models</a><a href="#routes">Routes</a><a href="#errors">Errors</a><a href="#keys">API keys</a></nav></header>`);
  parts.push('<main>');
  parts.push(`<h2 id="models">Models</h2>`);
  if (models.length === 0) parts.push('<p>No model is served.</p>');
  for (const m of models) parts.push(modelSection(doc, m, base));
  parts.push(`<h2 id="routes">Routes</h2>`);
  for (const tag of tags) parts.push(routesOfTag(doc, tag));
  parts.push(errorsSection());
  parts.push(keysSection(doc));
  parts.push('</main>');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(info.title)} \u2014 API</title><link rel="icon" href="data:,">
<style>${STYLE}</style></head>
<body>
${parts.join('\n')}
</body></html>
`;
}

/** A schema's types as a reader says them: `number or null`. */
function typeText(schema: JsonSchema): string {
  const t = schema.type;
  const types = Array.isArray(t) ? t : t === undefined ? [] : [t];
  return types.length ? types.join(' or ') : 'any';
}

function schemaOf(doc: OpenApiDocument, name: string): JsonSchema {
  return doc.components.schemas[name] ?? {};
}

function modelSection(doc: OpenApiDocument, m: DocumentedModel, base: string): string {
  const record = schemaOf(doc, m.schemas.record);
  const properties = (record.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((record.required as string[] | undefined) ?? []);
  const rows = Object.keys(properties).map((name) => {
    const p = properties[name] as JsonSchema;
    const example = Object.hasOwn(m.example, name) ? m.example[name] : undefined;
    const values = Array.isArray(p.enum)
      ? p.enum.map((v) => `<code>${esc(JSON.stringify(v))}</code>`).join(' ')
      : example !== undefined
        ? `<span class="mute">e.g.</span> <code>${esc(JSON.stringify(example))}</code>`
        : '';
    return `<tr><td><code>${esc(name)}</code></td><td>${esc(typeText(p))}</td><td>${values}</td><td>${required.has(name) ? 'yes' : 'no'}</td><td class="mute">${esc(String(p.description ?? ''))}</td></tr>`;
  });
  const value = schemaOf(doc, m.schemas.value);
  const outputs = Array.isArray(value.enum)
    ? `one of ${value.enum.map((v) => `<code>${esc(JSON.stringify(v))}</code>`).join(', ')}, with <code>probabilities</code> for each class`
    : 'a number';
  const single = JSON.stringify(m.example, null, 2);
  const batch = JSON.stringify({ records: [m.example] }, null, 2);
  const curl = (path: string, body: string) =>
    `curl -s -X POST ${shellQuote(`${base}${path}`)} \\\n  -H 'Content-Type: application/json' \\\n  -d ${shellQuote(body)}`;
  return `<section class="model" id="model-${esc(m.name)}">
<h3>${esc(m.name)}<span class="badge">${esc(m.version)}</span>${m.default ? '<span class="badge">default</span>' : ''}</h3>
<p>${esc(m.task)} of <code>${esc(m.target)}</code>: the prediction is ${outputs}. Schemas <code>${esc(m.schemas.record)}</code>, <code>${esc(m.schemas.predictResponse)}</code>.</p>
<table class="fields"><thead><tr><th>field</th><th>type</th><th>values</th><th>required</th><th>notes</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>
<p class="mute">A field left out (or null) is imputed from training, unless it is required. Other fields are ignored.</p>
<details open><summary>Example: one record</summary><pre>${esc(curl(m.paths.predict, single))}</pre></details>
<details><summary>Example: a batch</summary><pre>${esc(curl(m.paths.batch, batch))}</pre></details>
</section>`;
}

function routesOfTag(doc: OpenApiDocument, tag: { name: string; description: string }): string {
  const rows: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method] as { tags?: string[]; summary?: string; responses?: Record<string, unknown>; requestBody?: { content?: Record<string, unknown> }; security?: unknown[] } | undefined;
      if (!op || !op.tags?.includes(tag.name)) continue;
      const statuses = Object.keys(op.responses ?? {}).join(' ');
      const body = op.requestBody?.content ? Object.keys(op.requestBody.content).join(', ') : '';
      const open = Array.isArray(op.security) && op.security.length === 0 ? ' <span class="badge">no key</span>' : '';
      rows.push(`<tr><td class="method ${method}">${method.toUpperCase()}</td><td><code>${esc(path)}</code>${open}</td><td>${esc(op.summary ?? '')}</td><td>${esc(body)}</td><td>${esc(statuses)}</td></tr>`);
    }
  }
  return `<h3 id="tag-${esc(tag.name)}">${esc(tag.name)}</h3><p class="mute">${esc(tag.description)}</p>
<table class="routes"><thead><tr><th>method</th><th>path</th><th>what</th><th>body</th><th>answers</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`;
}

function errorsSection(): string {
  const example = { error: { code: 'invalid_input', message: 'invalid input: /records/0/age must be number, got "old"', details: [{ path: '/records/0/age', message: 'must be number, got "old"' }] } };
  return `<h2 id="errors">Errors</h2>
<p>mlpipe\u2019s routes answer every error as JSON, with the JSON Pointer of each value at fault:</p>
<pre>${esc(JSON.stringify(example, null, 2))}</pre>
<p>Statuses: 400 invalid input or JSON, 401 missing or unknown API key, 404 unknown model, 405 wrong method (with <code>Allow</code>), 413 body or batch too large, 415 wrong content type, 429 rate limited (with <code>Retry-After</code>), 503 not ready or overloaded (with <code>Retry-After</code>). The <code>/v2</code> routes answer <code>{"error": "message"}</code> and the MLflow routes <code>{"error_code": "…", "message": "…"}</code>, as their protocols say.</p>`;
}

function keysSection(doc: OpenApiDocument): string {
  const required = !(doc.security as unknown[]).some((s) => s !== null && typeof s === 'object' && Object.keys(s).length === 0);
  return `<h2 id="keys">API keys</h2>
<p>${required ? 'This server asks for an API key' : 'A server started with <code>--api-keys</code> asks for an API key'} on every route not marked <span class="badge">no key</span>: send it as <code>Authorization: Bearer &lt;key&gt;</code> or <code>X-API-Key: &lt;key&gt;</code>.</p>`;
}
