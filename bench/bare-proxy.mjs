// The floor for the generated gateway: the least a reverse proxy written for Node can do.
// node:http in front, `http.request` behind over a keep-alive agent, the answer piped back;
// no framework, no logs, no metrics, no request ids, no retries. Routes /svc/<path> to
// SVC_1_URL/<path>. Usage: node bare-proxy.mjs; PORT, HOST and SVC_1_URL from the environment.
import http from 'node:http';

const upstream = new URL(process.env.SVC_1_URL);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);

const server = http.createServer((request, response) => {
  if (request.url === '/readyz') return response.end('ready');
  const headers = {};
  for (const name in request.headers) if (!HOP_BY_HOP.has(name)) headers[name] = request.headers[name];
  const forwarded = http.request(
    { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url.slice('/svc'.length) || '/', headers, agent },
    (answer) => {
      const answerHeaders = {};
      for (const name in answer.headers) if (!HOP_BY_HOP.has(name)) answerHeaders[name] = answer.headers[name];
      response.writeHead(answer.statusCode, answerHeaders);
      answer.pipe(response);
    },
  );
  forwarded.once('error', () => response.writeHead(502).end());
  request.pipe(forwarded);
});
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
