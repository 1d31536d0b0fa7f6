/**
 * A newcomer's path through the documentation (issue 15): every link in README.md and docs/*.md leads
 * somewhere. A relative link names a file or folder of the repository that exists, and its anchor
 * (`#section`) is a heading of the target, spelled as GitHub spells heading anchors. External http(s)
 * links are checked for their syntax only: the suite runs without a network.
 */
import { expect } from 'chai';
import { mkdtemp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ROOT } from '../src/test-helpers/fixtures.js';

/**
 * A heading's anchor as GitHub writes it (github-slugger over the rendered text): inline markup
 * removed (code spans keep their text, a link keeps its text), lower case, every character that is
 * not a letter, mark, number, `_`, `-` or space dropped, each space turned into `-` (runs are not
 * collapsed: "a `--b`" gives "a---b").
 */
export function slugify(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // [text](url) and images: the text
    .replace(/<\/?[A-Za-z][^>]*>/g, (tag) => (/^<\/?(code|em|strong|b|i|a|sub|sup|span)\b/i.test(tag) ? '' : tag)) // inline HTML tags
    .replace(/`+/g, ''); // code spans keep their text, `<source>` included
  return text.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** A markdown file's lines with fenced code blocks (``` or ~~~) blanked, so that `# comment` lines and example links inside them count for nothing. */
function proseLines(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const opener = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence !== undefined) {
      if (opener && opener[1]![0] === fence[0] && opener[1]!.length >= fence.length && line.trim() === opener[1]) fence = undefined;
      return '';
    }
    if (opener) {
      fence = opener[1]!;
      return '';
    }
    return line;
  });
}

