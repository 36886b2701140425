// The baseline for the generated http-api service: Fastify alone, with the generated
// GET /items/:id and POST /items route shape (same schemas, an in-memory Map) and a
// GET /healthz answering as the generated one does, and nothing else: no request ids of our
// own, no metrics, no hooks. Fastify is resolved from the generated service, so both run the
// same version. BARE_LOGGER=off (the reference) turns the logger off; otherwise it logs as
// Fastify does by default at info (two JSON lines per request).
// Usage: node bare-fastify.mjs <service dir>; PORT, HOST and BARE_LOGGER from the environment.
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(path.resolve(process.argv[2], 'package.json'));
const { default: Fastify } = await import(pathToFileURL(require.resolve('fastify')).href);

const item = {
  type: 'object',
  required: ['id', 'name', 'quantity'],
  properties: { id: { type: 'string' }, name: { type: 'string' }, quantity: { type: 'integer' } },
};
const itemInput = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, quantity: { type: 'integer', minimum: 0, default: 0 } },
};
const byId = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } };

const app = Fastify({ logger: process.env.BARE_LOGGER === 'off' ? false : { level: 'info' } });
const items = new Map();
app.get('/items/:id', { schema: { params: byId, response: { 200: item } } }, async (request, reply) => {
  return items.get(request.params.id) ?? reply.code(404).send({ error: 'Not Found' });
});
app.post('/items', { schema: { body: itemInput, response: { 201: item } } }, async (request, reply) => {
  const created = { ...request.body, id: randomUUID() };
  items.set(created.id, created);
  return reply.code(201).send(created);
});
app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));
app.get('/readyz', { logLevel: 'warn' }, async () => ({ status: 'ready' }));
await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT) });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => app.close().then(() => process.exit(0)));
