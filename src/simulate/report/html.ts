import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { TemplateRenderer } from '../../generators/render.js';
import type { Journal } from '../chaos/experiment.js';
import type { LoadResult } from '../load/result.js';
import { experimentView } from './experiment-view.js';
import { traceView } from './trace-view.js';

const require = createRequire(import.meta.url);

/**
 * One self-contained HTML file: styles, uPlot, the chart code and the data are all inlined
 * and a Content-Security-Policy forbids fetching anything, so the report opens offline and
 * can be attached to a CI run as it is.
 */
export function renderLoadReport(result: LoadResult, options: { baseline?: LoadResult; projectDir?: string } = {}): string {
  return render(options.projectDir, {
    title: `Load report: ${result.target}`,
    ...loadContext(result),
    baselineLabel: options.baseline ? `the run of ${options.baseline.startedAt}` : undefined,
    experiment: undefined,
    data: { run: pick(result), baseline: options.baseline ? pick(options.baseline) : null, faults: [] },
  });
}

/**
 * An experiment's report is the load report of its background load, with the method's
 * fault windows shaded on the time charts, plus the hypothesis table and the verdict.
 * Without a background load it has the tables only.
 */
export function renderExperimentReport(journal: Journal, options: { projectDir?: string } = {}): string {
  const load = journal.load?.load;
  const { windows, ...view } = experimentView(journal);
  const noLoad = { target: undefined, startedAt: journal.startedAt, seconds: (journal.durationMs / 1000).toFixed(1), rps: 0, summary: undefined, slos: [] };
  return render(options.projectDir, {
    // the template does not escape (it shares the generators' renderer): texts from the
    // experiment file and from probes are escaped here
    title: escapeHtml(`Chaos experiment: ${journal.title}`),
    ...(load ? loadContext(load) : noLoad),
    baselineLabel: undefined,
    experiment: escapeDeep(view),
    data: { run: load ? pick(load) : null, baseline: null, faults: windows },
  });
}

function loadContext(result: LoadResult) {
  return {
    target: result.target,
    startedAt: result.startedAt,
    seconds: (result.durationMs / 1000).toFixed(1),
    rps: Math.round(result.summary.rps),
    // the open model's: requests due while every connection was busy, never sent
    open: result.config.model === 'open',
    dropped: result.summary.dropped ?? 0,
    // a publish load's events, or the jobs a load enqueued, end to end
    processed: processedView(result),
    summary: result.summary,
    slos: result.slos,
    // service and span names come from the services: escaped like any text of the run's
    traces: escapeDeep(traceView(result.traces)),
  };
}

function render(projectDir: string | undefined, context: Record<string, unknown> & { data: unknown }): string {
  const uplotDir = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  const renderer = new TemplateRenderer(projectDir);
  const { data, ...rest } = context;
  return renderer.render('report/load.html.hbs', {
    ...rest,
    // "<" as \u003c: no "</script>" in the data can end the element early
    dataJson: JSON.stringify(data).replaceAll('<', '\\u003c'),
    uplotJs: readFileSync(path.join(uplotDir, 'uPlot.iife.min.js'), 'utf8').replaceAll('</script', '<\\/script'),
    uplotCss: readFileSync(path.join(uplotDir, 'uPlot.min.css'), 'utf8'),
    chartsJs: renderer.render('report/charts.js', {}),
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function escapeDeep<T>(value: T): T {
  if (typeof value === 'string') return escapeHtml(value) as T;
  if (Array.isArray(value)) return value.map(escapeDeep) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, escapeDeep(inner)])) as T;
  return value;
}

/** What the report shows of a load's asynchronous work: a publish load's events, or the
 * jobs a load's requests enqueued (a run has one or the other). */
function processedView(result: LoadResult) {
  if (result.events) {
    return { kind: 'events', title: 'Events', from: 'published', backlog: 'stored, not yet acknowledged by every group', endToEnd: result.events.endToEnd, series: result.events.series };
  }
  if (result.jobs) {
    return { kind: 'jobs', title: 'Jobs', from: 'enqueued', backlog: 'waiting, running or retrying', endToEnd: result.jobs.endToEnd, series: result.jobs.series };
  }
  return undefined;
}

function pick(result: LoadResult) {
  const processed = processedView(result);
  return {
    durationMs: result.durationMs,
    series: result.series,
    distribution: result.distribution,
    open: result.config.model === 'open',
    processed: processed ? { kind: processed.kind, series: processed.series } : undefined,
  };
}
