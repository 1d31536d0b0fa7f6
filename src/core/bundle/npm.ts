import { mkdir, readFile, realpath, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { ConfigError, NotFoundError, VerificationError, messageOf, quoteText } from '../errors.js';
import { prettyJson } from '../fs-util.js';
import { bundleTarFiles } from './archive.js';
import { MANIFEST_FILE, type Manifest } from './manifest.js';
import { resolveRef, type ResolvedRef } from './store.js';
import { writeTarGz } from './tar-write.js';
import { readBundleFile, readManifest, verifyBundle } from './verify.js';

/** The folder of the bundle inside an npm package written by {@link exportNpmPackage}. */
const NPM_BUNDLE_FOLDER = 'bundle';
/** The bundle's model card, when it has one (another file of the bundle, listed in its manifest). */
const MODEL_CARD = 'README.md';

/** npm's rule for package names (lower case, URL-safe, at most 214 characters), scope included. */
const NPM_NAME_RE = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
/** A semver version npm accepts (no leading zeros). */
const NPM_VERSION_RE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/** The `mlpipe` field of a model package's package.json. */
export interface NpmBundleField {
  /** The bundle folder, relative to the package. */
  bundle: string;
  name: string;
  version: string;
  manifestSha256: string;
}

/** Splits `npm:@scope/name@1.0.0` (version optional) into its package name and version. */
export function parseNpmRef(ref: string): { packageName: string; version?: string } {
  const spec = ref.slice('npm:'.length);
  const at = spec.indexOf('@', spec.startsWith('@') ? 1 : 0);
  const packageName = at < 0 ? spec : spec.slice(0, at);
  const version = at < 0 ? undefined : spec.slice(at + 1);
  if (packageName.length > 214 || !NPM_NAME_RE.test(packageName)) {
    throw new NotFoundError(`${quoteText(ref)}: not an npm package reference (use npm:@scope/package@1.0.0 or npm:package; the version is optional)`);
  }
  return version === undefined || version === '' ? { packageName } : { packageName, version };
}

/** The folder of an installed package, found from `cwd` upwards as Node's `require` finds it. */
async function installedPackageDir(packageName: string, cwd: string): Promise<string | undefined> {
  try {
    return dirname(createRequire(join(cwd, 'noop.js')).resolve(`${packageName}/package.json`));
  } catch (err) {
    // A package whose `exports` hides its package.json: look for the folder as npm lays it out.
    if ((err as NodeJS.ErrnoException).code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') return undefined;
    for (let dir = resolve(cwd); ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', ...packageName.split('/'));
      if (await stat(join(candidate, 'package.json')).then((s) => s.isFile(), () => false)) return candidate;
      if (dirname(dir) === dir) return undefined;
    }
  }
}

/** Reads a package.json; ConfigError naming it when it is not a JSON object. */
async function readPackageJson(dir: string): Promise<Record<string, unknown>> {
  const path = join(dir, 'package.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new NotFoundError(`${path}: unreadable (${messageOf(err)})`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`${path}: invalid package.json (${messageOf(err)})`);
  }
}

/**
 * The bundle folder of an installed model package: `<package>/<mlpipe.bundle>`, which must stay
 * inside the package (no absolute path, no `..`, no link out of it) and hold a manifest whose own
 * sha256 is the one package.json records. `label` names the package in messages.
 */
export async function bundleDirOfPackage(packageDir: string, label: string): Promise<string> {
  const pkg = await readPackageJson(packageDir);
  const field = pkg.mlpipe as Partial<NpmBundleField> | undefined;
  const pkgPath = join(packageDir, 'package.json');
  if (field === null || typeof field !== 'object' || typeof field.bundle !== 'string' || field.bundle === '') {
    throw new ConfigError(`${label}: ${pkgPath} has no "mlpipe": {"bundle": …}; it is not an mlpipe model package (make one with mlpipe bundles export <ref> --npm)`);
  }
  const rel = field.bundle;
  if (isAbsolute(rel) || rel.split(/[/\\]/).includes('..')) throw new ConfigError(`${label}: ${pkgPath}: mlpipe.bundle ${quoteText(rel)} must be a folder inside the package`);
  const dir = resolve(packageDir, rel);
  let real: string;
  try {
    real = await realpath(dir);
  } catch {
    throw new NotFoundError(`${label}: ${dir}: no such folder (named by mlpipe.bundle in ${pkgPath})`);
  }
  const root = await realpath(packageDir);
  if (real !== root && !real.startsWith(`${root}${sep}`)) throw new ConfigError(`${label}: ${dir}: mlpipe.bundle leads out of the package (a symbolic link?); refusing it`);
  if (!(await stat(join(dir, MANIFEST_FILE)).then(() => true, () => false))) throw new NotFoundError(`${label}: ${dir}: no ${MANIFEST_FILE}; the package holds no bundle`);
  if (typeof field.manifestSha256 === 'string') {
    const manifest = await readManifest(dir);
    if (manifest.manifestSha256 !== field.manifestSha256) {
      throw new VerificationError(MANIFEST_FILE, `${label}: ${join(dir, MANIFEST_FILE)} has manifestSha256 ${manifest.manifestSha256.slice(0, 12)}…, but ${pkgPath} says ${field.manifestSha256.slice(0, 12)}…: the bundle was replaced after the package was made`);
    }
  }
  return dir;
}

/**
 * Resolves `npm:@scope/package[@version]` to the bundle folder of that package as installed (found
 * from `cwd` upwards, as Node finds packages). A version, when given, must be the installed one.
 *
 * @throws NotFoundError when the package is not installed or another version is; ConfigError when
 * it is not an mlpipe model package.
 */
export async function resolveNpmRef(ref: string, cwd = process.cwd()): Promise<ResolvedRef> {
  const { packageName, version } = parseNpmRef(ref);
  const dir = await installedPackageDir(packageName, cwd);
  if (dir === undefined) throw new NotFoundError(`${ref}: package ${packageName} is not installed (looked in node_modules from ${resolve(cwd)} upwards); run npm install ${packageName}${version ? `@${version}` : ''}`);
  const pkg = await readPackageJson(dir);
  if (version !== undefined && version !== 'latest' && pkg.version !== version) {
    throw new NotFoundError(`${ref}: ${packageName} ${typeof pkg.version === 'string' ? pkg.version : '(no version)'} is installed (${dir}), not ${version}; run npm install ${packageName}@${version}`);
  }
  const bundleDir = await bundleDirOfPackage(dir, ref);
  const manifest = await readManifest(bundleDir);
  return { dir: bundleDir, name: manifest.name, version: manifest.version };
}

/** `@acme` or `acme` → `acme`; ConfigError when it is not an npm scope. */
function checkScope(scope: string): string {
  const bare = scope.startsWith('@') ? scope.slice(1) : scope;
  if (!/^[a-z0-9][a-z0-9._~-]*$/.test(bare) || bare.length > 100) throw new ConfigError(`--scope: ${quoteText(scope)} is not an npm scope (e.g. @acme: lower-case letters, digits, ".", "_", "~", "-")`);
  return bare;
}

/** The npm package name of a bundle: `model-<name>` in lower case, under `@scope/` when given. */
export function npmPackageName(bundleName: string, scope?: string): string {
  const base = `model-${bundleName.toLowerCase()}`;
  return scope ? `@${checkScope(scope)}/${base}` : base;
}

/** The package's own lines above a bundle's model card: what the package is, and how to use it. */
function packageHeader(manifest: Manifest, packageName: string): string {
  const ref = `npm:${packageName}@${manifest.version}`;
  return [
    `# ${packageName}`,
    '',
    `An npm package holding the mlpipe model bundle **${manifest.name}@${manifest.version}** (in \`${NPM_BUNDLE_FOLDER}/\`; its model card follows).`,
    '',
    '```',
    `npm install ${packageName}@${manifest.version}`,
    `mlpipe serve ${ref}`,
    `mlpipe bundles import ${ref}   # into a bundle store`,
    '```',
    '',
    '---',
    '',
    '',
  ].join('\n');
}

/** A short model card written from the manifest, for a bundle that carries no README.md. */
function packageReadme(manifest: Manifest, packageName: string): string {
  const ref = `npm:${packageName}@${manifest.version}`;
  const lines = [`# ${packageName}`, ''];
  const classes = manifest.classes ? ` (classes: ${manifest.classes.join(', ')})` : '';
  lines.push(`An mlpipe model bundle, **${manifest.name}@${manifest.version}**: ${manifest.task} of \`${manifest.target.name}\`${classes},`);
  lines.push(`a ${manifest.model.type} (${Object.entries(manifest.model.params).map(([k, v]) => `${k}=${v}`).join(', ')}) on ${manifest.model.featureCount} features.`, '');
  const h = manifest.metrics.holdout;
  if (h) {
    const model = h.model as unknown as Record<string, unknown>;
    const baseline = h.baseline as unknown as Record<string, unknown>;
    const keys = manifest.task === 'classification' ? ['accuracy', 'balancedAccuracy', 'macroF1', 'logLoss', 'rocAuc'] : ['r2', 'rmse', 'mae'];
    lines.push(`Holdout (${h.testRows} of ${h.trainRows + h.testRows} rows), against the baseline (${h.baseline.strategy}):`, '', '| metric | model | baseline |', '|---|---|---|');
    for (const k of keys) if (typeof model[k] === 'number') lines.push(`| ${k} | ${(model[k] as number).toFixed(4)} | ${typeof baseline[k] === 'number' ? (baseline[k] as number).toFixed(4) : ''} |`);
    lines.push('');
  }
  lines.push('## Use', '', '```', `npm install ${packageName}@${manifest.version}`, `mlpipe serve ${ref}`, `mlpipe predict ${ref} --input rows.csv --out predictions.csv`, `mlpipe bundles import ${ref}   # into a bundle store`, '```', '');
  const props = (manifest.inputSchema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  if (Object.keys(props).length > 0) {
    lines.push('## Input fields', '', '| field | type |', '|---|---|');
    for (const [name, p] of Object.entries(props)) lines.push(`| ${name.replace(/\|/g, '\\|')} | ${Array.isArray(p.type) ? p.type.join(' or ') : String(p.type ?? 'any')} |`);
    lines.push('');
  }
  lines.push(`The bundle is in \`${NPM_BUNDLE_FOLDER}/\`: \`${NPM_BUNDLE_FOLDER}/${MANIFEST_FILE}\` names every file with its sha256 (manifestSha256 \`${manifest.manifestSha256}\`), and mlpipe verifies each one before it loads the model.`, '');
  return lines.join('\n');
}

/** What {@link exportNpmPackage} wrote. */
export interface NpmExportResult {
  file: string;
  packageName: string;
  version: string;
  name: string;
  files: number;
  bytes: number;
  sha256: string;
  /** npm's `integrity` of the tarball (`sha512-…`). */
  integrity: string;
}

/**
 * Writes a bundle as an npm package tarball (`<scope>-model-<name>-<version>.tgz`, the name `npm
 * pack` would give it, in the folder `out`, or at `out` itself when it ends in .tgz): entries under `package/`, with a package.json (name
 * `@scope/model-<name>`, the bundle's version, `mlpipe: {bundle, name, version, manifestSha256}`),
 * a README.md (the bundle's model card when it has one, else one written from the manifest) and the
 * verified bundle under `package/bundle/`. Deterministic bytes, written atomically; `npm publish
 * <file>` publishes it to any registry, private ones (Gemfury, Verdaccio, GitHub Packages) included.
 */
export async function exportNpmPackage(options: { ref: string; artifacts: string; out?: string; scope?: string; license?: string; cwd?: string }): Promise<NpmExportResult> {
  // Options are checked before any work.
  if (options.scope !== undefined) checkScope(options.scope);
  const license = options.license ?? 'UNLICENSED';
  if (!/^[A-Za-z0-9.+()\s-]{1,100}$/.test(license)) throw new ConfigError(`--license: ${quoteText(license)} is not an SPDX license expression (e.g. MIT, Apache-2.0, UNLICENSED)`);
  const { dir } = await resolveRef(options.ref, options.artifacts);
  const manifest = await verifyBundle(dir);
  const name = npmPackageName(manifest.name, options.scope);
  if (!NPM_VERSION_RE.test(manifest.version)) throw new ConfigError(`${manifest.name}@${manifest.version}: ${manifest.version} is not a version npm accepts (no leading zeros); package the model again under a version like 1.0.0`);
  if (name.length > 214) throw new ConfigError(`${name}: longer than the 214 characters npm allows in a package name`);
  // The bundle's model card, under a header saying how to use the package (the card's own lines are about the bundle).
  const card = Object.hasOwn(manifest.files, MODEL_CARD)
    ? `${packageHeader(manifest, name)}${(await readBundleFile(dir, MODEL_CARD)).toString('utf8')}`
    : packageReadme(manifest, name);
  const classes = manifest.classes ? ` (${manifest.classes.join(', ')})` : '';
  const pkg = {
    name,
    version: manifest.version,
    description: `mlpipe model bundle ${manifest.name}@${manifest.version}: ${manifest.task} of ${manifest.target.name}${classes}`.slice(0, 300),
    license,
    keywords: ['mlpipe', 'model'],
    files: [`${NPM_BUNDLE_FOLDER}/`, 'README.md'],
    mlpipe: { bundle: NPM_BUNDLE_FOLDER, name: manifest.name, version: manifest.version, manifestSha256: manifest.manifestSha256 } satisfies NpmBundleField,
  };
  const files = [
    { path: 'package/package.json', bytes: Buffer.from(prettyJson(pkg)) },
    { path: 'package/README.md', bytes: Buffer.from(card) },
    ...(await bundleTarFiles(dir, manifest, `package/${NPM_BUNDLE_FOLDER}/`)),
  ];
  const fileName = `${name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`;
  // --out names a folder (created when missing), or the tarball itself when it ends in .tgz.
  const out = resolve(options.cwd ?? process.cwd(), options.out ?? '.');
  const file = /\.(tgz|tar\.gz)$/.test(out) ? out : join(out, fileName);
  await mkdir(dirname(file), { recursive: true });
  const written = await writeTarGz(file, files);
  return { file, packageName: name, version: manifest.version, name: manifest.name, files: files.length, bytes: written.bytes, sha256: written.sha256, integrity: `sha512-${written.sha512}` };
}
