// What the generated services cost, each against baselines in the same run:
// 1. the http-api service against bare Fastify (logger off: the reference; and with
//    Fastify's default logger, what plain Fastify users get), on an unlogged route and on a
//    route with the access log on;
// 2. the same service with tracing on and exporting (to a receiver that counts spans), and
//    with 1 request in 100 traced, against tracing off;
// 3. the gateway in front of it against no proxy at all, the floor of a proxy in Node
//    (bare-proxy.mjs), the Node gateways a user would otherwise build (peer-proxy.mjs:
//    @fastify/http-proxy and node-http-proxy) and nginx (Debian's), access logs off on
//    every side.
// Loads are wrk's (one thread) when it is installed, autocannon's otherwise.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  benchProject,
  createItem,
  interleaved,
  load,
  medianOf,
  quick,
  report,
  saveResults,
  startDirect,
  startNode,
} from './lib.mjs';
import { nginxMissing, startNginx } from './nginx.mjs';

const ROUNDS = quick ? 1 : 5;
const project = await benchProject();
const serviceDir = path.join(project, 'services/svc-1');
const gatewayDir = path.join(project, 'services/gw');
const bench = (file) => fileURLToPath(new URL(file, import.meta.url));
// the generated services' default level: one access line per request (into /dev/null)
const accessLog = { LOG_LEVEL: 'info' };
const noAccessLog = { LOG_LEVEL: 'warn' };
const loadAt = (url) => (options) => load(url, { ...options, wrk: true });

// 1. The generated http-api service vs bare Fastify with the same route shape.
{
  const runs = await interleaved(ROUNDS, async () => {
    const [ours, bare, bareLogged] = await Promise.all([
      startDirect(project, 'svc-1', accessLog),
      startNode([bench('bare-fastify.mjs'), serviceDir], serviceDir, { BARE_LOGGER: 'off' }),
      startNode([bench('bare-fastify.mjs'), serviceDir], serviceDir),
    ]);
    const item = async (service) => `${service.url}/items/${await createItem(service.url)}`;
    return {
      variants: {
        bareHealthz: loadAt(`${bare.url}/healthz`),
        oursHealthz: loadAt(`${ours.url}/healthz`),
        bareItem: loadAt(await item(bare)),
        oursItem: loadAt(await item(ours)),
        bareLoggedItem: loadAt(await item(bareLogged)),
      },
      stop: () => Promise.all([ours.stop(), bare.stop(), bareLogged.stop()]),
    };
  });
  const ratio = (name, ours, baseline, field = 'rps') =>
    report(name, medianOf(runs[ours], field), medianOf(runs[baseline], field), field === 'rps' ? 'req/s, higher is better' : 'ms, lower is better');
  ratio('http-api vs bare Fastify (logger off), GET /healthz (unlogged), rps', 'oursHealthz', 'bareHealthz');
  ratio('http-api vs bare Fastify (logger off), GET /items/:id (access log on), rps', 'oursItem', 'bareItem');
  ratio('http-api vs bare Fastify (logger off), GET /items/:id (access log on), p99', 'oursItem', 'bareItem', 'p99');
  ratio('http-api vs bare Fastify (default logger), GET /items/:id, rps', 'oursItem', 'bareLoggedItem');
}

