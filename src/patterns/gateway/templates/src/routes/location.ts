/** The answer headers that name a URL on the server that answered (RFC 9110 §10.2.2, §8.7). */
export const LOCATION_HEADERS = ['location', 'content-location'];

/**
 * A location an upstream gave about itself, as a client of the gateway must see it — what
 * nginx's `proxy_redirect default` does. The upstream answers for the path behind the
 * route's prefix: an absolute path (`/orders/42`), or a URL on the upstream's own origin,
 * gets the prefix back (`/orders/orders/42`). A relative reference (`42`, `../x`) already
 * resolves against the client's URL to the same place, and another origin is not the
 * upstream's to be rewritten: both pass as they are.
 */
export function locationThroughGateway(location: string, prefix: string, upstreamOrigin: string): string {
  if (location.startsWith('/') && !location.startsWith('//')) return `${prefix}${location}`;
  if (!location.startsWith('//') && !URL.canParse(location)) return location;
  let url: URL;
  try {
    url = new URL(location, upstreamOrigin);
  } catch {
    return location;
  }
  return url.origin === upstreamOrigin ? `${prefix}${url.pathname}${url.search}${url.hash}` : location;
}
