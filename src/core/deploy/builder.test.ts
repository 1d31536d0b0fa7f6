import { expect } from 'chai';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCommand, checkImageTag, defaultImageTag, findContainerTool, shellLine } from './builder.js';

describe('image references and build commands (core/deploy/builder.ts)', () => {
  it('accepts references of the distribution grammar', () => {
    for (const tag of ['penguins', 'localhost/mlpipe-penguins:1.0.0', 'registry.example.com:5000/team/model:v1.2.0', 'ghcr.io/org/a_b.c-d:latest', 'mlpipe/x__y:1']) {
      expect(checkImageTag(tag)).to.equal(tag);
    }
  });

  it('refuses an invalid one in one line naming the flag and the value', () => {
    for (const [tag, why] of [
      ['Penguins:1', 'must be lowercase'],
      ['penguins:', 'invalid reference format'],
      ['pen guins', 'invalid reference format'],
      ['-penguins', 'invalid reference format'],
      ['penguins:1.0.0:2', 'invalid reference format'],
      ['', 'invalid reference format'],
      ['a'.repeat(256), 'not be more than 255'],
    ] as const) {
      const err = (() => {
        try {
          checkImageTag(tag);
        } catch (e) {
          return e as Error & { code?: string };
        }
        return undefined;
      })();
      expect(err, tag).to.have.property('code', 'invalid_config');
      expect(err?.message).to.contain(`--tag: ${JSON.stringify(tag)} is not a valid image reference`).and.contain(why);
      expect(err?.message).to.not.contain('\n');
    }
    expect(() => checkImageTag(`penguins@sha256:${'a'.repeat(64)}`, '--base')).to.throw(/--base: .* names a digest/);
  });

  it('makes a valid default tag from any bundle name', () => {
    expect(defaultImageTag('penguins', '1.0.0')).to.equal('localhost/mlpipe-penguins:1.0.0');
    expect(defaultImageTag('Churn_Model..v2-', '2.1.0')).to.equal('localhost/mlpipe-churn_model-v2:2.1.0');
    for (const name of ['A', 'x.-_y', 'Z9__', '___']) expect(checkImageTag(defaultImageTag(name, '1.0.0'))).to.be.a('string');
  });

  it('podman builds with --format docker (HEALTHCHECK kept); the line is quoted for a shell', () => {
    expect(buildCommand('podman', 't:1', '/ctx', { BASE: 'node:20-bookworm-slim' })).to.deep.equal(['podman', 'build', '--format', 'docker', '--build-arg', 'BASE=node:20-bookworm-slim', '-t', 't:1', '/ctx']);
    expect(buildCommand('docker', 't:1', '/ctx')).to.deep.equal(['docker', 'build', '-t', 't:1', '/ctx']);
    expect(shellLine(['podman', 'build', '/my ctx', "it's"])).to.equal(`podman build '/my ctx' 'it'\\''s'`);
  });

  it('a tool counts only when `<tool> info` works: missing, or a docker client without a daemon, says why', async function () {
    this.timeout(60_000);
    const empty = await mkdtemp(join(tmpdir(), 'mlpipe-nopath-'));
    try {
      const none = await findContainerTool({ PATH: empty });
      expect(none.tool).to.equal(undefined);
      expect(none.unusable).to.deep.equal(['podman: not on the PATH', 'docker: not on the PATH']);
      // A stand-in `docker` whose `info` fails as a client without a daemon does.
      const fake = join(empty, 'docker');
      await symlink('/bin/false', fake);
      const noDaemon = await findContainerTool({ PATH: empty }, ['docker']);
      expect(noDaemon.tool).to.equal(undefined);
      expect(noDaemon.unusable[0]).to.match(/^docker: `docker info` failed: exit code 1$/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
