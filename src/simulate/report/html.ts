import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { TemplateRenderer } from '../../generators/render.js';
import type { LoadResult } from '../load/result.js';

const require = createRequire(import.meta.url);

/**
 * One self-contained HTML file: styles, uPlot, the chart code and the data are all inlined
 * and a Content-Security-Policy forbids fetching anything, so the report opens offline and
 * can be attached to a CI run as it is.
 */
export function renderLoadReport(result: LoadResult, options: { baseline?: LoadResult; projectDir?: string } = {}): string {
  const uplotDir = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  const renderer = new TemplateRenderer(options.projectDir);
  return renderer.render('report/load.html.hbs', {
    title: `Load report: ${result.target}`,
    target: result.target,
    startedAt: result.startedAt,
    seconds: (result.durationMs / 1000).toFixed(1),
    rps: Math.round(result.summary.rps),
    summary: result.summary,
    slos: result.slos,
    baselineLabel: options.baseline ? `the run of ${options.baseline.startedAt}` : undefined,
    // "<" as \u003c: no "</script>" in the data can end the element early
    dataJson: JSON.stringify({ run: pick(result), baseline: options.baseline ? pick(options.baseline) : null }).replaceAll('<', '\\u003c'),
    uplotJs: readFileSync(path.join(uplotDir, 'uPlot.iife.min.js'), 'utf8').replaceAll('</script', '<\\/script'),
    uplotCss: readFileSync(path.join(uplotDir, 'uPlot.min.css'), 'utf8'),
    chartsJs: renderer.render('report/charts.js', {}),
  });
}

function pick(result: LoadResult) {
  return { series: result.series, distribution: result.distribution };
}
