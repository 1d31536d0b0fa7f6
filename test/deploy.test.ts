/**
 * deploy/ and the Procfile, checked offline (no Docker daemon, no cluster here): deploy/compose.yaml
 * against the Compose Specification's JSON Schema (the copy dclint 3.1.0 ships), every Kubernetes
 * manifest against the API's schemas (kubernetes-models) and its TypeScript types (unknown fields),
 * every MLPIPE_* variable against what `serve` reads (from its commander definition), and the
 * settings run for real: serve started with the ConfigMap's and Compose's environments answers the
 * probed paths, Compose's store is pushed and served from s3rver, the Procfile listens on PORT.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, posix } from 'node:path';
import { PassThrough } from 'node:stream';
import { Ajv } from 'ajv';
import type { Command } from 'commander';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import ts from 'typescript';
import { parse, parseAllDocuments } from 'yaml';
import { SERVE_ENVIRONMENT } from '../src/cli/commands/serve.js';
import { CliContext } from '../src/cli/context.js';
import { createProgram } from '../src/cli/program.js';
import { parseApiKeys } from '../src/core/api-keys.js';
import { ROOT, cleanupTempDirs, packagedExample, runCli, tempDir } from '../src/test-helpers/fixtures.js';
import { type S3Server, startS3Server } from '../src/test-helpers/s3.js';
import { ServeProcess, startServeProcess, stopServe } from '../src/test-helpers/serve.js';
import { freePort } from '../src/test-helpers/http.js';

const DEPLOY = join(ROOT, 'deploy');
const KUBERNETES = join(DEPLOY, 'kubernetes');
const COMPOSE_FILE = join(DEPLOY, 'compose.yaml');
const PROCFILE = join(ROOT, 'Procfile');

type Json = any;

/** The `serve` command as commander defines it: the one source of its options, defaults and variables. */
function serveCommand(): Command {
  const io = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough(), env: {} };
  const serve = createProgram(new CliContext(io)).commands.find((c) => c.name() === 'serve');
  if (!serve) throw new Error('no serve command');
  return serve;
}
const SERVE = serveCommand();
/** Every environment variable serve reads: its options' `.env()` names and SERVE_ENVIRONMENT. */
const SERVE_READS = new Set([...SERVE.options.flatMap((o) => (o.envVar ? [o.envVar] : [])), ...SERVE_ENVIRONMENT.map((v) => v.name)]);
function serveDefault(flag: string): unknown {
  const option = SERVE.options.find((o) => o.long === flag);
  if (!option) throw new Error(`serve has no ${flag}`);
  return option.defaultValue;
}

/** The Kubernetes manifests (every YAML file but kustomization.yaml), read as Kubernetes reads YAML (1.1: 0440 is octal). */
function kubernetesManifests(): { file: string; doc: Json }[] {
  return readdirSync(KUBERNETES)
    .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
    .sort()
    .flatMap((file) => parseAllDocuments(readFileSync(join(KUBERNETES, file), 'utf8'), { version: '1.1' }).map((d) => ({ file, doc: d.toJS() as Json })));
}
function manifest(kind: string): Json {
  const found = kubernetesManifests().filter((m) => m.doc.kind === kind);
  expect(found, `one ${kind} in deploy/kubernetes`).to.have.length(1);
  return found[0]?.doc;
}

/** The schema check of each kind deploy/ uses (kubernetes-models' ajv validators): throws naming the path at fault. */
const VALIDATORS = new Map<string, (data: Json) => void>([
  ['v1/ConfigMap', (d) => new ConfigMap(d).validate()],
  ['v1/Secret', (d) => new Secret(d).validate()],
  ['v1/Service', (d) => new Service(d).validate()],
  ['apps/v1/Deployment', (d) => new Deployment(d).validate()],
  ['autoscaling/v2/HorizontalPodAutoscaler', (d) => new HorizontalPodAutoscaler(d).validate()],
  ['policy/v1/PodDisruptionBudget', (d) => new PodDisruptionBudget(d).validate()],
]);

/**
 * Fields the API does not know (a misspelt `readOnlyRootFileSystem` would silently not apply): the
 * schemas above allow any extra field, so each object is type-checked against kubernetes-models'
 * TypeScript interface of its kind, whose excess-property check names every unknown field.
 */