/** The anchors a markdown file offers: its headings' slugs (a repeated one gets -1, -2 …, as on GitHub) and explicit `<a id|name="…">`. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (heading) {
      const slug = slugify(heading[1]!);
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const a of line.matchAll(/<a\s[^>]*\b(?:id|name)="([^"]+)"/g)) anchors.add(a[1]!);
  }
  return anchors;
}

interface Link {
  line: number;
  target: string;
}

/** The links of a markdown file: inline `[text](target)` and images outside code, reference definitions `[x]: target`, autolinks `<https://…>`. */
export function linksOf(markdown: string): Link[] {
  const links: Link[] = [];
  proseLines(markdown).forEach((raw, i) => {
    const line = raw.replace(/(`+)(?:(?!\1).)+?\1/g, (span) => ' '.repeat(span.length)); // code spans are not links
    for (const m of line.matchAll(/\]\(([^)]*)\)/g)) {
      const target = m[1]!.replace(/\s+"[^"]*"\s*$/, '').trim().replace(/^<(.*)>$/, '$1');
      links.push({ line: i + 1, target });
    }
    const definition = /^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(line);
    if (definition) links.push({ line: i + 1, target: definition[1]! });
    for (const m of line.matchAll(/<(https?:\/\/[^>\s]+)>/g)) links.push({ line: i + 1, target: m[1]! });
  });
  return links;
}

async function exists(path: string): Promise<'file' | 'dir' | undefined> {
  try {
    return (await stat(path)).isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

/**
 * Every broken link of the given markdown files, one line each (`docs/cli.md:12: …`): a relative
 * target that is missing or outside `root`, an anchor that is no heading of its markdown target, an
 * http(s) URL that does not parse, a scheme other than http, https and mailto.
 */
export async function brokenLinks(root: string, files: string[]): Promise<string[]> {
  const problems: string[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchors = async (file: string): Promise<Set<string>> => {
    let set = anchorCache.get(file);
    if (!set) anchorCache.set(file, (set = anchorsOf(await readFile(file, 'utf8'))));
    return set;
  };
  for (const file of files) {
    const where = relative(root, file);
    for (const { line, target } of linksOf(await readFile(file, 'utf8'))) {
      const at = `${where}:${line}: ${target}`;
      if (target === '') {
        problems.push(`${at}: an empty link`);
        continue;
      }
      const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(target)?.[1]?.toLowerCase();
      if (scheme === 'http' || scheme === 'https') {
        let url: URL | undefined;
        try {
          url = new URL(target);
        } catch {
          // reported below
        }
        if (!url || url.hostname === '' || /\s/.test(target)) problems.push(`${at}: not a valid URL`);
        continue;
      }
      if (scheme === 'mailto') continue;
      if (scheme !== undefined) {
        problems.push(`${at}: a scheme other than http, https or mailto`);
        continue;
      }
      const hash = target.indexOf('#');
      const path = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
      const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
      const resolved = path === '' ? file : path.startsWith('/') ? join(root, path) : resolve(dirname(file), path);
      if (resolved !== root && !resolved.startsWith(root + sep)) {
        problems.push(`${at}: leads outside the repository`);
        continue;
      }
      const kind = await exists(resolved);
      if (!kind) {
        problems.push(`${at}: ${relative(root, resolved)} does not exist`);
        continue;
      }
      if (anchor === undefined) continue;
      if (kind === 'dir' || !resolved.endsWith('.md')) {
        if (anchor !== '' && !/^L\d+(-L\d+)?$/.test(anchor)) problems.push(`${at}: an anchor into something that is not a markdown file`);
        continue;
      }
      if (!(await anchors(resolved)).has(anchor)) problems.push(`${at}: no heading "#${anchor}" in ${relative(root, resolved)}`);
    }
  }
  return problems;
}

/** README.md and every docs/*.md of a repository. */
async function documentation(root: string): Promise<string[]> {
  const docs = (await readdir(join(root, 'docs'))).filter((f) => f.endsWith('.md')).sort();
  return [join(root, 'README.md'), ...docs.map((f) => join(root, 'docs', f))];
}

describe('documentation links (README.md and docs/*.md)', () => {
  describe('slugify: GitHub heading anchors', () => {
    // Headings of the documentation as written, with the anchors GitHub gives them.
    const real: [string, string, string][] = [
      ['README.md', 'Set up: two commands', 'set-up-two-commands'],
      ['docs/cli.md', '`mlpipe load [<source>] --out dataset.arrow`', 'mlpipe-load-source---out-datasetarrow'],
      ['docs/cli.md', '`mlpipe predict <bundle-ref> --input <source> --out <file|-|database>`', 'mlpipe-predict-bundle-ref---input-source---out-file-database'],
      ['docs/cli.md', '`mlpipe featurize <dataset> --target <col> --out <dir>` (or `--config pipeline.yaml`)', 'mlpipe-featurize-dataset---target-col---out-dir-or---config-pipelineyaml'],
      ['docs/serve.md', 'Serving at scale: `--workers`, streaming, big batches', 'serving-at-scale---workers-streaming-big-batches'],
      ['docs/registry.md', 'Signed bundles: `mlpipe keys`, `bundles sign`, `--require-signature`', 'signed-bundles-mlpipe-keys-bundles-sign---require-signature'],
      ['docs/http-api.md', "Standard protocols: Open Inference Protocol V2, MLflow's scoring server", 'standard-protocols-open-inference-protocol-v2-mlflows-scoring-server'],
      ['docs/http-api.md', 'Streaming predictions: `POST /predict/stream`', 'streaming-predictions-post-predictstream'],
      ['docs/reliability.md', 'Reliability: what mlpipe promises on hostile input, faults and load', 'reliability-what-mlpipe-promises-on-hostile-input-faults-and-load'],
      ['docs/sources.md', 'Nested JSON records (MongoDB exports, APIs)', 'nested-json-records-mongodb-exports-apis'],
      ['docs/pipeline-yaml.md', '`source:`', 'source'],
      ['docs/benchmarks.md', 'Training and prediction (`bench/train.ts`, `make bench-train`)', 'training-and-prediction-benchtraints-make-bench-train'],
    ];
    for (const [file, heading, slug] of real) {
      it(`${file}: "${heading}" → #${slug}`, async () => {
        expect(slugify(heading)).to.equal(slug);
        const text = await readFile(join(ROOT, file), 'utf8');
        expect(text.split('\n'), `${file} still has the heading`).to.satisfy((lines: string[]) => lines.some((l) => /^#{1,6} /.test(l) && l.replace(/^#+ /, '') === heading));
        expect(anchorsOf(text).has(slug)).to.equal(true);
      });
    }

    it('keeps letters beyond ASCII and underscores, drops emphasis and link targets, numbers repeated headings', () => {
      expect(slugify('Über `snake_case` **bold** [a link](x.md#y)')).to.equal('über-snake_case-bold-a-link');
      expect([...anchorsOf('# Notes\n\n```sh\n# not a heading\n```\n## Notes\n### Notes #\n<a id="custom"></a>\n')]).to.deep.equal(['notes', 'notes-1', 'notes-2', 'custom']);
    });
  });

  it('every relative link of README.md and docs/*.md leads to a file that exists, and every anchor to a heading of it', async () => {
    const files = await documentation(ROOT);
    expect(files.length, 'README.md and the manual in docs/').to.be.greaterThan(10);
    const links = (await Promise.all(files.map(async (f) => linksOf(await readFile(f, 'utf8'))))).flat();
    expect(links.filter((l) => l.target.includes('#')).length, 'links with anchors checked').to.be.greaterThan(20);
    expect(await brokenLinks(ROOT, files)).to.deep.equal([]);
  });

  it('every page of docs/ is reachable from README.md', async () => {
    const files = await documentation(ROOT);
    const reached = new Set<string>([join(ROOT, 'README.md')]);
    const queue = [join(ROOT, 'README.md')];
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      for (const { target } of linksOf(await readFile(file, 'utf8'))) {
        const path = target.split('#')[0]!;
        if (path === '' || /^[a-z][a-z0-9+.-]*:/i.test(path) || !path.endsWith('.md')) continue;
        const next = resolve(dirname(file), decodeURIComponent(path));
        if (!reached.has(next)) {
          reached.add(next);
          queue.push(next);
        }
      }
    }
    expect(files.filter((f) => !reached.has(f)).map((f) => relative(ROOT, f))).to.deep.equal([]);
  });

  describe('a made-up documentation tree (the check fails on broken links)', () => {
    let root: string;
    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'mlpipe-docs-links-'));
      await mkdir(join(root, 'docs'));
      await mkdir(join(root, 'examples'));
      await writeFile(join(root, 'examples', 'data.csv'), 'a\n1\n');
      await writeFile(join(root, 'README.md'), [
        '# Demo',
        '## Set up: `make demo` & `make test`',
        'Fine: [the guide](docs/guide.md), [its section](docs/guide.md#the-cli-mlpipe-load---out), [here](#set-up-make-demo--make-test),',
        '[data](examples/data.csv), [a folder](examples/), [web](https://example.com/a?b=1#c), <https://example.org>.',
        'Broken: [gone](docs/missing.md), [bad anchor](docs/guide.md#no-such-section), [self](#nope).',
        '`[in code](docs/not-checked.md)` is not a link.',
        '```md',
        '[in a fence](docs/not-checked-either.md)',
        '```',
      ].join('\n'));
      await writeFile(join(root, 'docs', 'guide.md'), [
        '# Guide',
        '## The CLI: `mlpipe load --out`',
        'Back: [home](../README.md#demo), [up too far](../../outside.md), [bad url](https://exa mple.com), [empty]().',
        '[ref]: ../examples/nothing.csv',
        'A [data URL](javascript:alert(1)).',
      ].join('\n'));
    });
    after(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it('names each broken link with its file, line and why, and passes the good ones', async () => {
      const problems = await brokenLinks(root, await documentation(root));
      expect(problems).to.deep.equal([
        'README.md:5: docs/missing.md: docs/missing.md does not exist',
        'README.md:5: docs/guide.md#no-such-section: no heading "#no-such-section" in docs/guide.md',
        'README.md:5: #nope: no heading "#nope" in README.md',
        'docs/guide.md:3: ../../outside.md: leads outside the repository',
        'docs/guide.md:3: https://exa mple.com: not a valid URL',
        'docs/guide.md:3: : an empty link',
        'docs/guide.md:4: ../examples/nothing.csv: examples/nothing.csv does not exist',
        'docs/guide.md:5: javascript:alert(1: a scheme other than http, https or mailto',
      ]);
    });

    it('passes once the links are mended', async () => {
      await writeFile(join(root, 'docs', 'missing.md'), '# Missing\n');
      await writeFile(join(root, 'README.md'), '# Demo\nSee [the guide](docs/guide.md#guide) and [missing](docs/missing.md#missing).\n');
      await writeFile(join(root, 'docs', 'guide.md'), '# Guide\n[home](../README.md#demo)\n');
      expect(await brokenLinks(root, await documentation(root))).to.deep.equal([]);
    });
  });
});
