// `make image`: writes the image's build context without a bundle (core/deploy/context.ts, the code
// `mlpipe containerize` uses with one) and prints its folder. Usage: scripts/image-context.ts [<out>]
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageCacheDir, runtimeModules, writeBuildContext } from '../src/core/deploy/context.js';

const out = process.argv[2] ?? (await mkdtemp(join(tmpdir(), 'mlpipe-image-')));
const nodeModules = await runtimeModules({ cacheDir: imageCacheDir(), onStep: (l) => process.stderr.write(`${l}\n`) });
const context = await writeBuildContext({ out, nodeModules, onStep: (l) => process.stderr.write(`${l}\n`) });
process.stdout.write(`${context.dir}\n`);
