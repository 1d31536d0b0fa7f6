/**
 * report.html in a real browser: Debian's Chromium, driven by playwright-core. The page must load
 * with no console error and no request beyond itself, and every chart must be a drawn SVG. A full-page
 * screenshot of each report is written into the test's temporary folder.
 *
 * Chromium comes from Debian (`apt-get install chromium`; .ci/run installs it). Without it the test
 * fails under CI and is skipped, saying why, on a developer's machine.
 */
import { expect } from 'chai';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { type ReportBundles, buildReportBundles } from '../../test-helpers/report.js';
import { REPORT_FILES } from './data.js';
import { launchChromium } from '../../test-helpers/browser.js';


describe('training report in headless Chromium', function () {
  this.timeout(180_000);
  let dir: string;
  let b: ReportBundles;
  let browser: Browser;

  before(async function () {
    browser = await launchChromium(this);
    dir = await tempDir();
    b = await buildReportBundles(dir);
  });
  after(async () => {
    await browser?.close();
    await cleanupTempDirs();
  });

  for (const which of ['binary', 'regression', 'multiclass', 'noHoldout'] as const) {
    it(`${which}: loads with no console error or outside request; every chart is a drawn SVG; screenshot written`, async () => {
      const file = join(b[which].package.dir, REPORT_FILES.html);
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => {
        if (r.url() !== pathToFileURL(file).href) problems.push(`request: ${r.url()}`);
      });
      const response = await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      expect(response?.ok() ?? true).to.equal(true);
      expect(await page.title()).to.include(b[which].package.ref);

      const charts = await page.locator('figure.chart').evaluateAll((figures) =>
        figures.map((f) => {
          const svg = f.querySelector('svg');
          const box = svg?.getBoundingClientRect();
          return {
            id: f.id,
            width: box?.width ?? 0,
            height: box?.height ?? 0,
            marks: svg ? svg.querySelectorAll('path, rect, circle, line, text').length : 0,
            drawn: svg ? [...svg.querySelectorAll('path')].some((p) => (p.getAttribute('d') ?? '').length > 10) : false,
          };
        }),
      );
      const expected = {
        binary: ['class-balance', 'distributions', 'confusion-matrix', 'roc', 'precision-recall', 'cross-validation', 'impurity-importance', 'permutation-importance'],
        regression: ['target-histogram', 'distributions', 'predicted-vs-actual', 'residuals', 'impurity-importance', 'permutation-importance'],
        multiclass: ['class-balance', 'distributions', 'confusion-matrix', 'impurity-importance', 'permutation-importance'],
        noHoldout: ['target-histogram', 'distributions', 'impurity-importance'],
      }[which];
      expect(charts.map((c) => c.id)).to.deep.equal(expected.map((id) => `chart-${id}`));
      for (const c of charts) {
        expect(c.width, c.id).to.be.greaterThan(100);
        expect(c.height, c.id).to.be.greaterThan(50);
        expect(c.marks, c.id).to.be.greaterThan(5);
        expect(c.drawn, c.id).to.equal(true);
      }
      // Nothing escaped the page as markup: the hostile names are text.
      expect(await page.locator('script, img, iframe').count()).to.equal(0);
      const shot = join(dir, `report-${which}.png`);
      await page.screenshot({ path: shot, fullPage: true });
      expect((await stat(shot)).size).to.be.greaterThan(20_000);
      await page.close();
      expect(problems).to.deep.equal([]);
    });
  }
});
