// The floor for the generated gateway: the least a reverse proxy written for Node can do.
// node:http in front, undici's dispatcher behind (resolved from the generated gateway, so
// both run the same version), the answer read whole and sent in one write; no framework, no
// logs, no metrics, no request ids, no retries. Routes /svc/<path> to SVC_1_URL/<path>.
// Usage: node bare-proxy.mjs <gateway service dir>; PORT, HOST and SVC_1_URL from the environment.
import { createRequire } from 'node:module';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(path.resolve(process.argv[2], 'package.json'));
const { Pool } = await import(pathToFileURL(require.resolve('undici')).href);

const pool = new Pool(process.env.SVC_1_URL);
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);

const server = http.createServer((request, response) => {
  if (request.url === '/readyz') return response.end('ready');
  const headers = {};
  for (const name in request.headers) if (!HOP_BY_HOP.has(name)) headers[name] = request.headers[name];
  const chunks = [];
  let status = 0;
  let answerHeaders = {};
  pool.dispatch(
    { method: request.method, path: request.url.slice('/svc'.length) || '/', headers },
    {
      onRequestStart() {},
      onResponseStart(_controller, statusCode, responseHeaders) {
        status = statusCode;
        answerHeaders = {};
        for (const name in responseHeaders) if (!HOP_BY_HOP.has(name)) answerHeaders[name] = responseHeaders[name];
      },
      onResponseData(_controller, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        response.writeHead(status, answerHeaders).end(Buffer.concat(chunks));
      },
      onResponseError() {
        response.writeHead(502).end();
      },
    },
  );
});
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
