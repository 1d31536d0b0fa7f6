import { expect } from 'chai';
import type { Manifest } from '../bundle/manifest.js';
import { generateClient } from './client.js';
import { buildOpenApi } from './openapi.js';

describe('generateClient on a forged input schema', () => {
  it('never follows a $ref to a file or URL: a one-line error instead', async () => {
    const manifest = {
      name: 'forged',
      version: '1.0.0',
      task: 'regression',
      target: { name: 'y', type: 'number' },
      inputSchema: { type: 'object', properties: { a: { $ref: '/etc/passwd' } } },
    } as unknown as Manifest;
    let message = '';
    await generateClient(buildOpenApi([manifest])).catch((err: Error) => (message = err.message));
    expect(message).to.equal('a schema refers to "/etc/passwd": a client is generated from the bundle alone, and only references inside it are followed');
  });
});
