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
