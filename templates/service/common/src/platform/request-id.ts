import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Carries one request's id from service to service, and back to the client. */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * The caller's id when it sent a sane one, so one request can be followed through the
 * logs of every service it touched; a fresh one otherwise.
 */
export function requestId(request: IncomingMessage): string {
  const incoming = request.headers[REQUEST_ID_HEADER];
  return typeof incoming === 'string' && incoming.length > 0 && incoming.length <= 128 ? incoming : randomUUID();
}
