import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
// CI installs Chromium (.ci/run); only a developer machine without it may skip, and says so.
export const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`${CHROMIUM} is missing in CI: .ci/run should have installed it`);

/** Debian's Chromium, headless, with nothing of its own going to the network. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** Opens a report file (in a page of its own, or the one given), recording console errors, page errors and every request made. */
export async function openReport(browser: Browser, file: string, page?: Page): Promise<{ page: Page; problems: string[]; requests: string[] }> {
  page ??= await browser.newPage({ viewport: { width: 1200, height: 1100 } });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(`file://${file}`);
  return { page, problems, requests };
}

/** A page that records what each uPlot chart is given (its element's id and its data),
 * read back with `chartsOf(page)` once the report has drawn them. */
export async function chartRecordingPage(browser: Browser): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1100 } });
  await page.addInitScript(() => {
    const charts: { id: string; data: (number | null)[][] }[] = [];
    (window as unknown as { charts: typeof charts }).charts = charts;
    Object.defineProperty(window, 'uPlot', {
      configurable: true,
      set(real: new (options: unknown, data: (number | null)[][], target: HTMLElement) => unknown) {
        const recording = function (options: unknown, data: (number | null)[][], target: HTMLElement) {
          charts.push({ id: target.id, data });
          return new real(options, data, target);
        };
        Object.defineProperty(window, 'uPlot', { value: Object.assign(recording, real), writable: true, configurable: true });
      },
    });
  });
  return page;
}

/** What each chart of a page from chartRecordingPage was given, by its element's id. */
export async function chartsOf(page: Page): Promise<Map<string, (number | null)[][]>> {
  const charts = await page.evaluate(() => (window as unknown as { charts: { id: string; data: (number | null)[][] }[] }).charts);
  return new Map(charts.map((chart) => [chart.id, chart.data]));
}
