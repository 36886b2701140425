import { mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, haveChromium, launchChromium, openReport } from '../support/chromium.js';
import { REPO, scaffold, tempDir } from '../support/cli.js';

if (!haveChromium) console.warn(`skipping the HTML report tests: no ${CHROMIUM} (apt-get install chromium)`);

describe.skipIf(!haveChromium)('the HTML load report in a real Chromium', () => {
  let browser: Browser;
  let server: http.Server;
  let url: string;
  const dir = tempDir();

  beforeAll(async () => {
    server = http.createServer((_request, response) => setTimeout(() => response.end('ok'), Math.random() < 0.05 ? 20 : 0));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('renders every chart from inlined data, with no console error and no request leaving the page', async () => {
    const baseline = await scaffold(['simulate', 'load', url, '-d', '2s', '-c', '4', '--json'], { cwd: dir });
    expect(baseline.exitCode, baseline.stderr).toBe(0);
    const baselineFile = path.join(dir, 'baseline.json');
    (await import('node:fs')).writeFileSync(baselineFile, baseline.stdout);
    const reportFile = path.join(dir, 'report.html');
    const run = await scaffold(
      ['simulate', 'load', url, '--stages', '1s:200,2s:400', '--slo', 'p99<500ms', '--slo', 'error_rate<1%', '--report', reportFile, '--baseline', baselineFile],
      { cwd: dir },
    );
    expect(run.exitCode, run.stderr).toBe(0);
    expect(readFileSync(reportFile, 'utf8')).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);

    const { page, problems, requests } = await openReport(browser, reportFile);
    await page.waitForFunction(() => document.querySelectorAll('.uplot canvas').length === 4);

    const painted = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLCanvasElement>('.uplot canvas')].map((canvas) => {
        const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let inked = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) inked += 1;
        return { width: canvas.width, inked };
      }),
    );
    expect(painted).toHaveLength(4);
    for (const canvas of painted) {
      expect(canvas.width).toBeGreaterThan(100);
      expect(canvas.inked).toBeGreaterThan(500);
    }
    expect(await page.locator('td.pass').count()).toBe(2);
    expect(await page.locator('.u-legend').first().innerText()).toMatch(/baseline/);
    // stages are the open model's: its dropped requests get a card and a line per second
    expect(await page.locator('#dropped b').innerText()).toMatch(/^\d+$/);
    expect(await page.locator('#errors .u-legend').innerText()).toMatch(/dropped/);
    expect(problems).toEqual([]);
    expect(requests).toEqual([`file://${reportFile}`]);

    const screenshots = path.join(REPO, 'test/.artifacts');
    mkdirSync(screenshots, { recursive: true });
    await page.screenshot({ path: path.join(screenshots, 'load-report.png'), fullPage: true });
    await page.close();
  });

  it('scaffold report renders a saved result, and --compare prints the deltas', async () => {
    const first = await scaffold(['simulate', 'load', url, '-d', '1s', '--json'], { cwd: dir });
    const second = await scaffold(['simulate', 'load', url, '-d', '1s', '--json'], { cwd: dir });
    const fs = await import('node:fs');
    fs.writeFileSync(path.join(dir, 'a.json'), first.stdout);
    fs.writeFileSync(path.join(dir, 'b.json'), second.stdout);
    const report = await scaffold(['report', 'a.json', '-o', 'a.html'], { cwd: dir });
    expect(report.exitCode, report.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'a.html'), 'utf8')).toContain('Load report');
    const compare = await scaffold(['report', '--compare', 'a.json', 'b.json', '--json'], { cwd: dir });
    expect(compare.exitCode, compare.stderr).toBe(0);
    expect(JSON.parse(compare.stdout).map((delta: { metric: string }) => delta.metric)).toContain('p99 ms');
    const bad = await scaffold(['report', 'missing.json'], { cwd: dir });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/missing\.json: no such file/);
  });
});
