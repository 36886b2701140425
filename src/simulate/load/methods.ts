/** The HTTP methods a load (flag, scenario or experiment) may send: what the load
 * generator can build a request for, and what a REST service answers. */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
