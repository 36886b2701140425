import { mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, chartRecordingPage, chartsOf, haveChromium, launchChromium, openReport } from '../support/chromium.js';
import type { LoadResult } from '../../src/simulate/load/result.js';
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
      ['simulate', 'load', url, '--stages', '1s:200,2s:400', '--slo', 'p99<500ms', '--slo', 'error_rate<1%', '--report', reportFile, '--baseline', baselineFile, '--json'],
      { cwd: dir },
    );
    expect(run.exitCode, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as LoadResult;
    const base = JSON.parse(baseline.stdout) as LoadResult;
    expect(readFileSync(reportFile, 'utf8')).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);

    // what each chart was given, read from uPlot as the page builds it
    const recorder = await chartRecordingPage(browser);
    const { page, problems, requests } = await openReport(browser, reportFile, recorder);
    await page.waitForFunction(() => document.querySelectorAll('.uplot canvas').length === 4);

    const charts = await chartsOf(page);
    expect([...charts.keys()]).toEqual(['throughput', 'latency', 'errors', 'distribution']);
    // a last second shorter than half a second is left off the time charts
    const shown = (r: LoadResult) => (r.durationMs / 1000 - (r.series.length - 1) < 0.5 ? r.series.slice(0, -1) : r.series);
    const seconds = Math.max(shown(result).length, shown(base).length);
    const column = (r: LoadResult, pick: (s: LoadResult['series'][number]) => number) =>
      Array.from({ length: seconds }, (_, i) => (i < shown(r).length ? pick(shown(r)[i]!) : null));
    expect(charts.get('throughput')).toEqual([Array.from({ length: seconds }, (_, i) => i + 1), column(result, (s) => s.requests), column(base, (s) => s.requests)]);
    expect(charts.get('latency')!.slice(1)).toEqual([column(result, (s) => s.p50), column(base, (s) => s.p50), column(result, (s) => s.p99), column(base, (s) => s.p99)]);
    // the run is open-model (stages): its dropped requests too; the closed baseline has none
    expect(charts.get('errors')!.slice(1)).toEqual([column(result, (s) => s.errors), column(base, (s) => s.errors), column(result, (s) => s.dropped!)]);
    expect(charts.get('distribution')![1]).toEqual(result.distribution.map((p) => p.ms));
    expect(result.summary.requests).toBe(result.series.reduce((sum, s) => sum + s.requests, 0));
    expect(await page.locator('td.pass').count()).toBe(2);
    expect(await page.locator('.u-legend').first().innerText()).toMatch(/baseline/);
    // stages are the open model's: its dropped requests get a card and a line per second
    expect(await page.locator('#dropped b').innerText()).toBe(String(result.summary.dropped));
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
    // the deltas, computed here from the two inputs
    const [before, after] = [first, second].map((r) => JSON.parse(r.stdout) as LoadResult);
    const metrics: [string, (r: LoadResult) => number, 'higher' | 'lower'][] = [
      ['rps', (r) => r.summary.rps, 'higher'],
      ['p50 ms', (r) => r.summary.latency.p50, 'lower'],
      ['p90 ms', (r) => r.summary.latency.p90, 'lower'],
      ['p99 ms', (r) => r.summary.latency.p99, 'lower'],
      ['p99.9 ms', (r) => r.summary.latency.p999, 'lower'],
      ['max ms', (r) => r.summary.latency.max, 'lower'],
      ['error rate', (r) => r.summary.errors / r.summary.requests, 'lower'],
    ];
    expect(JSON.parse(compare.stdout)).toEqual(
      metrics.map(([metric, read, better]) => {
        const [a, b] = [read(before!), read(after!)];
        return { metric, before: a, after: b, change: a === 0 ? null : (b - a) / a, better: better === 'higher' ? b >= a : b <= a };
      }),
    );
    const bad = await scaffold(['report', 'missing.json'], { cwd: dir });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/missing\.json: no such file/);
  });
});
