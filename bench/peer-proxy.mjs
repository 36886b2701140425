// The gateways a Node user would otherwise build, as baselines for the generated one: PEER
// is `fastify-http-proxy` (@fastify/http-proxy on Fastify, logger off, Fastify resolved from
// the generated gateway so both run the same version) or `http-proxy` (node-http-proxy, which
// http-proxy-middleware wraps, on node:http with a keep-alive agent). Both are the bench's
// devDependencies. Each routes /svc/<path> to SVC_1_URL/<path>, with nothing else: no rate
// limit, request ids, metrics, retries or logs.
// Usage: node peer-proxy.mjs <gateway service dir>; PEER, PORT, HOST and SVC_1_URL from the environment.
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const upstream = process.env.SVC_1_URL;
const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT);
let close;

if (process.env.PEER === 'fastify-http-proxy') {
  const require = createRequire(path.resolve(process.argv[2], 'package.json'));
  const { default: Fastify } = await import(pathToFileURL(require.resolve('fastify')).href);
  const { default: proxy } = await import('@fastify/http-proxy');
  const app = Fastify({ logger: false });
  app.get('/readyz', async () => 'ready');
  await app.register(proxy, { upstream, prefix: '/svc' });
  await app.listen({ host, port });
  close = () => app.close();
} else if (process.env.PEER === 'http-proxy') {
  const { default: httpProxy } = await import('http-proxy');
  const proxy = httpProxy.createProxyServer({ target: upstream, agent: new http.Agent({ keepAlive: true, maxSockets: 256 }) });
  proxy.on('error', (_error, _request, response) => response.writeHead?.(502).end());
  const server = http.createServer((request, response) => {
    if (request.url === '/readyz') return response.end('ready');
    request.url = request.url.slice('/svc'.length) || '/';
    proxy.web(request, response);
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  close = () => new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); });
} else {
  throw new Error(`PEER must be fastify-http-proxy or http-proxy, got ${process.env.PEER}`);
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => close().then(() => process.exit(0)));
