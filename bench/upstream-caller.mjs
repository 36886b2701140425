// A caller of one upstream (UPSTREAM_URL), for bench/upstream-client.mjs: GET / makes one
// call to the upstream's /healthz and answers its status. CALLER=policies calls through a
// generated service's UpstreamClient (timeout, retry budget, circuit breaker, bulkhead and
// their metrics, all with the defaults); CALLER=plain through fetch() with the request id
// and a timeout, as the client did before the policies. Everything else is the same.
import { createRequire } from 'node:module';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const serviceDir = process.argv[2];
const from = (file) => import(pathToFileURL(path.join(serviceDir, file)).href);
const { UpstreamClient } = await from('dist/platform/http-client.js');
const { DEFAULT_CALL_POLICY } = await from('dist/generated/spec.js');
const { Registry } = createRequire(path.join(serviceDir, 'package.json'))('prom-client');

const url = process.env.UPSTREAM_URL;
const silent = { child: () => silent, warn() {}, info() {}, error() {}, debug() {} };
const client = new UpstreamClient([{ name: 'up', url, livenessPath: '/healthz', policy: DEFAULT_CALL_POLICY }], { registry: new Registry(), log: silent });

const call =
  process.env.CALLER === 'policies'
    ? () => client.fetch('up', '/healthz', { requestId: 'bench' })
    : () => fetch(`${url}/healthz`, { method: 'GET', headers: { 'x-request-id': 'bench' }, signal: AbortSignal.timeout(DEFAULT_CALL_POLICY.timeoutMs) });

http
  .createServer(async (request, response) => {
    if (request.url === '/readyz') return response.end('ok');
    try {
      const answer = await call();
      await answer.arrayBuffer();
      response.end(String(answer.status));
    } catch (error) {
      response.statusCode = 503;
      response.end(String(error));
    }
  })
  .listen(Number(process.env.PORT), process.env.HOST);
