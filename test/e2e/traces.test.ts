import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runPaths } from '../../src/runtime/process/paths.js';
import type { SystemStatus } from '../../src/runtime/runtime.js';
import type { Trace, TraceSummary } from '../../src/runtime/traces/query.js';
import { decodeExport } from '../../src/runtime/traces/otlp.js';
import type { StoredSpan } from '../../src/runtime/traces/span.js';
import { readSpans } from '../../src/runtime/traces/store.js';
import { REPO, scaffold } from '../support/cli.js';
import { startOtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { haveChromium, launchChromium, openReport } from '../support/chromium.js';
import { copyProject } from '../support/project-copy.js';
import type { RunTraces } from '../../src/simulate/load/run-traces.js';
import { startService, waitUntil } from '../support/services.js';

const shared = inject('sampleProject');
const SERVER = 2;
const CLIENT = 3;

/** The spans of one request: every server span that logged its x-request-id, and all the
 * spans of the traces those belong to. */
function spansOf(spans: readonly ReceivedSpan[], requestId: string) {
  const servers = spans.filter((span) => span.kind === SERVER && (span.attributes['http.request.header.x-request-id'] as string[] | undefined)?.[0] === requestId);
  const traceIds = new Set(servers.map((span) => span.traceId));
  return { servers, traceIds, all: spans.filter((span) => traceIds.has(span.traceId)) };
}

async function up(project: string, env: Record<string, string> = {}): Promise<string> {
  const result = await scaffold(['up', '--json'], { cwd: project, env: { NO_COLOR: '1', ...env } });
  expect(result.exitCode, result.stderr).toBe(0);
  const system = JSON.parse(result.stdout) as SystemStatus;
  return system.services.find((service) => service.name === 'api-gateway')!.url;
}

/** One project for the file: first up with an OTLP endpoint of the test's own (the user's:
 * it wins), then again with the runtime's receiver. */
let project: string;
beforeAll(async () => {
  project = await copyProject(shared);
});
afterAll(async () => {
  await scaffold(['down'], { cwd: project });
});

/** A receiver that keeps every export as it came (content type and raw body). */
async function rawReceiver() {
  const exports: { contentType?: string; body: Buffer }[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      exports.push({ contentType: request.headers['content-type'], body: Buffer.concat(chunks) });
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, exports, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** `count` GET /items to a users service exporting to a receiver of the test: the spans it
 * sent (a service flushes them as it stops) and its access lines. */
async function tracedRequests(count: number, env: Record<string, string> = {}) {
  const receiver = await rawReceiver();
  const users = await startService(project, 'users', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, LOG_LEVEL: 'info', ...env });
  let stdout = '';
  try {
    for (let i = 0; i < count; i += 1) expect((await fetch(`${users.url}/items`)).status).toBe(200);
  } finally {
    expect(await users.stop()).toBe(0);
    stdout = String((await users.process).stdout);
    await receiver.close();
  }
  return {
    spans: receiver.exports.flatMap((batch) => decodeExport(batch.body, 'protobuf')),
    accessLines: stdout.split('\n').filter((line) => line.includes('"request completed"')),
  };
}

describe('the export protocol', () => {
  it('is OTLP/protobuf when nothing chooses one (the protocol\'s default), decoded by the runtime\'s own .proto files', async () => {
    const receiver = await rawReceiver();
    const { exports } = receiver;
    const users = await startService(project, 'users', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    try {
      expect((await fetch(`${users.url}/items`)).status).toBe(200);
      await waitUntil(async () => exports.length > 0, 10_000);
      expect(exports.map((sent) => sent.contentType)).toEqual(exports.map(() => 'application/x-protobuf'));
      const spans = exports.flatMap((sent) => decodeExport(sent.body, 'protobuf'));
      expect(spans.map((span) => `${span.service} ${span.name}`)).toContainEqual(expect.stringMatching(/^users GET \/items\/?$/));
    } finally {
      await users.stop();
      await receiver.close();
    }
  });

  it('times each server span as its access line does, to a fraction of a millisecond (10 requests)', async () => {
    const { spans, accessLines } = await tracedRequests(10);
    const requestOf = (span: StoredSpan) => [span.attributes['http.request.header.x-request-id']].flat()[0];
    const lines = accessLines.map((line) => JSON.parse(line) as { reqId: string; responseTime: number });
    expect(lines).toHaveLength(10);
    // Fastify's responseTime and the span both run from the request's arrival to its
    // answer; a span ended on the wall clock's whole millisecond was off by up to 1 ms
    const apart = lines.map((line) => Math.abs(spans.find((span) => requestOf(span) === line.reqId)!.durationMs - line.responseTime));
    expect(Math.max(...apart), apart.map((ms) => ms.toFixed(3)).join(' ')).toBeLessThan(0.25);
  });

  // what `OTEL_SDK_DISABLED=true scaffold up` relies on: the runtime sets the endpoint for
  // every instance, and OpenTelemetry's own switches still win
  it.each([
    ['nothing else set', 'are', {}],
    ['OTEL_SDK_DISABLED=true', 'are not', { OTEL_SDK_DISABLED: 'true' }],
    ['OTEL_TRACES_EXPORTER=none', 'are not', { OTEL_TRACES_EXPORTER: 'none' }],
    ['OTEL_TRACES_SAMPLER=always_off', 'are not', { OTEL_TRACES_SAMPLER: 'always_off' }],
  ])('with an endpoint set and %s, the spans of 5 requests %s sent', async (_name, sent, env: Record<string, string>) => {
    const { spans, accessLines } = await tracedRequests(5, env);
    expect(accessLines).toHaveLength(5);
    if (sent === 'are') {
      expect(spans.filter((span) => span.name.startsWith('GET /items'))).toHaveLength(5);
    } else {
      expect(spans).toEqual([]);
    }
    // a line names a trace only where one was started
    const tracing = !('OTEL_SDK_DISABLED' in env) && !('OTEL_TRACES_EXPORTER' in env);
    expect(accessLines.every((line) => line.includes('"trace_id"') === tracing), accessLines[0]).toBe(true);
  });
});

describe('traces, judged by a receiver of the test', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let gateway: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // JSON, which the services send only when asked (protobuf by default): this receiver
    // takes JSON only, so the services' choice is checked too
    gateway = await up(project, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
  });
  afterAll(async () => {
    await scaffold(['down'], { cwd: project });
    await receiver?.close();
  });

  it.each([
    ['with a client traceparent', true],
    ['without one', false],
  ])('one request through gateway → orders → users is one trace with the parent chain and route names (%s)', async (_case, clientSends) => {
    const clientTrace = randomBytes(16).toString('hex');
    const clientSpan = randomBytes(8).toString('hex');
    const response = await fetch(`${gateway}/orders/upstreams`, { headers: clientSends ? { traceparent: `00-${clientTrace}-${clientSpan}-01` } : {} });
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-request-id')!;

    // the three services' server spans, exported within a second or so of each other
    await waitUntil(async () => spansOf(receiver.spans, requestId).all.length >= 5, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // anything more that would come
    const { servers, traceIds, all } = spansOf(receiver.spans, requestId);

    expect([...traceIds], 'every service joined one trace').toHaveLength(1);
    if (clientSends) expect([...traceIds]).toEqual([clientTrace]);
    const service = (span: ReceivedSpan) => span.resource['service.name'];
    const describeSpan = (span: ReceivedSpan) => `${service(span)} ${span.kind === SERVER ? 'server' : 'client'} ${span.name}`;
    expect(servers.map(describeSpan).sort()).toEqual(['api-gateway server GET /orders/*', 'orders server GET /upstreams', 'users server GET /healthz']);
    expect(all).toHaveLength(5);

    // the chain: client → gateway server → gateway's call → orders server → orders' call → users server
    const byId = new Map(all.map((span) => [span.spanId, span]));
    const chainFrom = (span: ReceivedSpan): string[] => {
      const parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId);
      return parent === undefined ? [describeSpan(span), span.parentSpanId ?? 'root'] : [describeSpan(span), ...chainFrom(parent)];
    };
    const users = servers.find((span) => service(span) === 'users')!;
    expect(chainFrom(users)).toEqual([
      'users server GET /healthz',
      expect.stringMatching(/^orders client /),
      'orders server GET /upstreams',
      expect.stringMatching(/^api-gateway client /),
      'api-gateway server GET /orders/*',
      clientSends ? clientSpan : 'root',
    ]);
    expect(all.filter((span) => span.kind === CLIENT)).toHaveLength(2);
    expect(servers.map((span) => span.attributes['http.route']).sort()).toEqual(['/healthz', '/orders/*', '/upstreams']);
    for (const span of all) {
      expect(span.resource).toMatchObject({ 'service.version': '0.1.0', 'service.instance.id': expect.stringMatching(new RegExp(`^${String(service(span))}-\\d+$`)) });
    }
  });

  it('tells the two orders replicas apart by service.instance.id', async () => {
    const instances = () => new Set(receiver.spans.filter((span) => span.resource['service.name'] === 'orders').map((span) => span.resource['service.instance.id']));
    await waitUntil(async () => {
      await Promise.all(Array.from({ length: 4 }, () => fetch(`${gateway}/orders/items`).then((response) => response.text())));
      return instances().size === 2;
    }, 20_000);
    expect([...instances()].sort()).toEqual(['orders-1', 'orders-2']);
    // the user's endpoint won: the runtime's own receiver got none of these spans
    expect(readSpans(runPaths(project).traces).filter((span) => span.service === 'orders')).toEqual([]);
  });
});

/** What makes a trace of GET /orders/upstreams complete: every hop's span. */
const HOPS = ['api-gateway client', 'api-gateway server', 'orders client', 'orders server', 'users server'];
const hopsOf = (spans: readonly StoredSpan[]) => spans.map((span) => `${span.service} ${span.kind}`).sort();

describe("traces, collected by the runtime's receiver", () => {
  let gateway: string;

  beforeAll(async () => {
    gateway = await up(project);
  });

  it('keeps every service\'s spans, and `scaffold traces` finds the trace by request id and draws it', async () => {
    const traceId = randomBytes(16).toString('hex');
    const response = await fetch(`${gateway}/orders/upstreams`, { headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } });
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-request-id')!;

    let listed: TraceSummary[] = [];
    await waitUntil(async () => {
      const result = await scaffold(['traces', '--request', requestId, '--json'], { cwd: project });
      listed = JSON.parse(result.stdout) as TraceSummary[];
      return listed[0]?.spans === 5;
    }, 20_000);
    expect(listed).toEqual([expect.objectContaining({ traceId, service: 'api-gateway', name: 'GET /orders/*', services: ['api-gateway', 'orders', 'users'], requestId, errors: 0 })]);

    const shown = await scaffold(['traces', traceId, '--json'], { cwd: project });
    const trace = JSON.parse(shown.stdout) as Trace;
    expect(trace.rows.map((row) => [row.depth, row.span.service, row.span.kind])).toEqual([
      [0, 'api-gateway', 'server'],
      [1, 'api-gateway', 'client'],
      [2, 'orders', 'server'],
      [3, 'orders', 'client'],
      [4, 'users', 'server'],
    ]);
    // each child starts within its parent's time, give or take the clocks of different
    // processes (it may end after it: a client span ends when its body is done with, which
    // for a cancelled body can come after the handler answered)
    for (const [parent, child] of trace.rows.slice(0, -1).map((row, index) => [row, trace.rows[index + 1]!] as const)) {
      expect(child.offsetMs).toBeGreaterThanOrEqual(parent.offsetMs - 1);
      expect(child.offsetMs).toBeLessThanOrEqual(parent.offsetMs + parent.span.durationMs + 1);
    }
    const waterfall = (await scaffold(['traces', traceId], { cwd: project })).stdout.split('\n');
    expect(waterfall[0]).toContain(`trace ${traceId}`);
    expect(waterfall.slice(1, 6).map((line) => /^( *)(\S+) (.*?)\s{2}/.exec(line)!.slice(1, 3))).toEqual([
      ['', 'api-gateway'],
      ['  ', 'api-gateway'],
      ['    ', 'orders'],
      ['      ', 'orders'],
      ['        ', 'users'],
    ]);
  });

  it('logs --trace and --request find one request\'s lines in every service, from instances since replaced too, merged by time', async () => {
    const traceId = randomBytes(16).toString('hex');
    const response = await fetch(`${gateway}/orders/upstreams`, { headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } });
    const requestId = response.headers.get('x-request-id')!;
    await response.text();
    // both orders instances (maybe the one that served it) are replaced
    const restarted = await scaffold(['restart', 'orders'], { cwd: project });
    expect(restarted.exitCode, restarted.stderr).toBe(0);
    const status = JSON.parse((await scaffold(['status', '--json'], { cwd: project })).stdout) as SystemStatus;
    const live = new Set(status.services.flatMap((service) => service.instances.map((instance) => instance.id)));

    const parse = (stdout: string) =>
      stdout
        .trim()
        .split('\n')
        .map((line) => {
          const [, instance, json] = /^(\S+) \| (.*)$/.exec(line)!;
          return { instance: instance!, line: JSON.parse(json!) as { time: number; trace_id?: string; reqId?: string; name: string } };
        });
    const byTrace = parse((await scaffold(['logs', '--trace', traceId], { cwd: project })).stdout);
    expect(new Set(byTrace.map(({ line }) => line.name))).toEqual(new Set(['api-gateway', 'orders']));
    expect(byTrace.every(({ line }) => line.trace_id === traceId && line.reqId === requestId)).toBe(true);
    const ordersInstance = byTrace.find(({ line }) => line.name === 'orders')!.instance;
    expect(live.has(ordersInstance), `${ordersInstance} was replaced`).toBe(false);
    const times = byTrace.map(({ line }) => line.time);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // the same lines by request id
    const byRequest = parse((await scaffold(['logs', '--request', requestId], { cwd: project })).stdout);
    expect(byRequest).toEqual(byTrace);

    // plain `logs` (no -f): both live instances' lines, one stream ordered by time
    await Promise.all(Array.from({ length: 8 }, () => fetch(`${gateway}/orders/items`).then((r) => r.text())));
    const merged = parse((await scaffold(['logs', 'orders'], { cwd: project })).stdout).filter(({ instance }) => live.has(instance));
    expect(new Set(merged.map(({ instance }) => instance)).size).toBe(2);
    const mergedTimes = merged.map(({ line }) => line.time);
    expect(mergedTimes).toEqual([...mergedTimes].sort((a, b) => a - b));
  });

  it('under 200 req/s for 20 s (open model), at least 99% of the requests leave a complete trace; the report draws the slowest and the service map', async () => {
    const marker = randomBytes(6).toString('hex');
    const loadPath = `/orders/upstreams?load=${marker}`;
    const reportFile = path.join(project, 'load-report.html');
    const load = await scaffold(['simulate', 'load', `${gateway}${loadPath}`, '--rate', '200', '-d', '20s', '--json', '--report', reportFile], { cwd: project });
    expect(load.exitCode, load.stderr).toBe(0);
    const { summary, traces } = JSON.parse(load.stdout) as { summary: { requests: number; ok: number }; traces: RunTraces };
    expect(summary.requests).toBeGreaterThanOrEqual(3900);

    const loadTraceSpans = () => {
      const spans = readSpans(runPaths(project).traces);
      const loadTraces = new Set(spans.filter((span) => span.kind === 'server' && span.attributes['url.path'] === loadPath).map((span) => span.traceId));
      const byTrace = new Map<string, StoredSpan[]>();
      for (const span of spans) if (loadTraces.has(span.traceId)) byTrace.set(span.traceId, [...(byTrace.get(span.traceId) ?? []), span]);
      return [...byTrace.values()];
    };
    const complete = () => loadTraceSpans().filter((trace) => hopsOf(trace).join() === HOPS.join()).length;
    // the last batches leave within a second or two
    await waitUntil(async () => complete() >= summary.ok, 10_000).catch(() => undefined);
    // Judged against the requests answered: one the load gave up on (a timeout on a busy
    // machine) has no answer to trace from the client's side; the services may still finish it.
    const found = complete();
    expect(found / summary.ok, `${found} complete traces for ${summary.requests} requests (${summary.ok} answered 2xx)`).toBeGreaterThanOrEqual(0.99);
    expect(found).toBeLessThanOrEqual(summary.requests);

    // The result's service map, against the load's own count: every hop called about once
    // per request (at least the complete traces, at most what was sent).
    const calls = new Map(traces.calls.map((call) => [`${call.from} → ${call.to}`, call.calls]));
    expect([...calls.keys()].sort()).toEqual(['api-gateway → orders', 'load → api-gateway', 'orders → users']);
    for (const count of calls.values()) {
      expect(count).toBeGreaterThanOrEqual(Math.floor(0.99 * summary.ok));
      expect(count).toBeLessThanOrEqual(summary.requests);
    }
    // its slowest traces are the slowest the store holds for the run, judged from the spans
    const durations = loadTraceSpans()
      .map((trace) => Math.max(...trace.map((span) => span.startMs + span.durationMs)) - Math.min(...trace.map((span) => span.startMs)))
      .sort((a, b) => b - a);
    const slowest = traces.phases[0]!.slowest;
    expect(slowest).toHaveLength(3);
    expect(slowest[0]!.durationMs).toBeCloseTo(durations[0]!, 0);
    expect(slowest[2]!.durationMs).toBeCloseTo(durations[2]!, 0);

    if (!haveChromium) return;
    const browser = await launchChromium();
    try {
      const { page, problems, requests } = await openReport(browser, reportFile);
      const edges = await page.locator('#service-map .edge').evaluateAll((found) => found.map((edge) => [`${edge.getAttribute('data-from')} → ${edge.getAttribute('data-to')}`, Number(edge.getAttribute('data-calls'))]));
      expect(new Map(edges as [string, number][])).toEqual(calls);
      const drawn = await page.locator('.trace').evaluateAll((found) =>
        found.map((trace) => ({
          id: trace.getAttribute('data-trace-id'),
          track: trace.querySelector('.span-track')!.getBoundingClientRect().width,
          bars: [...trace.querySelectorAll<HTMLElement>('.span-bar')].map((bar) => bar.getBoundingClientRect().width),
        })),
      );
      expect(drawn.map((trace) => trace.id)).toEqual(slowest.map((trace) => trace.traceId));
      for (const [index, trace] of drawn.entries()) {
        expect(trace.bars).toHaveLength(slowest[index]!.rows.length);
        // every span drawn, inside its track; the root's bar spans most of it (a client span
        // may end a little after the answer, when its body is done with)
        expect(trace.bars.every((width) => width > 0 && width <= trace.track + 0.5), JSON.stringify(trace)).toBe(true);
        expect(trace.bars[0]! / trace.track).toBeGreaterThan(0.5);
      }
      expect(problems).toEqual([]);
      expect(requests.filter((url) => !url.startsWith('file://'))).toEqual([]);
      await page.screenshot({ path: path.join(REPO, 'test/.artifacts/traces-report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