// 2. Tracing on and exporting vs off, GET /items/:id with the access log on; and sampled
// (reported: the README's advice for a capacity test).
const SAMPLED = { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' };
{
  // spans received and requests answered, per traced variant (each has a receiver of its own)
  const counted = { on: { spans: 0, requests: 0 }, sampled: { spans: 0, requests: 0 } };
  const runs = await interleaved(ROUNDS, async () => {
    const receivers = await Promise.all([0, 1].map(() => startNode([bench('otlp-receiver.mjs')], path.dirname(bench('lib.mjs')))));
    const [off, on, sampled] = await Promise.all([
      startDirect(project, 'svc-1', accessLog),
      startDirect(project, 'svc-1', { ...accessLog, OTEL_EXPORTER_OTLP_ENDPOINT: receivers[0].url }),
      // the README's way to load-test with less tracing: 1 request in 100 starts a trace
      startDirect(project, 'svc-1', { ...accessLog, OTEL_EXPORTER_OTLP_ENDPOINT: receivers[1].url, ...SAMPLED }),
    ]);
    const counting = (name, url) => async (options) => {
      const result = await load(url, { ...options, wrk: true });
      counted[name].requests += result.rps * (options?.duration ?? (quick ? 2 : 5));
      return result;
    };
    return {
      variants: {
        off: loadAt(`${off.url}/items/${await createItem(off.url)}`),
        on: counting('on', `${on.url}/items/${await createItem(on.url)}`),
        sampled: counting('sampled', `${sampled.url}/items/${await createItem(sampled.url)}`),
      },
      stop: async () => {
        await Promise.all([off.stop(), on.stop(), sampled.stop()]); // a traced service flushes its spans as it stops
        for (const [index, name] of ['on', 'sampled'].entries()) {
          counted[name].spans += Number(await (await fetch(`${receivers[index].url}/spans`)).text());
        }
        await Promise.all(receivers.map((receiver) => receiver.stop()));
      },
    };
  });
  if (counted.on.spans === 0) throw new Error('tracing: the receiver got no spans');
  const share = (name) => `${counted[name].spans} spans, about ${((100 * counted[name].spans) / counted[name].requests).toFixed(name === 'on' ? 0 : 1)}% of the requests`;
  report('http-api tracing on (exporting) vs off, GET /items/:id, rps', medianOf(runs.on, 'rps'), medianOf(runs.off, 'rps'), 'req/s, higher is better');
  console.log(`  (received: ${share('on')})`);
  report('http-api tracing sampled (1 in 100) vs off, GET /items/:id, rps', medianOf(runs.sampled, 'rps'), medianOf(runs.off, 'rps'), 'req/s, higher is better');
  console.log(`  (received: ${share('sampled')})`);
}

// 3. client → gateway → service vs client → service, vs the floor of a Node proxy, vs the
// Node gateways' peers, and vs nginx; no access log anywhere.
{
  const withoutNginx = nginxMissing();
  const runs = await interleaved(ROUNDS, async () => {
    const service = await startDirect(project, 'svc-1', noAccessLog);
    const upstream = { SVC_1_URL: service.url };
    const [gateway, bareProxy, fastifyHttpProxy, httpProxy, nginx] = await Promise.all([
      // the default limit (1000/s per client IP) would measure the limiter, not the proxy
      startDirect(project, 'gw', { ...noAccessLog, ...upstream, RATE_LIMIT_PER_SECOND: '0' }),
      startNode([bench('bare-proxy.mjs')], gatewayDir, upstream),
      startNode([bench('peer-proxy.mjs'), gatewayDir], gatewayDir, { ...upstream, PEER: 'fastify-http-proxy' }),
      startNode([bench('peer-proxy.mjs'), gatewayDir], gatewayDir, { ...upstream, PEER: 'http-proxy' }),
      withoutNginx ? undefined : startNginx(service.port),
    ]);
    const item = `/items/${await createItem(service.url)}`;
    const variants = {
      direct: loadAt(`${service.url}${item}`),
      gateway: loadAt(`${gateway.url}/svc${item}`),
      bareProxy: loadAt(`${bareProxy.url}/svc${item}`),
      fastifyHttpProxy: loadAt(`${fastifyHttpProxy.url}/svc${item}`),
      httpProxy: loadAt(`${httpProxy.url}/svc${item}`),
    };
    if (nginx) variants.nginx = loadAt(`${nginx.url}${item}`);
    const all = [nginx, bareProxy, fastifyHttpProxy, httpProxy, gateway, service];
    return { variants, stop: () => Promise.all(all.map((started) => started?.stop())) };
  });
  const ratio = (name, ours, baseline, field = 'rps') =>
    report(name, medianOf(runs[ours], field), medianOf(runs[baseline], field), field === 'rps' ? 'req/s, higher is better' : 'ms, lower is better');
  ratio('gateway vs bare Node proxy, rps', 'gateway', 'bareProxy');
  ratio('gateway vs @fastify/http-proxy, rps', 'gateway', 'fastifyHttpProxy');
  ratio('gateway vs http-proxy (node-http-proxy), rps', 'gateway', 'httpProxy');
  ratio('gateway vs direct, rps', 'gateway', 'direct');
  ratio('gateway vs direct, p99', 'gateway', 'direct', 'p99');
  ratio('bare Node proxy vs direct, rps', 'bareProxy', 'direct');
  if (withoutNginx) {
    console.log(`gateway vs nginx: skipped: ${withoutNginx}`);
  } else {
    ratio('gateway vs nginx, rps', 'gateway', 'nginx');
    ratio('nginx vs direct, rps', 'nginx', 'direct');
    ratio('bare Node proxy vs nginx, rps', 'bareProxy', 'nginx');
  }
}

saveResults();
