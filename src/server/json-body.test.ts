import { expect } from 'chai';
import fc from 'fast-check';
import { scanNeededFrom } from './json-body.js';
import { JsonScanError, MAX_SCAN_DEPTH, scanJson } from './json-scan.js';

/**
 * jsonBody parses a body shorter than scanNeededFrom(maxFields) without scanning it first: that is
 * safe only if no such body can break a limit of the scan. These tests hold the bound to that.
 */
describe('jsonBody: which bodies skip the scan', () => {
  it('no valid JSON shorter than the bound breaks a limit of the scan (property, small limits)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.json({ maxDepth: 4 }), (maxFields, text) => {
        const buf = Buffer.from(text);
        fc.pre(buf.length < scanNeededFrom(maxFields));
        expect(() => scanJson(buf, maxFields)).not.to.throw();
      }),
      { numRuns: 2000 },
    );
  });

  it('the tightest bodies of each kind are at or past the bound', () => {
    // n fields take at least 4 bytes each ("":0 and the commas and braces around them).
    for (const maxFields of [1, 3, 10, 1000]) {
      const fields = Array.from({ length: maxFields + 1 }, (_, i) => `"${String.fromCharCode(97 + (i % 26))}":0`);
      const body = Buffer.from(`{${fields.join(',')}}`);
      expect(() => scanJson(body, maxFields)).to.throw(JsonScanError);
      expect(body.length).to.be.at.least(scanNeededFrom(maxFields));
    }
    const deep = Buffer.from('['.repeat(MAX_SCAN_DEPTH + 1) + ']'.repeat(MAX_SCAN_DEPTH + 1));
    expect(() => scanJson(deep, 1_000_000)).to.throw(JsonScanError);
    expect(deep.length).to.be.at.least(scanNeededFrom(1_000_000));
  });
});
