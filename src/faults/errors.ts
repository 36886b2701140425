import { STATUS_CODES } from 'node:http';
import { share } from './field.js';
import type { FaultKind } from './kind.js';

/** A share of requests is answered with `status` instead of reaching an instance. */
export type ErrorsFault = { kind: 'errors'; rate: number; status: number };

export const errors: FaultKind<ErrorsFault> = {
  kind: 'errors',
  description: 'answer a share of requests with an HTTP error',
  fields: {
    rate: share('0.3 for 30%'),
    status: { type: 'number', integer: true, min: 400, max: 599, default: 503, flag: '--status <code>', description: 'the status', expected: 'an error status is 400–599' },
  },
  layer: 'http',
  onRequest: ({ rate, status }) => (Math.random() < rate ? { answer: injectedError(status) } : undefined),
  support: {
    process: 'service ports and links',
    compose: 'a fault proxy in the container\'s network namespace (root); `--from` by the caller\'s addresses',
  },
};

/** The connection closes with it, since the request's body (if any) was never read. */
function injectedError(status: number): string {
  const body = JSON.stringify({ error: 'Injected fault', message: `scaffold chaos answered ${status}` });
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Injected Fault'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-scaffold-fault: errors\r\nconnection: close\r\n\r\n${body}`;
}
