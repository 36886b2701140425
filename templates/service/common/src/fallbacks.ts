import type { Fallbacks } from './platform/http-client.js';

/**
 * What this service answers in place of an upstream that gave no answer in time (timed
 * out, unreachable, its circuit breaker open, its bulkhead full), for the targets that
 * scaffold.yaml marks `fallback: custom` ("orders -> users": { fallback: custom }). Return a
 * Response to answer with it, or undefined for the default: an UpstreamError, which the
 * error handler answers with 503 and JSON naming the upstream and the reason.
 *
 * Yours to edit: scaffold writes this file once and leaves it alone once you have changed it.
 */
export const fallbacks: Fallbacks = {
  // users: (failure) => Response.json([], { headers: { 'x-fallback': failure.reason } }),
};
