import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';

// An example resource to copy from, then delete. The store is a Map in memory: each
// replica has its own, and a restart empties it.

interface Item {
  id: string;
  name: string;
  quantity: number;
}
type ItemInput = Omit<Item, 'id'>;
type ById = { Params: { id: string } };

// Fastify validates bodies against these before the handler runs (400 with the reason
// otherwise) and serialises replies with the response schemas, faster than JSON.stringify.
const itemInput = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    quantity: { type: 'integer', minimum: 0, default: 0 },
  },
} as const;

const item = {
  type: 'object',
  required: ['id', 'name', 'quantity'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    quantity: { type: 'integer' },
  },
} as const;

const byId = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } as const;

export async function itemsRoutes(app: FastifyInstance): Promise<void> {
  const items = new Map<string, Item>();

  app.get('/', { schema: { response: { 200: { type: 'array', items: item } } } }, async () => [...items.values()]);

  app.get<ById>('/:id', { schema: { params: byId, response: { 200: item } } }, async (request, reply) => {
    return items.get(request.params.id) ?? notFound(reply, request.params.id);
  });

  app.post<{ Body: ItemInput }>('/', { schema: { body: itemInput, response: { 201: item } } }, async (request, reply) => {
    const created: Item = { ...request.body, id: randomUUID() };
    items.set(created.id, created);
    return reply.code(201).send(created);
  });

  app.put<ById & { Body: ItemInput }>(
    '/:id',
    { schema: { params: byId, body: itemInput, response: { 200: item } } },
    async (request, reply) => {
      const { id } = request.params;
      if (!items.has(id)) return notFound(reply, id);
      const updated: Item = { ...request.body, id };
      items.set(id, updated);
      return updated;
    },
  );

  app.delete<ById>('/:id', { schema: { params: byId } }, async (request, reply) => {
    if (!items.delete(request.params.id)) return notFound(reply, request.params.id);
    return reply.code(204).send();
  });
}

function notFound(reply: FastifyReply, id: string): FastifyReply {
  return reply.code(404).send({ error: 'Not Found', message: `no item with id ${JSON.stringify(id)}` });
}