function unknownFields(objects: { file: string; doc: Json }[]): string[] {
  const name = join(ROOT, 'test', '__deploy_manifests__.ts');
  const source = objects
    .map((o, i) => `import type { I${o.doc.kind} as T${i} } from 'kubernetes-models/${o.doc.apiVersion}/${o.doc.kind}';\nexport const m${i}: T${i} = ${JSON.stringify(o.doc)};\n`)
    .join('');
  const options: ts.CompilerOptions = { strict: true, noEmit: true, skipLibCheck: true, types: [], module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, target: ts.ScriptTarget.ES2022 };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language) => (file === name ? ts.createSourceFile(file, source, language) : getSourceFile(file, language));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (file) => file === name || fileExists(file);
  const program = ts.createProgram([name], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    const which = objects[Math.floor(line / 2)];
    return `${which ? `${which.file} (${which.doc.kind})` : '?'}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

/** compose.yaml after Compose's interpolation of `${NAME:-default}` (unset here) and `$$`. */
function composeFile(): Json {
  const doc = parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as Json;
  const interpolate = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const unset = /\$\{(?![A-Za-z_][A-Za-z0-9_]*:-[^}]*\})[^}]*\}/.exec(v.replace(/\$\$/g, ''));
      if (unset) throw new Error(`compose.yaml: ${unset[0]} has no default: the file must work with no variable set`);
      return v.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}/g, '$1').replace(/\$\$/g, '$');
    }
    if (Array.isArray(v)) return v.map(interpolate);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolate(x)]));
    return v;
  };
  return interpolate(doc);
}

/** The Compose Specification's JSON Schema as dclint ships it, compiled as dclint does (its `$schema` is draft-07 under an https name). */
function composeValidator() {
  const require = createRequire(import.meta.url);
  const schema = JSON.parse(readFileSync(join(dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json'), 'utf8')) as Json;
  expect(schema.$schema).to.equal('https://json-schema.org/draft-07/schema');
  schema.$schema = 'http://json-schema.org/draft-07/schema#';
  return new Ajv({ allErrors: true, strict: false }).compile(schema);
}

const seconds = (s: string): number => {
  const m = /^(\d+)(ms|s|m)$/.exec(s);
  if (!m) throw new Error(`not a duration: ${s}`);
  return Number(m[1]) * ({ ms: 0.001, s: 1, m: 60 } as Record<string, number>)[m[2] as string]!;
};

describe('deploy/: Compose, Kubernetes and the Procfile', function () {
  this.timeout(180_000);

  it('every MLPIPE_* variable named in deploy/compose.yaml, deploy/kubernetes/ and the Procfile is one serve reads', () => {
    const files = [COMPOSE_FILE, PROCFILE, ...readdirSync(KUBERNETES).map((f) => join(KUBERNETES, f))];
    const named = new Map<string, string>();
    for (const file of files) for (const m of readFileSync(file, 'utf8').matchAll(/\bMLPIPE_[A-Z0-9_]+\b/g)) named.set(m[0], posix.relative(ROOT, file));
    expect(named.size, 'deploy/ names MLPIPE_* settings').to.be.greaterThan(10);
    const unknown = [...named].filter(([v]) => !SERVE_READS.has(v)).map(([v, file]) => `${v} (${file})`);
    expect(unknown, `serve reads: ${[...SERVE_READS].sort().join(', ')}`).to.deep.equal([]);
    // The list is serve's own: an option's variable is in it, and so is what the action reads.
    expect(SERVE_READS).to.include('MLPIPE_SHUTDOWN_TIMEOUT').and.to.include('MLPIPE_MODEL').and.to.include('PORT');
  });

  describe('Compose', () => {
    it('deploy/compose.yaml is valid against the Compose Specification (the schema dclint 3.1.0 ships); a misspelt field is refused', () => {
      const validate = composeValidator();
      const compose = composeFile();
      expect(validate(compose), JSON.stringify(validate.errors)).to.equal(true);
      compose.services.serve.healthchek = compose.services.serve.healthcheck;
      expect(validate(compose)).to.equal(false);
      expect(validate.errors?.[0]).to.include({ instancePath: '/services/serve', message: 'must NOT have additional properties' });
    });

    it('two serve replicas share Redis and the s3:// store publish pushes to, behind a load balancer that reaches them on their port; every server has a healthcheck', () => {
      const { services, configs } = composeFile();
      const serve = services.serve;
      const env = serve.environment as Record<string, string>;
      expect(serve.deploy.replicas).to.equal(2);
      const port = env.MLPIPE_PORT ?? String(serveDefault('--port'));
      expect(env.MLPIPE_HOST).to.equal('0.0.0.0');
      // Redis and the store are services of this file.
      expect(services).to.have.property(new URL(env.MLPIPE_REDIS_URL as string).hostname);
      expect(services).to.have.property(new URL(env.MLPIPE_S3_ENDPOINT as string).hostname);
      expect(env.MLPIPE_ARTIFACTS).to.match(/^s3:\/\//);
      // publish pushes what serve serves, to the store serve reads, before serve starts.
      const push = services.publish.command as string[];
      expect(push.slice(0, 3)).to.deep.equal(['bundles', 'push', env.MLPIPE_MODEL]);
      expect(push[push.indexOf('--to') + 1]).to.equal(env.MLPIPE_ARTIFACTS);
      expect(serve.depends_on.publish.condition).to.equal('service_completed_successfully');
      // The balancer: nginx, to serve's port, and published.
      const nginx = configs[services.lb.configs[0].source].content as string;
      expect(nginx).to.contain(`http://serve:${port};`);
      expect(services.lb.ports).to.have.length(1);
      // Healthchecks: serve's probes its own port.
      for (const name of ['serve', 'lb', 'redis', 'minio']) expect(services[name].healthcheck?.test, name).to.be.an('array');
      expect(serve.healthcheck.test.join(' ')).to.contain(`http://127.0.0.1:${port}/readyz`);
      // The drain fits in the stop grace period; the root filesystem is read-only with a writable /tmp for the cache.
      const drain = Number(env.MLPIPE_SHUTDOWN_TIMEOUT ?? serveDefault('--shutdown-timeout'));
      expect(seconds(serve.stop_grace_period) * 1000).to.be.greaterThan(drain);
      expect(serve.read_only).to.equal(true);
      expect(env.MLPIPE_CACHE?.startsWith('/tmp/')).to.equal(true);
      expect(serve.tmpfs).to.include('/tmp');
    });
  });

  describe('Kubernetes', () => {
    it('every manifest is valid against the Kubernetes API schemas (kubernetes-models 4.5.1) and has no field the API does not know', () => {
      const all = kubernetesManifests();
      expect(all.map((m) => m.doc.kind).sort()).to.deep.equal(['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Secret', 'Service']);
      for (const { file, doc } of all) {
        const validate = VALIDATORS.get(`${doc.apiVersion}/${doc.kind}`);
        expect(validate, `${file}: no schema for ${doc.apiVersion} ${doc.kind}`).to.be.a('function');
        expect(() => validate?.(doc), file).not.to.throw();
      }
      expect(unknownFields(all)).to.deep.equal([]);
    });

    it('the same checks refuse a wrong type and a misspelt field, naming them', () => {
      const deployment = structuredClone(manifest('Deployment'));
      deployment.spec.template.spec.containers[0].ports[0].containerPort = '8080';
      expect(() => new Deployment(deployment).validate()).to.throw('containers/0/ports/0/containerPort must be integer');
      const misspelt = structuredClone(manifest('Deployment'));
      misspelt.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem = true;
      const problems = unknownFields([{ file: 'deployment.yaml', doc: misspelt }]);
      expect(problems).to.have.length(1);
      expect(problems[0]).to.contain(`'"readOnlyRootFileSystem"' does not exist in type 'ISecurityContext'`).and.to.contain('deployment.yaml (Deployment)');
    });

    it('kustomization.yaml lists every manifest, and its image is the Deployment\'s', () => {
      const kustomization = parse(readFileSync(join(KUBERNETES, 'kustomization.yaml'), 'utf8')) as Json;
      const files = readdirSync(KUBERNETES).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
      expect([...kustomization.resources].sort()).to.deep.equal(files.sort());
      const image = manifest('Deployment').spec.template.spec.containers[0].image as string;
      expect(kustomization.images.map((i: Json) => `${i.name}:${i.newTag}`)).to.deep.equal([image]);
    });

    it('the Deployment runs as non-root on a read-only root filesystem, without privilege escalation or capabilities, with resources and a writable /tmp for the cache', () => {
      const pod = manifest('Deployment').spec.template.spec;
      const [container] = pod.containers;
      expect(pod.securityContext.runAsNonRoot).to.equal(true);
      expect(pod.securityContext.runAsUser).to.be.greaterThan(0);
      expect(container.securityContext).to.deep.include({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(container.resources.requests).to.have.keys('cpu', 'memory');
      expect(container.resources.limits).to.have.keys('cpu', 'memory');
      const writable = container.volumeMounts.filter((m: Json) => pod.volumes.find((v: Json) => v.name === m.name)?.emptyDir);
      expect(writable.map((m: Json) => m.mountPath)).to.deep.equal(['/tmp']);
      expect(manifest('ConfigMap').data.MLPIPE_CACHE.startsWith('/tmp/')).to.equal(true);
    });

    it('terminationGracePeriodSeconds is longer than the preStop pause and serve\'s drain (MLPIPE_SHUTDOWN_TIMEOUT) together', () => {
      const pod = manifest('Deployment').spec.template.spec;
      const config = manifest('ConfigMap').data;
      const drainMs = Number(config.MLPIPE_SHUTDOWN_TIMEOUT ?? serveDefault('--shutdown-timeout'));
      const [command, pause] = pod.containers[0].lifecycle.preStop.exec.command as string[];
      expect(command).to.equal('sleep');
      // One process per pod: `--workers` would add the primary's own wait to the drain.
      expect(config.MLPIPE_WORKERS ?? '1').to.equal('1');
      expect(pod.terminationGracePeriodSeconds * 1000).to.be.greaterThan(Number(pause) * 1000 + drainMs);
    });

    it('the probes, the Service and the HPA reach what serve listens on; the Secret, the ConfigMap and the key file agree', () => {
      const deployment = manifest('Deployment');
      const pod = deployment.spec.template.spec;
      const [container] = pod.containers;
      const config = manifest('ConfigMap');
      const port = Number(config.data.MLPIPE_PORT ?? serveDefault('--port'));
      const named = (p: string | number) => (typeof p === 'number' ? p : container.ports.find((c: Json) => c.name === p)?.containerPort);
      expect(named('http')).to.equal(port);
      expect(container.livenessProbe.httpGet.path).to.equal('/healthz');
      expect(container.readinessProbe.httpGet.path).to.equal('/readyz');
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) expect(named(container[probe].httpGet.port), probe).to.equal(port);
      const service = manifest('Service');
      expect(named(service.spec.ports[0].targetPort)).to.equal(port);
      const labels = deployment.spec.template.metadata.labels;
      for (const selector of [service.spec.selector, manifest('PodDisruptionBudget').spec.selector.matchLabels, deployment.spec.selector.matchLabels]) expect(labels).to.deep.include(selector);
      expect(manifest('HorizontalPodAutoscaler').spec.scaleTargetRef).to.deep.equal({ apiVersion: deployment.apiVersion, kind: deployment.kind, name: deployment.metadata.name });
      expect(container.envFrom[0].configMapRef.name).to.equal(config.metadata.name);
      // The key file serve is told to read is the Secret's, mounted where the ConfigMap says.
      const secret = manifest('Secret');
      const volume = pod.volumes.find((v: Json) => v.secret?.secretName === secret.metadata.name);
      const mount = container.volumeMounts.find((m: Json) => m.name === volume.name);
      expect(posix.dirname(config.data.MLPIPE_API_KEYS_FILE)).to.equal(mount.mountPath);
      // stringData as shipped, or base64 data as `kubectl create secret --dry-run=client -o yaml` writes it.
      const key = posix.basename(config.data.MLPIPE_API_KEYS_FILE);
      const keyFile = secret.stringData?.[key] ?? Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');
      expect(parseApiKeys(keyFile, 'secret.yaml').keys).to.be.an('array');
      expect(volume.secret.defaultMode).to.equal(0o440);
    });
  });

  describe('the settings run by a real mlpipe serve', () => {
    let artifacts: string;
    let work: string;
    let serve: ServeProcess | undefined;
    const record = { Island: 'Dream', 'Beak Length (mm)': 45, 'Flipper Length (mm)': 190 };

    before(async () => {
      ({ artifacts } = await packagedExample('penguins'));
      work = await tempDir();
    });
    afterEach(async () => {
      await stopServe(serve);
      serve = undefined;
    });
    after(cleanupTempDirs);

    it('the ConfigMap and the Secret: the probed paths answer 200 without a key, a prediction needs one', async () => {
      const config = manifest('ConfigMap').data as Record<string, string>;
      const keyFile = join(work, 'api-keys.json');
      const secret = manifest('Secret');
      await writeFile(keyFile, secret.stringData?.['api-keys.json'] ?? Buffer.from(secret.data['api-keys.json'], 'base64'));
      // The cluster's addresses become this machine's: the port, the host, the key file's mount, Redis, the cache.
      serve = startServeProcess([], {
        env: { ...config, MLPIPE_HOST: '127.0.0.1', MLPIPE_PORT: '0', MLPIPE_API_KEYS_FILE: keyFile, MLPIPE_REDIS_URL: 'redis://127.0.0.1:6379', MLPIPE_CACHE: join(work, 'cache'), MLPIPE_ARTIFACTS: artifacts },
      });
      const port = await serve.port();
      const { livenessProbe, readinessProbe, startupProbe } = manifest('Deployment').spec.template.spec.containers[0];
      const paths = new Set<string>([livenessProbe.httpGet.path, readinessProbe.httpGet.path, startupProbe.httpGet.path]);
      for (const path of paths) expect((await fetch(`http://127.0.0.1:${port}${path}`)).status, path).to.equal(200);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).to.equal(200);
      const predict = await fetch(`http://127.0.0.1:${port}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(record) });
      expect(predict.status).to.equal(401);
    });

    describe('Compose against s3rver (MinIO\'s part)', () => {
      let s3: S3Server;
      before(async () => {
        s3 = await startS3Server({ buckets: ['models'] });
      });
      after(async () => s3.close());

      it('publish\'s command pushes the bundle, and serve with Compose\'s environment serves it from the store and answers its healthcheck', async () => {
        const { services } = composeFile();
        const local = { ...s3.env, MLPIPE_CACHE: join(work, 'compose-cache') };
        // publish, with ./artifacts (mounted at /seed) being this test's store.
        const publishArgs = (services.publish.command as string[]).map((a) => (a === '/seed' ? artifacts : a));
        const push = await runCli(publishArgs, { env: local });
        expect(push.code, push.stderr).to.equal(0);
        const env = { ...(services.serve.environment as Record<string, string>), ...local, MLPIPE_HOST: '127.0.0.1', MLPIPE_PORT: '0', MLPIPE_REDIS_URL: 'redis://127.0.0.1:6379' };
        serve = startServeProcess([], { env });
        const port = await serve.port();
        const healthcheck = (services.serve.healthcheck.test as string[]).join(' ');
        const path = /http:\/\/127\.0\.0\.1:\d+(\/[a-z]+)/.exec(healthcheck)?.[1];
        expect(path).to.equal('/readyz');
        const ready = (await (await fetch(`http://127.0.0.1:${port}${path}`)).json()) as { models: string[] };
        expect(ready.models).to.deep.equal(['penguins@1.0.0']);
        const answer = await fetch(`http://127.0.0.1:${port}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(record) });
        expect(answer.status).to.equal(200);
        expect(((await answer.json()) as { prediction: string }).prediction).to.be.a('string');
      });
    });

    it('the Procfile\'s web command, with PORT=<n> as a platform sets it, listens on n on every address', async () => {
      const web = /^web:\s*(.+)$/m.exec(readFileSync(PROCFILE, 'utf8'))?.[1];
      expect(web).to.match(/^bin\/mlpipe serve /);
      const port = await freePort();
      const child = spawn('/bin/sh', ['-c', `exec ${web}`], { cwd: ROOT, env: { ...process.env, PORT: String(port), MLPIPE_ARTIFACTS: artifacts }, stdio: ['pipe', 'pipe', 'pipe'] });
      serve = new ServeProcess(child);
      await serve.waitFor('stdout', new RegExp(`listening on http://0\\.0\\.0\\.0:${port}\\b`));
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).to.equal(200);
    });
  });
});
