import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { rejection } from '../test-helpers/async.js';
import { cleanupTempDirs, tempDir } from '../test-helpers/fixtures.js';
import { ApiKeySet, addApiKey, hashApiKey, parseApiKeys, readApiKeys, revokeApiKey } from './api-keys.js';
import { ConfigError, ConflictError, NotFoundError } from './errors.js';

describe('API key files (core/api-keys)', () => {
  after(cleanupTempDirs);

  it('addApiKey returns a new high-entropy key once and stores only its sha256, with limits and the creation time', async () => {
    const file = join(await tempDir(), 'keys.json');
    const { key, entry } = await addApiKey(file, 'ci', { rateLimit: 5, rowsPerMinute: 0 }, new Date('2026-12-07T20:00:00Z'));
    expect(key).to.match(/^mlp_[A-Za-z0-9_-]{43}$/);
    const text = await readFile(file, 'utf8');
    expect(text).to.not.contain(key);
    expect(text).to.not.contain(key.slice(4));
    expect(JSON.parse(text)).to.deep.equal({ format: 1, keys: [{ name: 'ci', sha256: hashApiKey(key), createdAt: '2026-12-07T20:00:00.000Z', limits: { rateLimit: 5, rowsPerMinute: 0 } }] });
    expect(entry.sha256).to.equal(hashApiKey(key));
    const second = await addApiKey(file, 'ops');
    expect(second.key).to.not.equal(key);
    expect((await readApiKeys(file)).keys.map((k) => k.name)).to.deep.equal(['ci', 'ops']);
  });

  it('refuses a duplicate name (ConflictError naming the file and the name) and a bad name, and changes nothing', async () => {
    const file = join(await tempDir(), 'keys.json');
    await addApiKey(file, 'ci');
    const before = await readFile(file, 'utf8');
    const dup = await rejection(addApiKey(file, 'ci'));
    expect(dup).to.be.instanceOf(ConflictError);
    expect(dup.message).to.contain(file).and.contain('"ci" already exists');
    expect(await rejection(addApiKey(file, 'no spaces'))).to.be.instanceOf(ConfigError);
    expect(await readFile(file, 'utf8')).to.equal(before);
  });

  it('concurrent adds under the lock keep every key', async () => {
    const file = join(await tempDir(), 'keys.json');
    const made = await Promise.all(Array.from({ length: 8 }, (_, i) => addApiKey(file, `k${i}`)));
    const read = await readApiKeys(file);
    expect(read.keys.map((k) => k.name).sort()).to.deep.equal(made.map((m) => m.entry.name).sort());
  });

  it('revokeApiKey removes one key; an unknown name is a NotFoundError naming the keys there', async () => {
    const file = join(await tempDir(), 'keys.json');
    await addApiKey(file, 'a');
    await addApiKey(file, 'b');
    await revokeApiKey(file, 'a');
    expect((await readApiKeys(file)).keys.map((k) => k.name)).to.deep.equal(['b']);
    const e = await rejection(revokeApiKey(file, 'zz'));
    expect(e).to.be.instanceOf(NotFoundError);
    expect(e.message).to.contain('no key named "zz" (keys: b)');
  });

  it('a bad file is refused with the file and the JSON path at fault', async () => {
    const ok = { name: 'ci', sha256: 'a'.repeat(64), createdAt: '2026-12-07T20:00:00Z', limits: {} };
    const cases: [unknown, string][] = [
      [[], 'k.json: /: must be a JSON object'],
      [{ format: 2, keys: [] }, 'k.json: /format: must be 1'],
      [{ format: 1 }, 'k.json: /keys: must be an array'],
      [{ format: 1, keys: [ok, { ...ok, sha256: 'b'.repeat(64) }] }, 'k.json: /keys/1/name: "ci" is used by an earlier key'],
      [{ format: 1, keys: [{ ...ok, sha256: 'XYZ' }] }, 'k.json: /keys/0/sha256: must be the sha256'],
      [{ format: 1, keys: [{ ...ok, limits: { rateLimit: -1 } }] }, 'k.json: /keys/0/limits/rateLimit: must be a whole number ≥ 0'],
      [{ format: 1, keys: [{ ...ok, limits: { rps: 1 } }] }, 'k.json: /keys/0/limits/rps: unknown limit'],
      [{ format: 1, keys: [{ ...ok, key: 'plain' }] }, 'k.json: /keys/0/key: unknown field'],
      [{ format: 1, keys: [{ ...ok, createdAt: 'yesterday' }] }, 'k.json: /keys/0/createdAt: must be a date'],
    ];
    for (const [value, message] of cases) {
      let error: unknown;
      try {
        parseApiKeys(JSON.stringify(value), 'k.json');
      } catch (err) {
        error = err;
      }
      expect(error, message).to.be.instanceOf(ConfigError);
      expect((error as Error).message).to.contain(message);
    }
    const file = join(await tempDir(), 'keys.json');
    await writeFile(file, '{"format": 1, "keys": [');
    const e = await rejection(readApiKeys(file));
    expect(e).to.be.instanceOf(ConfigError);
    expect(e.message).to.contain(`${file}: invalid JSON`);
    expect(await rejection(readApiKeys(join(file, '..', 'missing.json')))).to.be.instanceOf(NotFoundError);
  });

  it('ApiKeySet.match finds the entry of a known key and nothing for any other string', () => {
    const set = new ApiKeySet([
      { name: 'a', sha256: hashApiKey('mlp_first'), createdAt: '2026-01-01T00:00:00Z', limits: {} },
      { name: 'b', sha256: hashApiKey('mlp_second'), createdAt: '2026-01-01T00:00:00Z', limits: { rateLimit: 1 } },
    ]);
    expect(set.match('mlp_first')?.name).to.equal('a');
    expect(set.match('mlp_second')?.name).to.equal('b');
    for (const other of ['', 'mlp_firs', 'mlp_first ', 'MLP_FIRST', hashApiKey('mlp_first')]) expect(set.match(other), other).to.equal(undefined);
    expect(new ApiKeySet([]).match('mlp_first')).to.equal(undefined);
  });
});
