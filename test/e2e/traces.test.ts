import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SystemStatus } from '../../src/runtime/runtime.js';
import { scaffold } from '../support/cli.js';
import { startOtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { copyProject } from '../support/project-copy.js';
import { waitUntil } from '../support/services.js';

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

describe('traces', () => {
  let project: string;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let gateway: string;

  beforeAll(async () => {
    project = await copyProject(shared);
    receiver = await startOtlpReceiver();
    const up = await scaffold(['up', '--json'], { cwd: project, env: { NO_COLOR: '1', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
    expect(up.exitCode, up.stderr).toBe(0);
    const system = JSON.parse(up.stdout) as SystemStatus;
    gateway = system.services.find((service) => service.name === 'api-gateway')!.url;
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
  });
});
