// What the generated services cost, each against a baseline in the same run: the http-api
// service against bare Fastify on the same route, and the gateway in front of it against
// no proxy at all, against nginx (Debian's) as the reverse proxy, and against the least a
// proxy written for Node can do (bare-proxy.mjs: the floor, as tcp-pipe.mjs is for the
// balancer).
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
// request logging on everywhere (the generated services' default level), into /dev/null
const logging = { LOG_LEVEL: 'info' };

// 1. The generated http-api service vs bare Fastify with the same route shape.
{
  const runs = await interleaved(ROUNDS, async () => {
    const [ours, bare] = await Promise.all([
      startDirect(project, 'svc-1', logging),
      startNode([fileURLToPath(new URL('bare-fastify.mjs', import.meta.url)), serviceDir], serviceDir),
    ]);
    const oursUrl = `${ours.url}/items/${await createItem(ours.url)}`;
    const bareUrl = `${bare.url}/items/${await createItem(bare.url)}`;
    return {
      variants: { bare: (options) => load(bareUrl, options), ours: (options) => load(oursUrl, options) },
      stop: () => Promise.all([ours.stop(), bare.stop()]),
    };
  });
  report('http-api vs bare Fastify rps', medianOf(runs.ours, 'rps'), medianOf(runs.bare, 'rps'), 'req/s, higher is better');
  report('http-api vs bare Fastify p99', medianOf(runs.ours, 'p99'), medianOf(runs.bare, 'p99'), 'ms, lower is better');
}

// 2. client → gateway → service vs client → service, and vs client → nginx → service.
{
  const withoutNginx = nginxMissing();
  const runs = await interleaved(ROUNDS, async () => {
    const service = await startDirect(project, 'svc-1', logging);
    const [gateway, bareProxy, nginx] = await Promise.all([
      startDirect(project, 'gw', {
        ...logging,
        SVC_1_URL: service.url,
        // the default limit (1000/s per client IP) would measure the limiter, not the proxy
        RATE_LIMIT_PER_SECOND: '0',
      }),
      startNode([fileURLToPath(new URL('bare-proxy.mjs', import.meta.url)), gatewayDir], gatewayDir, { SVC_1_URL: service.url }),
      withoutNginx ? undefined : startNginx(service.port),
    ]);
    const item = `/items/${await createItem(service.url)}`;
    const variants = {
      direct: (options) => load(`${service.url}${item}`, options),
      gateway: (options) => load(`${gateway.url}/svc${item}`, options),
      bareProxy: (options) => load(`${bareProxy.url}/svc${item}`, options),
    };
    if (nginx) variants.nginx = (options) => load(`${nginx.url}${item}`, options);
    return { variants, stop: () => Promise.all([nginx?.stop(), bareProxy.stop(), gateway.stop(), service.stop()]) };
  });
  report('gateway vs direct rps', medianOf(runs.gateway, 'rps'), medianOf(runs.direct, 'rps'), 'req/s, higher is better');
  report('gateway vs direct p99', medianOf(runs.gateway, 'p99'), medianOf(runs.direct, 'p99'), 'ms, lower is better');
  report('gateway vs bare Node proxy rps', medianOf(runs.gateway, 'rps'), medianOf(runs.bareProxy, 'rps'), 'req/s, higher is better');
  if (withoutNginx) {
    console.log(`gateway vs nginx: skipped: ${withoutNginx}`);
  } else {
    report('gateway vs nginx rps', medianOf(runs.gateway, 'rps'), medianOf(runs.nginx, 'rps'), 'req/s, higher is better');
    report('gateway vs nginx p99', medianOf(runs.gateway, 'p99'), medianOf(runs.nginx, 'p99'), 'ms, lower is better');
    report('nginx vs direct rps', medianOf(runs.nginx, 'rps'), medianOf(runs.direct, 'rps'), 'req/s, higher is better');
    report('bare Node proxy vs nginx rps', medianOf(runs.bareProxy, 'rps'), medianOf(runs.nginx, 'rps'), 'req/s, higher is better');
  }
}

saveResults();
