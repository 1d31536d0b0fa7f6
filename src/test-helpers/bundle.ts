/** Test helpers that change bundles on purpose (not part of the build). */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Manifest } from '../core/bundle/manifest.js';
import { serializeManifest } from '../core/bundle/package.js';
import { sha256 } from '../core/fs-util.js';

/**
 * Changes one file of a bundle AND its manifest entry AND the manifest's own checksum, consistently:
 * every checksum passes afterwards, as when a bundle is re-written by a buggy tool or a changed mlpipe.
 */
export async function rewriteBundleFile(dir: string, file: string, edit: (text: string) => string): Promise<void> {
  const text = edit(await readFile(join(dir, file), 'utf8'));
  await writeFile(join(dir, file), text);
  const { manifestSha256: _, ...m } = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  m.files[file] = { sha256: sha256(text), bytes: Buffer.byteLength(text) };
  await writeFile(join(dir, 'manifest.json'), serializeManifest(m));
}

/** A featurizer change no checksum sees: the Island one-hot's categories in another order (see {@link rewriteBundleFile}). */
export async function skewIslandCategories(dir: string): Promise<void> {
  await rewriteBundleFile(dir, 'featurizer.json', (text) => {
    const f = JSON.parse(text) as { steps: { column: string; state: { categories?: string[] } }[] };
    const island = f.steps.find((s) => s.column === 'Island');
    if (!island?.state.categories) throw new Error('no Island one-hot step to change');
    island.state.categories = ['Dream', 'Biscoe', 'Torgersen'];
    return JSON.stringify(f, null, 2);
  });
}
