// A plain OTLP/HTTP receiver for the tracing benchmark: takes POST /v1/traces (JSON, as
// @opentelemetry/exporter-trace-otlp-http sends it), counts the spans and answers 200;
// GET /spans says how many came. Usage: node otlp-receiver.mjs; PORT and HOST from the environment.
import http from 'node:http';

let spans = 0;
const server = http.createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/readyz') return response.end('ready');
  if (request.method === 'GET' && request.url === '/spans') return response.end(String(spans));
  if (request.method !== 'POST' || request.url !== '/v1/traces') return response.writeHead(404).end();
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    for (const resource of body.resourceSpans ?? []) for (const scope of resource.scopeSpans ?? []) spans += scope.spans?.length ?? 0;
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
